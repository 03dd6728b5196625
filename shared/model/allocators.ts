// Allocation entry points (kernel-model.md §3): where the gfp argument is, or
// which mask is implicit, and which backend serves the call. Adding an
// allocator is one row here plus a fixture.

import { inRange, type KernelVersion } from './version';

export type Backend =
  | 'slab'
  | 'kvmalloc'
  | 'vmalloc'
  | 'page'
  | 'mempool'
  | 'percpu'
  | 'bio'
  | 'skb'
  | 'string'
  | 'devres'
  | 'dma'
  | 'idr'
  | 'xarray'
  | 'radix-tree'
  | 'bitmap'
  | 'scatterlist'
  | 'jbd2'
  | 'other';

export type GfpArg =
  /** The gfp is argument `index` (0-based). */
  | { kind: 'arg'; index: number }
  /** Either of these indexes, depending on the config (DECL_BUCKET_PARAMS): the one whose text is a mask. */
  | { kind: 'config-arg'; indexes: readonly number[] }
  /** Optional argument `index`; when absent the mask is `default` (kmalloc_obj's default_gfp()). */
  | { kind: 'optional'; index: number; default: string }
  /** No gfp argument: the allocator always uses `mask`. */
  | { kind: 'implicit'; mask: string };

export interface AllocatorDef {
  /** Public names; the `_noprof` twins are derived (see noprofName). */
  readonly names: readonly string[];
  readonly gfp: GfpArg;
  readonly backend: Backend;
  /** Bits the allocator adds to the caller's mask (kzalloc adds __GFP_ZERO). */
  readonly adds?: string;
  /** Argument index of the page order, for gfp/nofail-high-order (page allocator). */
  readonly orderArg?: number;
  /** Argument index of the byte size, for kvmalloc/vmalloc size reasoning. */
  readonly sizeArg?: number;
  /** Whether there is a `_noprof` twin with the same arguments (6.10 alloc tagging). */
  readonly noprof?: boolean;
  /** Other names of the same entry point (for example `get_free_pages_noprof` for `__get_free_pages`). */
  readonly aliases?: readonly string[];
  /**
   * The gfp argument is also a policy input of the callee: what a written
   * GFP_NOFS/GFP_NOIO there chooses goes beyond the context of its own
   * allocations (jbd2 makes a mask without __GFP_FS mean NOFAIL). Such a mask
   * is neither redundant inside a scope nor unexplained outside one, and no
   * fix rewrites it to GFP_KERNEL. The text says what the mask chooses.
   */
  readonly gfpPolicy?: string;
  readonly since?: string;
  readonly until?: string;
  readonly cite: string;
}

const arg = (index: number): GfpArg => ({ kind: 'arg', index });
const implicit = (mask: string): GfpArg => ({ kind: 'implicit', mask });
/** kmalloc_obj() and family: a missing gfp is default_gfp()'s GFP_KERNEL (include/linux/gfp.h:16-17). */
const optional = (index: number): GfpArg => ({ kind: 'optional', index, default: 'GFP_KERNEL' });
/** DECL_BUCKET_PARAMS(size, b): one parameter without CONFIG_SLAB_BUCKETS, two with it (slab.h:795-803). */
const bucketed: GfpArg = { kind: 'config-arg', indexes: [1, 2] };

/**
 * Rows are grouped as in kernel-model.md §3, each group followed by the
 * siblings the 6.12 headers declare next to the documented ones. Cites are
 * 6.12.117 paths; verified by reading the tree, not copied from the sheet.
 * A row's names share the gfp position, the added bits and whether a
 * `_noprof` twin with the same arguments exists, so `kzalloc_node` (no twin)
 * is not in `kmalloc_node`'s row.
 */
