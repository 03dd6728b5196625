// Invariants of the workspace index (server/analysis/workspace-index.ts):
// a restart re-analyses only the files that changed, an edit propagates only
// summaries that changed (to the callers of those functions alone), a file
// that goes away takes its summaries with it, and a cache that is corrupt,
// truncated or from another configuration is rebuilt, never trusted. Also the
// text scans it stands on: definitions.ts and call-names.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import { scanDefinitions } from '../server/analysis/definitions';
import { calledNames, encodeCalls, decodeCalls, mayCallAny, nameHash } from '../server/analysis/call-names';
import { WorkspaceIndex, type AnalyseFiles } from '../server/analysis/workspace-index';
import { inProcessAnalyser } from '../server/cli/check-file';
import { createParser } from '../server/syntax/parser';

test('scanDefinitions finds kernel-style definitions, static or not, and nothing else', () => {
  const text = [
    'static int demo_a(int x)',
    '{',
    '}',
    '',
    'STATIC struct demo *',
    'demo_b(',
    '\tstruct demo_mount\t*mp,\t/* the mount */',
    '\tint\t\t\tflags)\t/* how */',
    '',
    '{',
    '}',
    '',
    'static int __init demo_init(void)',
    '{',
    '}',
    '',
    'static __printf(2, 3) void demo_log(struct demo *d, const char *fmt, ...)',
    '{',
    '}',
    '',
    'int __weak demo_arch_hook(void)',
    '{',
    '}',
    '',
    'static const struct demo_ops demo_ops =',
    '{',
    '};',
    '',
    'SYSCALL_DEFINE1(demo_call, int, x)',
    '{',
    '}',
    '',
    '/* a comment that ends */',
    'long __demo_inner(void)',
    '{',
    '}',
  ].join('\n');
  assert.deepEqual(
    scanDefinitions(text).map((d) => `${d.isStatic ? 's' : 'g'}:${d.name}`),
    ['s:demo_a', 's:demo_b', 's:demo_init', 's:demo_log', 'g:demo_arch_hook', 'g:__demo_inner'],
  );
});

test('call hashes: every called name is found, keywords are not calls', () => {
  const names = calledNames('int f(void) { if (x) return g(1) + sizeof(int); while (h (2)) ; }');
  assert.deepEqual([...names].sort(), ['f', 'g', 'h']);
  const calls = decodeCalls(encodeCalls(names));
  assert.ok(mayCallAny(calls, new Set([nameHash('g')])));
  assert.ok(!mayCallAny(calls, new Set([nameHash('demo_missing'), nameHash('if')])));
});

/** A small tree: a transaction layer whose start saves the NOFS cookie in a field, its callers, and an unrelated file. */
function makeTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-index-'));
  fs.writeFileSync(
    path.join(root, 'trans.c'),
    [
      'void demo_trans_begin(struct demo_trans *tp)',
      '{',
      '\ttp->t_pflags = memalloc_nofs_save();',
      '}',
      '',
      'void demo_trans_end(struct demo_trans *tp)',
      '{',
      '\tmemalloc_nofs_restore(tp->t_pflags);',
      '}',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(root, 'user.c'),
    ['int demo_user(struct demo_trans *tp)', '{', '\tdemo_trans_begin(tp);', '\tp = kmalloc(8, GFP_NOFS);', '\tdemo_trans_end(tp);', '\treturn 0;', '}', ''].join('\n'),
  );
  fs.writeFileSync(path.join(root, 'other.c'), ['int demo_other(void)', '{', '\treturn kmalloc(8, GFP_KERNEL) != NULL;', '}', ''].join('\n'));
  return root;
}

/** The functions whose summaries enter or leave a scope (others only say that they may sleep). */
function scopeEffects(index: WorkspaceIndex): string[] {
  return index.summaries().filter((s) => s.outcomes.length > 0).map((s) => s.name).sort();
}

/** Rewrites a file and moves its mtime on, as an editor's save does. */
function rewrite(file: string, text: string): void {
  fs.writeFileSync(file, text);
  const later = new Date(fs.statSync(file).mtimeMs + 5000);
  fs.utimesSync(file, later, later);
}

async function setup(): Promise<{ root: string; cache: string; files: string[]; analyse: AnalyseFiles; analysed: string[][] }> {
  const root = makeTree();
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-'));
  const files = ['other.c', 'trans.c', 'user.c'].map((f) => path.join(root, f));
  const inner = inProcessAnalyser(new AnalysisContext(parseVersion('6.12')), await createParser('native'));
  const analysed: string[][] = [];
  // Records which files each round really analysed (not those a recheck skipped).
  const analyse: AnalyseFiles = async (list, summaries, table, recheck, callers) => {
    const facts = await inner(list, summaries, table, recheck, callers);
    analysed.push(list.filter((_, i) => facts[i] !== undefined).map((f) => path.basename(f)));
    return facts;
  };
  return { root, cache, files, analyse, analysed };
}

