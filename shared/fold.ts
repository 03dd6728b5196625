// The effective allocation context: a requested mask folded with the task's
// scope flags, mirroring current_gfp_context() (include/linux/sched/mm.h:244-268
// in 6.12) for the selected version, plus the effects of PF_MEMALLOC that live
// in the page allocator rather than in the mask (kernel-model.md §2.4).

import { B } from './model/gfp-flags';
import { clearBits, hasAll, hasAny, setBits, type KnownBits, type Tri } from './model/known-bits';
import { inRange, type KernelVersion } from './model/version';

/**
 * current_gfp_context() for version `v`. Only the flags that version reads are
 * considered; a flag from another version (PF_MEMALLOC_NORECLAIM in 6.12) has
 * no effect there, exactly as in the kernel where it does not exist.
 *
 * 6.12 (mm.h:244-268):
 *     if (pflags & PF_MEMALLOC_NOIO)      flags &= ~(__GFP_IO | __GFP_FS);
 *     else if (pflags & PF_MEMALLOC_NOFS) flags &= ~__GFP_FS;
 *     if (pflags & PF_MEMALLOC_PIN)       flags &= ~__GFP_MOVABLE;
 * 6.9-6.11 put `if (pflags & PF_MEMALLOC_NORECLAIM) flags &= ~__GFP_DIRECT_RECLAIM;`
 * first in the same else-if chain (so NORECLAIM also stops NOIO/NOFS from
 * applying), and OR in __GFP_NOWARN for PF_MEMALLOC_NOWARN (pre-revert text in
 * the revert's diff, Message-ID 20240926172940.167084-3-mhocko@kernel.org).
 * PF_MEMALLOC_PIN clears __GFP_MOVABLE from 5.13 (da6df1b0fcfa, merged with the
 * NOCMA->PIN rename). Its predecessor PF_MEMALLOC_NOCMA cleared __GFP_MOVABLE
 * here in 5.1-5.8 (under CONFIG_CMA, v5.4 sched/mm.h); 8510e69c8efe (5.9)
 * moved it to ALLOC_CMA, so in 5.9-5.12 NOCMA leaves the mask alone.
 * 4.12-5.0 is the plain NOIO/NOFS else-if (7dea19f9ee63).
 */
export function currentGfpContext(mask: KnownBits, pf: ReadonlySet<string>, v: KernelVersion): KnownBits {
  let flags = mask;
  const noreclaimScopeExists = inRange(v, '6.9', '6.12');
  if (noreclaimScopeExists && pf.has('PF_MEMALLOC_NORECLAIM')) {
    flags = clearBits(flags, B.DIRECT_RECLAIM);
  } else if (pf.has('PF_MEMALLOC_NOIO')) {
    flags = clearBits(flags, B.IO | B.FS);
  } else if (pf.has('PF_MEMALLOC_NOFS')) {
    flags = clearBits(flags, B.FS);
  }
  if (noreclaimScopeExists && pf.has('PF_MEMALLOC_NOWARN')) flags = setBits(flags, B.NOWARN);
  if (inRange(v, '5.13') && pf.has('PF_MEMALLOC_PIN')) flags = clearBits(flags, B.MOVABLE);
  if (inRange(v, '5.1', '5.9') && pf.has('PF_MEMALLOC_NOCMA')) flags = clearBits(flags, B.MOVABLE);
  return flags;
}

export type Reserves = 'none' | 'min' | 'non-block' | 'atomic' | 'all' | 'unknown';

export interface EffectiveContext {
  readonly requested: KnownBits;
  /** The mask after current_gfp_context(). */
  readonly effective: KnownBits;
  /** Task flags in force (those of this version only). */
  readonly pf: readonly string[];
  /** gfpflags_allow_blocking() of the effective mask: may this allocation sleep? */
  readonly mayBlock: Tri;
  /**
   * May the allocator enter direct reclaim: the mask allows it and the task is
   * not PF_MEMALLOC ("Avoid recursion of direct reclaim", page_alloc.c:4480-4482).
   */
  readonly directReclaim: Tri;
  readonly mayStartIo: Tri;
  readonly mayRecurseFs: Tri;
  readonly reserves: Reserves;
  readonly mayFail: Tri;
  readonly warnsOnFailure: Tri;
}

function and3(...values: Tri[]): Tri {
  if (values.includes('no')) return 'no';
  if (values.includes('unknown')) return 'unknown';
  return 'yes';
}

