// Composite GFP masks, as the kernel defines them, per version.
//
// Each definition is the C expression of the kernel's #define, evaluated by
// mask-expr.ts over the logical bits of gfp-flags.ts. A name with several
// definitions has one per version range; the ranges of one name never overlap.

export interface MaskDefinition {
  readonly name: string;
  /** The #define's expression, over __GFP_ flags and earlier masks. */
  readonly expr: string;
  readonly since?: string;
  readonly until?: string;
  /**
   * Candidate for the canonical name of a mask (formatting): the public masks
   * that callers write. mm-internal masks and aliases are not.
   */
  readonly canonical: boolean;
  /** What the mask is for, when the name does not say it. */
  readonly meaning: string;
  readonly cite: string;
}

// Cites: "v6.1 gfp_types.h:N" is Debian linux-source-6.1 (6.1.192), bare
// "gfp_types.h:N" the 6.12.117 tree; older releases were read from stored
// forks named in gfp-layouts.ts.
export const MASK_DEFINITIONS: readonly MaskDefinition[] = [
  { name: '__GFP_RECLAIM', expr: '__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM', canonical: false, meaning: 'Both reclaim bits: may enter direct reclaim and wakes kswapd.', cite: 'gfp_types.h:209, :263; v6.1 gfp_types.h:220; same in v4.14 gfp.h (harveydong/linux-4.14-comment)' },
  { name: 'GFP_ATOMIC', expr: '__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM', until: '6.3', canonical: true, meaning: 'Cannot sleep; high priority with access to atomic reserves.', cite: 'v6.1 gfp_types.h:334; identical in v4.14, v4.19, v5.4 and v5.10 gfp.h (stored forks, see gfp-layouts.ts)' },
  { name: 'GFP_ATOMIC', expr: '__GFP_HIGH | __GFP_KSWAPD_RECLAIM', since: '6.3', canonical: true, meaning: 'Cannot sleep; high priority with access to part of the reserves.', cite: 'gfp_types.h:377; commit 2973d8229b78 "mm: discard __GFP_ATOMIC" (6.3)' },
  { name: 'GFP_KERNEL', expr: '__GFP_RECLAIM | __GFP_IO | __GFP_FS', canonical: true, meaning: 'Typical kernel-internal allocation: may sleep, reclaim, start IO and recurse into filesystems.', cite: 'gfp_types.h:378; v6.1 gfp_types.h:335; unchanged since 4.12 (v4.14 gfp.h)' },
  { name: 'GFP_KERNEL_ACCOUNT', expr: 'GFP_KERNEL | __GFP_ACCOUNT', canonical: true, meaning: 'GFP_KERNEL charged to the kmemcg.', cite: 'gfp_types.h:379; v6.1 gfp_types.h:336; unchanged since 4.12' },
  { name: 'GFP_NOWAIT', expr: '__GFP_KSWAPD_RECLAIM', until: '6.8', canonical: true, meaning: 'Cannot sleep, no reserves; wakes kswapd.', cite: 'v6.1 gfp_types.h:337; same in v4.14-v5.10 gfp.h' },
  { name: 'GFP_NOWAIT', expr: '__GFP_KSWAPD_RECLAIM | __GFP_NOWARN', since: '6.8', canonical: true, meaning: 'Cannot sleep, no reserves, no failure warning; wakes kswapd.', cite: 'gfp_types.h:380; commit 16f5dfbc851b "gfp: include __GFP_NOWARN in GFP_NOWAIT" (6.8: kernel-model.md §5, OOMAnalyser KernelConfig_6_8)' },
  { name: 'GFP_NOIO', expr: '__GFP_RECLAIM', canonical: true, meaning: 'May sleep and reclaim, but never starts physical IO (nor filesystem reclaim).', cite: 'gfp_types.h:381; v6.1 gfp_types.h:338; unchanged since 4.12' },
  { name: 'GFP_NOFS', expr: '__GFP_RECLAIM | __GFP_IO', canonical: true, meaning: 'May sleep, reclaim and start IO, but never calls back into filesystems.', cite: 'gfp_types.h:382; v6.1 gfp_types.h:339; unchanged since 4.12' },
  { name: 'GFP_USER', expr: '__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL', canonical: true, meaning: 'For userspace allocations that the kernel or hardware also access; cpuset-constrained.', cite: 'gfp_types.h:383; v6.1 gfp_types.h:340; unchanged since 4.12' },
  { name: 'GFP_DMA', expr: '__GFP_DMA', canonical: true, meaning: 'Zone modifier: ZONE_DMA.', cite: 'gfp_types.h:384; v6.1 gfp_types.h:341' },
  { name: 'GFP_DMA32', expr: '__GFP_DMA32', canonical: true, meaning: 'Zone modifier: ZONE_DMA32.', cite: 'gfp_types.h:385; v6.1 gfp_types.h:342' },
  { name: 'GFP_HIGHUSER', expr: 'GFP_USER | __GFP_HIGHMEM', canonical: true, meaning: 'Userspace allocation that may come from highmem.', cite: 'gfp_types.h:386; v6.1 gfp_types.h:343' },
  { name: 'GFP_HIGHUSER_MOVABLE', expr: 'GFP_HIGHUSER | __GFP_MOVABLE', until: '5.14', canonical: true, meaning: 'Movable userspace page (page cache, anonymous memory).', cite: 'v5.10 include/linux/gfp.h (Rtoax/linux-5.10.13); v5.4, v4.19, v4.14 gfp.h (stored forks)' },
  // c275c5c6d50a added __GFP_SKIP_KASAN_POISON, which is unconditional in
  // 5.14-5.17, so these kernels print 0x1100cca for a plain GFP_HIGHUSER_MOVABLE.
  { name: 'GFP_HIGHUSER_MOVABLE', expr: 'GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON', since: '5.14', until: '6.0', canonical: true, meaning: 'Movable userspace page (page cache, anonymous memory).', cite: 'commit c275c5c6d50a "kasan: disable freed user page poisoning with HW tags" (5.14 per OOMAnalyser KernelConfig_5_14); the gfp.h hunk of 70c248aca9e7 (as posted for 5.19 stable, "[PATCH AUTOSEL 5.19 11/58]") removes the old second line "__GFP_SKIP_KASAN_POISON)"; 5.14-5.17 value confirmed by a stored gfp.h with "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON" and an unconditional ___GFP_SKIP_KASAN_POISON 0x1000000u' },
  { name: 'GFP_HIGHUSER_MOVABLE', expr: 'GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON | __GFP_SKIP_KASAN_UNPOISON', since: '6.0', until: '6.4', canonical: true, meaning: 'Movable userspace page (page cache, anonymous memory).', cite: 'v6.1 gfp_types.h:344-345; commit 70c248aca9e7 "mm: kasan: Skip unpoisoning of user pages" (6.0: Yury Norov\'s 6.0 bitmap pull notes it conflicts with the gfp_types.h split)' },
  { name: 'GFP_HIGHUSER_MOVABLE', expr: 'GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN', since: '6.4', canonical: true, meaning: 'Movable userspace page (page cache, anonymous memory).', cite: 'gfp_types.h:387; "kasan: remove PG_skip_kasan_poison flag" (Message-ID 20230228063240.3613139-3-pcc@google.com; 6.4 per OOMAnalyser KernelConfig_6_4)' },
  { name: 'GFP_TRANSHUGE_LIGHT', expr: '(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM', canonical: true, meaning: 'THP allocation that does not reclaim or compact.', cite: 'gfp_types.h:388-389; v6.1 gfp_types.h:346-347; same text in v4.14-v5.10 gfp.h' },
  { name: 'GFP_TRANSHUGE', expr: 'GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM', canonical: true, meaning: 'THP allocation that may compact and reclaim.', cite: 'gfp_types.h:390; v6.1 gfp_types.h:348; same text in v4.14-v5.10 gfp.h' },
  { name: 'GFP_TEMPORARY', expr: '__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_RECLAIMABLE', until: '4.14', canonical: true, meaning: 'Short-lived allocation (removed in 4.14).', cite: 'commit 0ee931c4e31a "mm: treewide: remove GFP_TEMPORARY allocation flag"; in OOMAnalyser KernelConfig_4_13, absent from 4_14 and from v4.14 gfp.h (harveydong/linux-4.14-comment)' },
  // Masks that are not allocation contexts but appear in code and in hovers.
  { name: 'GFP_ZONEMASK', expr: '__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE', canonical: false, meaning: 'All zone modifiers.', cite: 'gfp_types.h:118; v6.1 gfp_types.h:78; same in v4.14 gfp.h' },
  { name: 'GFP_MOVABLE_MASK', expr: '__GFP_RECLAIMABLE | __GFP_MOVABLE', canonical: false, meaning: 'The mobility bits.', cite: 'include/linux/gfp.h:20 (6.12); v6.1 gfp.h:13; same in v4.14 gfp.h' },
  // mm/internal.h. __GFP_ATOMIC joined in 2016 (Mel Gorman, "mm, slaub: Add
  // __GFP_ATOMIC to the GFP reclaim mask", 4.7-era), so it is there from 4.12.
  { name: 'GFP_RECLAIM_MASK', expr: '__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_REPEAT | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC', until: '4.13', canonical: false, meaning: 'mm-internal: the bits that control reclaim, kept when an allocation is made on behalf of another.', cite: 'context of the mm/internal.h hunk of dcda9b04713c (Message-ID 20170623085345.11304-3-mhocko@kernel.org)' },
  { name: 'GFP_RECLAIM_MASK', expr: '__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC', since: '4.13', until: '5.17', canonical: false, meaning: 'mm-internal: the bits that control reclaim, kept when an allocation is made on behalf of another.', cite: '+ lines of dcda9b04713c mm/internal.h; - lines of 704687deaae7 "mm: make slab and vmalloc allocators __GFP_NOLOCKDEP aware"' },
  { name: 'GFP_RECLAIM_MASK', expr: '__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC | __GFP_NOLOCKDEP', since: '5.17', until: '6.3', canonical: false, meaning: 'mm-internal: the bits that control reclaim, kept when an allocation is made on behalf of another.', cite: 'v6.1 mm/internal.h:24-27; commit 704687deaae7 (5.17: kernel-model.md §5 mainline-log block; posted Nov 2021, not confirmed from a 5.17 tree)' },
  { name: 'GFP_RECLAIM_MASK', expr: '__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_NOLOCKDEP', since: '6.3', canonical: false, meaning: 'mm-internal: the bits that control reclaim, kept when an allocation is made on behalf of another.', cite: 'mm/internal.h:33-36; 2973d8229b78 drops __GFP_ATOMIC from it (its mm/internal.h hunk)' },
  { name: 'GFP_CONSTRAINT_MASK', expr: '__GFP_HARDWALL | __GFP_THISNODE', canonical: false, meaning: 'mm-internal: the placement-constraint bits.', cite: 'mm/internal.h:42' },
  { name: 'GFP_PGTABLE_KERNEL', expr: 'GFP_KERNEL | __GFP_ZERO', since: '5.2', canonical: false, meaning: 'Kernel page-table pages.', cite: 'include/asm-generic/pgalloc.h:7; added by Mike Rapoport "asm-generic, x86: introduce generic pte_{alloc,free}_one[_kernel]" (Message-ID 1556810922-20248-2-git-send-email-rppt@linux.ibm.com, 2019-05-02); release 5.2 not confirmed from a tree' },
  { name: 'GFP_PGTABLE_USER', expr: 'GFP_PGTABLE_KERNEL | __GFP_ACCOUNT', since: '5.2', canonical: false, meaning: 'User page-table pages, charged to the memcg.', cite: 'include/asm-generic/pgalloc.h:8; same patch as GFP_PGTABLE_KERNEL; release 5.2 not confirmed' },
  { name: 'GFP_F2FS_ZERO', expr: 'GFP_NOFS | __GFP_ZERO', canonical: false, meaning: 'f2fs: GFP_NOFS with zeroing.', cite: 'include/linux/f2fs_fs.h:46' },
];