test('a cold index analyses every file, then the callers of what it found; a warm start analyses nothing', async () => {
  const { root, cache, files, analyse, analysed } = await setup();
  const cold = new WorkspaceIndex(root, 'k1', cache);
  cold.load();
  assert.match(cold.note ?? '', /no index cache/);
  const stats = await cold.refresh(files, analyse);
  assert.ok(stats.settled);
  assert.deepEqual(analysed[0], ['other.c', 'trans.c', 'user.c']);
  // The summaries of trans.c are new: its callers (user.c, and trans.c itself,
  // whose other functions may call them; not other.c) are analysed again.
  assert.deepEqual(analysed[1], ['trans.c', 'user.c']);
  assert.deepEqual(scopeEffects(cold), ['demo_trans_begin', 'demo_trans_end']);
  cold.save();

  analysed.length = 0;
  const warm = new WorkspaceIndex(root, 'k1', cache);
  warm.load();
  assert.equal(warm.note, undefined);
  const again = await warm.refresh(files, analyse);
  assert.equal(again.reused, 3);
  assert.deepEqual(analysed, []);
  // Nothing to write back, and the facts are the ones the cache's stamp names.
  assert.equal(warm.changed, false);
  assert.ok(warm.stamp);

  // A file touched but not changed keeps its facts: nothing is analysed, nothing propagates.
  const trans = path.join(root, 'trans.c');
  const later = new Date(fs.statSync(trans).mtimeMs + 5000);
  fs.utimesSync(trans, later, later);
  const touched = new WorkspaceIndex(root, 'k1', cache);
  touched.load();
  await touched.refresh(files, analyse);
  assert.deepEqual(analysed, []);
  assert.deepEqual(JSON.stringify(touched.summaries()), JSON.stringify(cold.summaries()));
  // Its new time is kept (the next start need not read it again), under the
  // same stamp: what was computed from these facts still holds.
  assert.equal(touched.changed, true);
  assert.equal(touched.stamp, warm.stamp);
  touched.save();
  assert.equal(touched.changed, false);
  assert.equal(touched.stamp, warm.stamp);
  // A change of content is a new stamp.
  fs.appendFileSync(trans, '\n');
  const edited = new WorkspaceIndex(root, 'k1', cache);
  edited.load();
  await edited.refresh(files, analyse);
  assert.deepEqual(analysed, [['trans.c']]);
  assert.equal(edited.stamp, undefined);
  edited.save();
  assert.ok(edited.stamp && edited.stamp !== warm.stamp);
  assert.deepEqual(JSON.stringify(warm.summaries()), JSON.stringify(cold.summaries()));
});

test('an edit re-summarises its file and re-analyses callers only when a summary changed', async () => {
  const { root, cache, files, analyse, analysed } = await setup();
  const index = new WorkspaceIndex(root, 'k1', cache);
  await index.refresh(files, analyse);
  index.save();

  // An edit that changes no summary: that file alone.
  analysed.length = 0;
  rewrite(path.join(root, 'other.c'), ['int demo_other(void)', '{', '\treturn kmalloc(16, GFP_KERNEL) != NULL;', '}', ''].join('\n'));
  const warm = new WorkspaceIndex(root, 'k1', cache);
  warm.load();
  await warm.refresh(files, analyse);
  assert.deepEqual(analysed, [['other.c']]);

  // An edit that removes the scope from the transaction start: its callers follow.
  analysed.length = 0;
  rewrite(path.join(root, 'trans.c'), ['void demo_trans_begin(struct demo_trans *tp)', '{', '\ttp->t_pflags = 0;', '}', '', 'void demo_trans_end(struct demo_trans *tp)', '{', '\tmemalloc_nofs_restore(tp->t_pflags);', '}', ''].join('\n'));
  await warm.refresh(files, analyse);
  // demo_user's own summary changes too (it now leaves a scope it never
  // entered), so its callers, user.c itself, follow once more.
  assert.deepEqual(analysed, [['trans.c'], ['trans.c', 'user.c'], ['user.c']]);
  assert.deepEqual(scopeEffects(warm), ['demo_trans_end', 'demo_user']);

  // A file that goes away takes its summaries with it.
  analysed.length = 0;
  fs.unlinkSync(path.join(root, 'trans.c'));
  const left = files.filter((f) => !f.endsWith('trans.c'));
  await warm.refresh(left, analyse);
  assert.deepEqual(scopeEffects(warm), []);
  // (user.c's own summary changes with it, and its declarator counts as a
  // call of that name: one more look, which finds nothing new.)
  assert.deepEqual(analysed, [[], ['user.c'], ['user.c']]);
});

