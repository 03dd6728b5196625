// The allocator and transaction tables against the fact sheet
// (kernel-model.md §3, §6) and against the mask model: a wrong gfp index makes
// every finding at that allocator wrong, and a mask string the model cannot
// evaluate silently turns an implicit mask into "unknown".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALLOCATORS, AllocatorTable, noprofName, type AllocatorDef } from '../shared/model/allocators';
import { startFailure, TRANSACTIONS, TransactionTable } from '../shared/model/transactions';
import { builtinModel } from '../shared/model/gfp-model';
import { isExact } from '../shared/model/known-bits';
import { inRange, knownVersions, formatVersion, parseVersion } from '../shared/model/version';

const V612 = parseVersion('6.12');

// The fact sheet lives beside the repository (/work/shared), not in it.
const REPO_ROOT = path.join(__dirname, '..', '..');
const KERNEL_MODEL = path.join(REPO_ROOT, '..', 'shared', 'kernel-model.md');

/**
 * Names the fact sheet's §3 tables document that ALLOCATORS deliberately
 * leaves out, with the reason. Empty: every documented entry point is in the
 * table. A name added here must say why the tool should not know it.
 */
const DELIBERATELY_OMITTED: ReadonlyMap<string, string> = new Map<string, string>([]);

interface DocSignature {
  readonly name: string;
  /** Index of the gfp argument, or 'implicit' for '—'. */
  readonly index: number | 'implicit';
  readonly optional: boolean;
  /** §3.2 only: the implicit mask the sheet gives for this name, when it gives one. */
  readonly implicitMask?: string;
  readonly line: number;
}

/** Splits a markdown table row on the pipes that are not escaped (`GFP_KERNEL\|__GFP_ZERO`). */
function cells(row: string): string[] {
  const parts = row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);
  return parts.map((c) => c.trim());
}

/** `bitmap_{z,}alloc_node` -> bitmap_zalloc_node, bitmap_alloc_node. */
function expandBraces(text: string): string[] {
  const m = /^(.*?)\{([^}]*)\}(.*)$/.exec(text);
  if (!m) return [text];
  return m[2].split(',').flatMap((alt) => expandBraces(`${m[1]}${alt.trim()}${m[3]}`));
}

/**
 * Names in a first-column cell: each backticked signature up to its '(';
 * a backticked suffix such as `_bh` applies to every base name before it
 * (`xa_store(…)` / `xa_insert(…)` (+`_bh`/`_irq`)).
 */
function namesInCell(cell: string): string[] {
  const bases: string[] = [];
  const names: string[] = [];
  for (const m of cell.matchAll(/`([^`]+)`/g)) {
    const token = m[1].trim();
    if (/^_[a-z0-9]+$/.test(token)) {
      for (const base of bases) names.push(base + token);
      continue;
    }
    const head = token.split('(')[0].trim();
    for (const name of expandBraces(head)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
      bases.push(name);
      names.push(name);
    }
  }
  return names;
}

/** The `_noprof` names the sheet's notes columns mention ("macro → `kmalloc_noprof`"): a tool must recognise them too. */
function noprofNamesInNotes(text: string): Array<{ name: string; line: number }> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^## 3\./.test(l));
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const out: Array<{ name: string; line: number }> = [];
  for (let i = start; i < (end < 0 ? lines.length : end); i++) {
    if (!lines[i].startsWith('|')) continue;
    for (const cell of cells(lines[i]).slice(2)) {
      for (const m of cell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*_noprof)\b[^`]*`/g)) {
        // "macro → `_noprof`" names no function.
        if (m[1] !== '_noprof') out.push({ name: m[1], line: i + 1 });
      }
    }
  }
  return out;
}

function parseSection3(text: string): DocSignature[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^## 3\./.test(l));
  assert.ok(start >= 0, 'kernel-model.md has no "## 3." section');
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const out: DocSignature[] = [];
  let header: string[] | undefined;
  for (let i = start; i < (end < 0 ? lines.length : end); i++) {
    const line = lines[i];
    if (!line.startsWith('|')) {
      header = undefined;
      continue;
    }
    const row = cells(line);
    if (!header) {
      header = row;
      continue;
    }
    if (row.every((c) => /^:?-+:?$/.test(c))) continue;
    const idxText = row[1].replace(/\*/g, '').trim();
    const implicit = /^(—|-)/.test(idxText);
    const num = /^(\d+)/.exec(idxText);
    assert.ok(implicit || num, `kernel-model.md:${i + 1}: cannot read the gfp index '${row[1]}'`);
    const names = namesInCell(row[0]);
    // §3.2's third column: the implicit mask, "[+`__GFP_ZERO`]" meaning the second name adds it.
    let baseMask: string | undefined;
    let zeroVariant = false;
    if (implicit && header.length >= 3 && /implicit/i.test(header[2])) {
      const m = /`([^`]+)`/.exec(row[2]);
      if (m) baseMask = m[1].replace(/\\\|/g, '|');
      zeroVariant = /\[\+`__GFP_ZERO`\]/.test(row[2]);
    }
    names.forEach((name, k) => {
      let implicitMask: string | undefined;
      if (baseMask !== undefined) {
        if (k === 0) implicitMask = baseMask;
        else if (k === 1 && zeroVariant) implicitMask = `${baseMask} | __GFP_ZERO`;
      }
      out.push({
        name,
        index: implicit ? 'implicit' : Number(num![1]),
        optional: /optional/i.test(idxText),
        implicitMask,
        line: i + 1,
      });
    });
  }
  return out;
}

