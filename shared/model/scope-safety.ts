// May a scope set or clear each __GFP_ bit for every allocation inside it?
//
// A scope changes the mask of allocations it cannot see, written by people who
// did not know about it. Clearing a bit is safe when every allocation can live
// without it (NOFS, NOIO); setting or clearing is unsafe when it changes the
// failure, blocking or placement semantics that nested code relies on. This is
// Michal Hocko's analysis from the PF_MEMALLOC_NORECLAIM revert and the
// memalloc_nowait discussions (rules.md §2; kernel-model.md §5), one row per
// bit. It drives hovers on scope APIs, gfp/unsafe-scope-flag, and the check of
// scopes users declare in settings.

export interface ScopeSafety {
  readonly flag: string;
  readonly maySet: boolean;
  readonly mayClear: boolean;
  readonly why: string;
}

export const SCOPE_SAFETY: readonly ScopeSafety[] = [
  { flag: '__GFP_FS', maySet: false, mayClear: true, why: 'Clearing __GFP_FS only forbids reclaim recursion into filesystems; every allocation can live with that (memalloc_nofs_save). Setting it would undo the GFP_NOFS of code that needs it.' },
  { flag: '__GFP_IO', maySet: false, mayClear: true, why: 'Clearing __GFP_IO only forbids starting IO from reclaim (memalloc_noio_save). Setting it would undo a GFP_NOIO that protects a block-layer path.' },
  { flag: '__GFP_DIRECT_RECLAIM', maySet: false, mayClear: false, why: 'Clearing it makes nested allocations non-blocking: a nested __GFP_NOFAIL can then neither reclaim nor fail, which is why PF_MEMALLOC_NORECLAIM was reverted in 6.12. Setting it would make GFP_NOWAIT/GFP_ATOMIC callers sleep in atomic context.' },
  { flag: '__GFP_KSWAPD_RECLAIM', maySet: false, mayClear: false, why: 'Clearing it stops nested allocations from waking kswapd, so memory pressure builds up unseen; setting it is harmless only where every caller may wake kswapd.' },
  { flag: '__GFP_NOFAIL', maySet: false, mayClear: false, why: 'Setting it in a scope turns nested GFP_NOWAIT/GFP_ATOMIC allocations into impossible requests (NOFAIL without direct reclaim) and forbids callers from handling failure as they wrote; clearing it lets allocations that cannot handle failure return NULL.' },
  { flag: '__GFP_NORETRY', maySet: false, mayClear: false, why: 'It changes failure semantics: nested code that expects small allocations not to fail would see failures, and it conflicts with nested __GFP_NOFAIL.' },
  { flag: '__GFP_RETRY_MAYFAIL', maySet: false, mayClear: false, why: 'It changes failure semantics (retry hard but fail, no OOM killer) for code written for the default, and conflicts with nested __GFP_NOFAIL.' },
  { flag: '__GFP_NOWARN', maySet: true, mayClear: true, why: 'Only controls the failure report; no allocation behaves differently.' },
  { flag: '__GFP_ZERO', maySet: true, mayClear: false, why: 'Setting it only costs time; clearing it would hand uninitialised memory to code that asked for zeroed memory.' },
  { flag: '__GFP_ACCOUNT', maySet: true, mayClear: true, why: 'Only decides which memcg pays; set_active_memcg() is the scoped form.' },
  { flag: '__GFP_NOLOCKDEP', maySet: true, mayClear: true, why: 'Only silences lockdep\'s fs_reclaim tracking.' },
  { flag: '__GFP_COMP', maySet: false, mayClear: false, why: 'Changes the layout of the pages returned (compound page metadata); code freeing or mapping them depends on it.' },
  { flag: '__GFP_THISNODE', maySet: false, mayClear: false, why: 'Changes placement and failure: no fallback to other nodes, so allocations that would succeed elsewhere fail.' },
  { flag: '__GFP_HARDWALL', maySet: false, mayClear: false, why: 'Changes cpuset enforcement for allocations that did not ask for it.' },
  { flag: '__GFP_MEMALLOC', maySet: false, mayClear: false, why: 'Opens all reserves to every nested allocation; PF_MEMALLOC (memalloc_noreclaim_save) is the reclaim-only scoped form and is itself restricted.' },
  { flag: '__GFP_NOMEMALLOC', maySet: false, mayClear: false, why: 'Closes the reserves that nested reclaim-path allocations may depend on.' },
  { flag: '__GFP_HIGH', maySet: false, mayClear: false, why: 'Gives reserve access to allocations that did not justify it, or takes it from those that did.' },
  { flag: '__GFP_ATOMIC', maySet: false, mayClear: false, why: 'Reserve and priority semantics (before 6.3) that nested code did not ask for.' },
  { flag: '__GFP_DMA', maySet: false, mayClear: false, why: 'Zone modifiers change where memory comes from; kmalloc rejects some of them.' },
  { flag: '__GFP_DMA32', maySet: false, mayClear: false, why: 'Zone modifiers change where memory comes from; kmalloc rejects __GFP_DMA32 (GFP_SLAB_BUG_MASK).' },
  { flag: '__GFP_HIGHMEM', maySet: false, mayClear: false, why: 'Highmem pages need kmap; code not written for them breaks, and kmalloc rejects the flag.' },
  { flag: '__GFP_MOVABLE', maySet: false, mayClear: true, why: 'Clearing it only makes pages pinnable (memalloc_pin_save); setting it would make pages movable that code pins or uses from slab.' },
  { flag: '__GFP_RECLAIMABLE', maySet: false, mayClear: false, why: 'A mobility hint tied to SLAB_RECLAIM_ACCOUNT caches.' },
  { flag: '__GFP_WRITE', maySet: false, mayClear: true, why: 'A dirty-page spreading hint for page cache writes; meaningless elsewhere.' },
  { flag: '__GFP_ZEROTAGS', maySet: false, mayClear: false, why: 'Memory-tag handling for arm64 MTE, tied to the allocation site.' },
  { flag: '__GFP_SKIP_ZERO', maySet: false, mayClear: false, why: 'KASAN hardware-tag internals, tied to the allocation site.' },
  { flag: '__GFP_SKIP_KASAN', maySet: false, mayClear: false, why: 'KASAN hardware-tag internals, tied to the allocation site.' },
  { flag: '__GFP_NO_OBJ_EXT', maySet: false, mayClear: false, why: 'Slab object-extension internals, set by the slab allocator itself.' },
];

export function scopeSafety(flag: string): ScopeSafety | undefined {
  return SCOPE_SAFETY.find((s) => s.flag === flag);
}

/**
 * What a task flag does to the mask of nested allocations, as bits set and
 * cleared, so that scopes are checked against the table above.
 */
export const PF_MASK_EFFECT: Readonly<Record<string, { sets: readonly string[]; clears: readonly string[] }>> = {
  PF_MEMALLOC_NOFS: { sets: [], clears: ['__GFP_FS'] },
  PF_MEMALLOC_NOIO: { sets: [], clears: ['__GFP_IO', '__GFP_FS'] },
  PF_MEMALLOC_PIN: { sets: [], clears: ['__GFP_MOVABLE'] },
  PF_MEMALLOC_NORECLAIM: { sets: [], clears: ['__GFP_DIRECT_RECLAIM'] },
  PF_MEMALLOC_NOWARN: { sets: ['__GFP_NOWARN'], clears: [] },
};
