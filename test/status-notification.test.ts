// Invariant: the server sends `gfp-lens/status` (kernel version, where it came
// from, where the masks came from, parser backend) only to a client that asks
// for it with initializationOptions.statusNotification, once per document per
// change of what it says; other clients (Neovim, eglot) never see it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestClient } from './lsp-client';

const clients: TestClient[] = [];
const dirs: string[] = [];
after(() => {
  for (const c of clients) if (c.child.exitCode === null) c.child.kill();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const SOURCE = '#include <linux/slab.h>\nvoid *f(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n';

async function waitStatus(c: TestClient, uri: string, count = 1, timeoutMs = 20000): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = c.statuses.filter((s) => s.uri === uri);
    if (got.length >= count) return got;
    if (Date.now() > deadline) throw new Error(`no gfp-lens/status for ${uri}; got ${JSON.stringify(c.statuses)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('status: sent to a client that asks, with version, its source, mask source and backend', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-status-'));
  dirs.push(root);
  fs.writeFileSync(path.join(root, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 55\nEXTRAVERSION =\n');
  fs.mkdirSync(path.join(root, 'include', 'linux'), { recursive: true });
  const header = path.join(root, 'include', 'linux', 'gfp_types.h');
  fs.writeFileSync(header, '#define GFP_KERNEL\t(__GFP_RECLAIM | __GFP_IO | __GFP_FS)\n#define GFP_NOFS\t(__GFP_RECLAIM | __GFP_IO)\n');
  fs.mkdirSync(path.join(root, 'fs'));
  const file = path.join(root, 'fs', 'a.c');
  fs.writeFileSync(file, SOURCE);
  const uri = pathToFileURL(file).href;

  const c = new TestClient({ initializationOptions: { statusNotification: true } });
  clients.push(c);
  await c.initialize();
  await c.open(uri, SOURCE);
  await c.waitDiagnostics(uri);
  const [s] = await waitStatus(c, uri);
  assert.equal(s.kernelVersion, '6.1');
  assert.match(String(s.versionSource), /^Makefile of .*\(6\.1\.55\)$/);
  assert.equal(s.maskSource, header);
  assert.ok(s.backend === 'native' || s.backend === 'wasm', String(s.backend));

  // An unrelated edit that changes nothing it reports: no second status.
  await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: SOURCE + '\n' }] });
  await c.waitDiagnostics(uri, 2);

  // A version set in the settings: a new status says so, with the built-in table.
  c.settings = { kernelVersion: '5.15', parserBackend: 'wasm' };
  await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
  const after2 = await waitStatus(c, uri, 2);
  assert.equal(after2.length, 2, JSON.stringify(after2));
  assert.deepEqual(after2[1], { uri, kernelVersion: '5.15', versionSource: 'settings (gfp-lens.kernelVersion)', maskSource: 'built-in table for 5.15', backend: 'wasm' });
  assert.equal(await c.shutdown(), 0);
});

test('status: never sent to a client that did not ask', async () => {
  const c = new TestClient();
  clients.push(c);
  await c.initialize();
  const uri = 'file:///gfp-lens-test/status-quiet.c';
  await c.open(uri, SOURCE);
  assert.ok((await c.waitDiagnostics(uri)).length > 0);
  assert.deepEqual(c.statuses, []);
  assert.equal(await c.shutdown(), 0);
});
