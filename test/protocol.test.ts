// Invariant: the real server (`node out/server/main.js --stdio`), spoken to
// over stdio with vscode-jsonrpc, behaves as an LSP server for C documents:
// it publishes the analysis' findings as diagnostics (and serves them on pull
// to clients that declare it), answers hover, inlay hints and code actions
// for the current text, applies incremental changes so that any edit sequence
// gives the same diagnostics as opening the final text fresh, answers
// cancelled requests with RequestCancelled, survives bad input, reads its
// settings per resource, and exits cleanly on shutdown/exit.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import type { CodeAction, Diagnostic, Hover, InlayHint } from 'vscode-languageserver';
import { applyEdits, TestClient } from './lsp-client';
import { FIXTURE_ROOT } from './fixture-files';

const HEADLINE = path.join(__dirname, '..', '..', 'test', 'editors', 'headline.c');
const read = (rel: string): string => fs.readFileSync(path.join(FIXTURE_ROOT, rel), 'utf8');
const uriOf = (name: string): string => `file:///gfp-lens-test/${name}`;

const clients: TestClient[] = [];
function client(options?: ConstructorParameters<typeof TestClient>[0]): TestClient {
  const c = new TestClient(options);
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) if (c.child.exitCode === null) c.child.kill();
});

/** Diagnostics without what depends on the URI, for comparing two documents. */
function comparable(d: readonly Diagnostic[]): string[] {
  return d.map((x) => `${x.range.start.line}:${x.range.start.character}-${x.range.end.line}:${x.range.end.character} ${x.severity} ${String(x.code)} ${x.message} ${JSON.stringify((x.relatedInformation ?? []).map((r) => [r.location.range, r.message]))}`).sort();
}

function hoverText(h: Hover | null): string {
  if (!h) return '';
  const c = h.contents;
  return typeof c === 'string' ? c : 'value' in c ? c.value : JSON.stringify(c);
}

test('initialize: incremental sync, hover, inlay hints, code actions; nothing clangd does; push diagnostics', async () => {
  const c = client();
  const init = await c.initialize();
  const caps = init.capabilities as Record<string, unknown>;
  assert.deepEqual(caps.textDocumentSync, { openClose: true, change: 2, save: { includeText: false } });
  assert.equal(caps.hoverProvider, true);
  assert.ok(caps.inlayHintProvider);
  assert.ok(caps.codeActionProvider);
  for (const k of ['completionProvider', 'definitionProvider', 'documentFormattingProvider', 'diagnosticProvider']) assert.equal(caps[k], undefined, k);
  assert.equal(await c.shutdown(), 0);
});

