// Invariant: the document store keeps the syntax tree incremental and exact:
// random sequences of LSP content changes, applied one at a time as tree
// edits and reparsed from the edited tree, give the same tree as parsing the
// final text from scratch (on both backends, with non-ASCII text), and an edit
// inside one function re-analyses that function only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_SETTINGS } from '../shared/settings';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import type { SyntaxNode } from '../server/syntax/backend';
import { createParser } from '../server/syntax/parser';
import { DocumentStore } from '../server/documents/document-store';
import { LineIndex } from '../server/analysis/analyze-file';
import { FunctionCache } from '../server/analysis/incremental';
import { analyzeSource } from '../server/analysis/summary-index';
import type { FindingData } from '../shared/evaluate';
import { changedRegion } from '../server/syntax/text-region';
import type { DocumentConfig } from '../server/documents/config';
import { FIXTURE_ROOT } from './fixture-files';

function dump(n: SyntaxNode, out: string[] = []): string[] {
  out.push(`${n.type}@${n.startIndex}-${n.endIndex}:${n.startPosition.row}.${n.startPosition.column}${n.isMissing ? '!' : ''}`);
  for (let i = 0; i < n.childCount; i++) dump(n.child(i)!, out);
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

for (const backend of ['native', 'wasm'] as const) {
  test(`random edit sequences give the tree of a fresh parse [${backend}]`, async () => {
    const parser = await createParser(backend);
    const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: 'k', parser, kernel: '' };
    const store = new DocumentStore({ config: async () => config });
    const pieces = ['{', '}', '\n', 'é', '🚀', 'GFP_NOFS', ';', ' ', 'if (x) ', 'kmalloc(n, GFP_KERNEL);', '/*', '*/', '"', '日本'];
    for (const [fixture, seed] of [['misc/non-ascii.c', 7], ['cfg/goto.c', 8]] as const) {
      const uri = `file:///t/${seed}.c`;
      const original = fs.readFileSync(path.join(FIXTURE_ROOT, fixture), 'utf8');
      let doc = TextDocument.create(uri, 'c', 1, original);
      store.open(uri, 'c', 1, original);
      await store.analysis(uri);
      const random = rng(seed);
      for (let v = 2; v < 40; v++) {
        const changes = [];
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const text = doc.getText();
          let s = Math.floor(random() * text.length);
          let e = Math.min(text.length, s + Math.floor(random() * 10));
          if (/[\uDC00-\uDFFF]/.test(text[s] ?? '')) s--;
          if (/[\uDC00-\uDFFF]/.test(text[e] ?? '')) e--;
          e = Math.max(s, e);
          const change = { range: { start: doc.positionAt(s), end: doc.positionAt(e) }, text: random() < 0.3 ? '' : pieces[Math.floor(random() * pieces.length)] };
          changes.push(change);
          doc = TextDocument.update(doc, [change], v);
        }
        store.change(uri, v, changes);
        // Analyse only now and then: edits pile up on the tree between parses.
        if (v % 4 === 0 || v === 39) {
          const a = await store.analysis(uri);
          assert.equal(a?.document.getText(), doc.getText());
          const fresh = parser.parse(doc.getText());
          try {
            assert.deepEqual(dump(store.treeOf(uri)!.rootNode), dump(fresh.rootNode), `${fixture} at version ${v}`);
          } finally {
            fresh.dispose();
          }
        }
      }
      store.close(uri);
      assert.equal(store.treeOf(uri), undefined, 'closing frees the tree');
    }
  });
}

test('an edit inside one function re-analyses that function only', async () => {
  const parser = await createParser('native');
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: 'k', parser, kernel: '' };
  const store = new DocumentStore({ config: async () => config });
  const text = fs.readFileSync(path.join(FIXTURE_ROOT, 'gfp/redundant-nofs.c'), 'utf8');
  const uri = 'file:///t/one.c';
  store.open(uri, 'c', 1, text);
  const first = await store.analysis(uri);
  assert.ok(first!.result!.analysed >= 4, `analysed ${first!.result!.analysed}`);
  // Same-line edit inside the first function's body: only it changes.
  const at = TextDocument.create(uri, 'c', 1, text).positionAt(text.indexOf('ctx->buf = buf;'));
  store.change(uri, 2, [{ range: { start: at, end: at }, text: 'demo_touch(ctx); ' }]);
  const second = await store.analysis(uri);
  // (Distinct functions: this one is analysed once per summary round, its
  // callee's summary differing between them; every other function is a hit.)
  assert.equal(second!.result!.analysed, 1);
  // The same version is answered from the memo: one analysis per version.
  assert.equal(await store.analysis(uri), second);
  // Characters added above every function move them but keep their lines: nothing is re-analysed.
  store.change(uri, 3, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '//' }]);
  const third = await store.analysis(uri);
  assert.equal(third!.result!.analysed, 0);
  assert.deepEqual(third!.result!.findings.map((f) => f.span.start - 2), second!.result!.findings.map((f) => f.span.start));
});

