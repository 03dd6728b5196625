// Task flags (current->flags) that change allocations, and the scope APIs that
// set them (include/linux/sched.h, include/linux/sched/mm.h; kernel-model.md §2).

import { atLeast, inRange, type KernelVersion } from './version';

export interface PfFlagDef {
  readonly name: string;
  readonly value: number;
  readonly since?: string;
  readonly until?: string;
  /** Short kind, as people say it: NOFS, NOIO, noreclaim, PIN. */
  readonly kind: string;
  readonly meaning: string;
  readonly cite: string;
}

// Values are those of include/linux/sched.h in 6.12 (:1702-1720) unless the
// cite says otherwise; v6.1 sched.h:1743-1761 has the same values.
export const PF_FLAGS: readonly PfFlagDef[] = [
  { name: 'PF_MEMALLOC', value: 0x00000800, kind: 'noreclaim', meaning: 'The task is allocating for reclaim: no direct reclaim or compaction, full access to the reserves (unless __GFP_NOMEMALLOC).', cite: 'sched.h:1702; page_alloc.c:4142-4158, :4480-4482' },
  { name: 'PF_KSWAPD', value: 0x00020000, kind: 'kswapd', meaning: 'The task is kswapd (set by hand in xfs_btree_split_worker to inherit it).', cite: 'sched.h:1708' },
  { name: 'PF_MEMALLOC_NOFS', value: 0x00040000, kind: 'NOFS', meaning: 'Every allocation of the task behaves as if __GFP_FS were clear.', cite: 'sched.h:1709; mm.h:244-268; since 4.12: commit 7dea19f9ee63 "mm: introduce memalloc_nofs_{save,restore} API" (its sched.h hunk: +PF_KSWAPD 0x00020000, +PF_MEMALLOC_NOFS 0x00040000, PF_MEMALLOC_NOIO 0x00080000, replacing PF_FSTRANS)' },
  { name: 'PF_MEMALLOC_NOIO', value: 0x00080000, kind: 'NOIO', meaning: 'Every allocation of the task behaves as if __GFP_IO and __GFP_FS were clear.', cite: 'sched.h:1710; mm.h:244-268' },
  // Same bit, renamed by NeilBrown's "MM: replace PF_LESS_THROTTLE with
  // PF_LOCAL_THROTTLE" (final posting 2020-06-01, after 5.7; merged for 5.8
  // by the best evidence, not confirmed from a tree).
  { name: 'PF_LESS_THROTTLE', value: 0x00100000, until: '5.8', kind: 'less-throttle', meaning: 'Throttle the task\'s writes less (nfsd, loop); replaced by PF_LOCAL_THROTTLE.', cite: 'sched.h context of 7dea19f9ee63 (4.12): "#define PF_LESS_THROTTLE 0x00100000"; "MM: replace PF_LESS_THROTTLE with PF_LOCAL_THROTTLE" (NeilBrown, linux-mm 2020-04..06); release of the rename not confirmed (5.8 or 5.9)' },
  { name: 'PF_LOCAL_THROTTLE', value: 0x00100000, since: '5.8', kind: 'local-throttle', meaning: 'Throttle writes only against the bdi the task writes to (IO flushers).', cite: 'sched.h:1711; v6.1 sched.h:1752; since: see PF_LESS_THROTTLE (not confirmed)' },
  // current_gfp_context() cleared __GFP_MOVABLE for it under CONFIG_CMA in
  // 5.1-5.8 only; 8510e69c8efe (5.9) moved it to ALLOC_CMA. Without
  // CONFIG_CMA, memalloc_nocma_save() did not even set the flag.
  { name: 'PF_MEMALLOC_NOCMA', value: 0x10000000, since: '5.1', until: '5.13', kind: 'NOCMA', meaning: 'Allocations of the task avoid CMA pageblocks (5.1-5.8: __GFP_MOVABLE cleared under CONFIG_CMA; 5.9-5.12: no ALLOC_CMA). Renamed PF_MEMALLOC_PIN in 5.13.', cite: 'commit d7fefcc8de91 "mm/cma: add PF flag to force non cma alloc" (v8 2019-02-27, 0x10000000; 5.1 by posting date, not confirmed from a tree); v5.4 include/linux/sched/mm.h current_gfp_context (KINGFIOX/linux-5.4.286); 8510e69c8efe "mm/page_alloc: fix memalloc_nocma_{save/restore} APIs" (2020-08, 5.9)' },
  { name: 'PF_MEMALLOC_PIN', value: 0x10000000, since: '5.13', kind: 'PIN', meaning: 'Allocations of the task are pinnable: __GFP_MOVABLE is cleared.', cite: 'sched.h:1720; mm.h:244-268; commits 1a08ae36cf8b (rename), da6df1b0fcfa, 8e3560d963d2, all in the akpm merge 8404c9fbc84b of the 5.13 merge window (kernel.org revlist of 2021-07-02 lists them among 5.13-rc1 merges)' },
  { name: 'PF_MEMALLOC_NORECLAIM', value: 0x00800000, since: '6.9', until: '6.12', kind: 'noreclaim-scope', meaning: 'Every allocation of the task behaves as if __GFP_DIRECT_RECLAIM were clear (6.9-6.11; reverted because it breaks nested __GFP_NOFAIL).', cite: 'added by eab0af905bfc; values and code in the revert 9a8da05d7ad6 (Michal Hocko, Message-ID 20240926172940.167084-3-mhocko@kernel.org): "-#define PF_MEMALLOC_NORECLAIM 0x00800000"' },
  { name: 'PF_MEMALLOC_NOWARN', value: 0x01000000, since: '6.9', until: '6.12', kind: 'NOWARN', meaning: 'Every allocation of the task behaves as if __GFP_NOWARN were set (6.9-6.11).', cite: 'added by eab0af905bfc; revert 9a8da05d7ad6 (Message-ID 20240926172940.167084-3-mhocko@kernel.org): "-#define PF_MEMALLOC_NOWARN 0x01000000"' },
];