test('diagnostics, hovers, inlay hints and code actions on open documents', async () => {
  const c = client();
  await c.initialize();

  // Diagnostics: source, code, link to the rule, related locations, the Unnecessary tag.
  const uri = uriOf('redundant-nofs.c');
  await c.open(uri, read('gfp/redundant-nofs.c'));
  const diags = await c.waitDiagnostics(uri, 1);
  assert.ok(diags.length > 0);
  const red = diags.find((d) => d.code === 'gfp/redundant-nofs')!;
  assert.equal(red.source, 'gfp-lens');
  assert.equal(red.severity, 4);
  assert.deepEqual(red.tags, [1]);
  assert.match(red.codeDescription!.href, /^file:\/\/.*\/docs\/rules\.md#gfp-redundant-nofs$/);
  assert.ok(fs.existsSync(new URL(red.codeDescription!.href.replace(/#.*/, '')).pathname), 'the linked docs exist');
  assert.ok(red.relatedInformation && red.relatedInformation.length > 0 && red.relatedInformation[0].location.uri === uri);
  assert.match(red.relatedInformation[0].message, /memalloc_nofs_save\(\) opens the scope here/);

  // Hovers: an allocation call (effective mask first, where the scope came from).
  const text = read('gfp/redundant-nofs.c');
  const at = (needle: string, delta = 0): { line: number; character: number } => {
    const o = text.indexOf(needle) + delta;
    const before = text.slice(0, o);
    return { line: before.split('\n').length - 1, character: o - before.lastIndexOf('\n') - 1 };
  };
  const site = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('kmalloc(ctx->len', 2) });
  const siteMd = hoverText(site);
  assert.match(siteMd.split('\n')[0], /^\*\*Effective: `GFP_NOFS`\*\*/);
  assert.match(siteMd, /from `memalloc_nofs_save\(\)` at line 12/);
  assert.match(siteMd, /slab allocator/);
  // A GFP mask name outside a call.
  const flag = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('GFP_NOFS | __GFP_NOFAIL', 12) });
  assert.match(hoverText(flag), /__GFP_NOFAIL/);
  // A scope call.
  const scope = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('memalloc_nofs_save()', 3) });
  const scopeMd = hoverText(scope);
  assert.match(scopeMd, /memalloc_nofs_save\(\)/);
  assert.match(scopeMd, /covers 2 allocations/);
  assert.match(scopeMd, /Ends at line 19/);
  assert.match(scopeMd, /`__GFP_FS` \| clears \| yes/);
  // A function name.
  const fn = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('attach_buf', 2) });
  assert.match(hoverText(fn), /\*\*`attach_buf\(\)`\*\* allocates at 2 sites · opens and closes 1 scope/);

  // Inlay hints: GFP_KERNEL inside a NOFS scope, and a vmalloc-style implicit mask.
  const hintsUri = uriOf('hints.c');
  const hintsText = [
    'static void f(struct d *d)',
    '{',
    '\tunsigned int flags = memalloc_nofs_save();',
    '\td->a = kmalloc(8, GFP_KERNEL);',
    '\td->b = vmalloc(d->len);',
    '\td->c = kmalloc(8, GFP_NOFS);',
    '\tmemalloc_nofs_restore(flags);',
    '}',
    '',
  ].join('\n');
  await c.open(hintsUri, hintsText);
  await c.waitDiagnostics(hintsUri, 1);
  const hints = await c.conn.sendRequest<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: hintsUri }, range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } } });
  assert.deepEqual(hints.map((h) => [h.position.line, h.position.character, h.label]), [[3, 29, '⟶ NOFS'], [4, 23, '⟶ GFP_NOFS']]);

  // Code actions: the headline refactor, applied, leaves no finding.
  const hUri = uriOf('headline.c');
  const hText = fs.readFileSync(HEADLINE, 'utf8');
  await c.open(hUri, hText, 3);
  const hDiags = await c.waitDiagnostics(hUri, 3);
  assert.deepEqual(hDiags.map((d) => d.code), ['gfp/nofs-outside-scope', 'gfp/nofs-outside-scope']);
  const actions = await c.conn.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: hUri }, range: hDiags[0].range, context: { diagnostics: hDiags } });
  const headline = actions.find((a) => a.title.startsWith('Replace GFP_NOFS with scope at transaction start'))!;
  assert.ok(headline, actions.map((a) => a.title).join('; '));
  assert.match(headline.title, /converts 2 sites/);
  assert.equal(headline.kind, 'quickfix');
  assert.deepEqual(headline.diagnostics?.map((d) => d.code), ['gfp/nofs-outside-scope']);
  const docEdit = headline.edit!.documentChanges![0] as { textDocument: { uri: string; version: number }; edits: Parameters<typeof applyEdits>[1] };
  assert.deepEqual(docEdit.textDocument, { uri: hUri, version: 3 });
  // Apply it as a client does: the edits as one didChange, last edit first.
  const edits = [...docEdit.edits].reverse();
  await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri: hUri, version: 4 }, contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })) });
  const after = applyEdits(hText, docEdit.edits);
  assert.match(after, /nofs_flag = memalloc_nofs_save\(\);\n\terror = gfs2_trans_begin/);
  assert.deepEqual(await c.waitDiagnostics(hUri, 4), []);
  // Only the version it was made for: a stale action's edit names version 3, and actions are recomputed for 4.
  const again = await c.conn.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: hUri }, range: hDiags[0].range, context: { diagnostics: [] } });
  assert.ok(!again.some((a) => a.title.startsWith('Replace GFP_NOFS')));

  // The fix-all source action on the redundant-nofs fixture.
  const all = await c.conn.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll'] } });
  assert.equal(all.length, 1);
  assert.equal(all[0].kind, 'source.fixAll.gfp-lens');
  const fixed = applyEdits(text, (all[0].edit!.documentChanges![0] as { edits: Parameters<typeof applyEdits>[1] }).edits);
  await c.open(uriOf('fixed.c'), fixed);
  const fixedDiags = await c.waitDiagnostics(uriOf('fixed.c'), 1);
  assert.ok(!fixedDiags.some((d) => d.code === 'gfp/redundant-nofs'), 'fix-all removed every redundant GFP_NOFS');

  // Closing clears the document's diagnostics.
  c.diagnostics.delete(uri);
  await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  assert.deepEqual(await c.waitDiagnostics(uri), []);
  assert.equal(await c.shutdown(), 0);
});

