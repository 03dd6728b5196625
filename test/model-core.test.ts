// Invariant: versions parse and range-check as the kernel numbers them, a
// tree's Makefile and gfp_types.h are read right, and fold() gives
// current_gfp_context() of each era for every combination of task flags.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fold, currentGfpContext } from '../shared/fold';
import { B, bits } from '../shared/model/gfp-flags';
import { builtinModel, GfpModel, masksFromHeader } from '../shared/model/gfp-model';
import { exactly } from '../shared/model/known-bits';
import { checkSupported, knownVersions, parseVersion, versionFromMakefile, VersionError } from '../shared/model/version';
import { chooseVersion, findKernelTree } from '../server/kernel-tree';

test('versions: parse, compare, and the supported range', () => {
  assert.deepEqual(parseVersion('6.12'), { major: 6, minor: 12 });
  assert.deepEqual(parseVersion('v6.12.117'), { major: 6, minor: 12 });
  assert.deepEqual(parseVersion('6.12-rc3'), { major: 6, minor: 12 });
  assert.throws(() => parseVersion('six'), VersionError);
  assert.throws(() => checkSupported(parseVersion('4.11')), /older than 4\.12/);
  assert.throws(() => checkSupported(parseVersion('7.1')), /newer than/);
  assert.throws(() => checkSupported(parseVersion('4.21')), /there is no kernel 4\.21/);
  const all = knownVersions().map((v) => `${v.major}.${v.minor}`);
  assert.equal(all[0], '4.12');
  assert.ok(all.includes('4.20') && all.includes('5.0') && all.includes('5.19') && all.includes('6.0'));
  assert.equal(all[all.length - 1], '7.0');
});

// The first lines of the top-level Makefile of Debian's linux-source-6.12
// (linux-source-6.12/Makefile:2-6).
const MAKEFILE_6_12 = '# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\nNAME = Baby Opossum Posse\n';

test('version from a Makefile excerpt', () => {
  assert.deepEqual(versionFromMakefile(MAKEFILE_6_12), { version: { major: 6, minor: 12 }, full: '6.12.117' });
  assert.deepEqual(versionFromMakefile('VERSION = 4\nPATCHLEVEL = 19\nSUBLEVEL = 0\nEXTRAVERSION = -rc2\n')?.full, '4.19.0-rc2');
  assert.equal(versionFromMakefile('all:\n\tcc -o x x.c\n'), undefined);
});

// The composite masks of linux-source-6.12/include/linux/gfp_types.h:377-390,
// as #define lines (one continued with a backslash, as in the header).
const GFP_TYPES_6_12 = [
  '#define GFP_ATOMIC\t(__GFP_HIGH|__GFP_KSWAPD_RECLAIM)',
  '#define GFP_KERNEL\t(__GFP_RECLAIM | __GFP_IO | __GFP_FS)',
  '#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)',
  '#define GFP_NOWAIT\t(__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)',
  '#define GFP_NOIO\t(__GFP_RECLAIM)',
  '#define GFP_NOFS\t(__GFP_RECLAIM | __GFP_IO)',
  '#define GFP_USER\t(__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)',
  '#define GFP_DMA\t\t__GFP_DMA',
  '#define GFP_DMA32\t__GFP_DMA32',
  '#define GFP_HIGHUSER\t(GFP_USER | __GFP_HIGHMEM)',
  '#define GFP_HIGHUSER_MOVABLE\t(GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN)',
  '#define GFP_TRANSHUGE_LIGHT\t((GFP_HIGHUSER_MOVABLE | __GFP_COMP | \\',
  '\t\t\t __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)',
  '#define GFP_TRANSHUGE\t(GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)',
  '/* a comment with #define GFP_NOT_A_MASK 1 inside */',
].join('\n');