export function pfFlag(name: string): PfFlagDef | undefined {
  return PF_FLAGS.find((f) => f.name === name);
}

export function pfFlagPresent(name: string, v: KernelVersion): boolean {
  const def = pfFlag(name);
  return def !== undefined && inRange(v, def.since, def.until);
}

export interface ScopeApi {
  readonly save: string;
  readonly restore: string;
  /** The PF flags the save sets; empty for memalloc_flags_save, whose argument says. */
  readonly flags: readonly string[];
  readonly since?: string;
  readonly until?: string;
  readonly cite: string;
}

export const SCOPE_APIS: readonly ScopeApi[] = [
  { save: 'memalloc_nofs_save', restore: 'memalloc_nofs_restore', flags: ['PF_MEMALLOC_NOFS'], cite: 'mm.h:385-401; v6.1 sched/mm.h:319-337; commit 7dea19f9ee63 (4.12)' },
  { save: 'memalloc_noio_save', restore: 'memalloc_noio_restore', flags: ['PF_MEMALLOC_NOIO'], cite: 'mm.h:355-371; v6.1 sched/mm.h:288-306; commit 21caf2fc1931 (2013)' },
  { save: 'memalloc_noreclaim_save', restore: 'memalloc_noreclaim_restore', flags: ['PF_MEMALLOC'], cite: 'mm.h:426-442; v6.1 sched/mm.h:339-349; commit 499118e966f1 (4.12)' },
  // Real only with CONFIG_CMA: otherwise both are empty stubs and save returns 0.
  { save: 'memalloc_nocma_save', restore: 'memalloc_nocma_restore', flags: ['PF_MEMALLOC_NOCMA'], since: '5.1', until: '5.13', cite: 'commit d7fefcc8de91 (v8 patch: #ifdef CONFIG_CMA ... #else stubs); v5.4 include/linux/sched/mm.h (KINGFIOX/linux-5.4.286); renamed by 1a08ae36cf8b (5.13)' },
  { save: 'memalloc_pin_save', restore: 'memalloc_pin_restore', flags: ['PF_MEMALLOC_PIN'], since: '5.13', cite: 'mm.h:454-470; v6.1 sched/mm.h:351-362; commit 1a08ae36cf8b "mm cma: rename PF_MEMALLOC_NOCMA to PF_MEMALLOC_PIN" (5.13, see PF_MEMALLOC_PIN)' },
  { save: 'memalloc_flags_save', restore: 'memalloc_flags_restore', flags: [], since: '6.9', cite: 'mm.h:331-341; commit 3f6d5e6a468d (6.9, kernel-model.md §5)' },
];

export function scopeApiBySave(name: string, v: KernelVersion): ScopeApi | undefined {
  return SCOPE_APIS.find((s) => s.save === name && inRange(v, s.since, s.until));
}

export function scopeApiByRestore(name: string, v: KernelVersion): ScopeApi | undefined {
  return SCOPE_APIS.find((s) => s.restore === name && inRange(v, s.since, s.until));
}

/** A scope API that exists in some version but not in `v` (for gfp/removed-flag). */
export function scopeApiElsewhere(name: string, v: KernelVersion): ScopeApi | undefined {
  return SCOPE_APIS.find((s) => (s.save === name || s.restore === name) && !inRange(v, s.since, s.until));
}

/**
 * How save and restore treat their cookie.
 * - 'assign' (before 6.9): save returns the old value of its own bit; restore
 *   writes the cookie back into that bit, so `restore(0)` clears the flag.
 *   4.12 (7dea19f9ee63): `flags = current->flags & PF_MEMALLOC_NOFS;
 *   current->flags |= PF_MEMALLOC_NOFS; return flags;` and
 *   `current->flags = (current->flags & ~PF_MEMALLOC_NOFS) | flags;`, the same
 *   shape for noio/noreclaim/nocma/pin through v6.1 sched/mm.h:288-362.
 * - 'clear-new' (6.9 on, commit 3f6d5e6a468d): save returns the bits it newly
 *   set; restore clears exactly those, so `restore(0)` does nothing and an
 *   out-of-order restore ends the inner scope early.
 */
export type CookieSemantics = 'assign' | 'clear-new';

export function cookieSemantics(v: KernelVersion): CookieSemantics {
  return atLeast(v, '6.9') ? 'clear-new' : 'assign';
}

/**
 * Macros that assert their first argument is false on the paths that go on:
 * the kernel warns (or BUGs) where it is true (include/asm-generic/bug.h:71,
 * :110-157; include/linux/mmdebug.h for the VM_ variants, which only
 * CONFIG_DEBUG_VM compiles in but which state the same invariant). ext4's
 * xattr code asserts its NOFS scope this way (fs/ext4/xattr.c:1542-1543,
 * :2398), as does fsnotify_group_assert_locked()
 * (include/linux/fsnotify_backend.h:282).
 */
export const ASSERTION_MACROS: ReadonlySet<string> = new Set(['WARN_ON', 'WARN_ON_ONCE', 'WARN', 'WARN_ONCE', 'BUG_ON', 'VM_WARN_ON', 'VM_WARN_ON_ONCE', 'VM_BUG_ON']);