function not3(value: Tri): Tri {
  return value === 'yes' ? 'no' : value === 'no' ? 'yes' : 'unknown';
}

export function fold(requested: KnownBits, taskFlags: Iterable<string>, v: KernelVersion): EffectiveContext {
  const pf = new Set(taskFlags);
  const effective = currentGfpContext(requested, pf, v);
  const pfMemalloc = pf.has('PF_MEMALLOC');
  const mayBlock = hasAll(effective, B.DIRECT_RECLAIM);
  const directReclaim = pfMemalloc ? 'no' : mayBlock;
  return {
    requested,
    effective,
    pf: [...pf].sort(),
    mayBlock,
    directReclaim,
    mayStartIo: and3(directReclaim, hasAll(effective, B.IO)),
    mayRecurseFs: and3(directReclaim, hasAll(effective, B.FS)),
    reserves: reservesOf(effective, pfMemalloc, v),
    mayFail: mayFailOf(effective, directReclaim),
    warnsOnFailure: not3(hasAll(effective, B.NOWARN)),
  };
}

/**
 * Reserve access, after gfp_to_alloc_flags() and __gfp_pfmemalloc_flags()
 * (page_alloc.c:4084-4158 in 6.12): __GFP_NOMEMALLOC forbids the emergency
 * reserves; __GFP_MEMALLOC or PF_MEMALLOC give all of them; __GFP_HIGH gives
 * part of the min reserve, and with a non-blocking mask (GFP_ATOMIC) more.
 * Before 6.3, __GFP_ATOMIC played the role of the non-blocking part.
 */
function reservesOf(mask: KnownBits, pfMemalloc: boolean, v: KernelVersion): Reserves {
  const nomemalloc = hasAll(mask, B.NOMEMALLOC);
  const memalloc = hasAll(mask, B.MEMALLOC);
  if (nomemalloc === 'unknown') return 'unknown';
  if (nomemalloc === 'no' && (pfMemalloc || memalloc === 'yes')) return 'all';
  if (nomemalloc === 'no' && memalloc === 'unknown') return 'unknown';
  const high = hasAll(mask, B.HIGH);
  const blocking = hasAll(mask, B.DIRECT_RECLAIM);
  const atomicBit = inRange(v, undefined, '6.3') ? hasAll(mask, B.ATOMIC) : 'no';
  if (high === 'unknown' || blocking === 'unknown' || atomicBit === 'unknown') return 'unknown';
  const nonBlock = inRange(v, undefined, '6.3') ? atomicBit === 'yes' : blocking === 'no' && nomemalloc === 'no';
  if (high === 'yes' && nonBlock) return 'atomic';
  if (high === 'yes') return 'min';
  if (nonBlock) return 'non-block';
  return 'none';
}

/**
 * __GFP_NOFAIL makes an allocation that can direct-reclaim never fail; without
 * direct reclaim the kernel disregards it and may return NULL
 * (page_alloc.c:4563-4570).
 */
function mayFailOf(mask: KnownBits, directReclaim: Tri): Tri {
  const nofail = hasAll(mask, B.NOFAIL);
  if (nofail === 'no') return 'yes';
  if (nofail === 'yes' && directReclaim === 'yes') return 'no';
  if (nofail === 'yes' && directReclaim === 'no') return 'yes';
  return 'unknown';
}

export function describeReserves(r: Reserves): string {
  switch (r) {
    case 'none':
      return 'no reserves';
    case 'min':
      return 'part of the min reserve (__GFP_HIGH)';
    case 'non-block':
      return 'non-blocking access above the low watermark only';
    case 'atomic':
      return 'the atomic reserves (__GFP_HIGH without direct reclaim)';
    case 'all':
      return 'all memory reserves (ALLOC_NO_WATERMARKS)';
    case 'unknown':
      return 'unknown';
  }
}

/** Whether the task flags clear __GFP_FS / __GFP_IO for this version, ignoring the mask. */
export function scopeExcludes(pf: ReadonlySet<string>, v: KernelVersion): { fs: boolean; io: boolean } {
  const all = { set: B.FS | B.IO, clear: 0n };
  const after = currentGfpContext(all, pf, v);
  return { fs: hasAny(after, B.FS) === 'no', io: hasAny(after, B.IO) === 'no' };
}