test('a line index moved over an edit equals a fresh one; the changed region is exact', () => {
  const random = rng(11);
  const pieces = ['\n', 'a', '\n\n', 'xy', '', '}\n', 'é\n'];
  let text = Array.from({ length: 3000 }, () => pieces[Math.floor(random() * pieces.length)]).join('');
  let index = new LineIndex(text);
  for (let i = 0; i < 300; i++) {
    const s = Math.floor(random() * (text.length + 1));
    const e = Math.min(text.length, s + Math.floor(random() * (i % 10 === 0 ? 3000 : 5)));
    const next = text.slice(0, s) + Array.from({ length: Math.floor(random() * 4) }, () => pieces[Math.floor(random() * pieces.length)]).join('') + text.slice(e);
    const region = changedRegion(text, next);
    assert.equal(text.slice(0, region.start) + next.slice(region.start, region.newEnd) + text.slice(region.oldEnd), next);
    assert.ok(region.start <= region.oldEnd && region.start <= region.newEnd);
    index = index.edited(next, region);
    const fresh = new LineIndex(next);
    assert.equal(index.lineCount, fresh.lineCount, `step ${i}`);
    for (let o = 0; o <= next.length; o += 97) assert.equal(index.line(o), fresh.line(o));
    text = next;
  }
});

test('after random edit sequences, the incremental analysis equals a fresh one (findings, sites, functions)', async () => {
  const parser = await createParser('native');
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: 'k', parser, kernel: '' };
  const render = (a: Awaited<ReturnType<DocumentStore['analysis']>>): string => {
    const r = a?.result;
    if (!r) return `skipped:${a?.skipped}`;
    return JSON.stringify({
      f: r.findings.map((f) => `${f.span.start}-${f.span.end}:${f.code}:${f.message}:${f.related.map((x) => `${x.span.start}:${x.message}`).join(',')}`),
      s: r.sites.map((s) => `${s.call.span.start}:${s.function}:${s.evaluation.variants.map((v) => v.canonical).join('|')}`),
      fn: r.functions.map((f) => `${f.name}@${f.span.start}-${f.span.end}:${f.fn.span.start}:${f.fn.nameSpan.start}:${f.fn.isStatic}`),
      t: [...r.ir.threadFunctions].sort(),
    });
  };
  const pieces = ['{', '}', '\n', '}\n', ';', ' ', 'static ', '/*', '*/', '#if 0\n', '#endif\n', '#ifdef X\n', 'x', 'GFP_NOFS', 'spin_lock(&l);', 'spin_unlock(&l);', 'msleep(1);', 'kmalloc(n, GFP_KERNEL);', 'memalloc_nofs_save();', 'kthread_run(worker, NULL, "w");', '\nstatic void helper(void)\n{\n\tmutex_lock(&m);\n}\n'];
  const store = new DocumentStore({ config: async () => config });
  for (const [fixture, seed] of [['gfp/redundant-nofs.c', 21], ['traps/start-error-path.c', 22], ['scope/unbalanced.c', 23], ['gfp/sleep-in-atomic-calls.c', 24], ['traps/correlated-conditions.c', 25], ['cfg/goto.c', 26]] as const) {
    const uri = `file:///t/fresh-${seed}.c`;
    const original = fs.readFileSync(path.join(FIXTURE_ROOT, fixture), 'utf8');
    let doc = TextDocument.create(uri, 'c', 1, original);
    store.open(uri, 'c', 1, original);
    await store.analysis(uri);
    const random = rng(seed);
    for (let v = 2; v < 90; v++) {
      const changes = [];
      for (let k = 0; k < 1 + Math.floor(random() * 2); k++) {
        const text = doc.getText();
        const s = Math.floor(random() * text.length);
        // Mostly one character typed or deleted (what an editor sends), now and then a larger cut.
        const e = Math.min(text.length, s + (random() < 0.5 ? 1 : Math.floor(random() * (random() < 0.1 ? 200 : 8))));
        const change = { range: { start: doc.positionAt(s), end: doc.positionAt(e) }, text: random() < 0.4 ? '' : pieces[Math.floor(random() * pieces.length)] };
        changes.push(change);
        doc = TextDocument.update(doc, [change], v);
      }
      store.change(uri, v, changes);
      // Analyse after most versions (the top-level list is carried from one to the next), skip some (edits pile up).
      if (v % 4 === 1) continue;
      const incremental = render(await store.analysis(uri));
      const freshStore = new DocumentStore({ config: async () => config });
      freshStore.open(uri, 'c', v, doc.getText());
      const fresh = render(await freshStore.analysis(uri));
      freshStore.close(uri);
      assert.equal(incremental, fresh, `${fixture} at version ${v}`);
    }
    store.close(uri);
  }
});