export const ALLOCATORS: readonly AllocatorDef[] = [
  // ---- §3.1 slab / kmalloc (include/linux/slab.h) ----
  { names: ['kmalloc'], gfp: arg(1), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:885-900' },
  { names: ['kzalloc'], gfp: arg(1), backend: 'slab', adds: '__GFP_ZERO', noprof: true, cite: 'include/linux/slab.h:1127-1131' },
  { names: ['kmalloc_node'], gfp: arg(1), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:1007-1022' },
  { names: ['kzalloc_node'], gfp: arg(1), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:1132' },
  { names: ['kmalloc_array', 'kmalloc_array_node'], gfp: arg(2), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:1030-1040, :1101-1112' },
  { names: ['kcalloc', 'kcalloc_node'], gfp: arg(2), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:1079, :1114-1115' },
  { names: ['krealloc'], gfp: arg(2), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:452-454' },
  { names: ['krealloc_array'], gfp: arg(3), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:1059-1071' },
  // kmalloc_node_track_caller_noprof is a macro that appends the caller; the gfp stays at 1.
  { names: ['kmalloc_track_caller', 'kmalloc_node_track_caller'], gfp: arg(1), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:1081-1099' },
  { names: ['kmem_cache_alloc', 'kmem_cache_alloc_bulk', 'kmem_cache_alloc_node'], gfp: arg(1), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:726-728, :778-779, :786-788' },
  { names: ['kmem_cache_zalloc'], gfp: arg(1), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:1120' },
  { names: ['kmem_cache_alloc_lru'], gfp: arg(2), backend: 'slab', noprof: true, cite: 'include/linux/slab.h:730-732' },
  { names: ['kmem_buckets_alloc', 'kmem_buckets_alloc_track_caller'], gfp: arg(2), backend: 'slab', cite: 'include/linux/slab.h:1001-1005' },
  // The out-of-line entry points behind the inline kmalloc()/kmalloc_node(): not meant for callers, but they appear in mm/ and kunit.
  {
    names: ['__kmalloc_noprof', '__kmalloc_cache_noprof', '__kmalloc_cache_node_noprof', '__kmalloc_large_noprof', '__kmalloc_large_node_noprof'],
    gfp: arg(1),
    backend: 'slab',
    cite: 'include/linux/slab.h:811-828',
  },
  { names: ['__kmalloc_node_noprof', '__kmalloc_node_track_caller_noprof'], gfp: bucketed, backend: 'slab', cite: 'include/linux/slab.h:795-803, :814, :1081' },
  { names: ['kvmalloc', 'kvmalloc_node'], gfp: arg(1), backend: 'kvmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/slab.h:1134-1140' },
  { names: ['kvzalloc', 'kvzalloc_node'], gfp: arg(1), backend: 'kvmalloc', adds: '__GFP_ZERO', sizeArg: 0, cite: 'include/linux/slab.h:1141, :1143' },
  { names: ['__kvmalloc_node_noprof'], gfp: bucketed, backend: 'kvmalloc', sizeArg: 0, cite: 'include/linux/slab.h:1134' },
  { names: ['kmem_buckets_valloc'], gfp: arg(2), backend: 'kvmalloc', sizeArg: 1, cite: 'include/linux/slab.h:1144-1145' },
  // n * size: no single size argument.
  { names: ['kvmalloc_array'], gfp: arg(2), backend: 'kvmalloc', noprof: true, cite: 'include/linux/slab.h:1147-1162' },
  { names: ['kvcalloc', 'kvcalloc_node'], gfp: arg(2), backend: 'kvmalloc', adds: '__GFP_ZERO', noprof: true, cite: 'include/linux/slab.h:1159-1164' },
  // The only name of the node variant: there is no public kvmalloc_array_node().
  { names: ['kvmalloc_array_node_noprof'], gfp: arg(2), backend: 'kvmalloc', cite: 'include/linux/slab.h:1147-1156' },
  // 590b9d576cae "mm: kvmalloc: align kvrealloc() with krealloc()" dropped oldsize in 6.12.
  { names: ['kvrealloc'], gfp: arg(3), backend: 'kvmalloc', sizeArg: 2, noprof: true, until: '6.12', cite: 'v6.11 include/linux/slab.h (kvrealloc_noprof(p, oldsize, newsize, flags)); commit 590b9d576cae' },
  { names: ['kvrealloc'], gfp: arg(2), backend: 'kvmalloc', sizeArg: 1, noprof: true, since: '6.12', cite: 'include/linux/slab.h:1166-1168' },
  // kmalloc_obj() family: upstream 7.0, backported to this 6.12.117 tree. The size is computed from the type, so no sizeArg.
  { names: ['kmalloc_obj'], gfp: optional(1), backend: 'slab', cite: 'include/linux/slab.h:947-948' },
  { names: ['kmalloc_objs'], gfp: optional(2), backend: 'slab', cite: 'include/linux/slab.h:959-960' },
  { names: ['kmalloc_flex'], gfp: optional(3), backend: 'slab', cite: 'include/linux/slab.h:974-975' },
  { names: ['kzalloc_obj'], gfp: optional(1), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:978-979' },
  { names: ['kzalloc_objs'], gfp: optional(2), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:980-981' },
  { names: ['kzalloc_flex'], gfp: optional(3), backend: 'slab', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:982-983' },
  { names: ['kvmalloc_obj'], gfp: optional(1), backend: 'kvmalloc', cite: 'include/linux/slab.h:986-987' },
  { names: ['kvmalloc_objs'], gfp: optional(2), backend: 'kvmalloc', cite: 'include/linux/slab.h:988-989' },
  { names: ['kvmalloc_flex'], gfp: optional(3), backend: 'kvmalloc', cite: 'include/linux/slab.h:990-991' },
  { names: ['kvzalloc_obj'], gfp: optional(1), backend: 'kvmalloc', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:994-995' },
  { names: ['kvzalloc_objs'], gfp: optional(2), backend: 'kvmalloc', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:996-997' },
  { names: ['kvzalloc_flex'], gfp: optional(3), backend: 'kvmalloc', adds: '__GFP_ZERO', cite: 'include/linux/slab.h:998-999' },

  // ---- §3.2 vmalloc (include/linux/vmalloc.h; every public name is a macro around a _noprof function) ----
  { names: ['vmalloc', 'vmalloc_node'], gfp: implicit('GFP_KERNEL'), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:144-145, :153-154; mm/vmalloc.c:4007-4010, :4085-4088' },
  { names: ['vzalloc', 'vzalloc_node'], gfp: implicit('GFP_KERNEL | __GFP_ZERO'), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:147-148, :156-157; mm/vmalloc.c:4047-4050, :4103-4106' },
  { names: ['vmalloc_user'], gfp: implicit('GFP_KERNEL | __GFP_ZERO'), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:150-151; mm/vmalloc.c:4063-4068' },
  // GFP_VMALLOC32 is private to mm/vmalloc.c and config-dependent: GFP_DMA32 | GFP_KERNEL
  // except on 64-bit with ZONE_DMA but no ZONE_DMA32, where it is GFP_DMA | GFP_KERNEL.
  { names: ['vmalloc_32'], gfp: implicit('GFP_DMA32 | GFP_KERNEL'), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:159-160; mm/vmalloc.c:4199-4209, :4220-4224' },
  { names: ['vmalloc_32_user'], gfp: implicit('GFP_DMA32 | GFP_KERNEL | __GFP_ZERO'), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:162-163; mm/vmalloc.c:4236-4242' },
  { names: ['vmalloc_array'], gfp: implicit('GFP_KERNEL'), backend: 'vmalloc', noprof: true, cite: 'include/linux/vmalloc.h:184-185; mm/util.c:794-796' },
  { names: ['vcalloc'], gfp: implicit('GFP_KERNEL | __GFP_ZERO'), backend: 'vmalloc', noprof: true, cite: 'include/linux/vmalloc.h:190-191; mm/util.c:817-819' },
  { names: ['__vmalloc', 'vmalloc_huge'], gfp: arg(1), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:165-166, :178-179' },
  { names: ['__vmalloc_node'], gfp: arg(2), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:174-176' },
  { names: ['__vmalloc_node_range'], gfp: arg(4), backend: 'vmalloc', sizeArg: 0, noprof: true, cite: 'include/linux/vmalloc.h:168-172' },
  { names: ['__vmalloc_array'], gfp: arg(2), backend: 'vmalloc', noprof: true, cite: 'include/linux/vmalloc.h:181-182' },
  { names: ['__vcalloc'], gfp: arg(2), backend: 'vmalloc', adds: '__GFP_ZERO', noprof: true, cite: 'include/linux/vmalloc.h:187-188; mm/util.c:806-808' },
  { names: ['vrealloc'], gfp: arg(2), backend: 'vmalloc', sizeArg: 1, noprof: true, cite: 'include/linux/vmalloc.h:193-195' },

  // ---- §3.3 page allocator (include/linux/gfp.h, include/linux/pagemap.h) ----
  { names: ['alloc_pages', 'folio_alloc', 'alloc_pages_mpol', 'folio_alloc_mpol', 'vma_alloc_folio', '__folio_alloc_node'], gfp: arg(0), backend: 'page', orderArg: 1, noprof: true, cite: 'include/linux/gfp.h:278-287, :305-341' },
  { names: ['__alloc_pages', '__folio_alloc'], gfp: arg(0), backend: 'page', orderArg: 1, noprof: true, cite: 'include/linux/gfp.h:209-215' },
  { names: ['alloc_page'], gfp: arg(0), backend: 'page', cite: 'include/linux/gfp.h:343' },
  { names: ['alloc_page_vma'], gfp: arg(0), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:345-352' },
  { names: ['get_zeroed_page'], gfp: arg(0), backend: 'page', adds: '__GFP_ZERO', noprof: true, cite: 'include/linux/gfp.h:357-358; mm/page_alloc.c:4910-4913' },
  { names: ['alloc_pages_node', '__alloc_pages_node'], gfp: arg(1), backend: 'page', orderArg: 2, noprof: true, cite: 'include/linux/gfp.h:267-303' },
  // Macro around get_free_pages_noprof (no leading __), which clears __GFP_HIGHMEM (mm/page_alloc.c:4899-4907).
  { names: ['__get_free_pages'], aliases: ['get_free_pages_noprof'], gfp: arg(0), backend: 'page', orderArg: 1, cite: 'include/linux/gfp.h:354-355' },
  { names: ['__get_free_page'], gfp: arg(0), backend: 'page', cite: 'include/linux/gfp.h:369-370' },
  { names: ['__get_dma_pages'], gfp: arg(0), backend: 'page', adds: 'GFP_DMA', orderArg: 1, cite: 'include/linux/gfp.h:372-373' },
  { names: ['alloc_pages_exact'], gfp: arg(1), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:360-361' },
  { names: ['alloc_pages_exact_nid'], gfp: arg(2), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:365-367' },
  { names: ['__alloc_pages_bulk'], aliases: ['alloc_pages_bulk_noprof'], gfp: arg(0), backend: 'page', cite: 'include/linux/gfp.h:217-221' },
  { names: ['alloc_pages_bulk_array', 'alloc_pages_bulk_list'], gfp: arg(0), backend: 'page', cite: 'include/linux/gfp.h:230-234' },
  { names: ['alloc_pages_bulk_array_node', 'alloc_pages_bulk_array_mempolicy'], gfp: arg(0), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:223-227, :236-247' },
  { names: ['filemap_alloc_folio'], gfp: arg(0), backend: 'page', orderArg: 1, noprof: true, cite: 'include/linux/pagemap.h:664-673' },
  { names: ['__page_cache_alloc'], gfp: arg(0), backend: 'page', cite: 'include/linux/pagemap.h:675-678' },
  { names: ['__filemap_get_folio', 'pagecache_get_page'], gfp: arg(3), backend: 'page', cite: 'include/linux/pagemap.h:761-764' },
  { names: ['find_or_create_page', 'mapping_read_folio_gfp', 'read_cache_page_gfp'], gfp: arg(2), backend: 'page', cite: 'include/linux/pagemap.h:881-887, :1005-1010' },
  { names: ['filemap_add_folio', 'add_to_page_cache_lru'], gfp: arg(3), backend: 'page', cite: 'include/linux/pagemap.h:1293-1296' },
  { names: ['alloc_contig_pages'], gfp: arg(1), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:446-448' },
  { names: ['alloc_contig_range'], gfp: arg(3), backend: 'page', noprof: true, cite: 'include/linux/gfp.h:442-444' },
  { names: ['folio_alloc_gigantic'], gfp: arg(1), backend: 'page', orderArg: 0, noprof: true, cite: 'include/linux/gfp.h:454-474' },
  { names: ['page_frag_alloc', 'page_frag_alloc_align', '__page_frag_alloc_align'], gfp: arg(2), backend: 'page', cite: 'include/linux/gfp.h:381-396' },

  // ---- §3.4 mempool (include/linux/mempool.h) ----
  { names: ['mempool_alloc'], gfp: arg(1), backend: 'mempool', noprof: true, cite: 'include/linux/mempool.h:66-68' },
  // Calls pool->alloc directly, bypassing the reserve.
  { names: ['mempool_alloc_noreserve'], gfp: arg(1), backend: 'mempool', cite: 'include/linux/mempool.h:74-75' },
  { names: ['mempool_create_node'], gfp: arg(4), backend: 'mempool', noprof: true, cite: 'include/linux/mempool.h:53-57' },
  { names: ['mempool_init_node'], gfp: arg(5), backend: 'mempool', cite: 'include/linux/mempool.h:41-43' },
  { names: ['mempool_init'], gfp: implicit('GFP_KERNEL'), backend: 'mempool', noprof: true, cite: 'include/linux/mempool.h:45-48; mm/mempool.c:263-268' },
  {
    names: [
      'mempool_create',
      'mempool_create_slab_pool', 'mempool_create_kmalloc_pool', 'mempool_create_kvmalloc_pool', 'mempool_create_page_pool',
      'mempool_init_slab_pool', 'mempool_init_kmalloc_pool', 'mempool_init_kvmalloc_pool', 'mempool_init_page_pool',
    ],
    gfp: implicit('GFP_KERNEL'),
    backend: 'mempool',
    cite: 'include/linux/mempool.h:59-61, :88-92, :100-105, :110-118, :127-132',
  },
  // The stock element allocators: normally called by the pool, sometimes directly.
  { names: ['mempool_alloc_slab', 'mempool_kmalloc', 'mempool_kvmalloc', 'mempool_alloc_pages'], gfp: arg(0), backend: 'mempool', cite: 'include/linux/mempool.h:85, :97, :107, :124' },

  // ---- bio (include/linux/bio.h) ----
  { names: ['bio_alloc', 'bio_alloc_bioset'], gfp: arg(3), backend: 'bio', cite: 'include/linux/bio.h:359-361, :372-376' },
  { names: ['bio_kmalloc'], gfp: arg(1), backend: 'bio', cite: 'include/linux/bio.h:362' },
  { names: ['bio_alloc_clone', 'bio_split', 'bio_next_split'], gfp: arg(2), backend: 'bio', cite: 'include/linux/bio.h:326-327, :341-348, :365-366' },
  { names: ['bio_init_clone', 'blk_alloc_discard_bio'], gfp: arg(3), backend: 'bio', cite: 'include/linux/bio.h:367-368, :690-691' },
  { names: ['blk_next_bio'], gfp: arg(4), backend: 'bio', cite: 'include/linux/bio.h:686-687' },

  // ---- skb (include/linux/skbuff.h) ----
  { names: ['alloc_skb', 'alloc_skb_fclone', '__alloc_skb', 'skb_clone', 'skb_copy', 'skb_copy_ubufs', '__dev_alloc_skb'], gfp: arg(1), backend: 'skb', cite: 'include/linux/skbuff.h:1335-1336, :1353-1357, :1403-1414, :3443-3447' },
  { names: ['__netdev_alloc_skb', '__netdev_alloc_skb_ip_align', '__pskb_copy', '__pskb_copy_fclone'], gfp: arg(2), backend: 'skb', cite: 'include/linux/skbuff.h:1415-1421, :3420-3421, :3456-3459' },
  { names: ['pskb_expand_head', 'skb_copy_expand'], gfp: arg(3), backend: 'skb', cite: 'include/linux/skbuff.h:1423, :1427-1428' },
  { names: ['alloc_skb_with_frags'], gfp: arg(4), backend: 'skb', cite: 'include/linux/skbuff.h:1359-1363' },
  { names: ['netdev_alloc_skb', 'dev_alloc_skb', 'netdev_alloc_skb_ip_align'], gfp: implicit('GFP_ATOMIC'), backend: 'skb', cite: 'include/linux/skbuff.h:3436-3453, :3466-3470' },
  { names: ['napi_alloc_skb'], gfp: implicit('GFP_ATOMIC | __GFP_NOWARN'), backend: 'skb', cite: 'include/linux/skbuff.h:3491; net/core/skbuff.c:806-808' },
  // Rx pages: __dev_alloc_pages_noprof() ORs in __GFP_COMP | __GFP_MEMALLOC.
  { names: ['__dev_alloc_pages'], gfp: arg(0), backend: 'page', adds: '__GFP_COMP | __GFP_MEMALLOC', orderArg: 1, noprof: true, cite: 'include/linux/skbuff.h:3506-3521' },
  { names: ['__dev_alloc_page'], gfp: arg(0), backend: 'page', adds: '__GFP_COMP | __GFP_MEMALLOC', noprof: true, cite: 'include/linux/skbuff.h:3537-3541' },
  { names: ['dev_alloc_pages'], gfp: implicit('GFP_ATOMIC | __GFP_NOWARN | __GFP_COMP | __GFP_MEMALLOC'), backend: 'page', orderArg: 0, cite: 'include/linux/skbuff.h:3527' },

  // ---- string duplication (include/linux/string.h, include/linux/sprintf.h, mm/util.c) ----
  { names: ['kstrdup', 'kstrdup_const'], gfp: arg(1), backend: 'string', cite: 'include/linux/string.h:300-301' },
  { names: ['kstrndup', 'kmemdup_nul'], gfp: arg(2), backend: 'string', cite: 'include/linux/string.h:302, :307' },
  // The fortify variant (include/linux/fortify-string.h:742-755) keeps the same macro and arguments.
  { names: ['kmemdup'], gfp: arg(2), backend: 'string', noprof: true, cite: 'include/linux/string.h:303-304' },
  { names: ['kvmemdup'], gfp: arg(2), backend: 'kvmalloc', sizeArg: 1, cite: 'include/linux/string.h:306' },
  { names: ['kmemdup_array'], gfp: arg(3), backend: 'string', cite: 'include/linux/string.h:308-309' },
  { names: ['kasprintf', 'kvasprintf', 'kvasprintf_const', 'argv_split'], gfp: arg(0), backend: 'string', cite: 'include/linux/sprintf.h:17-19; include/linux/string.h:312' },
  { names: ['memdup_user'], gfp: implicit('GFP_USER | __GFP_NOWARN'), backend: 'string', cite: 'mm/util.c:222-226' },
  { names: ['memdup_user_nul'], gfp: implicit('GFP_KERNEL'), backend: 'string', cite: 'mm/util.c:304-313' },
  { names: ['vmemdup_user'], gfp: implicit('GFP_USER'), backend: 'kvmalloc', sizeArg: 1, cite: 'mm/util.c:248-252' },

  // ---- devres (include/linux/device/devres.h) ----
  { names: ['devm_kmalloc', 'devm_kstrdup', 'devm_kstrdup_const', 'devres_open_group'], gfp: arg(2), backend: 'devres', cite: 'include/linux/device/devres.h:40, :46-47, :88-90' },
  { names: ['devm_kzalloc'], gfp: arg(2), backend: 'devres', adds: '__GFP_ZERO', cite: 'include/linux/device/devres.h:50-53' },
  { names: ['devm_kmalloc_array', 'devm_krealloc', 'devm_kmemdup'], gfp: arg(3), backend: 'devres', cite: 'include/linux/device/devres.h:48-49, :54-62, :80-81' },
  { names: ['devm_kcalloc'], gfp: arg(3), backend: 'devres', adds: '__GFP_ZERO', cite: 'include/linux/device/devres.h:63-66' },
  { names: ['devm_krealloc_array', 'devm_kmemdup_array'], gfp: arg(4), backend: 'devres', cite: 'include/linux/device/devres.h:67-76, :82-86' },
  { names: ['devm_kasprintf', 'devm_kvasprintf'], gfp: arg(1), backend: 'devres', cite: 'include/linux/device/devres.h:91-94' },
  { names: ['devm_get_free_pages'], gfp: arg(1), backend: 'devres', orderArg: 2, cite: 'include/linux/device/devres.h:96' },
  { names: ['devres_alloc', 'devres_alloc_node', '__devres_alloc_node'], gfp: arg(2), backend: 'devres', cite: 'include/linux/device/devres.h:21-25' },

  // ---- DMA (include/linux/dma-mapping.h, include/linux/dmapool.h) ----
  { names: ['dma_alloc_coherent', 'dmam_alloc_coherent', 'dma_alloc_attrs', 'dmam_alloc_attrs', 'dma_alloc_wc', 'dma_alloc_noncontiguous'], gfp: arg(3), backend: 'dma', cite: 'include/linux/dma-mapping.h:117-122, :140-141, :472-476, :601-617' },
  { names: ['dma_alloc_pages', 'dma_alloc_noncoherent'], gfp: arg(4), backend: 'dma', cite: 'include/linux/dma-mapping.h:357-368' },
  { names: ['dma_pool_alloc'], gfp: arg(1), backend: 'dma', cite: 'include/linux/dmapool.h:26-27' },
  { names: ['dma_pool_zalloc'], gfp: arg(1), backend: 'dma', adds: '__GFP_ZERO', cite: 'include/linux/dmapool.h:52-56' },

  // ---- IDR / IDA (include/linux/idr.h) ----
  { names: ['idr_alloc', 'idr_alloc_u32', 'idr_alloc_cyclic'], gfp: arg(4), backend: 'idr', cite: 'include/linux/idr.h:114-117' },
  { names: ['idr_preload'], gfp: arg(0), backend: 'idr', cite: 'include/linux/idr.h:112' },
  { names: ['ida_alloc'], gfp: arg(1), backend: 'idr', cite: 'include/linux/idr.h:273-276' },
  { names: ['ida_alloc_min', 'ida_alloc_max'], gfp: arg(2), backend: 'idr', cite: 'include/linux/idr.h:291-294, :309-312' },
  { names: ['ida_alloc_range', 'ida_simple_get'], gfp: arg(3), backend: 'idr', cite: 'include/linux/idr.h:257, :323-324' },

  // ---- XArray (include/linux/xarray.h) ----
  {
    names: ['xa_store', 'xa_store_bh', 'xa_store_irq', '__xa_store', 'xa_insert', 'xa_insert_bh', 'xa_insert_irq', '__xa_insert', 'xas_split_alloc'],
    gfp: arg(3),
    backend: 'xarray',
    cite: 'include/linux/xarray.h:356, :563-567, :588-617, :778-839, :1557',
  },
  {
    names: ['xa_cmpxchg', 'xa_cmpxchg_bh', 'xa_cmpxchg_irq', '__xa_cmpxchg', 'xa_store_range', 'xa_alloc', 'xa_alloc_bh', 'xa_alloc_irq', '__xa_alloc'],
    gfp: arg(4),
    backend: 'xarray',
    cite: 'include/linux/xarray.h:358-359, :564-569, :692-749, :871-938',
  },
  { names: ['xa_alloc_cyclic', 'xa_alloc_cyclic_bh', 'xa_alloc_cyclic_irq', '__xa_alloc_cyclic'], gfp: arg(5), backend: 'xarray', cite: 'include/linux/xarray.h:570-571, :974-1049' },
  { names: ['xa_reserve', 'xa_reserve_bh', 'xa_reserve_irq'], gfp: arg(2), backend: 'xarray', cite: 'include/linux/xarray.h:1080-1116' },
  { names: ['xas_nomem'], gfp: arg(1), backend: 'xarray', cite: 'include/linux/xarray.h:1547' },

  // ---- radix tree, bitmap ----
  { names: ['radix_tree_preload', 'radix_tree_maybe_preload'], gfp: arg(0), backend: 'radix-tree', cite: 'include/linux/radix-tree.h:239-240' },
  { names: ['bitmap_alloc', 'bitmap_alloc_node'], gfp: arg(1), backend: 'bitmap', cite: 'include/linux/bitmap.h:132, :134' },
  { names: ['bitmap_zalloc', 'bitmap_zalloc_node'], gfp: arg(1), backend: 'bitmap', adds: '__GFP_ZERO', cite: 'include/linux/bitmap.h:133, :135; lib/bitmap.c:724-740' },
  { names: ['devm_bitmap_alloc'], gfp: arg(2), backend: 'bitmap', cite: 'include/linux/bitmap.h:141-142' },
  { names: ['devm_bitmap_zalloc'], gfp: arg(2), backend: 'bitmap', adds: '__GFP_ZERO', cite: 'include/linux/bitmap.h:143-144' },

  // ---- percpu (include/linux/percpu.h) ----
  { names: ['alloc_percpu_gfp'], gfp: arg(1), backend: 'percpu', cite: 'include/linux/percpu.h:150-152' },
  { names: ['__alloc_percpu_gfp'], gfp: arg(2), backend: 'percpu', cite: 'include/linux/percpu.h:143-144' },
  // What __alloc_percpu_gfp() expands to: one more argument (reserved), so the gfp moves to 3.
  { names: ['pcpu_alloc_noprof'], gfp: arg(3), backend: 'percpu', cite: 'include/linux/percpu.h:140-141' },
  { names: ['alloc_percpu'], gfp: implicit('GFP_KERNEL'), backend: 'percpu', noprof: true, cite: 'include/linux/percpu.h:153-158' },
  { names: ['__alloc_percpu', '__alloc_reserved_percpu'], gfp: implicit('GFP_KERNEL'), backend: 'percpu', cite: 'include/linux/percpu.h:145-148' },

  // ---- scatterlist (include/linux/scatterlist.h) ----
  { names: ['sg_alloc_table'], gfp: arg(2), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:440' },
  { names: ['__sg_alloc_table', 'sg_alloc_table_from_pages'], gfp: arg(5), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:438-439, :471-478' },
  { names: ['sg_alloc_table_from_pages_segment'], gfp: arg(6), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:446-449' },
  { names: ['sg_alloc_append_table_from_pages', 'sg_split'], gfp: arg(7), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:425-429, :441-445' },
  { names: ['sgl_alloc'], gfp: arg(1), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:485-486' },
  { names: ['sgl_alloc_order'], gfp: arg(3), backend: 'scatterlist', cite: 'include/linux/scatterlist.h:482-484' },

  // ---- jbd2 ----
  // The gfp is what start_this_handle() allocates the transaction with; the handle itself is GFP_NOFS (transaction.c:461).
  // It is a policy input: start_this_handle() does `if ((gfp_mask & __GFP_FS) == 0) gfp_mask |= __GFP_NOFAIL;`
  // (fs/jbd2/transaction.c:353-354, "we may be being called from inside the fs writeback layer, so we MUST NOT fail"),
  // so the GFP_NOFS that jbd2_journal_start() (:544), jbd2_journal_restart() (:812) and ext4's wrappers
  // (fs/ext4/ext4_jbd2.c:112-113, ext4_jbd2.h:355) pass means "must not fail", and GFP_KERNEL would let it fail.
  {
    names: ['jbd2__journal_start'],
    gfp: arg(4),
    backend: 'jbd2',
    gfpPolicy: 'start_this_handle() allocates the transaction with __GFP_NOFAIL when the mask lacks __GFP_FS (fs/jbd2/transaction.c:353-354), so GFP_NOFS here also means "must not fail".',
    cite: 'include/linux/jbd2.h:1523-1525; fs/jbd2/transaction.c:353-354, :470-472',
  },
  {
    names: ['jbd2__journal_restart'],
    gfp: arg(3),
    backend: 'jbd2',
    gfpPolicy: 'the restart goes through start_this_handle(), which allocates the transaction with __GFP_NOFAIL when the mask lacks __GFP_FS (fs/jbd2/transaction.c:353-354, :800), so GFP_NOFS here also means "must not fail".',
    cite: 'include/linux/jbd2.h:1527-1528; fs/jbd2/transaction.c:353-354, :763-764, :800',
  },

  // ---- kobject: no gfp argument; GFP_KERNEL allocations inside ----
  { names: ['kobject_get_path'], gfp: arg(1), backend: 'other', cite: 'lib/kobject.c:152' },
  {
    names: ['kobject_set_name', 'kobject_set_name_vargs', 'kobject_add', 'kobject_init_and_add', 'kobject_rename', 'kobject_move', 'kobject_create_and_add'],
    gfp: implicit('GFP_KERNEL'),
    backend: 'other',
    cite: 'lib/kobject.c:266-287, :410, :448, :474-504, :538-561, :764-768',
  },
  { names: ['kobject_uevent', 'kobject_uevent_env'], gfp: implicit('GFP_KERNEL'), backend: 'other', cite: 'lib/kobject_uevent.c:473, :540-545, :654' },
];

export function noprofName(name: string): string {
  return `${name}_noprof`;
}

export interface AllocatorMatch {
  readonly def: AllocatorDef;
  /** The name as written at the call. */
  readonly name: string;
}

export class AllocatorTable {
  private readonly byName = new Map<string, AllocatorDef>();

  constructor(version: KernelVersion, extra: readonly AllocatorDef[] = []) {
    for (const def of [...ALLOCATORS, ...extra]) {
      if (!inRange(version, def.since, def.until)) continue;
      for (const name of def.names) {
        this.byName.set(name, def);
        if (def.noprof) this.byName.set(noprofName(name), def);
      }
      for (const alias of def.aliases ?? []) this.byName.set(alias, def);
    }
  }

  lookup(name: string): AllocatorMatch | undefined {
    const def = this.byName.get(name);
    return def ? { def, name } : undefined;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
