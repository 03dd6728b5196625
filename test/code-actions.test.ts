// Invariant: every code action the server offers, on every fixture, keeps the
// file parsing and keeps or tightens every allocation site's effective
// context, and adds no scope/* finding (the checker is test/verify/refactor-check.ts,
// which `npm run verify:refactor` runs over fs/, drivers/md and mm of the kernel).
// Also: the headline refactor's exact output on a gfs2-style function, and
// that incremental per-function analysis equals whole-file analysis.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS } from '../shared/settings';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import type { SiteResult } from '../server/analysis/analyze-file';
import { FunctionCache } from '../server/analysis/incremental';
import { analyzeSource } from '../server/analysis/summary-index';
import type { CParser } from '../server/syntax/backend';
import { createParser } from '../server/syntax/parser';
import type { DocumentAnalysis } from '../server/documents/document-store';
import type { DocumentConfig } from '../server/documents/config';
import { plainActions } from '../server/features/code-actions';
import type { FixEdit } from '../shared/evaluate';
import { parseFixture } from './fixture-format';
import { FIXTURE_ROOT, fixtureFiles } from './fixture-files';
import { analyseDocument as analyseServerStyle, checkDocument } from './verify/refactor-check';

let parser: CParser | undefined;
async function getParser(): Promise<CParser> {
  parser ??= await createParser('native');
  return parser;
}

const contexts = new Map<string, AnalysisContext>();
function contextFor(version: string): AnalysisContext {
  let c = contexts.get(version);
  if (!c) contexts.set(version, (c = new AnalysisContext(parseVersion(version))));
  return c;
}

/** A document analysis as the server makes it, without a connection. */
export async function analyseDocument(text: string, version = '6.12', uri = 'file:///fixture.c'): Promise<DocumentAnalysis> {
  const a = await analyseServerStyle(text, await configFor(version), uri);
  assert.ok(a.result, 'analysis');
  return a;
}

async function configFor(version: string): Promise<DocumentConfig> {
  return { settings: DEFAULT_SETTINGS, context: contextFor(version), contextKey: version, parser: await getParser(), kernel: `kernel ${version}` };
}

function applyPlain(text: string, edits: readonly FixEdit[]): string {
  const sorted = edits.map((e, i) => ({ e, i })).sort((x, y) => x.e.span.start - y.e.span.start || x.i - y.i);
  let out = '';
  let at = 0;
  for (const { e } of sorted) {
    assert.ok(e.span.start >= at, 'edits overlap');
    out += text.slice(at, e.span.start) + e.text;
    at = e.span.end;
  }
  return out + text.slice(at);
}

/** The text after the first offered action whose title starts with `prefix`. */
async function afterAction(text: string, prefix: string): Promise<string> {
  const a = await analyseDocument(text);
  const act = plainActions(a, 0, text.length).find((x) => x.fix.title.startsWith(prefix));
  assert.ok(act, `no "${prefix}" action`);
  return applyPlain(text, act.fix.edits);
}

let offered = 0;
const titles = new Set<string>();

for (const file of fixtureFiles()) {
  const name = path.relative(FIXTURE_ROOT, file);
  test(`every code action keeps contexts: ${name}`, async () => {
    const text = fs.readFileSync(file, 'utf8');
    const { actions, problems } = await checkDocument(text, await configFor(parseFixture(text).version ?? '6.12'));
    offered += actions.length;
    for (const action of actions) titles.add(action.family);
    assert.deepEqual(problems, []);
  });
}

test('the fixtures exercise every kind of action', () => {
  assert.ok(offered > 20, `only ${offered} actions offered`);
  for (const t of ['Replace GFP_NOFS with scope at transaction start', 'Replace GFP_NOFS with scope at lock', 'Use GFP_KERNEL', 'Restore the scope on this path', 'Use memalloc_flags_save/restore', 'Use GFP_NOWAIT', 'Use GFP_ATOMIC']) {
    assert.ok([...titles].some((x) => x.startsWith(t)), `no "${t}" action on any fixture (have: ${[...titles].join('; ')})`);
  }
});

const HEADLINE = path.join(__dirname, '..', '..', 'test', 'editors', 'headline.c');

