// The hex value of each __GFP_ flag, per kernel version.
//
// Used only to decode a hex mask (the `gfp_mask=0x...` of a page-allocation
// failure report) and to print one; everything else works on logical bits
// (gfp-flags.ts). Each layout applies from its `from` version until the next
// layout's. Config-dependent flags are symbolic: a layout lists them in the
// order the kernel assigns them, with a fixed value where the kernel #defines
// one, or none where the kernel's enum gives the next free bit to each flag
// whose option is on (6.9 onwards, commit 772dd0342727; gfp_types.h:26-62 in 6.12).

import { compareVersions, formatVersion, parseVersion, type KernelVersion } from './version';

export interface ConfigBit {
  readonly flag: string;
  readonly config: string;
  /** Fixed hex value when the option is on; absent when the enum assigns the next free bit. */
  readonly value?: number;
}

export interface GfpLayout {
  /** First version ("X.Y") this layout applies to. */
  readonly from: string;
  /** Hex values of the unconditional flags. */
  readonly values: Readonly<Record<string, number>>;
  /** Config-dependent flags, in the kernel's order. */
  readonly configBits: readonly ConfigBit[];
  readonly cite: string;
}

// Layouts are listed oldest first. A new layout starts wherever a hex value
// changes (or a flag appears or disappears); a mask expression that changes
// without moving any bit is a masks.ts matter, not a layout.
//
// Sources, in order of weight:
//  - trees read in full: Debian linux-source-6.1 (6.1.192) and -6.12 (6.12.117)
//    under /root/.cache/gfp-lens; stored forks whose gfp.h is an upstream
//    release with annotations added (harveydong/linux-4.14-comment @14516d8205ce,
//    0x88888888/Linux-4.19 @d7e460edb189, KINGFIOX/linux-5.4.286 @20270332b49d,
//    Rtoax/linux-5.10.13 @1c1bfde75f14);
//  - the patches that made each change, read as posted (context lines show the
//    layout before, + lines the layout after), and the mainline commit ids they
//    carry where a later mail quotes them;
//  - CarstenGrohmann/OOMAnalyser OOMAnalyser.py, whose per-release KernelConfig
//    classes are "automatically extracted from the gfp.h file" of each release
//    (secondary: it places each change in a release, but its 5.14+ and 6.9+
//    tables drop ___GFP_THISNODE and mis-enumerate, so only its release
//    boundaries are used here);
//  - real allocation-failure / OOM reports with a kernel version (test/model-history.test.ts).
export const GFP_LAYOUTS: readonly GfpLayout[] = [
  {
    // 4.12 as released: __GFP_OTHER_NODE gone (4.10), __GFP_NOLOCKDEP new. The
    // mm tree first gave it 0x4000000u while __GFP_BITS_SHIFT was 25+LOCKDEP
    // (Igor Stoppa, linux-mm 2017-04-27, Message-ID
    // 9929419e-c22e-2a9f-a8a6-ad98d5a9da06@huawei.com); Michal Hocko's
    // "lockdep-allow-to-disable-reclaim-lockup-detection-fix" lowered it to
    // 0x2000000u, the value 4.13/4.14 carry.
    from: '4.12',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_COLD: 0x100, __GFP_NOWARN: 0x200,
      __GFP_REPEAT: 0x400, __GFP_NOFAIL: 0x800, __GFP_NORETRY: 0x1000, __GFP_MEMALLOC: 0x2000,
      __GFP_COMP: 0x4000, __GFP_ZERO: 0x8000, __GFP_NOMEMALLOC: 0x10000, __GFP_HARDWALL: 0x20000,
      __GFP_THISNODE: 0x40000, __GFP_ATOMIC: 0x80000, __GFP_ACCOUNT: 0x100000, __GFP_NOTRACK: 0x200000,
      __GFP_DIRECT_RECLAIM: 0x400000, __GFP_WRITE: 0x800000, __GFP_KSWAPD_RECLAIM: 0x1000000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x2000000 }],
    cite:
      'v4.12 include/linux/gfp.h: not read from a 4.12 tree. Values = the 4.13 patch context (dcda9b04713c, ' +
      'Message-ID 20170623085345.11304-3-mhocko@kernel.org) with ___GFP_REPEAT at 0x400u; NOLOCKDEP 0x2000000u per ' +
      'the -fix above and OOMAnalyser KernelConfig_4_12; not confirmed for the 4.12.0 tag',
  },
  {
    // __GFP_REPEAT renamed __GFP_RETRY_MAYFAIL in place (same bit).
    from: '4.13',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_COLD: 0x100, __GFP_NOWARN: 0x200,
      __GFP_RETRY_MAYFAIL: 0x400, __GFP_NOFAIL: 0x800, __GFP_NORETRY: 0x1000, __GFP_MEMALLOC: 0x2000,
      __GFP_COMP: 0x4000, __GFP_ZERO: 0x8000, __GFP_NOMEMALLOC: 0x10000, __GFP_HARDWALL: 0x20000,
      __GFP_THISNODE: 0x40000, __GFP_ATOMIC: 0x80000, __GFP_ACCOUNT: 0x100000, __GFP_NOTRACK: 0x200000,
      __GFP_DIRECT_RECLAIM: 0x400000, __GFP_WRITE: 0x800000, __GFP_KSWAPD_RECLAIM: 0x1000000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x2000000 }],
    cite:
      'commit dcda9b04713c "mm, tree wide: replace __GFP_REPEAT by __GFP_RETRY_MAYFAIL with more useful semantic" ' +
      '(-___GFP_REPEAT 0x400u / +___GFP_RETRY_MAYFAIL 0x400u); v4.14 include/linux/gfp.h:17-45 ' +
      '(harveydong/linux-4.14-comment @14516d8205ce: RETRY_MAYFAIL 0x400u, DIRECT_RECLAIM 0x400000u, WRITE 0x800000u, ' +
      'KSWAPD_RECLAIM 0x1000000u, NOLOCKDEP 0x2000000u); OOMAnalyser KernelConfig_4_13/4_14. That 4.14.y fork has no ' +
      '___GFP_NOTRACK (4.14 stable took the kmemcheck removal); 4.14.0 still had it at 0x200000u (OOMAnalyser 4_14)',
  },
  {
    // __GFP_COLD (453f85d43fa9) and __GFP_NOTRACK (kmemcheck removal) deleted;
    // their bits were left empty, nothing else moved.
    from: '4.15',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_NOWARN: 0x200,
      __GFP_RETRY_MAYFAIL: 0x400, __GFP_NOFAIL: 0x800, __GFP_NORETRY: 0x1000, __GFP_MEMALLOC: 0x2000,
      __GFP_COMP: 0x4000, __GFP_ZERO: 0x8000, __GFP_NOMEMALLOC: 0x10000, __GFP_HARDWALL: 0x20000,
      __GFP_THISNODE: 0x40000, __GFP_ATOMIC: 0x80000, __GFP_ACCOUNT: 0x100000,
      __GFP_DIRECT_RECLAIM: 0x400000, __GFP_WRITE: 0x800000, __GFP_KSWAPD_RECLAIM: 0x1000000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x2000000 }],
    cite:
      'Shakeel Butt, "mm: save two stranding bit in gfp_mask" (linux-mm 2018-05-16): context lines show 0x100 and ' +
      '0x200000 empty with DIRECT_RECLAIM 0x400000u, WRITE 0x800000u, KSWAPD_RECLAIM 0x1000000u, NOLOCKDEP 0x2000000u; ' +
      'OOMAnalyser KernelConfig_4_15; Ubuntu 4.15.0-108 report gfp_mask=0x15000c0(GFP_KERNEL_ACCOUNT) (shakenfist/shakenfist#177)',
  },
  {
    // The two stranded bits reused: WRITE -> 0x100, DIRECT/KSWAPD reclaim slide
    // down, NOLOCKDEP -> 0x800000. GFP_KERNEL becomes 0x6000c0.
    from: '4.18',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_WRITE: 0x100, __GFP_NOWARN: 0x200,
      __GFP_RETRY_MAYFAIL: 0x400, __GFP_NOFAIL: 0x800, __GFP_NORETRY: 0x1000, __GFP_MEMALLOC: 0x2000,
      __GFP_COMP: 0x4000, __GFP_ZERO: 0x8000, __GFP_NOMEMALLOC: 0x10000, __GFP_HARDWALL: 0x20000,
      __GFP_THISNODE: 0x40000, __GFP_ATOMIC: 0x80000, __GFP_ACCOUNT: 0x100000,
      __GFP_DIRECT_RECLAIM: 0x200000, __GFP_KSWAPD_RECLAIM: 0x400000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x800000 }],
    cite:
      'Shakeel Butt "[PATCH v2] mm: save two stranding bit in gfp_mask" (Message-ID 20180516211439.177440-1-shakeelb@google.com, ' +
      'acked by Michal Hocko and Vlastimil Babka 2018-05-17; mainline id not found); v4.19 include/linux/gfp.h:18-44 ' +
      '(0x88888888/Linux-4.19 @d7e460edb189); OOMAnalyser KernelConfig_4_18 puts it in 4.18 (not confirmed from a 4.18 tree)',
  },
  {
    // Alexey Dobriyan's reorder: GFP_KERNEL and GFP_ATOMIC bits packed low so
    // that GFP_KERNEL (0xcc0) is an ARM immediate.
    from: '5.1',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100, __GFP_ATOMIC: 0x200,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x800000 }],
    cite:
      'Alexey Dobriyan "[PATCH] mm: shuffle GFP_* flags" (Message-ID 20190109201838.GA9140@avx2, posted after 5.0-rc1, ' +
      'so not in 5.0; mainline id not found); v5.4 include/linux/gfp.h (KINGFIOX/linux-5.4.286 @20270332b49d) and ' +
      'v5.10 include/linux/gfp.h:18-45 (Rtoax/linux-5.10.13 @1c1bfde75f14); OOMAnalyser KernelConfig_5_1 puts it in 5.1; ' +
      'Ubuntu 5.3.0 report gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE) (developersu/ns-usbloader#40)',
  },
  {
    // __GFP_ZEROTAGS (arm64 MTE) and __GFP_SKIP_KASAN_POISON arrive, both
    // UNCONDITIONAL: a 5.14-5.17 kernel sets bit 0x1000000 in every
    // GFP_HIGHUSER_MOVABLE even without KASAN. NOLOCKDEP moves to 0x2000000.
    from: '5.14',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100, __GFP_ATOMIC: 0x200,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000, __GFP_SKIP_KASAN_POISON: 0x1000000,
    },
    configBits: [{ flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x2000000 }],
    cite:
      '"arm64: mte: handle tags zeroing at page allocation time" (__GFP_ZEROTAGS; id not confirmed) and commit c275c5c6d50a "kasan: disable freed user page poisoning ' +
      'with HW tags" (named in 70c248aca9e7\'s message); Andrey Konovalov "kasan, page_alloc: ... HW_TAGS" v4 (kasan-dev, ' +
      'early 2022) context: "#define ___GFP_SKIP_KASAN_POISON 0x1000000u" with no #ifdef, "+#ifdef CONFIG_KASAN_HW_TAGS"; ' +
      'a stored 5.14-5.17 gfp.h (find_string id 58280114230) with the same lines and __GFP_BITS_SHIFT (25 + LOCKDEP); ' +
      'OOMAnalyser KernelConfig_5_14 puts it in 5.14 (not confirmed from a 5.14 tree)',
  },
  {
    // Konovalov's vmalloc HW_TAGS series: SKIP_ZERO / SKIP_KASAN_UNPOISON added,
    // SKIP_KASAN_POISON made conditional; all three exist only with
    // CONFIG_KASAN_HW_TAGS but keep FIXED values, as does NOLOCKDEP.
    from: '5.18',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100, __GFP_ATOMIC: 0x200,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000,
    },
    configBits: [
      { flag: '__GFP_SKIP_ZERO', config: 'CONFIG_KASAN_HW_TAGS', value: 0x1000000 },
      { flag: '__GFP_SKIP_KASAN_UNPOISON', config: 'CONFIG_KASAN_HW_TAGS', value: 0x2000000 },
      { flag: '__GFP_SKIP_KASAN_POISON', config: 'CONFIG_KASAN_HW_TAGS', value: 0x4000000 },
      { flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x8000000 },
    ],
    cite:
      'v6.1 include/linux/gfp_types.h:27-65 (Debian 6.1.192; gfp_types.h split out of gfp.h in 6.0 by "headers/deps: mm: ' +
      'Split <linux/gfp_types.h> out of <linux/gfp.h>", whose 6.0 pull conflicts with 70c248aca9e7); Konovalov series ' +
      '"kasan, page_alloc: allow skipping memory init for HW_TAGS" (+SKIP_ZERO 0x1000000u, UNPOISON 0x2000000u, ' +
      'POISON 0x4000000u, NOLOCKDEP 0x8000000u); OOMAnalyser KernelConfig_5_18 puts it in 5.18 (not confirmed from a 5.18 tree)',
  },
  {
    // __GFP_ATOMIC discarded; bit 0x200 stays unused from here on.
    from: '6.3',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000,
    },
    configBits: [
      { flag: '__GFP_SKIP_ZERO', config: 'CONFIG_KASAN_HW_TAGS', value: 0x1000000 },
      { flag: '__GFP_SKIP_KASAN_UNPOISON', config: 'CONFIG_KASAN_HW_TAGS', value: 0x2000000 },
      { flag: '__GFP_SKIP_KASAN_POISON', config: 'CONFIG_KASAN_HW_TAGS', value: 0x4000000 },
      { flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x8000000 },
    ],
    cite:
      'commit 2973d8229b78 "mm: discard __GFP_ATOMIC" (kernel-model.md §5: 6.3); OOMAnalyser KernelConfig_6_3 ' +
      '(no ___GFP_ATOMIC, SKIP_KASAN_POISON/UNPOISON still present); gfp_types.h:36 (6.12) "/* 0x200u unused */"',
  },
  {
    // SKIP_KASAN_POISON/UNPOISON merged into __GFP_SKIP_KASAN; NOLOCKDEP -> 0x4000000.
    from: '6.4',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000,
    },
    configBits: [
      { flag: '__GFP_SKIP_ZERO', config: 'CONFIG_KASAN_HW_TAGS', value: 0x1000000 },
      { flag: '__GFP_SKIP_KASAN', config: 'CONFIG_KASAN_HW_TAGS', value: 0x2000000 },
      { flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP', value: 0x4000000 },
    ],
    cite:
      'Peter Collingbourne "[PATCH v2 2/2] kasan: remove PG_skip_kasan_poison flag" (Message-ID ' +
      '20230228063240.3613139-3-pcc@google.com, posted 2023-02-28 during the 6.3 merge window): -SKIP_KASAN_UNPOISON ' +
      '0x2000000u/-POISON 0x4000000u, +SKIP_KASAN 0x2000000u, NOLOCKDEP 0x8000000u -> 0x4000000u; OOMAnalyser ' +
      'KernelConfig_6_4 puts it in 6.4 (not confirmed from a 6.4 tree)',
  },
  {
    // The #defines become BIT() of an enum; config bits lose their fixed
    // values and take the next free bit (24, 25, ...) in enum order.
    from: '6.9',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000,
    },
    configBits: [
      { flag: '__GFP_SKIP_ZERO', config: 'CONFIG_KASAN_HW_TAGS' },
      { flag: '__GFP_SKIP_KASAN', config: 'CONFIG_KASAN_HW_TAGS' },
      { flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP' },
    ],
    cite:
      'commit 772dd0342727 "mm: enumerate all gfp flags" (Suren Baghdasaryan): already in mainline for 6.9-rc, since ' +
      'Linus merged "memblock tests: fix undefined reference to `BIT\'" (592447f6cb3c, which names 772dd0342727) in ' +
      'the memblock fixes pull of 2024-04-08 (merge 4f0a8fe3215c); OOMAnalyser KernelConfig_6_9 (___GFP_UNUSED_BIT, ' +
      'no NO_OBJ_EXT); enum order as gfp_types.h:26-57 (6.12)',
  },
  {
    // __GFP_NO_OBJ_EXT (memory allocation profiling) appended after NOLOCKDEP.
    from: '6.10',
    values: {
      __GFP_DMA: 0x1, __GFP_HIGHMEM: 0x2, __GFP_DMA32: 0x4, __GFP_MOVABLE: 0x8, __GFP_RECLAIMABLE: 0x10,
      __GFP_HIGH: 0x20, __GFP_IO: 0x40, __GFP_FS: 0x80, __GFP_ZERO: 0x100,
      __GFP_DIRECT_RECLAIM: 0x400, __GFP_KSWAPD_RECLAIM: 0x800, __GFP_WRITE: 0x1000, __GFP_NOWARN: 0x2000,
      __GFP_RETRY_MAYFAIL: 0x4000, __GFP_NOFAIL: 0x8000, __GFP_NORETRY: 0x10000, __GFP_MEMALLOC: 0x20000,
      __GFP_COMP: 0x40000, __GFP_NOMEMALLOC: 0x80000, __GFP_HARDWALL: 0x100000, __GFP_THISNODE: 0x200000,
      __GFP_ACCOUNT: 0x400000, __GFP_ZEROTAGS: 0x800000,
    },
    configBits: [
      { flag: '__GFP_SKIP_ZERO', config: 'CONFIG_KASAN_HW_TAGS' },
      { flag: '__GFP_SKIP_KASAN', config: 'CONFIG_KASAN_HW_TAGS' },
      { flag: '__GFP_NOLOCKDEP', config: 'CONFIG_LOCKDEP' },
      { flag: '__GFP_NO_OBJ_EXT', config: 'CONFIG_SLAB_OBJ_EXT' },
    ],
    cite:
      'include/linux/gfp_types.h:26-62, :66-105 (6.12.117); __GFP_NO_OBJ_EXT from the memory-allocation-profiling ' +
      'series (kernel-model.md §5: 6.10; OOMAnalyser KernelConfig_6_10)',
  },
];

export function layoutFor(version: KernelVersion): GfpLayout {
  let chosen: GfpLayout | undefined;
  for (const layout of GFP_LAYOUTS) {
    if (compareVersions(parseVersion(layout.from), version) <= 0) chosen = layout;
  }
  if (!chosen) throw new Error(`no GFP layout for ${formatVersion(version)}`);
  return chosen;
}

/**
 * Hex value of each config-dependent flag of a layout, given which options are
 * on. Flags whose option is off are 0 (absent from the result).
 */
export function configBitValues(layout: GfpLayout, enabled: ReadonlySet<string>): Map<string, number> {
  const result = new Map<string, number>();
  // Sequential (enum) bits start right after the highest unconditional bit.
  let next = Math.max(...Object.values(layout.values)) * 2;
  for (const cb of layout.configBits) {
    if (!enabled.has(cb.config)) continue;
    if (cb.value !== undefined) {
      result.set(cb.flag, cb.value);
    } else {
      result.set(cb.flag, next);
      next *= 2;
    }
  }
  return result;
}
