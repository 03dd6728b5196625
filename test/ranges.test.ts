// Invariant: parsing only the interesting top-level definitions (what
// `gfp-lens check` does) finds the same sites and findings as parsing the
// whole file, and the chunks it picks cover every interesting match with
// positions of the whole file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import { analyzeText, LineIndex } from '../server/analysis/analyze-file';
import { createParser } from '../server/syntax/parser';
import { chunkEnds, interestingRanges } from '../server/syntax/ranges';
import { changedRegion } from '../server/syntax/text-region';
import { fixtureFiles } from './fixture-files';

const ctx = new AnalysisContext(parseVersion('6.12'));

const SAMPLE = [
  '/* café */ static int counter;',
  'static void quiet(void)',
  '{',
  '\tcounter++;',
  '}',
  'static void *loud(size_t n)',
  '{',
  '\treturn kmalloc(n, GFP_NOFS);',
  '}',
  'static void quiet_again(void)',
  '{',
  '\tcounter--;',
  '}',
  'static void also_quiet(void) { counter--; }',
  'static void tail(void)',
  '{',
  '\tvoid *p = vmalloc(8);',
  '}',
  '',
].join('\n');

test('chunks end at column-0 closing braces and only interesting ones are kept', () => {
  const ranges = interestingRanges(SAMPLE, ctx.interesting, 1)!;
  assert.ok(ranges);
  const texts = ranges.map((r) => SAMPLE.slice(r.startIndex, r.endIndex));
  assert.equal(texts.length, 2);
  assert.match(texts[0], /^static void \*loud[\s\S]*\n\}\n$/);
  assert.match(texts[1], /^static void also_quiet[\s\S]*vmalloc\(8\);\n\}\n$/);
  const lines = new LineIndex(SAMPLE);
  const point = (offset: number) => {
    const p = lines.position(offset);
    return { row: p.line, column: p.character };
  };
  for (const r of ranges) {
    assert.deepEqual(r.startPosition, point(r.startIndex));
    assert.deepEqual(r.endPosition, point(r.endIndex));
  }
});

test('every interesting match lies inside a chosen range', () => {
  for (const file of fixtureFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const ranges = interestingRanges(text, ctx.lowering(text), 1) ?? [];
    const global = new RegExp(ctx.interesting.source, 'g');
    for (let m = global.exec(text); m; m = global.exec(text)) {
      const at = m.index;
      assert.ok(ranges.some((r) => r.startIndex <= at && at < r.endIndex), `${file}: ${m[0]} at ${at} is outside every range`);
    }
  }
});

test('a file that is mostly interesting is parsed whole', () => {
  assert.equal(interestingRanges('void f(void)\n{\n\tkmalloc(1, GFP_KERNEL);\n}\n', ctx.interesting), undefined);
});

for (const backend of ['native', 'wasm'] as const) {
  test(`ranged and whole-file parses give the same analysis on every fixture [${backend}]`, async () => {
    const parser = await createParser(backend);
    try {
      for (const file of fixtureFiles()) {
        const text = fs.readFileSync(file, 'utf8');
        const summarize = (ranged: boolean): string => {
          const tree = ranged ? parser.parse(text, undefined, interestingRanges(text, ctx.lowering(text), 1)) : parser.parse(text);
          try {
            const a = analyzeText(ctx, tree.rootNode, text);
            return JSON.stringify({
              findings: a.findings.map((f) => [f.code, f.span.start, f.message]),
              sites: a.sites.map((s) => [s.function, s.call.span.start, s.evaluation.variants.map((v) => v.canonical)]),
            });
          } finally {
            tree.dispose();
          }
        };
        assert.equal(summarize(true), summarize(false), file);
      }
    } finally {
      parser.dispose();
    }
  });
}