/** A deterministic pseudo-random sequence (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('didChange sequences: diagnostics equal a fresh open of the same text', async () => {
  const c = client();
  await c.initialize();
  const pieces = ['GFP_NOFS', 'GFP_KERNEL', ' ', '\n', '}', '{', ';', 'memalloc_nofs_save();', 'é', '🚀', 'kmalloc(n, GFP_NOFS);', '\t', '(', 'spin_lock(&l);'];
  for (const [fixture, seed] of [['misc/non-ascii.c', 1], ['gfp/partial-scope.c', 2], ['scope/unbalanced.c', 3]] as const) {
    const uri = uriOf(`edit-${seed}.c`);
    let text = read(fixture);
    let version = 1;
    await c.open(uri, text, version);
    await c.waitDiagnostics(uri, version);
    const random = rng(seed);
    for (let round = 0; round < 12; round++) {
      // Several changes per notification, each against the text before it.
      const changes: Array<{ range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }> = [];
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        const start = Math.floor(random() * text.length);
        const end = Math.min(text.length, start + Math.floor(random() * 12));
        // Never split a surrogate pair: clients send whole code points.
        const safe = (o: number): number => (o > 0 && o < text.length && /[\uDC00-\uDFFF]/.test(text[o]) ? o - 1 : o);
        const s = safe(start);
        const e = Math.max(s, safe(end));
        const insert = random() < 0.3 ? '' : pieces[Math.floor(random() * pieces.length)];
        const pos = (o: number): { line: number; character: number } => {
          const before = text.slice(0, o);
          return { line: before.split('\n').length - 1, character: o - (before.lastIndexOf('\n') + 1) };
        };
        changes.push({ range: { start: pos(s), end: pos(e) }, text: insert });
        text = text.slice(0, s) + insert + text.slice(e);
      }
      version++;
      await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
      // Every third round, wait; otherwise let changes pile up like typing.
      if (round % 3 === 2) {
        const got = await c.waitDiagnostics(uri, version);
        const fresh = uriOf(`fresh-${seed}-${round}.c`);
        await c.open(fresh, text);
        const want = await c.waitDiagnostics(fresh, 1);
        assert.deepEqual(comparable(got), comparable(want), `${fixture} after round ${round}`);
        await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: fresh } });
      }
    }
    // A full-text change is a fresh start.
    version++;
    text = read(fixture);
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    const fresh = uriOf(`fresh-${seed}-full.c`);
    await c.open(fresh, text);
    assert.deepEqual(comparable(await c.waitDiagnostics(uri, version)), comparable(await c.waitDiagnostics(fresh, 1)));
  }
  assert.equal(await c.shutdown(), 0);
});

test('cancellation: a cancelled request gets RequestCancelled and the server carries on', async () => {
  const c = client();
  await c.initialize();
  const uri = uriOf('cancel.c');
  await c.open(uri, fs.readFileSync(HEADLINE, 'utf8'));
  const source = new CancellationTokenSource();
  const pending = c.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 12, character: 6 } }, source.token);
  source.cancel();
  await assert.rejects(pending, (err: { code?: number }) => err.code === -32800);
  await c.waitDiagnostics(uri, 1);
  const h = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 12, character: 6 } });
  assert.match(hoverText(h), /Effective/);
  assert.equal(await c.shutdown(), 0);
});

test('bad input: syntax errors, a 5 MB file, binary content, a huge line and an edit storm', async () => {
  const c = client();
  await c.initialize();
  // Syntax errors: still analysed, no crash.
  const broken = uriOf('broken.c');
  await c.open(broken, 'static int f(void) {\n\tp = kmalloc(8, GFP_NOFS\n\tif (x {\n}\n}}}\n#if\n');
  await c.waitDiagnostics(broken, 1);
  // Oversized: exactly one information diagnostic saying why.
  const big = uriOf('big.c');
  const unit = 'static int g(void) { void *p = kmalloc(8, GFP_NOFS); return 0; }\n';
  await c.open(big, unit.repeat(Math.ceil((5 * 1024 * 1024) / unit.length)));
  const bigDiags = await c.waitDiagnostics(big, 1);
  assert.equal(bigDiags.length, 1);
  assert.equal(bigDiags[0].severity, 3);
  assert.match(bigDiags[0].message, /does not analyse this file: larger than gfp-lens\.maxFileSize/);
  // Binary content.
  const bin = uriOf('bin.c');
  await c.open(bin, 'ELF\u0000\u0001\u0002kmalloc(GFP_NOFS)\u0000');
  const binDiags = await c.waitDiagnostics(bin, 1);
  assert.equal(binDiags.length, 1);
  assert.match(binDiags[0].message, /binary content/);
  // A huge line.
  const wide = uriOf('wide.c');
  await c.open(wide, `static void h(void) { ${'x = kmalloc(8, GFP_NOFS); '.repeat(20000)} }\n`);
  await c.waitDiagnostics(wide, 1);
  // An edit storm on one document while another is served.
  const storm = uriOf('storm.c');
  let text = fs.readFileSync(HEADLINE, 'utf8');
  await c.open(storm, text);
  const other = uriOf('other.c');
  await c.open(other, fs.readFileSync(HEADLINE, 'utf8'));
  await c.waitDiagnostics(other, 1);
  let v = 1;
  const at = text.indexOf('kfree');
  const line = text.slice(0, at).split('\n').length - 1;
  for (let i = 0; i < 300; i++) {
    v++;
    const ch = i % 2 === 0 ? 'x' : '';
    const change = i % 2 === 0
      ? { range: { start: { line, character: 1 }, end: { line, character: 1 } }, text: ch }
      : { range: { start: { line, character: 1 }, end: { line, character: 2 } }, text: '' };
    void c.conn.sendNotification('textDocument/didChange', { textDocument: { uri: storm, version: v }, contentChanges: [change] });
  }
  const t0 = Date.now();
  const h = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: other }, position: { line: 12, character: 6 } });
  assert.match(hoverText(h), /Effective/);
  assert.ok(Date.now() - t0 < 5000, 'the other document is served during the storm');
  const final = await c.waitDiagnostics(storm, v);
  text = fs.readFileSync(HEADLINE, 'utf8');
  assert.deepEqual(final.map((d) => d.code), ['gfp/nofs-outside-scope', 'gfp/nofs-outside-scope']);
  assert.equal(await c.shutdown(), 0, c.stderr.join(''));
});

test('settings: per resource, validated; severities, inlay hints and size limit; a change re-analyses', async () => {
  const c = client({ settings: { severity: { 'gfp/nofs-outside-scope': 'warning' }, inlayHints: { enabled: false }, kernelVersion: 'nonsense' } });
  await c.initialize();
  const uri = uriOf('settings.c');
  await c.open(uri, fs.readFileSync(HEADLINE, 'utf8'));
  const d1 = await c.waitDiagnostics(uri, 1);
  assert.deepEqual(d1.map((d) => d.severity), [2, 2]);
  assert.ok(c.warnings.some((w) => /gfp-lens\.kernelVersion/.test(w)), c.warnings.join('\n'));
  const hintsUri = uriOf('settings-hints.c');
  await c.open(hintsUri, 'static void f(void)\n{\n\tunsigned int fl = memalloc_nofs_save();\n\tp = kmalloc(8, GFP_KERNEL);\n\tmemalloc_nofs_restore(fl);\n}\n');
  await c.waitDiagnostics(hintsUri, 1);
  const none = await c.conn.sendRequest<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: hintsUri }, range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } } });
  assert.deepEqual(none, []);
  // Change the settings: "off" hides the code; the server re-publishes without a new version.
  c.settings = { severity: { 'gfp/nofs-outside-scope': 'off' }, maxFileSize: 100 };
  c.diagnostics.delete(uri);
  await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
  const d2 = await c.waitDiagnostics(uri, 1);
  assert.equal(d2.length, 1);
  assert.match(d2[0].message, /larger than gfp-lens\.maxFileSize \(\d+ > 100 characters\)/);
  c.settings = { severity: { 'gfp/nofs-outside-scope': 'off' } };
  c.diagnostics.delete(uri);
  await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
  assert.deepEqual(await c.waitDiagnostics(uri, 1), []);
  assert.equal(await c.shutdown(), 0);
});

test('pull diagnostics: a client that declares textDocument/diagnostic gets them on request and none pushed', async () => {
  const c = client({ pull: true });
  const init = await c.initialize();
  assert.ok(init.capabilities.diagnosticProvider);
  const uri = uriOf('pull.c');
  await c.open(uri, fs.readFileSync(HEADLINE, 'utf8'));
  const report = await c.conn.sendRequest<{ kind: string; items: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri } });
  assert.equal(report.kind, 'full');
  assert.deepEqual(report.items.map((d) => d.code), ['gfp/nofs-outside-scope', 'gfp/nofs-outside-scope']);
  // A round trip after the open: any push would have arrived before this answer.
  await c.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
  assert.equal(c.diagnostics.size, 0);
  assert.equal(await c.shutdown(), 0);
});
