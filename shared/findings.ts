// The finding codes of rules.md §4: stable names, default severities, and the
// help text that the CLI's SARIF output and the docs show.

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, information: 1, hint: 0 };

export type FindingCode =
  | 'gfp/sleep-in-atomic'
  | 'gfp/nofail-cannot-reclaim'
  | 'gfp/nofail-conflict'
  | 'gfp/nofail-high-order'
  | 'gfp/vmalloc-nonblocking'
  | 'gfp/vmalloc-nofs-ignored'
  | 'gfp/redundant-nofs'
  | 'gfp/nofs-outside-scope'
  | 'gfp/partial-scope'
  | 'gfp/slab-bug-mask'
  | 'gfp/removed-flag'
  | 'gfp/unsafe-scope-flag'
  | 'scope/unbalanced'
  | 'scope/restore-order'
  | 'scope/foreign-cookie'
  | 'scope/direct-pf-write'
  | 'scope/wraps-single-call';

export interface FindingRule {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** A short title for rule lists (SARIF shortDescription). */
  readonly title: string;
  /** What the rule checks and why, for docs and SARIF fullDescription. */
  readonly help: string;
}

export const FINDING_RULES: readonly FindingRule[] = [
  { code: 'gfp/sleep-in-atomic', severity: 'error', title: 'Blocking allocation in atomic context', help: 'The effective mask has __GFP_DIRECT_RECLAIM (or the allocator always sleeps, as vmalloc does) while a spinlock, RCU read section, disabled preemption, interrupts or bottom halves are held. Sleeping there is a bug. Use GFP_NOWAIT (or GFP_ATOMIC when reserves are justified) and handle failure, or move the allocation out of the section. Also a call that may sleep in such a section: a sleeping lock or primitive (mutex_lock(), msleep(), wait_for_completion(), ...), or a function whose summary says it may block, with the call chain to what sleeps. A warning when only some paths hold the section.' },
  { code: 'gfp/nofail-cannot-reclaim', severity: 'error', title: '__GFP_NOFAIL that cannot reclaim', help: '__GFP_NOFAIL must be used with __GFP_DIRECT_RECLAIM (gfp_types.h:246-257). Without direct reclaim, or inside a memalloc_noreclaim_save() scope (PF_MEMALLOC) or a PF_MEMALLOC_NORECLAIM scope, the allocator WARNs and may return NULL anyway (page_alloc.c:4304-4321, :4563-4570).' },
  { code: 'gfp/nofail-conflict', severity: 'warning', title: '__GFP_NOFAIL with __GFP_NORETRY or __GFP_RETRY_MAYFAIL', help: '__GFP_NOFAIL means retry forever; __GFP_NORETRY and __GFP_RETRY_MAYFAIL ask to fail early. NOFAIL wins in the page allocator (page_alloc.c:4563-4584), so the other modifier is dead weight that misleads readers.' },
  { code: 'gfp/nofail-high-order', severity: 'warning', title: '__GFP_NOFAIL page allocation above order 1', help: '"Allocating pages from the buddy with __GFP_NOFAIL and order > 1 is not supported" (gfp_types.h:256-257); the page allocator WARNs (page_alloc.c:4309). Use kvmalloc() instead.' },
  { code: 'gfp/vmalloc-nonblocking', severity: 'error', title: 'vmalloc with a non-blocking mask', help: 'Before vmalloc learned non-blocking masks (after 6.12), __vmalloc() with GFP_NOWAIT or GFP_ATOMIC can still sleep (vmalloc.c:2030, :3177, :3634). kvmalloc() with a non-blocking mask and a size that may exceed a page silently skips the vmalloc fallback and returns NULL (mm/util.c:664-666): reported as information.' },
  { code: 'gfp/vmalloc-nofs-ignored', severity: 'warning', title: 'GFP_NOFS/GFP_NOIO ignored by vmalloc before 5.17', help: 'Before 5.17 (commit 451769ebb7e7) vmalloc allocated page tables with GFP_KERNEL whatever the mask, so GFP_NOFS/GFP_NOIO did not protect against reclaim recursion. Wrap the call in memalloc_nofs_save()/memalloc_nofs_restore() with a comment explaining why, as Documentation/core-api/gfp_mask-from-fs-io.rst advises.' },
  { code: 'gfp/redundant-nofs', severity: 'hint', title: 'GFP_NOFS inside a NOFS scope', help: 'Every path to this allocation is already inside a memalloc_nofs_save() (or stronger) scope, opened in this function, entered by a callee such as a transaction start (on the paths where the start succeeded), or asserted by the kernel (after WARN_ON_ONCE(!(current->flags & PF_MEMALLOC_NOFS)) the paths that go on hold it); the scope already clears __GFP_FS. Write GFP_KERNEL and let the scope speak, as the mm maintainers ask.' },
  { code: 'gfp/nofs-outside-scope', severity: 'information', title: 'GFP_NOFS with no scope', help: 'No path to this allocation is inside a NOFS scope, so the reason for GFP_NOFS is not recorded anywhere. The preferred form is a memalloc_nofs_save() scope at the transaction start or lock that makes reclaim recursion dangerous, with a comment (Documentation/core-api/gfp_mask-from-fs-io.rst).' },
  { code: 'gfp/partial-scope', severity: 'warning', title: 'Scope open on some paths only', help: 'A scope opened in this function covers this allocation on some paths but not others, so the effective mask depends on the path taken. Usually a save or restore is missing on one branch.' },
  { code: 'gfp/slab-bug-mask', severity: 'warning', title: 'kmalloc with __GFP_HIGHMEM or __GFP_DMA32', help: 'These bits are in GFP_SLAB_BUG_MASK (mm/internal.h:45): the slab allocator strips them with a "Fix your code!" warning and a stack dump (mm/slab_common.c:1060-1070). kmalloc(GFP_DMA32) does not return DMA32 memory.' },
  { code: 'gfp/removed-flag', severity: 'error', title: 'Flag or API that the selected kernel does not have', help: 'The name does not exist in the selected kernel version (for example __GFP_ATOMIC since 6.3, PF_MEMALLOC_NORECLAIM since 6.12).' },
  { code: 'gfp/unsafe-scope-flag', severity: 'warning', title: 'Scope that sets or clears an unsafe bit', help: 'A scope changes the mask of every allocation inside it, including code written without knowing about it. Only clearing __GFP_FS/__GFP_IO (and a few harmless bits) is safe; clearing __GFP_DIRECT_RECLAIM breaks nested __GFP_NOFAIL (the reason PF_MEMALLOC_NORECLAIM was reverted), setting __GFP_NOFAIL breaks nested GFP_NOWAIT/GFP_ATOMIC.' },
  { code: 'scope/unbalanced', severity: 'error', title: 'Scope not restored on some path', help: 'A memalloc_*_save() has a path to the function exit without the matching restore, and its cookie does not escape (it is not stored in a struct, returned or passed on); or a restore runs on a path where its save did not. The task keeps the flag and every later allocation of the task is silently restricted.' },
  { code: 'scope/restore-order', severity: 'warning', title: 'Scopes restored out of order', help: 'Nested scopes must be restored in reverse order. Since 6.9 (commit 3f6d5e6a468d) restoring the outer cookie first ends the inner scope early; before 6.9 the inner restore re-enabled a flag the outer one had cleared.' },
  { code: 'scope/foreign-cookie', severity: 'warning', title: 'Restore given a value no matching save produced', help: 'memalloc_*_restore() must be given the return value of the pairing save (include/linux/sched/mm.h). A constant, another variable, or the cookie of another scope kind clears or keeps the wrong bits.' },
  { code: 'scope/direct-pf-write', severity: 'information', title: 'current->flags written directly', help: 'Writing PF_MEMALLOC_* bits into current->flags bypasses the scope API. memalloc_flags_save()/memalloc_flags_restore() (6.9+) or the memalloc_*_save() pairs say the same thing and nest correctly. gfp-lens still models the write.' },
  { code: 'scope/wraps-single-call', severity: 'information', title: 'Scope around a single allocation', help: 'The scope\'s body is one allocation and nothing else. The docs and the maintainers ask for scopes where the reclaim-critical section starts (a transaction, a lock), not around individual calls: "an exact example of how not to use scoped allocation contexts" (Dave Chinner, 2023).' },
];

const RULE_BY_CODE = new Map<string, FindingRule>(FINDING_RULES.map((r) => [r.code, r]));

export function findingRule(code: FindingCode): FindingRule {
  return RULE_BY_CODE.get(code)!;
}

export function isFindingCode(code: string): code is FindingCode {
  return RULE_BY_CODE.has(code);
}

/** Where each code's page lives in the project's docs (docs/rules.md anchors). */
export function ruleDocAnchor(code: FindingCode): string {
  return code.replace('/', '-');
}
