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
  // Once per round: every analysis starts from no summaries, as a fresh one
  // does, and this function calls one with a summary, so its key differs
  // between the first round and the second; every other function is a hit.
  assert.equal(second!.result!.analysed, 2);
  // The same version is answered from the memo: one analysis per version.
  assert.equal(await store.analysis(uri), second);
  // Characters added above every function move them but keep their lines: nothing is re-analysed.
  store.change(uri, 3, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '//' }]);
  const third = await store.analysis(uri);
  assert.equal(third!.result!.analysed, 0);
  assert.deepEqual(third!.result!.findings.map((f) => f.span.start - 2), second!.result!.findings.map((f) => f.span.start));
});
