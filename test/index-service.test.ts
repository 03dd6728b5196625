// Invariant: an open document analysed by the language server with the
// workspace index's summaries of the rest of its tree gets the findings and
// the per-site contexts that the checker's analysis of the whole tree gives
// the file (fixtures.test.ts checks those against the fixtures' expectations),
// and a document whose text differs from the disk wins over what the index
// read. Also: the index service of the server, over a real (small) tree, and
// its globs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_SETTINGS } from '../shared/settings';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import { createParser } from '../server/syntax/parser';
import { DocumentStore } from '../server/documents/document-store';
import type { DocumentConfig, IndexConfig } from '../server/documents/config';
import { WorkspaceIndex } from '../server/analysis/workspace-index';
import { inProcessAnalyser } from '../server/cli/check-file';
import { analyzeSource, summaryContext } from '../server/analysis/summary-index';
import type { ExternalSummaries } from '../server/analysis/incremental';
import { LineIndex } from '../server/analysis/analyze-file';
import { globToRegExp, IndexService } from '../server/index-service';
import { indexKey } from '../server/analysis/index-key';
import type { FindingData } from '../shared/evaluate';
import type { SiteResult } from '../server/analysis/analyze-file';
import { FIXTURE_ROOT, fixtureFiles } from './fixture-files';

const TREES = path.join(FIXTURE_ROOT, 'trees');

function findingLines(findings: readonly FindingData[], text: string): string[] {
  const lines = new LineIndex(text);
  return findings.map((f) => `${lines.line(f.span.start) + 1} ${f.code} ${f.message}`).sort();
}

function siteLines(sites: readonly SiteResult[], text: string): string[] {
  const lines = new LineIndex(text);
  return sites
    .map((s) => {
      const e = s.evaluation;
      return `${lines.line(s.call.span.start) + 1} ${s.call.callee} ${e.variants.map((v) => v.canonical).join('|')} fs=${e.fs} io=${e.io} block=${e.mayBlock} atomic=${e.atomic} callers=${JSON.stringify(e.callers ?? null)}`;
    })
    .sort();
}

test('with the index, every tree fixture analysed as an open document gets the whole-tree findings and sites', async () => {
  const parser = await createParser('native');
  const ctx = new AnalysisContext(parseVersion('6.12'));
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: ctx, contextKey: 'k', parser, kernel: '' };
  let checked = 0;
  for (const tree of fs.readdirSync(TREES)) {
    const members = fixtureFiles(path.join(TREES, tree));
    const index = new WorkspaceIndex(path.join(TREES, tree), 'fixtures', fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-idx-')));
    const stats = await index.refresh(members, inProcessAnalyser(ctx, parser));
    assert.ok(stats.settled, `${tree}: the index settles`);
    // The server lowers every caller of a function with an effect (its hovers
    // show them); the checker's last pass lowers what findings need: same findings.
    const context = summaryContext(ctx, index.summaries(), index.nameTable(), index.callerInput());
    const checker = summaryContext(ctx, index.summaries(), index.nameTable(), index.callerInput(), true);
    const store = new DocumentStore({
      config: async () => config,
      external: (uri): ExternalSummaries => ({ file: new URL(uri).pathname, context, generation: 1 }),
    });
    for (const file of members) {
      const text = fs.readFileSync(file, 'utf8');
      const expected = analyzeSource(ctx, parser, text, file, checker);
      const uri = pathToFileURL(file).href;
      store.open(uri, 'c', 1, text);
      const got = (await store.analysis(uri))?.result;
      assert.ok(got, `${tree}/${path.basename(file)}: analysed`);
      assert.deepEqual(findingLines(got.findings, text), findingLines(expected?.findings ?? [], text), `${tree}/${path.basename(file)}: findings`);
      assert.deepEqual(siteLines(got.sites, text), siteLines(expected?.sites ?? [], text), `${tree}/${path.basename(file)}: sites`);
      store.close(uri);
      checked++;
    }
  }
  assert.ok(checked >= 20, `checked ${checked} files`);
});

