// Every __GFP_ flag the model knows, with its meaning, and its *logical* bit.
//
// Masks inside gfp-lens are bigints over logical bits: one bit per flag name,
// the same in every kernel version, so that the fold, the findings and the
// formatting work on names and never on a version's hex layout. The hex value
// of a flag in a given kernel (which changed several times since 4.12, and
// which depends on the config for the high bits) lives in gfp-layouts.ts and is
// used only to decode and print hex.
//
// Citations are for the 6.12.117 tree unless marked otherwise (kernel-model.md §1).
// since/until: the first release with / without the flag; the evidence for
// each is in its cite and, for hex values, in gfp-layouts.ts.

export type GfpGroup = 'zone' | 'mobility' | 'watermark' | 'reclaim' | 'action';

export interface GfpFlagDef {
  /** The public name, `__GFP_FS`. */
  readonly name: string;
  readonly group: GfpGroup;
  /** One sentence for people, in the kernel's own terms. */
  readonly meaning: string;
  /** First version that has the flag ("X.Y"); absent means 4.12 or earlier. */
  readonly since?: string;
  /** First version that no longer has it. */
  readonly until?: string;
  /** The config option without which the kernel defines the flag as 0. */
  readonly config?: string;
  readonly cite: string;
}

/**
 * The flags, in logical-bit order. Appending is safe; reordering changes no
 * behaviour either (everything goes through `flagBit`), but keep the first 24 in
 * 6.12's hex order so that a 6.12 mask reads the same in both.
 */