test('composite masks read from a gfp_types.h excerpt agree with the built-in 6.12 table', () => {
  const masks = masksFromHeader(GFP_TYPES_6_12);
  // The continuation line is joined.
  assert.equal(masks.get('GFP_TRANSHUGE_LIGHT')?.replace(/\s+/g, ' '), '((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)');
  assert.equal(masks.has('GFP_NOT_A_MASK'), false);
  assert.equal(masks.size, 13);
  const v = parseVersion('6.12');
  const tree = new GfpModel(v, { masks, path: 'linux-source-6.12/include/linux/gfp_types.h' });
  const builtin = builtinModel(v);
  assert.equal(tree.source.kind, 'tree');
  for (const name of masks.keys()) assert.equal(tree.mask(name)?.value, builtin.mask(name)?.value, name);
});

test('a tree whose header differs wins over the built-in table, and says so', () => {
  const masks = masksFromHeader('#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM)\n#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)\n');
  const model = new GfpModel(parseVersion('6.12'), { masks, path: '/src/linux/include/linux/gfp_types.h' });
  assert.equal(model.mask('GFP_NOWAIT')!.value, bits('__GFP_KSWAPD_RECLAIM'));
  assert.equal(model.source.detail, '/src/linux/include/linux/gfp_types.h');
});