function gfpIndex(def: AllocatorDef): number | 'implicit' | 'config' {
  switch (def.gfp.kind) {
    case 'arg':
    case 'optional':
      return def.gfp.index;
    case 'implicit':
      return 'implicit';
    case 'config-arg':
      return 'config';
  }
}

const docText = fs.existsSync(KERNEL_MODEL) ? fs.readFileSync(KERNEL_MODEL, 'utf8') : undefined;
const noDoc = docText === undefined ? `${KERNEL_MODEL} is not present (the fact sheet lives outside the repository)` : false;

test('allocators: every kernel-model.md §3 signature is in the table with the documented gfp index (6.12)', { skip: noDoc }, () => {
  const sigs = parseSection3(docText!);
  // Guards against a format change that would make the parser find nothing and the test pass vacuously.
  assert.ok(sigs.length >= 150, `only ${sigs.length} signatures parsed from §3`);
  const table = new AllocatorTable(V612);
  const model = builtinModel(V612);
  const problems: string[] = [];
  for (const sig of sigs) {
    const where = `kernel-model.md:${sig.line} ${sig.name}`;
    const match = table.lookup(sig.name);
    if (!match) {
      if (!DELIBERATELY_OMITTED.has(sig.name)) problems.push(`${where}: missing from ALLOCATORS`);
      continue;
    }
    assert.ok(!DELIBERATELY_OMITTED.has(sig.name), `${sig.name} is listed as omitted but is in the table`);
    const ours = gfpIndex(match.def);
    if (ours !== sig.index) {
      problems.push(`${where}: table says ${ours}, sheet says ${sig.index}`);
      continue;
    }
    if (sig.optional !== (match.def.gfp.kind === 'optional')) {
      problems.push(`${where}: optional in one and not the other (table: ${match.def.gfp.kind})`);
    }
    if (sig.implicitMask !== undefined && match.def.gfp.kind === 'implicit') {
      const documented = model.evaluate(sig.implicitMask);
      // GFP_VMALLOC32 is private to mm/vmalloc.c and config-dependent; the model does not name it.
      if (!isExact(documented.bits)) continue;
      const ourMask = model.evaluate(match.def.gfp.mask);
      if (ourMask.bits.set !== documented.bits.set) {
        problems.push(`${where}: implicit mask '${match.def.gfp.mask}' differs from the sheet's '${sig.implicitMask}'`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('allocators: every _noprof name the sheet mentions resolves (6.12)', { skip: noDoc }, () => {
  const table = new AllocatorTable(V612);
  const mentioned = noprofNamesInNotes(docText!);
  assert.ok(mentioned.length >= 10, `only ${mentioned.length} _noprof names found in §3 notes`);
  const missing = mentioned.filter((m) => !table.has(m.name)).map((m) => `kernel-model.md:${m.line} ${m.name}`);
  assert.deepEqual(missing, []);
});

test('allocators: the config-dependent entry points take the gfp at 1 or 2 (DECL_BUCKET_PARAMS)', () => {
  const table = new AllocatorTable(V612);
  for (const name of ['__kmalloc_node_noprof', '__kmalloc_node_track_caller_noprof', '__kvmalloc_node_noprof']) {
    const def = table.lookup(name)?.def;
    assert.ok(def, name);
    assert.deepEqual(def.gfp, { kind: 'config-arg', indexes: [1, 2] }, name);
  }
});

test('allocators: kvrealloc moved its gfp from 3 to 2 in 6.12', () => {
  assert.deepEqual(new AllocatorTable(parseVersion('6.11')).lookup('kvrealloc')?.def.gfp, { kind: 'arg', index: 3 });
  assert.deepEqual(new AllocatorTable(parseVersion('6.11')).lookup('kvrealloc_noprof')?.def.gfp, { kind: 'arg', index: 3 });
  assert.deepEqual(new AllocatorTable(V612).lookup('kvrealloc')?.def.gfp, { kind: 'arg', index: 2 });
});

test('allocators: irregular _noprof twins resolve, and each to its own gfp index', () => {
  const table = new AllocatorTable(V612);
  const idx = (name: string) => {
    const def = table.lookup(name)?.def;
    assert.ok(def, `${name} is not in the table`);
    return gfpIndex(def);
  };
  assert.equal(idx('get_free_pages_noprof'), 0);
  assert.equal(table.lookup('get_free_pages_noprof')?.def, table.lookup('__get_free_pages')?.def);
  assert.equal(idx('alloc_pages_bulk_noprof'), 0);
  assert.equal(idx('__alloc_percpu_gfp'), 2);
  assert.equal(idx('pcpu_alloc_noprof'), 3);
  assert.equal(idx('kmalloc_noprof'), 1);
  assert.equal(idx('kmemdup_noprof'), 2);
  assert.equal(idx('kmalloc_node_track_caller_noprof'), 1);
  assert.equal(idx('kvmalloc_array_node_noprof'), 2);
  assert.equal(idx('vmalloc_noprof'), 'implicit');
  // Names without a twin in 6.12 must not grow one.
  for (const name of ['kcalloc', 'kzalloc_node', 'kmem_cache_zalloc', 'kvzalloc', 'alloc_page', '__get_free_pages', 'kmalloc_obj']) {
    assert.equal(table.has(noprofName(name)), false, `${noprofName(name)} should not exist`);
  }
});

test('allocators: rows are well formed and no name belongs to two rows of one version', () => {
  for (const def of ALLOCATORS) {
    const label = def.names.join('/');
    assert.ok(def.names.length > 0, 'a row without names');
    assert.ok(def.cite.trim() !== '', `${label}: no cite`);
    const g = gfpIndex(def);
    if (typeof g === 'number') {
      assert.notEqual(def.orderArg, g, `${label}: orderArg is the gfp`);
      assert.notEqual(def.sizeArg, g, `${label}: sizeArg is the gfp`);
    }
    if (def.sizeArg !== undefined) assert.ok(def.backend === 'kvmalloc' || def.backend === 'vmalloc', `${label}: sizeArg outside kvmalloc/vmalloc`);
    for (const name of def.names) assert.ok(!name.endsWith('_noprof') || !def.noprof, `${label}: ${name} would get a ${name}_noprof twin`);
  }
  for (const v of knownVersions()) {
    const seen = new Map<string, string>();
    for (const def of ALLOCATORS) {
      if (!inRange(v, def.since, def.until)) continue;
      const all = [...def.names, ...(def.noprof ? def.names.map(noprofName) : []), ...(def.aliases ?? [])];
      for (const name of all) {
        const other = seen.get(name);
        assert.equal(other, undefined, `${formatVersion(v)}: ${name} is in rows ${other} and ${def.names.join('/')}`);
        seen.set(name, def.names.join('/'));
      }
    }
  }
});

test('allocators: every mask string evaluates exactly in the 6.12 model', () => {
  const model = builtinModel(V612);
  const exprs: Array<[string, string]> = [];
  for (const def of ALLOCATORS) {
    if (!inRange(V612, def.since, def.until)) continue;
    const label = def.names[0];
    if (def.gfp.kind === 'implicit') exprs.push([label, def.gfp.mask]);
    if (def.gfp.kind === 'optional') exprs.push([label, def.gfp.default]);
    if (def.adds !== undefined) exprs.push([label, def.adds]);
  }
  assert.ok(exprs.length > 30, `only ${exprs.length} mask strings found`);
  for (const [label, expr] of exprs) {
    const value = model.evaluate(expr);
    assert.deepEqual(value.unknown, [], `${label}: '${expr}' mentions names the model does not know`);
    assert.ok(isExact(value.bits), `${label}: '${expr}' is not exact`);
  }
});

test('allocators: kmalloc_obj family defaults to GFP_KERNEL and the z-variants add __GFP_ZERO', () => {
  const table = new AllocatorTable(V612);
  for (const [name, index] of [['kmalloc_obj', 1], ['kmalloc_objs', 2], ['kmalloc_flex', 3], ['kvzalloc_flex', 3]] as const) {
    const def = table.lookup(name)?.def;
    assert.deepEqual(def?.gfp, { kind: 'optional', index, default: 'GFP_KERNEL' }, name);
  }
  for (const name of ['kzalloc', 'kcalloc', 'vzalloc', 'kmem_cache_zalloc', 'kvzalloc', 'kvcalloc', 'kzalloc_obj', 'devm_kzalloc', 'bitmap_zalloc']) {
    const def = table.lookup(name)?.def;
    assert.ok(def, name);
    const zero = def.adds === '__GFP_ZERO' || (def.gfp.kind === 'implicit' && /__GFP_ZERO/.test(def.gfp.mask));
    assert.ok(zero, `${name} should add __GFP_ZERO`);
  }
});

test('transactions: every start and end name is unique across rows', () => {
  const seen = new Map<string, string>();
  for (const def of TRANSACTIONS) {
    assert.ok(def.start.length > 0 && def.end.length > 0, `${def.fs}: a row needs a start and an end`);
    assert.ok(def.note.trim() !== '' && def.cite.trim() !== '', `${def.fs}: note and cite are required`);
    for (const name of [...def.start, ...def.end]) {
      const other = seen.get(name);
      assert.equal(other, undefined, `${name} is in ${other} and ${def.fs}`);
      seen.set(name, def.fs);
    }
    // A scope needs a cookie to restore from; no scope, no cookie.
    assert.equal(def.cookie !== undefined, def.scope !== 'none', `${def.fs} ${def.start[0]}: cookie and scope disagree`);
  }
});

test('transactions: scopes of the filesystems the model relies on', () => {
  const table = new TransactionTable();
  const expect = (name: string, role: 'start' | 'end', scope: string) => {
    const match = table.lookup(name);
    assert.ok(match, `${name} is not in the table`);
    assert.equal(match.role, role, name);
    assert.equal(match.def.scope, scope, name);
  };
  expect('xfs_trans_alloc', 'start', 'nofs');
  expect('xfs_trans_alloc_empty', 'start', 'nofs');
  expect('xfs_trans_commit', 'end', 'nofs');
  expect('xfs_trans_cancel', 'end', 'nofs');
  assert.equal(table.lookup('xfs_trans_alloc')?.def.cookie, 'tp->t_pflags');
  expect('ext4_journal_start', 'start', 'nofs-conditional');
  expect('ext4_journal_stop', 'end', 'nofs-conditional');
  expect('jbd2_journal_start', 'start', 'nofs');
  expect('jbd2_journal_stop', 'end', 'nofs');
  assert.equal(table.lookup('jbd2__journal_start')?.def.cookie, 'handle->saved_alloc_context');
  expect('ocfs2_start_trans', 'start', 'nofs');
  expect('btrfs_start_transaction', 'start', 'none');
  expect('btrfs_join_transaction', 'start', 'none');
  expect('btrfs_end_transaction', 'end', 'none');
  expect('btrfs_commit_transaction', 'end', 'none');
  expect('gfs2_trans_begin', 'start', 'none');
  expect('gfs2_trans_end', 'end', 'none');
  expect('f2fs_lock_op', 'start', 'none');
  expect('bch2_trans_get', 'start', 'nofs-conditional');
  expect('cifs_server_lock', 'start', 'nofs');
  expect('fsnotify_group_unlock', 'end', 'nofs');
  expect('ext4_writepages_down_write', 'start', 'nofs');
});

test('allocators: jbd2 handle start and restart take their gfp as a policy input (NOFAIL without __GFP_FS)', () => {
  const table = new AllocatorTable(V612);
  for (const name of ['jbd2__journal_start', 'jbd2__journal_restart']) assert.ok(table.lookup(name)?.def.gfpPolicy, name);
  assert.equal(table.lookup('kmalloc')?.def.gfpPolicy, undefined);
});

test('transactions: how each start that enters a scope reports failure', () => {
  const table = new TransactionTable();
  const fails = (name: string) => {
    const m = table.lookup(name);
    assert.ok(m && m.role === 'start', name);
    return startFailure(m.def, name);
  };
  assert.equal(fails('xfs_trans_alloc'), 'nonzero');
  assert.equal(fails('xfs_trans_alloc_empty'), 'nonzero');
  assert.equal(fails('jbd2_journal_start'), 'err-ptr');
  assert.equal(fails('jbd2_journal_start_reserved'), 'nonzero');
  assert.equal(fails('ext4_journal_start'), 'err-ptr');
  assert.equal(fails('ocfs2_start_trans'), 'err-ptr');
  // Helpers that cannot fail enter their scope on every path.
  assert.equal(fails('xfs_trans_set_context'), undefined);
  assert.equal(fails('cifs_server_lock'), undefined);
  assert.equal(fails('ext4_writepages_down_write'), undefined);
  // A per-name map names starts of its own row only.
  for (const def of TRANSACTIONS) {
    if (def.fails === undefined || typeof def.fails === 'string') continue;
    for (const name of Object.keys(def.fails)) assert.ok(def.start.includes(name), `${def.fs}: ${name} is not a start of the row`);
  }
});