export const GFP_FLAGS: readonly GfpFlagDef[] = [
  { name: '__GFP_DMA', group: 'zone', meaning: 'Allocate from ZONE_DMA, the lowest zone (16M on x86-64); legacy, avoid.', cite: 'gfp_types.h:114, :349-354' },
  { name: '__GFP_HIGHMEM', group: 'zone', meaning: 'ZONE_HIGHMEM is allowed.', cite: 'gfp_types.h:115; gfp.h:74-86' },
  { name: '__GFP_DMA32', group: 'zone', meaning: 'Needs a 32-bit address; kmalloc does not honour it (it is in GFP_SLAB_BUG_MASK).', cite: 'gfp_types.h:116, :356-359; mm/internal.h:45' },
  { name: '__GFP_MOVABLE', group: 'zone', meaning: 'ZONE_MOVABLE is allowed (with __GFP_HIGHMEM); also marks the page as movable.', cite: 'gfp_types.h:117, :130-131' },
  { name: '__GFP_RECLAIMABLE', group: 'mobility', meaning: 'For slabs created with SLAB_RECLAIM_ACCOUNT, whose pages shrinkers can free.', cite: 'gfp_types.h:133-134' },
  { name: '__GFP_HIGH', group: 'watermark', meaning: 'High priority: may use part of the min reserve (ALLOC_MIN_RESERVE).', cite: 'gfp_types.h:162-165; page_alloc.c:4084' },
  { name: '__GFP_IO', group: 'reclaim', meaning: 'Reclaim may start physical IO.', cite: 'gfp_types.h:192' },
  { name: '__GFP_FS', group: 'reclaim', meaning: 'Reclaim may call into the low-level filesystem (reclaim recursion).', cite: 'gfp_types.h:194-196' },
  { name: '__GFP_ZERO', group: 'action', meaning: 'Return zeroed memory.', cite: 'gfp_types.h:278' },
  { name: '__GFP_ATOMIC', group: 'watermark', until: '6.3', meaning: 'The caller cannot reclaim or sleep and is high priority (gave ALLOC_HARDER); removed in 6.3, bit 9 is unused since.', cite: 'commit 2973d8229b78 "mm: discard __GFP_ATOMIC" (6.3: OOMAnalyser KernelConfig_6_3); v6.1 gfp_types.h:36, :140 (0x200u); gfp_types.h:36, :74 (6.12)' },
  { name: '__GFP_DIRECT_RECLAIM', group: 'reclaim', meaning: 'May enter direct reclaim, i.e. may sleep; this bit alone makes gfpflags_allow_blocking() true.', cite: 'gfp_types.h:198-200; gfp.h:41-44' },
  { name: '__GFP_KSWAPD_RECLAIM', group: 'reclaim', meaning: 'Wake kswapd when the low watermark is reached.', cite: 'gfp_types.h:202-207' },
  { name: '__GFP_WRITE', group: 'mobility', meaning: 'The caller intends to dirty the page; spreads dirty pages across zones.', cite: 'gfp_types.h:136-138' },
  { name: '__GFP_NOWARN', group: 'action', meaning: 'Suppress allocation-failure reports.', cite: 'gfp_types.h:274' },
  { name: '__GFP_RETRY_MAYFAIL', group: 'reclaim', since: '4.13', meaning: 'Retry hard, but may fail; never invokes the OOM killer.', cite: 'gfp_types.h:228-244; since: commit dcda9b04713c renames ___GFP_REPEAT 0x400u to ___GFP_RETRY_MAYFAIL 0x400u (Message-ID 20170623085345.11304-3-mhocko@kernel.org; 4.13 per OOMAnalyser KernelConfig_4_13)' },
  { name: '__GFP_NOFAIL', group: 'reclaim', meaning: 'Retry forever; must be blockable (with __GFP_DIRECT_RECLAIM); order > 1 from the buddy allocator is not supported.', cite: 'gfp_types.h:246-257' },
  { name: '__GFP_NORETRY', group: 'reclaim', meaning: 'Only a lightweight attempt at direct reclaim; no OOM killer; failure is likely.', cite: 'gfp_types.h:221-226' },
  { name: '__GFP_MEMALLOC', group: 'watermark', meaning: 'Access to all memory reserves (ALLOC_NO_WATERMARKS).', cite: 'gfp_types.h:167-175; page_alloc.c:4146-4147' },
  { name: '__GFP_COMP', group: 'action', meaning: 'Set up compound page metadata.', cite: 'gfp_types.h:276' },
  { name: '__GFP_NOMEMALLOC', group: 'watermark', meaning: 'Forbid the emergency reserves; overrides __GFP_MEMALLOC and PF_MEMALLOC.', cite: 'gfp_types.h:177-178; page_alloc.c:4144-4145' },
  { name: '__GFP_HARDWALL', group: 'mobility', meaning: 'Enforce the cpuset memory policy.', cite: 'gfp_types.h:140' },
  { name: '__GFP_THISNODE', group: 'mobility', meaning: 'Allocate on the requested node only: no fallback, no policy.', cite: 'gfp_types.h:142-143' },
  { name: '__GFP_ACCOUNT', group: 'mobility', meaning: 'Charge the allocation to the kmemcg.', cite: 'gfp_types.h:145' },
  { name: '__GFP_ZEROTAGS', group: 'action', since: '5.14', meaning: 'Zero memory tags when the memory is zeroed (arm64 MTE).', cite: 'gfp_types.h:280-284; since: "arm64: mte: handle tags zeroing at page allocation time" (commit id 013bb59dbb7c from memory, not confirmed), absent from v5.10 gfp.h (Rtoax/linux-5.10.13), 0x800000u from 5.14 (OOMAnalyser KernelConfig_5_14; release not confirmed from a tree)' },
  // Config-dependent flags: 0 unless their option is on (gfp_types.h:51-60,
  // :89-105). `config` is today's dependency; gfp-layouts.ts has the era
  // where a flag had a fixed or unconditional value.
  { name: '__GFP_SKIP_ZERO', group: 'action', since: '5.18', config: 'CONFIG_KASAN_HW_TAGS', meaning: 'Skip zeroing (vmalloc sets it under KASAN hardware tags).', cite: 'gfp_types.h:280-283; vmalloc.c:3903; since: Konovalov "kasan, page_alloc: allow skipping memory init for HW_TAGS" (vmalloc HW_TAGS series), v6.1 gfp_types.h:52; 5.18 per OOMAnalyser KernelConfig_5_18 (not confirmed from a tree)' },
  { name: '__GFP_SKIP_KASAN', group: 'action', since: '6.4', config: 'CONFIG_KASAN_HW_TAGS', meaning: 'KASAN skips unpoisoning on allocation and poisoning on free (hardware tag mode only).', cite: 'gfp_types.h:286-290; since: "kasan: remove PG_skip_kasan_poison flag" v2 (Message-ID 20230228063240.3613139-3-pcc@google.com) renames SKIP_KASAN_UNPOISON to SKIP_KASAN and drops SKIP_KASAN_POISON; 6.4 per OOMAnalyser KernelConfig_6_4 (not 6.3: its 6_3 table still has both)' },
  { name: '__GFP_NOLOCKDEP', group: 'action', config: 'CONFIG_LOCKDEP', meaning: 'Disable lockdep gfp-context tracking; __need_reclaim() returns false.', cite: 'gfp_types.h:299-300; page_alloc.c:3925-3926; new in 4.12 ("lockdep: allow to disable reclaim lockup detection", the patch that Michal Hocko\'s -fix amends; id not confirmed); its hex value moved five times (4.18, 5.14, 5.18, 6.4, 6.9 enum), see gfp-layouts.ts' },
  { name: '__GFP_NO_OBJ_EXT', group: 'mobility', since: '6.10', config: 'CONFIG_SLAB_OBJ_EXT', meaning: 'Slab allocation without an object extension vector.', cite: 'gfp_types.h:147, :154; since: memory-allocation-profiling series (kernel-model.md §5: 6.10), absent from the 6.9 enum (OOMAnalyser KernelConfig_6_9 vs 6_10)' },
  // Flags of older kernels only.
  { name: '__GFP_COLD', group: 'action', until: '4.15', meaning: 'Prefer a cache-cold page (removed in 4.15).', cite: 'commit 453f85d43fa9 "mm: remove __GFP_COLD"; 0x100u in v4.14 gfp.h (harveydong/linux-4.14-comment), gone in OOMAnalyser KernelConfig_4_15' },
  { name: '__GFP_NOTRACK', group: 'action', until: '4.15', meaning: 'Do not track with kmemcheck (removed with kmemcheck in 4.15; 4.14.y stable also dropped it).', cite: 'kmemcheck removal ("kmemcheck: rip it out"), 4.15 per OOMAnalyser KernelConfig_4_14/4_15 (0x200000u in 4.14.0); a 4.14.y fork (harveydong/linux-4.14-comment) already lacks it' },
  { name: '__GFP_REPEAT', group: 'reclaim', until: '4.13', meaning: 'Try hard to allocate (4.12); renamed and redefined as __GFP_RETRY_MAYFAIL in 4.13.', cite: 'commit dcda9b04713c "mm, tree wide: replace __GFP_REPEAT by __GFP_RETRY_MAYFAIL with more useful semantic" (-___GFP_REPEAT 0x400u)' },
  { name: '__GFP_SKIP_KASAN_UNPOISON', group: 'action', since: '5.18', until: '6.4', config: 'CONFIG_KASAN_HW_TAGS', meaning: 'KASAN skips unpoisoning on allocation (renamed __GFP_SKIP_KASAN in 6.4).', cite: 'v6.1 gfp_types.h:53, :254; added by Konovalov "kasan, page_alloc: allow skipping unpoisoning for HW_TAGS" (5.18 per OOMAnalyser KernelConfig_5_18); removed by "kasan: remove PG_skip_kasan_poison flag" (Message-ID 20230228063240.3613139-3-pcc@google.com; 6.4 per OOMAnalyser)' },
  { name: '__GFP_SKIP_KASAN_POISON', group: 'action', since: '5.14', until: '6.4', config: 'CONFIG_KASAN_HW_TAGS', meaning: 'KASAN skips poisoning on free (merged into __GFP_SKIP_KASAN in 6.4). Unconditional (0x1000000) in 5.14-5.17; CONFIG_KASAN_HW_TAGS-only from 5.18.', cite: 'added by c275c5c6d50a "kasan: disable freed user page poisoning with HW tags" (5.14 per OOMAnalyser KernelConfig_5_14); unconditional until Konovalov\'s 2022 series wrapped it in #ifdef CONFIG_KASAN_HW_TAGS; v6.1 gfp_types.h:54, :255; removed by Message-ID 20230228063240.3613139-3-pcc@google.com (6.4)' },
];