test('headline refactor on a gfs2 transaction: exact text', async () => {
  const text = fs.readFileSync(HEADLINE, 'utf8');
  const a = await analyseDocument(text);
  const site = a.result!.sites.find((s) => s.call.callee === 'kzalloc')!;
  const actions = plainActions(a, site.call.span.start, site.call.span.end).filter((x) => x.fix.title.startsWith('Replace GFP_NOFS'));
  assert.equal(actions.length, 1);
  assert.equal(actions[0].fix.title, 'Replace GFP_NOFS with scope at transaction start: gfs2_trans_begin() (converts 2 sites)');
  const out = applyPlain(text, actions[0].fix.edits);
  const body = out.slice(out.indexOf('static int'));
  assert.equal(body, [
    'static int demo_gfs2_write(struct gfs2_sbd *sdp, struct demo_buf *b)',
    '{',
    '\tunsigned int nofs_flag;',
    '\tvoid *p;',
    '\tint error;',
    '',
    '\t/* No reclaim recursion into the fs while the gfs2 transaction is open. */',
    '\tnofs_flag = memalloc_nofs_save();',
    '\terror = gfs2_trans_begin(sdp, RES_DINODE, 0);',
    '\tif (error) {',
    '\t\tmemalloc_nofs_restore(nofs_flag);',
    '\t\treturn error;',
    '\t}',
    '\tp = kzalloc(32, GFP_KERNEL | __GFP_NOFAIL);',
    '\tb->data = kmalloc(b->len, GFP_KERNEL);',
    '\tgfs2_trans_end(sdp);',
    '\tmemalloc_nofs_restore(nofs_flag);',
    '\tkfree(p);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n'));
  // And the result has no finding left about those sites.
  const again = await analyseDocument(out);
  assert.deepEqual(again.result!.findings.map((f) => f.code), []);
});