test('the open text wins over the index: a function the editor removed or made effect-free no longer applies', async () => {
  const parser = await createParser('native');
  const ctx = new AnalysisContext(parseVersion('6.12'));
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: ctx, contextKey: 'k', parser, kernel: '' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-tree-'));
  const lock = path.join(dir, 'lock.c');
  const user = path.join(dir, 'user.c');
  fs.writeFileSync(lock, 'void demo_lock(struct demo *d)\n{\n\tmutex_lock(&d->m);\n\td->cookie = memalloc_nofs_save();\n}\n');
  const userText = 'void *demo_user(struct demo *d)\n{\n\tvoid *p;\n\n\tdemo_lock(d);\n\tp = kmalloc(8, GFP_NOFS);\n\treturn p;\n}\n';
  fs.writeFileSync(user, userText);
  const index = new WorkspaceIndex(dir, 'fixtures', fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-idx-')));
  await index.refresh([lock, user], inProcessAnalyser(ctx, parser));
  const context = summaryContext(ctx, index.summaries(), index.nameTable(), index.callerInput());
  const store = new DocumentStore({ config: async () => config, external: (uri) => ({ file: new URL(uri).pathname, context, generation: 1 }) });

  // user.c, as on disk: demo_lock() in lock.c enters NOFS, so the mask is redundant.
  store.open(pathToFileURL(user).href, 'c', 1, userText);
  const a = await store.analysis(pathToFileURL(user).href);
  assert.deepEqual(a?.result?.findings.map((f) => f.code), ['gfp/redundant-nofs']);

  // lock.c, edited in the editor so that demo_lock() no longer saves: its own
  // text is what counts for its own calls (none here), and the disk summary of
  // a function it no longer defines is not applied to it.
  const edited = 'void demo_lock(struct demo *d)\n{\n\tmutex_lock(&d->m);\n}\n\nvoid *demo_again(struct demo *d)\n{\n\tdemo_lock(d);\n\treturn kmalloc(8, GFP_NOFS);\n}\n';
  store.open(pathToFileURL(lock).href, 'c', 1, edited);
  const b = await store.analysis(pathToFileURL(lock).href);
  assert.ok(!b?.result?.findings.some((f) => f.code === 'gfp/redundant-nofs'), 'the editor text of demo_lock() enters no scope');
});

test('index globs: * within a component, ** across, a bare name anywhere', () => {
  const m = (g: string, p: string): boolean => globToRegExp(g).test(p);
  assert.ok(m('fs/**', 'fs/ext4/inode.c'));
  assert.ok(m('fs/', 'fs/ext4/inode.c'));
  assert.ok(!m('fs/**', 'mm/slab.c'));
  assert.ok(m('fs/*.c', 'fs/super.c'));
  assert.ok(!m('fs/*.c', 'fs/ext4/inode.c'));
  assert.ok(m('**/*.h', 'include/linux/gfp.h'));
  assert.ok(m('*.h', 'include/linux/gfp.h'));
  assert.ok(m('drivers/**/dm-*.c', 'drivers/md/dm-bufio.c'));
  assert.ok(!m('drivers/**/dm-*.c', 'drivers/md/raid1.c'));
  assert.ok(m('fs/ext?/**', 'fs/ext4/super.c'));
});

test('the index service builds a small tree in the background, caches it, and refreshes after a change', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-svc-'));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-svc-cache-'));
  for (const f of fixtureFiles(path.join(TREES, 'lock-wrapper'))) fs.copyFileSync(f, path.join(root, path.basename(f)));
  fs.mkdirSync(path.join(root, 'skipped'));
  fs.writeFileSync(path.join(root, 'skipped', 'x.c'), 'void x(void) { kmalloc(1, GFP_NOFS); }\n');
  const ctx = new AnalysisContext(parseVersion('6.12'));
  const config: IndexConfig = { root, id: 'test', key: indexKey('6.12', undefined), version: '6.12', include: [], exclude: ['skipped/**'] };
  let changed = 0;
  const progress: string[] = [];
  const events = { progress: (e: { kind: string; message: string }) => progress.push(`${e.kind}: ${e.message}`), changed: () => changed++, log: () => undefined };
  const service = new IndexService(config, ctx, events, 1, cache);
  await service.refresh();
  assert.equal(changed, 1, 'the first build announces its summaries');
  assert.equal(service.lastStats?.reused, 0);
  assert.match(progress[0], /^begin: indexing .*: 2 files$/);
  assert.match(progress.at(-1)!, /^end: .*2 files, 0 from the cache/);
  const lockFile = path.join(root, 'lock.c');
  assert.ok(service.externalFor(lockFile), 'a file of the tree sees the index');
  assert.equal(service.externalFor(path.join(root, 'skipped', 'x.c')), undefined, 'excluded files are not covered');
  assert.equal(service.externalFor(path.join(os.tmpdir(), 'elsewhere.c')), undefined);
  const names = service.externalFor(lockFile)!.context.index.summaries().map((s) => s.name);
  assert.ok(names.length > 0);
  service.dispose();

  // A second service (a restart) reads the cache: nothing is analysed again.
  const again = new IndexService(config, ctx, events, 1, cache);
  await again.refresh();
  assert.equal(again.lastStats?.reused, 2);
  assert.deepEqual(again.lastStats?.rounds.filter((n) => n > 0), []);
  assert.deepEqual(again.externalFor(lockFile)!.context.index.summaries().map((s) => s.name).sort(), [...names].sort());
  // A file changed on disk: the next refresh analyses it, and the generation moves on.
  const before = again.externalFor(lockFile)!.generation;
  fs.appendFileSync(lockFile, '\nvoid demo_extra(void)\n{\n}\n');
  await again.refresh();
  assert.equal(again.lastStats?.rounds[0], 1);
  assert.ok(again.externalFor(lockFile)!.generation > before);
  again.dispose();
});