const BIT_BY_NAME = new Map<string, bigint>(GFP_FLAGS.map((f, i) => [f.name, 1n << BigInt(i)]));
const DEF_BY_NAME = new Map<string, GfpFlagDef>(GFP_FLAGS.map((f) => [f.name, f]));

export function flagDef(name: string): GfpFlagDef | undefined {
  return DEF_BY_NAME.get(name);
}

/** The logical bit of a flag; throws on a name the model does not know (a bug in a table). */
export function flagBit(name: string): bigint {
  const bit = BIT_BY_NAME.get(name);
  if (bit === undefined) throw new Error(`unknown GFP flag ${name}`);
  return bit;
}

/** OR of the logical bits of the given flags. */
export function bits(...names: string[]): bigint {
  let mask = 0n;
  for (const name of names) mask |= flagBit(name);
  return mask;
}

/** The flags set in a logical mask, in table order. */
export function flagsOf(mask: bigint): GfpFlagDef[] {
  return GFP_FLAGS.filter((f) => (mask & flagBit(f.name)) !== 0n);
}

export const ALL_FLAG_BITS: bigint = (1n << BigInt(GFP_FLAGS.length)) - 1n;

/** Frequently used bits, named once. */
export const B = {
  DMA: flagBit('__GFP_DMA'),
  HIGHMEM: flagBit('__GFP_HIGHMEM'),
  DMA32: flagBit('__GFP_DMA32'),
  MOVABLE: flagBit('__GFP_MOVABLE'),
  HIGH: flagBit('__GFP_HIGH'),
  IO: flagBit('__GFP_IO'),
  FS: flagBit('__GFP_FS'),
  ZERO: flagBit('__GFP_ZERO'),
  ATOMIC: flagBit('__GFP_ATOMIC'),
  DIRECT_RECLAIM: flagBit('__GFP_DIRECT_RECLAIM'),
  KSWAPD_RECLAIM: flagBit('__GFP_KSWAPD_RECLAIM'),
  NOWARN: flagBit('__GFP_NOWARN'),
  RETRY_MAYFAIL: flagBit('__GFP_RETRY_MAYFAIL'),
  NOFAIL: flagBit('__GFP_NOFAIL'),
  NORETRY: flagBit('__GFP_NORETRY'),
  MEMALLOC: flagBit('__GFP_MEMALLOC'),
  COMP: flagBit('__GFP_COMP'),
  NOMEMALLOC: flagBit('__GFP_NOMEMALLOC'),
  HARDWALL: flagBit('__GFP_HARDWALL'),
  THISNODE: flagBit('__GFP_THISNODE'),
  ACCOUNT: flagBit('__GFP_ACCOUNT'),
  REPEAT: flagBit('__GFP_REPEAT'),
} as const;