test('findKernelTree walks up to the Makefile and reads gfp_types.h; chooseVersion orders the sources', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-tree-'));
  fs.mkdirSync(path.join(root, 'include', 'linux'), { recursive: true });
  fs.mkdirSync(path.join(root, 'fs', 'xfs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'Makefile'), MAKEFILE_6_12);
  fs.writeFileSync(path.join(root, 'include', 'linux', 'gfp_types.h'), GFP_TYPES_6_12);
  fs.writeFileSync(path.join(root, 'fs', 'xfs', 'x.c'), '');
  const tree = findKernelTree(path.join(root, 'fs', 'xfs', 'x.c'))!;
  assert.equal(tree.root, root);
  assert.equal(tree.fullVersion, '6.12.117');
  assert.equal(tree.gfpHeader?.masks.get('GFP_NOFS'), '(__GFP_RECLAIM | __GFP_IO)');
  assert.match(chooseVersion(undefined, tree).source, /Makefile of .* \(6\.12\.117\)/);
  assert.deepEqual(chooseVersion(parseVersion('5.15'), tree).version, { major: 5, minor: 15 });
  assert.equal(chooseVersion(undefined, undefined).source, 'default (no kernel tree found)');
  assert.equal(findKernelTree(os.tmpdir()), undefined);
});

// ---- fold -----------------------------------------------------------------

const FLAGS = ['PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO', 'PF_MEMALLOC_PIN', 'PF_MEMALLOC', 'PF_MEMALLOC_NORECLAIM', 'PF_MEMALLOC_NOWARN', 'PF_MEMALLOC_NOCMA'];
const ERAS = ['4.12', '5.4', '5.10', '5.13', '6.8', '6.10', '6.12'];
const ALL_REQUESTED = bits('__GFP_IO', '__GFP_FS', '__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM', '__GFP_MOVABLE', '__GFP_HIGHMEM');

function subsets<T>(items: readonly T[]): T[][] {
  return Array.from({ length: 1 << items.length }, (_, m) => items.filter((_, i) => m & (1 << i)));
}

const effective = (v: string, pf: string[], mask = ALL_REQUESTED): bigint => currentGfpContext(exactly(mask), new Set(pf), parseVersion(v)).set;

test('fold, by era (hand-derived from each era\'s current_gfp_context())', () => {
  const all = ALL_REQUESTED;
  const cases: Array<[string, string[], bigint]> = [
    // 4.12 (7dea19f9ee63): NOIO beats NOFS; nothing else.
    ['4.12', ['PF_MEMALLOC_NOFS'], all & ~B.FS],
    ['4.12', ['PF_MEMALLOC_NOIO'], all & ~(B.FS | B.IO)],
    ['4.12', ['PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO'], all & ~(B.FS | B.IO)],
    ['4.12', ['PF_MEMALLOC'], all],
    // 5.4: NOCMA clears MOVABLE (5.1-5.8, CONFIG_CMA).
    ['5.4', ['PF_MEMALLOC_NOCMA'], all & ~B.MOVABLE],
    // 5.10: NOCMA went to ALLOC_CMA in 5.9 and leaves the mask alone.
    ['5.10', ['PF_MEMALLOC_NOCMA'], all],
    // 5.13: PIN clears MOVABLE, combined with NOFS.
    ['5.13', ['PF_MEMALLOC_PIN', 'PF_MEMALLOC_NOFS'], all & ~(B.MOVABLE | B.FS)],
    ['5.10', ['PF_MEMALLOC_PIN'], all], // no PIN before 5.13
    // 6.10: NORECLAIM first in the else-if chain: clears DIRECT_RECLAIM and stops NOIO/NOFS.
    ['6.10', ['PF_MEMALLOC_NORECLAIM', 'PF_MEMALLOC_NOIO'], all & ~B.DIRECT_RECLAIM],
    ['6.10', ['PF_MEMALLOC_NOWARN'], all | B.NOWARN],
    // 6.12: the revert; those flags mean nothing.
    ['6.12', ['PF_MEMALLOC_NORECLAIM', 'PF_MEMALLOC_NOWARN', 'PF_MEMALLOC_NOFS'], all & ~B.FS],
    ['6.12', ['PF_MEMALLOC_PIN', 'PF_MEMALLOC_NOIO'], all & ~(B.MOVABLE | B.IO | B.FS)],
  ];
  for (const [v, pf, expected] of cases) assert.equal(effective(v, pf), expected, `${v} ${pf.join('+')}`);
});

test('fold, every combination of task flags in every era: properties', () => {
  for (const v of ERAS) {
    for (const pf of subsets(FLAGS)) {
      const e = effective(v, pf);
      const nowarn = v === '6.10' && pf.includes('PF_MEMALLOC_NOWARN');
      // Scopes only clear bits (but 6.9-6.11's NOWARN, which sets one).
      assert.equal(e & ~(ALL_REQUESTED | (nowarn ? B.NOWARN : 0n)), 0n, `${v} ${pf}`);
      // NOIO implies NOFS unless NORECLAIM (6.9-6.11) takes the chain.
      const noreclaimChain = v === '6.10' && pf.includes('PF_MEMALLOC_NORECLAIM');
      if (pf.includes('PF_MEMALLOC_NOIO') && !noreclaimChain) assert.equal(e & (B.IO | B.FS), 0n, `${v} ${pf}`);
      if (pf.includes('PF_MEMALLOC_NOFS') && !noreclaimChain) assert.equal(e & B.FS, 0n, `${v} ${pf}`);
      // Folding twice changes nothing.
      assert.equal(effective(v, pf, e), e, `${v} ${pf} idempotent`);
      // PF_MEMALLOC never touches the mask, but forbids direct reclaim.
      const ctx = fold(exactly(ALL_REQUESTED), pf, parseVersion(v));
      if (pf.includes('PF_MEMALLOC')) assert.equal(ctx.directReclaim, 'no');
      assert.equal(effective(v, [...pf, 'PF_MEMALLOC']), e, `${v} ${pf} PF_MEMALLOC`);
    }
  }
});

test('consequences in plain words', () => {
  const v = parseVersion('6.12');
  const k = fold(exactly(builtinModel(v).mask('GFP_KERNEL')!.value), [], v);
  assert.deepEqual([k.mayBlock, k.mayStartIo, k.mayRecurseFs, k.mayFail, k.warnsOnFailure, k.reserves], ['yes', 'yes', 'yes', 'yes', 'yes', 'none']);
  const a = fold(exactly(builtinModel(v).mask('GFP_ATOMIC')!.value), [], v);
  assert.deepEqual([a.mayBlock, a.reserves], ['no', 'atomic']);
  const nofail = fold(exactly(builtinModel(v).mask('GFP_NOFS')!.value | B.NOFAIL), ['PF_MEMALLOC'], v);
  assert.deepEqual([nofail.mayFail, nofail.directReclaim, nofail.reserves], ['yes', 'no', 'all']);
  const nowait67 = fold(exactly(builtinModel(parseVersion('6.7')).mask('GFP_NOWAIT')!.value), [], parseVersion('6.7'));
  assert.equal(nowait67.warnsOnFailure, 'yes');
});