test('headline refactor: a taken cookie name is not reused; an xfs transaction gets the plain replacement', async () => {
  const clash = [
    'static int f(struct gfs2_sbd *sdp, int nofs_flag)',
    '{',
    '\tvoid *p;',
    '',
    '\tgfs2_trans_begin(sdp, 1, 0);',
    '\tp = kmalloc(8, GFP_NOFS);',
    '\tgfs2_trans_end(sdp);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const out = await afterAction(clash, 'Replace GFP_NOFS');
  assert.match(out, /unsigned int nofs_flags;/);
  assert.match(out, /nofs_flags = memalloc_nofs_save\(\);/);

  const xfs = [
    'static int g(struct xfs_mount *mp)',
    '{',
    '\tstruct xfs_trans *tp;',
    '\tvoid *p;',
    '\tint error;',
    '',
    '\terror = xfs_trans_alloc(mp, NULL, 0, 0, 0, &tp);',
    '\tif (error)',
    '\t\treturn error;',
    '\tp = kmalloc(8, GFP_NOFS);',
    '\treturn xfs_trans_commit(tp);',
    '}',
    '',
  ].join('\n');
  const b = await analyseDocument(xfs);
  const titlesB = plainActions(b, 0, xfs.length).map((x) => x.fix.title);
  assert.ok(titlesB.some((t) => t.startsWith('Use GFP_KERNEL')), titlesB.join('; '));
  assert.ok(!titlesB.some((t) => t.startsWith('Replace GFP_NOFS')), titlesB.join('; '));
});

test('no scope at a lock in a function handed a running transaction (btrfs, xfs): the GFP_NOFS is for the transaction', async () => {
  const text = fs.readFileSync(path.join(FIXTURE_ROOT, 'misc', 'refactor-anchors.c'), 'utf8');
  const a = await analyseDocument(text);
  const refactors = plainActions(a, 0, text.length).filter((x) => x.fix.title.startsWith('Replace GFP_NOFS'));
  const inside = (name: string) => {
    const start = text.indexOf(`${name}(`);
    const end = text.indexOf('\n}\n', start);
    return refactors.filter((x) => x.fix.edits.some((e) => e.span.start > start && e.span.start < end));
  };
  assert.equal(inside('demo_btrfs_add_item').length, 0);
  // The same shape without the handle is offered the lock anchor.
  assert.equal(inside('demo_locked_update').length, 1);
  const xfs = [
    'static int demo_xfs_step(struct xfs_trans *tp, struct demo *d)',
    '{',
    '\tvoid *p;',
    '',
    '\tmutex_lock(&d->lock);',
    '\tp = kmalloc(8, GFP_NOFS);',
    '\tmutex_unlock(&d->lock);',
    '\tkfree(p);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const b = await analyseDocument(xfs);
  assert.deepEqual(plainActions(b, 0, xfs.length).map((x) => x.fix.title).filter((t) => t.startsWith('Replace GFP_NOFS')), []);
});

test('the save goes above the comment that explains the anchor, not between them (ext4_ext_remove_space() has one about the credits)', async () => {
  const text = [
    'static int demo_punch(struct inode *inode, struct gfs2_sbd *sdp)',
    '{',
    '\tvoid *p;',
    '\tint error;',
    '',
    '\t/*',
    '\t * One block for the inode and one',
    '\t * for the bitmap.',
    '\t */',
    '\t// (and nothing for quota)',
    '\terror = gfs2_trans_begin(sdp, 2, 0);',
    '\tif (error)',
    '\t\treturn error;',
    '\tp = kmalloc(16, GFP_NOFS);',
    '\t/* done with the blocks */',
    '\tgfs2_trans_end(sdp);',
    '\tkfree(p);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const out = await afterAction(text, 'Replace GFP_NOFS with scope at transaction start');
  assert.match(out, /\tint error;\n\n\t\/\* No reclaim recursion into the fs while the gfs2 transaction is open\. \*\/\n\tnofs_flag = memalloc_nofs_save\(\);\n\t\/\*\n\t \* One block/);
  assert.match(out, /\t\/\/ \(and nothing for quota\)\n\terror = gfs2_trans_begin/);
  // A restore after the end stays after it; the comment above the end is not moved.
  assert.match(out, /\t\/\* done with the blocks \*\/\n\tgfs2_trans_end\(sdp\);\n\tmemalloc_nofs_restore\(nofs_flag\);\n/);
});

test('no GFP_KERNEL rewrite of a policy mask (jbd2 handle start/restart) or of GFP_NOFS on a start\'s error branch', async () => {
  const text = [
    'static handle_t *demo_start(journal_t *journal)',
    '{',
    '\treturn jbd2__journal_start(journal, 1, 0, 0, GFP_NOFS, 0, 0);',
    '}',
    '',
    'static int demo_ocfs2(struct ocfs2_super *osb)',
    '{',
    '\thandle_t *handle;',
    '\tvoid *p;',
    '',
    '\thandle = ocfs2_start_trans(osb, 1);',
    '\tif (IS_ERR(handle)) {',
    '\t\tp = kmalloc(64, GFP_NOFS | __GFP_NOWARN);',
    '\t\tkfree(p);',
    '\t\treturn PTR_ERR(handle);',
    '\t}',
    '\tjbd2__journal_restart(handle, 4, 0, GFP_NOFS);',
    '\tp = kmalloc(64, GFP_NOFS);',
    '\tocfs2_commit_trans(osb, handle);',
    '\tkfree(p);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const a = await analyseDocument(text);
  const protectedSpans = ['GFP_NOFS, 0, 0)', 'GFP_NOFS | __GFP_NOWARN', '0, GFP_NOFS);'].map((needle) => {
    const at = text.indexOf(needle);
    assert.ok(at >= 0, needle);
    return { start: at, end: at + 'GFP_NOFS'.length };
  });
  const actions = plainActions(a, 0, text.length);
  const touching = actions.filter((x) => x.fix.edits.some((e) => protectedSpans.some((p) => e.span.start < p.end && p.start < e.span.end)));
  assert.deepEqual(touching.map((x) => x.fix.title), []);
  // The one GFP_NOFS inside the open handle is still rewritten.
  assert.ok(actions.some((x) => x.fix.title.startsWith('Use GFP_KERNEL')), actions.map((x) => x.fix.title).join('; '));
  assert.deepEqual(a.result!.findings.map((f) => f.code), ['gfp/nofs-outside-scope', 'gfp/redundant-nofs']);
});

test('incremental analysis equals the checker\'s (analyzeSource, in-file summaries) on every fixture, also after moving functions', async () => {
  const p = await getParser();
  for (const file of fixtureFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const ctx = contextFor(parseFixture(text).version ?? '6.12');
    const render = (findings: readonly { code: string; span: { start: number }; message: string }[], sites: readonly SiteResult[]): string =>
      JSON.stringify({ f: findings.map((f) => `${f.span.start}:${f.code}:${f.message}`), s: sites.map((s) => `${s.call.span.start}:${s.evaluation.variants.map((v) => v.canonical).join('|')}`) });
    const cache = new FunctionCache();
    for (const variant of [text, `/* moved */ ${text}`, `\n\n${text}`]) {
      const tree = p.parse(variant);
      try {
        const whole = analyzeSource(ctx, p, variant, 'f.c') ?? { findings: [], sites: [] };
        const inc = await cache.analyze(ctx, 'k', tree.rootNode, variant);
        assert.equal(render(inc.findings, inc.sites), render(whole.findings, whole.sites), path.relative(FIXTURE_ROOT, file));
      } finally {
        tree.dispose();
      }
    }
  }
});
