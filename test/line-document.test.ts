// Invariant: LineDocument is TextDocument (vscode-languageserver-textdocument)
// with cheaper edits: after every change of random edit sequences (CRLF, lone
// CR, surrogate pairs, multi-line replacements, reversed and out-of-range
// ranges, whole-text replacements) both give the same text, line count,
// offsets and positions, and what LineDocument says a change replaced is
// TextDocument's offsets and positions of that range before the change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument, type Position, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { LineDocument } from '../server/documents/line-document';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['', 'x', ' ', '\n', '\r\n', '\r', '\n\r', 'é', '🚀', '日本', 'a\r\nb\rc\nd', 'if (x)\n\t\tkmalloc(n, GFP_KERNEL);\r\n', '\r\n\r\n', '🚀\n🚀'];
const START = 'int a;\r\nint b;\rint c;\n🚀 é\n\n\r\n\r\r\nlast';

/** Compares everything a reader of the document can ask. */
function same(ours: LineDocument, theirs: TextDocument, random: () => number, where: string): void {
  const text = theirs.getText();
  assert.equal(ours.getText(), text, `${where}: text`);
  assert.equal(ours.lineCount, theirs.lineCount, `${where}: lineCount`);
  for (let o = -2; o <= text.length + 2; o++) assert.deepEqual(ours.positionAt(o), theirs.positionAt(o), `${where}: positionAt(${o})`);
  for (let line = -1; line <= theirs.lineCount + 1; line++) {
    for (let character = -1; character <= 8; character++) {
      const p = { line, character };
      assert.equal(ours.offsetAt(p), theirs.offsetAt(p), `${where}: offsetAt(${line}:${character})`);
    }
    const p = { line, character: Math.floor(random() * 100) };
    assert.equal(ours.offsetAt(p), theirs.offsetAt(p), `${where}: offsetAt(${line}:${p.character})`);
  }
  const range = { start: randomPosition(theirs, random), end: randomPosition(theirs, random) };
  assert.equal(ours.getText(range), theirs.getText(range), `${where}: getText(range)`);
}

function randomPosition(doc: TextDocument, random: () => number): Position {
  const r = random();
  // Mostly real positions; some past a line's end, past the last line, or negative.
  if (r < 0.7) return doc.positionAt(Math.floor(random() * (doc.getText().length + 1)));
  if (r < 0.85) return { line: Math.floor(random() * doc.lineCount), character: Math.floor(random() * 12) };
  if (r < 0.95) return { line: doc.lineCount + Math.floor(random() * 3), character: Math.floor(random() * 5) };
  return { line: -1, character: Math.floor(random() * 3) - 1 };
}

function randomChange(doc: TextDocument, random: () => number): TextDocumentContentChangeEvent {
  const text = Array.from({ length: Math.floor(random() * 3) }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
  if (random() < 0.02) return { text: random() < 0.5 ? text : START };
  for (;;) {
    const start = randomPosition(doc, random);
    // Mostly forward and short; sometimes reversed (TextDocument swaps the ends).
    const end = random() < 0.8 ? doc.positionAt(doc.offsetAt(start) + Math.floor(random() * 12)) : randomPosition(doc, random);
    // TextDocument 1.0.12 leaves holes in its line offsets when a range starting
    // past the last line inserts exactly as many lines as the range spans:
    // no reference to compare with there.
    const breaks = text.match(/\r\n|\r|\n/g)?.length ?? 0;
    const lo = start.line < end.line || (start.line === end.line && start.character <= end.character) ? start : end;
    const hi = lo === start ? end : start;
    if (lo.line >= doc.lineCount && breaks > 0 && hi.line - lo.line === breaks) continue;
    return { range: { start, end }, text };
  }
}

test('LineDocument gives TextDocument\'s text, offsets and positions after every change of random edits', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = rng(seed);
    const ours = new LineDocument('file:///t.c', 'c', 1, START);
    let theirs = TextDocument.create('file:///t.c', 'c', 1, START);
    same(ours, theirs, random, `seed ${seed}, open`);
    for (let v = 2; v < 60; v++) {
      // One didChange may carry several changes, each against the text before it.
      const changes = Array.from({ length: 1 + Math.floor(random() * 3) }, () => undefined);
      for (const _ of changes) {
        const change = randomChange(theirs, random);
        const replaced = ours.apply(change);
        if ('range' in change) {
          let { start, end } = change.range;
          if (start.line > end.line || (start.line === end.line && start.character > end.character)) [start, end] = [end, start];
          const [s, e] = [theirs.offsetAt(start), theirs.offsetAt(end)];
          assert.deepEqual(replaced, { start: s, end: e, startPosition: theirs.positionAt(s), endPosition: theirs.positionAt(e) }, `seed ${seed}, version ${v}: replaced ${JSON.stringify(change)}`);
        } else {
          assert.equal(replaced, undefined);
        }
        theirs = TextDocument.update(theirs, [change], v);
      }
      ours.version = v;
      assert.equal(ours.version, theirs.version);
      // Sometimes read nothing before the next change (the text is joined lazily).
      if (random() < 0.7) same(ours, theirs, random, `seed ${seed}, version ${v}`);
    }
    same(ours, theirs, random, `seed ${seed}, end`);
  }
});

test('LineDocument keeps TextDocument\'s lines when a change joins a lone CR and an LF', () => {
  for (const [text, at, insert] of [['a\nb', { line: 0, character: 1 }, '\r'], ['a\rb', { line: 1, character: 0 }, '\n']] as const) {
    const ours = new LineDocument('u', 'c', 1, text);
    const theirs = TextDocument.create('u', 'c', 1, text);
    const change = { range: { start: at, end: at }, text: insert };
    ours.apply(change);
    TextDocument.update(theirs, [change], 2);
    assert.equal(ours.getText(), 'a\r\nb');
    // TextDocument finds line breaks in the inserted text alone: three lines, where a fresh document has two.
    assert.equal(theirs.lineCount, 3);
    assert.equal(ours.lineCount, 3);
    for (let o = 0; o <= 4; o++) assert.deepEqual(ours.positionAt(o), theirs.positionAt(o));
  }
});

test('LineDocument applies a large paste (more lines than splice takes arguments)', () => {
  const paste = 'line\n'.repeat(200_000);
  const ours = new LineDocument('u', 'c', 1, 'a\nb\nc');
  const theirs = TextDocument.create('u', 'c', 1, 'a\nb\nc');
  const change = { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }, text: paste };
  ours.apply(change);
  TextDocument.update(theirs, [change], 2);
  assert.equal(ours.getText(), theirs.getText());
  assert.equal(ours.lineCount, theirs.lineCount);
  for (const o of [0, 2, 3, 1000, paste.length, paste.length + 2, paste.length + 5]) assert.deepEqual(ours.positionAt(o), theirs.positionAt(o));
});
