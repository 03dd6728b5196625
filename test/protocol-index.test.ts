// The real server over stdio, in a small kernel tree: the workspace index
// starts in the background after `initialized` with work-done progress, open
// documents gain the cross-file context once it is built (the callers in
// another file explain a GFP_NOFS; a lock wrapper in another file shows in
// the hover), a change on disk refreshes it and re-checks the open documents,
// and a restart reads the cache instead of analysing again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestClient } from './lsp-client';
import { FIXTURE_ROOT } from './fixture-files';

/** A kernel tree (Makefile and include/linux make it one) with the caller-context fixture under fs/demo. */
function demoTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-tree-'));
  fs.writeFileSync(path.join(root, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  fs.mkdirSync(path.join(root, 'include', 'linux'), { recursive: true });
  fs.mkdirSync(path.join(root, 'fs', 'demo'), { recursive: true });
  for (const f of ['smb2.c', 'transport.c']) fs.copyFileSync(path.join(FIXTURE_ROOT, 'trees', 'caller-context', f), path.join(root, 'fs', 'demo', f));
  return root;
}

/** The 0-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `no line with ${needle}`);
  return i;
}

test('the workspace index: background build with $/progress, cross-file callers and summaries, refresh on change, cache on restart', async () => {
  const root = demoTree();
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-'));
  const smb2 = path.join(root, 'fs', 'demo', 'smb2.c');
  const uri = pathToFileURL(smb2).href;
  const text = fs.readFileSync(smb2, 'utf8');
  const allocLine = lineOf(text, 'kmalloc(64, GFP_NOFS); // ctx: GFP_NOFS\n'.trimEnd());
  const orphanLine = lineOf(text, '!gfp/nofs-outside-scope');
  const lockLine = lineOf(text, 'demo_lock_server(server);');
  const outsideAt = (diags: Array<{ code?: unknown; range: { start: { line: number } } }>, line: number) => diags.some((d) => d.code === 'gfp/nofs-outside-scope' && d.range.start.line === line);

  const client = new TestClient({ progress: true, env: { GFP_LENS_CACHE: cache } });
  try {
    await client.initialize(pathToFileURL(root).href);
    await client.open(uri, text);
    // The build reports progress, begin to end, with a count of files.
    await client.waitFor('the end of the index build', () => client.progress.some((p) => p.value.kind === 'end'));
    const kinds = client.progress.map((p) => p.value.kind);
    assert.equal(kinds[0], 'begin');
    assert.match(client.progress[0].value.message ?? '', /indexing .*: 2 files/);
    assert.match(client.progress.at(-1)!.value.message ?? '', /2 files, 0 from the cache, \d+ analysed/);
    // Once built: demo_alloc_async()'s only caller (in this file) holds the
    // scope that demo_lock_server() (in transport.c) enters, so its GFP_NOFS is
    // explained; the orphan still is not.
    await client.waitFor('diagnostics with the index', () => {
      const d = client.diagnostics.get(uri)?.diagnostics ?? [];
      return !outsideAt(d, allocLine) && outsideAt(d, orphanLine);
    });
    const hover = (await client.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: allocLine, character: text.split('\n')[allocLine].indexOf('kmalloc') + 1 } })) as { contents: { value: string } };
    assert.match(hover.contents.value, /Callers \(workspace index\): 1 call site · NOFS: 1 in scope/);
    const wrapper = (await client.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: lockLine, character: text.split('\n')[lockLine].indexOf('demo_lock_server') + 2 } })) as { contents: { value: string } } | null;
    assert.ok(wrapper, 'a hover on a function of another file');
    assert.match(wrapper.contents.value, /\*\*`demo_lock_server\(\)`\*\* enters a NOFS scope/);
    assert.match(wrapper.contents.value, /fs\/demo\/transport\.c \(workspace index\)/);

    // transport.c changes on disk (another editor, git): demo_lock_server() no
    // longer enters the scope. The index refreshes and smb2.c is re-checked.
    const transport = path.join(root, 'fs', 'demo', 'transport.c');
    const old = fs.readFileSync(transport, 'utf8');
    const edited = old.replace(/(void demo_lock_server\(struct demo_server \*server\)\n\{\n)\tdemo_server_lock\(server\);/, '$1\tmutex_lock(&server->srv_mutex);');
    assert.notEqual(edited, old, 'the fixture has the wrapper this test edits');
    fs.writeFileSync(transport, edited);
    const ends = client.progress.filter((p) => p.value.kind === 'end').length;
    await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(transport).href, type: 2 }] });
    await client.waitFor('the refresh', () => client.progress.filter((p) => p.value.kind === 'end').length > ends);
    await client.waitFor('the re-check of the open document', () => outsideAt(client.diagnostics.get(uri)?.diagnostics ?? [], allocLine));
  } finally {
    await client.shutdown();
  }

  // A restart reads the cache the first server left.
  const again = new TestClient({ progress: true, env: { GFP_LENS_CACHE: cache } });
  try {
    await again.initialize(pathToFileURL(root).href);
    await again.waitFor('the end of the index build', () => again.progress.some((p) => p.value.kind === 'end'));
    assert.match(again.progress.at(-1)!.value.message ?? '', /2 files, 2 from the cache, 0 analysed/);
  } finally {
    await again.shutdown();
  }
});

test('gfp-lens.index.enabled = false: no index, no progress, the file analysed on its own', async () => {
  const root = demoTree();
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-cache-'));
  const smb2 = path.join(root, 'fs', 'demo', 'smb2.c');
  const uri = pathToFileURL(smb2).href;
  const text = fs.readFileSync(smb2, 'utf8');
  const client = new TestClient({ progress: true, env: { GFP_LENS_CACHE: cache }, settings: { index: { enabled: false } } });
  try {
    await client.initialize(pathToFileURL(root).href);
    await client.open(uri, text);
    const diags = await client.waitDiagnostics(uri);
    // Without the callers, demo_alloc_async()'s GFP_NOFS has no recorded reason.
    assert.ok(diags.some((d) => d.code === 'gfp/nofs-outside-scope' && d.range.start.line === lineOf(text, 'kmalloc(64, GFP_NOFS); // ctx: GFP_NOFS')));
    assert.deepEqual(client.progress, []);
    assert.deepEqual(fs.readdirSync(cache), []);
  } finally {
    await client.shutdown();
  }
});