for (const backend of ['native', 'wasm'] as const) test(`an edit that changes the structure beyond its own text (an opened comment, #if 0) is seen there too [${backend}]`, async () => {
  const parser = await createParser(backend);
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: 'k', parser, kernel: '' };
  const fn = (name: string, body: string): string => `static int ${name}(struct demo *d)\n{\n${body}\treturn 0;\n}\n\n`;
  const text = [
    fn('first', '\td->buf = kmalloc(16, GFP_NOFS);\n'),
    fn('second', '\tunsigned int flags = memalloc_nofs_save();\n\td->buf = kmalloc(16, GFP_NOFS);\n\tmemalloc_nofs_restore(flags);\n'),
    fn('third', '\t/* a comment */\n\td->buf = kmalloc(32, GFP_NOFS);\n'),
    '#endif\n\n',
    fn('fourth', '\td->buf = kzalloc(8, GFP_NOIO);\n'),
  ].join('');
  const names = (a: Awaited<ReturnType<DocumentStore['analysis']>>): string => JSON.stringify({ fn: a?.result?.functions.map((f) => `${f.name}@${f.span.start}`), f: a?.result?.findings.map((f) => `${f.code}@${f.span.start}`) });
  const at = text.indexOf('static int second');
  for (const insert of ['/* ', '#if 0\n', '{\n', '"']) {
    const store = new DocumentStore({ config: async () => config });
    const uri = 'file:///t/structure.c';
    store.open(uri, 'c', 1, text);
    await store.analysis(uri);
    const doc = TextDocument.create(uri, 'c', 1, text);
    const pos = doc.positionAt(at);
    store.change(uri, 2, [{ range: { start: pos, end: pos }, text: insert }]);
    const edited = text.slice(0, at) + insert + text.slice(at);
    const fresh = new DocumentStore({ config: async () => config });
    fresh.open(uri, 'c', 2, edited);
    assert.equal(names(await store.analysis(uri)), names(await fresh.analysis(uri)), JSON.stringify(insert));
    // And back.
    store.change(uri, 3, [{ range: { start: pos, end: TextDocument.create(uri, 'c', 2, edited).positionAt(at + insert.length) }, text: '' }]);
    const back = new DocumentStore({ config: async () => config });
    back.open(uri, 'c', 3, text);
    assert.equal(names(await store.analysis(uri)), names(await back.analysis(uri)), `${JSON.stringify(insert)} undone`);
  }
});

test('a callee\'s "may block" alone does not analyse its callers again: their flows stand, the claim is applied to them', async () => {
  // Functions calling each other in a cycle, each with a sleeping allocation,
  // and a caller under a spinlock. The second summary round sees every
  // callee's may-block claim; before, that re-analysed every function (and
  // kept a second entry for each), which made a file of 50,000 such
  // functions take twice the checker's time and memory.
  const parser = await createParser('native');
  const ctx = new AnalysisContext(parseVersion('6.12'));
  const fns = ['a', 'b', 'c'].map((n, i, all) => `static int demo_${n}(void)\n{\n\treturn demo_${all[(i + 1) % all.length]}() + !!kmalloc(8, GFP_KERNEL);\n}\n`);
  const text = `${fns.join('\n')}\nstatic void demo_locked(spinlock_t *l)\n{\n\tspin_lock(l);\n\tdemo_a();\n\tspin_unlock(l);\n}\n`;
  const tree = parser.parse(text);
  try {
    const cache = new FunctionCache();
    const inc = await cache.analyze(ctx, 'k', tree.rootNode, text);
    const whole = analyzeSource(ctx, parser, text, 'f.c')!;
    const render = (fs: readonly FindingData[]): string[] => fs.map((f) => `${f.span.start}:${f.code}:${f.message}`);
    assert.deepEqual(render(inc.findings), render(whole.findings));
    assert.ok(inc.findings.some((f) => f.code === 'gfp/sleep-in-atomic'), JSON.stringify(render(inc.findings)));
    // One entry per function: none was analysed again for its callees' claims.
    assert.equal(cache.size, 4);
  } finally {
    tree.dispose();
  }
});