test('a corrupt, truncated or foreign cache is rebuilt, never trusted', async () => {
  const { root, cache, files, analyse, analysed } = await setup();
  const index = new WorkspaceIndex(root, 'k1', cache);
  await index.refresh(files, analyse);
  index.save();
  const good = fs.readFileSync(index.cacheFile, 'utf8');

  const cases: Array<[string, string, RegExp]> = [
    ['truncated', good.slice(0, Math.floor(good.length / 2)), /unreadable/],
    ['not JSON', '\u0000\u0001garbage', /unreadable/],
    ['another format', good.replace(/"format":\d+/, '"format":999'), /another version/],
    ['a damaged entry', good.replace(/"[sg]:demo_trans_begin/, '"x:demo_trans_begin'), /damaged/],
  ];
  for (const [what, content, note] of cases) {
    fs.writeFileSync(index.cacheFile, content);
    analysed.length = 0;
    const again = new WorkspaceIndex(root, 'k1', cache);
    again.load();
    assert.match(again.note ?? '', note, what);
    await again.refresh(files, analyse);
    assert.deepEqual(analysed[0], ['other.c', 'trans.c', 'user.c'], `${what}: every file is analysed again`);
    assert.deepEqual(scopeEffects(again), ['demo_trans_begin', 'demo_trans_end'], what);
  }

  // Another configuration (kernel version, masks, tool version) has a cache of its own.
  const other = new WorkspaceIndex(root, 'k2', cache);
  assert.notEqual(other.cacheFile, index.cacheFile);
  // And a cache written for another key under this one's name is not used.
  fs.writeFileSync(other.cacheFile, good);
  other.load();
  assert.match(other.note ?? '', /another version/);
});

test('two indexes saving the same cache leave a whole one behind', async () => {
  const { root, cache, files, analyse } = await setup();
  const a = new WorkspaceIndex(root, 'k1', cache);
  const b = new WorkspaceIndex(root, 'k1', cache);
  await a.refresh(files, analyse);
  await b.refresh(files, analyse);
  a.save();
  b.save();
  a.save();
  const c = new WorkspaceIndex(root, 'k1', cache);
  c.load();
  assert.equal(c.note, undefined);
  assert.equal(c.size, 3);
  assert.deepEqual(fs.readdirSync(path.dirname(c.cacheFile)).filter((f) => f.endsWith('.tmp')), []);
});

test('a file not analysed (binary, too large) is remembered: a warm start does not read it, a change does', async () => {
  const { root, cache, files, analysed } = await setup();
  const blob = path.join(root, 'blob.c');
  fs.writeFileSync(blob, 'int x;\u0000\n');
  const big = path.join(root, 'big.c');
  fs.writeFileSync(big, `int demo_big(void)\n{\n\treturn kmalloc(8, GFP_NOFS) != NULL;\n}\n${'/* padding */\n'.repeat(100)}`);
  const old = new Date(Date.now() - 60_000);
  for (const f of [blob, big]) fs.utimesSync(f, old, old);
  const all = [...files, blob, big];
  const ctx = new AnalysisContext(parseVersion('6.12'));
  // A size limit that big.c is over.
  const limited = inProcessAnalyser(ctx, await createParser('native'), 1000);
  const recording: AnalyseFiles = async (list, summaries, table, recheck, callers) => {
    const facts = await limited(list, summaries, table, recheck, callers);
    analysed.push(list.filter((_, i) => facts[i] !== undefined).map((f) => path.basename(f)));
    return facts;
  };
  const cold = new WorkspaceIndex(root, 'k1', cache);
  await cold.refresh(all, recording);
  assert.deepEqual(analysed[0], ['other.c', 'trans.c', 'user.c', 'blob.c', 'big.c']);
  // Nothing of them: no definition, no summary.
  assert.ok(!cold.nameTable().some(([name]) => name === 'demo_big'));
  cold.save();
  analysed.length = 0;
  const warm = new WorkspaceIndex(root, 'k1', cache);
  warm.load();
  const again = await warm.refresh(all, recording);
  assert.equal(again.reused, 5);
  assert.deepEqual(analysed, []);
  assert.equal(warm.changed, false);
  assert.equal(warm.stamp, cold.stamp);
  // Cut below the limit, it is analysed and its function indexed.
  rewrite(big, 'int demo_big(void)\n{\n\treturn kmalloc(8, GFP_NOFS) != NULL;\n}\n');
  const cut = new WorkspaceIndex(root, 'k1', cache);
  cut.load();
  await cut.refresh(all, recording);
  assert.deepEqual(analysed[0], ['big.c']);
  assert.ok(cut.nameTable().some(([name]) => name === 'demo_big'));
});

/** All of an index's summaries, comparable. */
function summariesOf(index: WorkspaceIndex): string {
  return JSON.stringify([...index.summaries()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
}

test('a file rewritten in the same clock tick as it was read (same time, same size) is analysed again', async () => {
  const { root, cache, files, analyse, analysed } = await setup();
  const trans = path.join(root, 'trans.c');
  // A time of a whole second (the last one): one a test can set again exactly.
  const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
  fs.utimesSync(trans, tick, tick);
  const index = new WorkspaceIndex(root, 'k1', cache);
  await index.refresh(files, analyse);
  index.save();
  assert.deepEqual(scopeEffects(index).length, 2);
  // Another content of the same size under the same time, as a file system
  // whose clock ticks coarsely leaves a second write right after the read.
  fs.writeFileSync(trans, fs.readFileSync(trans, 'utf8').replace('memalloc_nofs_save', 'memalloc_noio_save').replace('memalloc_nofs_restore', 'memalloc_noio_restore'));
  fs.utimesSync(trans, tick, tick);
  analysed.length = 0;
  const warm = new WorkspaceIndex(root, 'k1', cache);
  warm.load();
  await warm.refresh(files, analyse);
  assert.deepEqual(analysed[0], ['trans.c']);
  const fresh = new WorkspaceIndex(root, 'k1', fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-')));
  await fresh.refresh(files, analyse);
  assert.equal(summariesOf(warm), summariesOf(fresh));
  assert.match(summariesOf(warm), /PF_MEMALLOC_NOIO/);

  // A file read long after it was written is trusted by its time and size:
  // a warm start reads no content (as make and git do, and with the same
  // blind spot for a rewrite that puts the old time back).
  const old = new Date(Date.now() - 60_000);
  for (const f of files) fs.utimesSync(f, old, old);
  const settled = new WorkspaceIndex(root, 'k1', fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-')));
  await settled.refresh(files, analyse);
  settled.save();
  fs.writeFileSync(trans, fs.readFileSync(trans, 'utf8').replace('memalloc_noio_save', 'memalloc_nofs_save'));
  fs.utimesSync(trans, old, old);
  analysed.length = 0;
  const blind = new WorkspaceIndex(root, 'k1', settled.cacheFile.replace(/\/index\/[^/]+$/, ''));
  blind.load();
  await blind.refresh(files, analyse);
  assert.deepEqual(analysed, []);
});

test('a file that changes between two rounds is analysed again whole: no facts of two contents together', async () => {
  const { root, cache, files, analyse } = await setup();
  const user = path.join(root, 'user.c');
  // A second function that enters NOFS and calls nothing the first round changes:
  // a later round analysing only demo_user would keep the old content's facts for it.
  const extra = ['', 'int demo_enter(void)', '{', '\treturn memalloc_nofs_save();', '}', ''].join('\n');
  let rewritten = false;
  const racing: AnalyseFiles = async (list, summaries, table, recheck, callers) => {
    if (recheck && !rewritten) {
      rewritten = true;
      fs.appendFileSync(user, extra);
    }
    return analyse(list, summaries, table, recheck, callers);
  };
  const index = new WorkspaceIndex(root, 'k1', cache);
  await index.refresh(files, racing);
  assert.ok(rewritten);
  const fresh = new WorkspaceIndex(root, 'k1', fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-')));
  await fresh.refresh(files, analyse);
  assert.match(summariesOf(fresh), /demo_enter/);
  assert.equal(summariesOf(index), summariesOf(fresh));
});

test('a file rewritten after the refresh read it: the facts are used, the cache is not written', async () => {
  const { root, cache, files, analyse } = await setup();
  const other = path.join(root, 'other.c');
  let rounds = 0;
  const racing: AnalyseFiles = async (list, summaries, table, recheck, callers) => {
    const facts = await analyse(list, summaries, table, recheck, callers);
    // After the first round read it: another process writes it (a later time).
    if (rounds++ === 0) rewrite(other, `${fs.readFileSync(other, 'utf8')}\n`);
    return facts;
  };
  const index = new WorkspaceIndex(root, 'k1', cache);
  const stats = await index.refresh(files, racing);
  assert.equal(stats.moved, 1);
  assert.equal(index.save(), false);
  assert.equal(fs.existsSync(index.cacheFile), false);
  // The next refresh reads it again, and then the cache is written.
  const again = await index.refresh(files, analyse);
  assert.equal(again.moved, undefined);
  assert.equal(index.save(), true);
  assert.ok(fs.existsSync(index.cacheFile));
});
