// The small version of verify:incremental, in the normal suite: random edit
// sequences over every fixture (never the kernel tree) through the document
// store's incremental path, each step compared with a fresh analysis; and the
// two failures the kernel run found, rebuilt on code of our own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocumentStore } from '../../server/documents/document-store';
import { createParser } from '../../server/syntax/parser';
import { fixtureFiles, FIXTURE_ROOT } from '../fixture-files';
import { compareWithFresh, makeConfig, runIncremental } from './incremental';

const fixtures = fixtureFiles().map((f) => ({ name: path.relative(FIXTURE_ROOT, f), text: fs.readFileSync(f, 'utf8') }));

for (const backend of ['native', 'wasm'] as const) {
  test(`incremental equals fresh: random edit sequences over every fixture [${backend}]`, async () => {
    const lines: string[] = [];
    const report = await runIncremental({ files: fixtures, seed: 8, steps: backend === 'native' ? 8 : 4, backend, log: (l) => lines.push(l) });
    assert.ok(report.edits > (backend === 'native' ? 1000 : 400), `only ${report.edits} edits`);
    assert.deepEqual(lines, []);
  });
}

test('a call cycle does not keep a summary alive after the scope that made it is deleted', async () => {
  const parser = await createParser('native');
  const config = makeConfig(parser);
  const store = new DocumentStore({ config: async () => config });
  const uri = 'file:///verify/cycle.c';
  // demo_a enters NOFS (the cookie escapes into d), demo_b calls demo_a, and
  // demo_a calls demo_b: each one's summary is justified by the other's.
  const text = [
    'void demo_a(struct demo *d)',
    '{',
    '\td->cookie = memalloc_nofs_save();',
    '\tdemo_b(d);',
    '}',
    '',
    'void demo_b(struct demo *d)',
    '{',
    '\tdemo_a(d);',
    '}',
    '',
    'int demo_user(struct demo *d)',
    '{',
    '\tdemo_a(d);',
    '\td->p = kmalloc(8, GFP_NOFS);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  store.open(uri, 'c', 1, text);
  const first = await store.analysis(uri);
  assert.deepEqual(first!.result!.findings.map((f) => f.code), ['gfp/redundant-nofs']);
  // Delete the save: nothing in the file enters a scope any more.
  store.change(uri, 2, [{ range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, text: '' }]);
  const second = await store.analysis(uri);
  assert.deepEqual(second!.result!.findings.map((f) => f.code), ['gfp/nofs-outside-scope']);
  assert.equal(await compareWithFresh(store, uri, config), undefined);
  store.close(uri);
  parser.dispose();
});

test('the same function text lowered differently (its error recovery depends on the text after it) is analysed again', async () => {
  // The seeded sequence that found it: a function whose closing brace an
  // earlier edit moved inside an #ifndef, then a function pasted after it;
  // the text of the first is unchanged, its tree now holds an error region.
  const file = fixtures.find((f) => f.name === path.join('scope', 'restore-order.c'))!;
  const lines: string[] = [];
  const report = await runIncremental({ files: [file], seed: 4, steps: 9, backend: 'native', log: (l) => lines.push(l) });
  assert.equal(report.steps, 9);
  assert.deepEqual(lines, []);
});