test('a misindented closing brace inside a function does not end its chunk (arch/s390/kvm/interrupt.c)', () => {
  const text = [
    'static int dump(struct demo *d)',
    '{',
    '\tvoid *buf = vzalloc(64);',
    '\tspin_lock(&d->lock);',
    '\tif (d->pending) {',
    '\t\td->n++;',
    '}',
    'out:',
    '\tspin_unlock(&d->lock);',
    '\treturn 0;',
    '}',
    '/* a comment with',
    '}',
    '   inside it */',
    'static int quiet(void)',
    '{',
    '\treturn 1;',
    '}',
    'static int enqueue(struct demo *d)',
    '{',
    '\td->p = kzalloc(8, GFP_KERNEL);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const texts = (interestingRanges(text, ctx.lowering(text), 1) ?? []).map((r) => text.slice(r.startIndex, r.endIndex));
  assert.equal(texts.length, 2);
  assert.match(texts[0], /^static int dump[\s\S]*spin_unlock[\s\S]*return 0;\n\}\n$/);
  assert.match(texts[1], /^static int enqueue/);
});

test('chunk ends resumed over an edit equal a fresh scan, and name the chunks they kept', () => {
  let seed = 5;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const pieces = ['}\n', '{\n', 'int f(void)\n{\n', '\treturn 0;\n', '/*', '*/', '"', "'", '// c\n', '\n', 'x', '}'];
  const pick = (n: number): string => Array.from({ length: n }, () => pieces[Math.floor(random() * pieces.length)]).join('');
  let text = pick(400);
  let scan = chunkEnds(text);
  for (let i = 0; i < 500; i++) {
    const s = Math.floor(random() * (text.length + 1));
    const e = Math.min(text.length, s + Math.floor(random() * (i % 7 === 0 ? 200 : 4)));
    const next = text.slice(0, s) + pick(Math.floor(random() * 3)) + text.slice(e);
    const region = changedRegion(text, next);
    const resumed = chunkEnds(next, { ends: scan.ends, region });
    const fresh = chunkEnds(next);
    assert.deepEqual(resumed.ends, fresh.ends, `step ${i}`);
    // The chunks it says it kept have the old text.
    const chunk = (t: string, ends: readonly number[], k: number): string => t.slice(k === 0 ? 0 : ends[k - 1], ends[k]);
    for (let k = 0; k < resumed.kept; k++) assert.equal(chunk(next, resumed.ends, k), chunk(text, scan.ends, k));
    for (let k = resumed.from; k < resumed.ends.length; k++) assert.equal(chunk(next, resumed.ends, k), chunk(text, scan.ends, resumed.oldFrom + k - resumed.from));
    // And they are the chunks interestingRanges() tests, in order.
    const tested: string[] = [];
    interestingRanges(next, { test: (t) => (tested.push(t), false), source: '' }, 1);
    assert.deepEqual(resumed.ends.map((_, k) => chunk(next, resumed.ends, k)), tested);
    text = next;
    scan = resumed;
  }
});

test('a global function that sleeps, in a file with an atomic section, is lowered for the index, not for findings alone', () => {
  const text = [
    'static void demo_locked(struct demo *d)',
    '{',
    '\tspin_lock(&d->lock);',
    '\td->p = kmalloc(8, GFP_ATOMIC);',
    '\tspin_unlock(&d->lock);',
    '}',
    '',
    'void demo_waits(struct demo *d)',
    '{',
    '\tmutex_lock(&d->mutex);',
    '\tmutex_unlock(&d->mutex);',
    '}',
    '',
    'static void demo_waits_here(struct demo *d)',
    '{',
    '\tmsleep(10);',
    '}',
    '',
  ].join('\n');
  const definitions = text.split('\n\n').filter((d) => d.trim() !== '');
  const chunks = (globalSleepers: boolean) => {
    const filter = ctx.lowering(text, undefined, undefined, undefined, globalSleepers);
    return definitions.filter((d) => filter.test(d)).map((d) => /\b(demo_\w+)\(/.exec(d)?.[1]);
  };
  // Another file may call demo_waits() under its own spinlock: the index needs its summary.
  assert.deepEqual(chunks(true), ['demo_locked', 'demo_waits']);
  // Once the index has it, this file's findings need neither (a static one that sleeps never was).
  assert.deepEqual(chunks(false), ['demo_locked']);
});
