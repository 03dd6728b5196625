// The refactor-safety checker (refactor-check.ts) itself: it must see each
// kind of breakage it exists for, or the fixture test and verify:refactor
// could pass on anything. Hand-made actions stand in for broken code actions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_SETTINGS } from '../../shared/settings';
import { parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../../server/analysis/context';
import type { DocumentConfig } from '../../server/documents/config';
import { createParser } from '../../server/syntax/parser';
import { analyseFresh, checkAction, type OfferedAction } from './refactor-check';

const TEXT = [
  'static int demo(struct demo *d)',
  '{',
  '\tunsigned int nofs_flag;',
  '\tvoid *p, *q;',
  '',
  '\tnofs_flag = memalloc_nofs_save();',
  '\tp = kmalloc(d->len, GFP_KERNEL);',
  '\tmemalloc_nofs_restore(nofs_flag);',
  '\tq = kmalloc(d->len, GFP_NOFS);',
  '\tkfree(p);',
  '\tkfree(q);',
  '\treturn 0;',
  '}',
  '',
].join('\n');

/** An action replacing the first occurrence of `from` with `to`. */
function replacing(title: string, kind: string, from: string, to: string): OfferedAction {
  const doc = TextDocument.create('file:///x.c', 'c', 1, TEXT);
  const at = TEXT.indexOf(from);
  assert.ok(at >= 0, from);
  return { title, kind, family: title, edits: [{ range: { start: doc.positionAt(at), end: doc.positionAt(at + from.length) }, newText: to }] };
}

test('the refactor checker reports a loosened site, a site put under a lock, a new syntax error, a new scope finding and overlapping edits', async () => {
  const config: DocumentConfig = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: '6.12', parser: await createParser('native'), kernel: 'kernel 6.12' };
  const before = analyseFresh(TEXT, config);
  const check = (a: OfferedAction) => checkAction(TEXT, config, a, before);

  // GFP_NOFS -> GFP_KERNEL where no scope covers it widens the effective mask.
  assert.match(check(replacing('Use GFP_KERNEL', 'quickfix', 'GFP_NOFS', 'GFP_KERNEL')).join('\n'), /site demo\/kmalloc#1 loosened/);
  // The scope refactor and rewrites keep every modifier: an added __GFP_NOWARN counts as a change.
  assert.match(check(replacing('Replace GFP_NOFS with scope', 'refactor.rewrite', 'GFP_KERNEL', 'GFP_KERNEL | __GFP_NOWARN')).join('\n'), /site demo\/kmalloc#0 loosened/);
  // A fix aimed at a site may change its modifiers (GFP_NOWAIT drops reclaim: tighter).
  assert.deepEqual(check(replacing('Use GFP_NOWAIT', 'quickfix', 'GFP_NOFS', 'GFP_NOWAIT')), []);
  assert.match(check(replacing('Break', 'quickfix', '\treturn 0;\n}', '\treturn 0;\n')).join('\n'), /new syntax error node/);
  assert.match(check(replacing('Drop the restore', 'quickfix', '\tmemalloc_nofs_restore(nofs_flag);\n', '')).join('\n'), /scope\/unbalanced 0 -> 1/);
  // Taking a spinlock around the second allocation puts it under an atomic section.
  assert.match(check(replacing('Lock', 'quickfix', '\tq = kmalloc(d->len, GFP_NOFS);\n', '\tspin_lock(&d->spin);\n\tq = kmalloc(d->len, GFP_NOFS);\n\tspin_unlock(&d->spin);\n')).join('\n'), /site demo\/kmalloc#1 atomic no -> yes/);
  const doc = TextDocument.create('file:///x.c', 'c', 1, TEXT);
  const overlap: OfferedAction = {
    title: 'Overlap',
    kind: 'quickfix',
    family: 'Overlap',
    edits: [
      { range: { start: doc.positionAt(10), end: doc.positionAt(20) }, newText: 'a' },
      { range: { start: doc.positionAt(15), end: doc.positionAt(25) }, newText: 'b' },
    ],
  };
  assert.match(check(overlap).join('\n'), /edits overlap/);
});
