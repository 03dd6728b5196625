// Invariant: `vsce package` (what `npm run package` runs) builds a .vsix that
// holds what the extension runs — the compiled client, server and model, the
// grammar, the rule docs, and the parser files (web-tree-sitter + the
// tree-sitter-c wasm, native prebuilds) with the JS of the runtime
// dependencies — and nothing of the tests, benchmarks, fixtures, TypeScript
// sources or addon build inputs. Reads the archive's own file list.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-vsix-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The names in a zip's central directory. */
function zipEntries(buf: Buffer): string[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const n = buf.readUInt16LE(p + 28);
    const m = buf.readUInt16LE(p + 30);
    const k = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + n));
    p += 46 + n + m + k;
  }
  return names;
}

test('vsix: contains the extension, the server, the model and the parser files, and nothing else', () => {
  const out = path.join(dir, 'gfp-lens.vsix');
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vsce, 'package', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `vsce package failed:\n${r.stdout}\n${r.stderr}`);
  const pkgScript = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.package;
  assert.match(pkgScript, /vsce package --allow-missing-repository --no-rewrite-relative-links/, 'npm run package runs the same command');
  const files = zipEntries(fs.readFileSync(out))
    .filter((f) => f.startsWith('extension/'))
    .map((f) => f.slice('extension/'.length));
  for (const needed of [
    'package.json',
    'readme.md', // vsce's names for README.md and LICENSE
    'LICENSE.txt',
    'docs/rules.md',
    'syntaxes/gfp.tmLanguage.json',
    'out/client/extension.js',
    'out/server/main.js',
    'out/server/server.js',
    'out/shared/explain.js',
    'node_modules/tree-sitter-c/tree-sitter-c.wasm',
    'node_modules/web-tree-sitter/tree-sitter.js',
    'node_modules/web-tree-sitter/tree-sitter.wasm',
    'node_modules/tree-sitter/prebuilds/linux-x64/tree-sitter.node',
    'node_modules/tree-sitter-c/prebuilds/linux-x64/tree-sitter-c.node',
    'node_modules/tree-sitter-c/bindings/node/index.js',
    'node_modules/vscode-languageclient/node.js',
    'node_modules/vscode-languageserver/node.js',
    'node_modules/vscode-languageserver-textdocument/package.json',
    'node_modules/node-gyp-build/index.js',
  ]) assert.ok(files.includes(needed), `missing ${needed}`);
  // Every JS file the compiled extension has is shipped.
  for (const part of ['client', 'server', 'shared']) {
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    for (const f of walk(path.join(ROOT, 'out', part)).filter((x) => x.endsWith('.js'))) {
      const rel = path.relative(ROOT, f).split(path.sep).join('/');
      assert.ok(files.includes(rel), `missing ${rel}`);
    }
  }
  const bad = files.filter((f) =>
    /^(test|bench|examples|client|server|shared|\.ci)\//.test(f) ||
    f.startsWith('out/test/') ||
    (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
    /\.(map|c|cc|h|gyp|tsbuildinfo)$/.test(f) ||
    /(^|\/)(fixtures|src\/tree_sitter|vendor\/tree-sitter\/lib\/src\/[^u])/.test(f) ||
    f.includes('node_modules/typescript/') || f.includes('node_modules/@vscode/') || f.includes('node_modules/node-addon-api/'),
  );
  assert.deepEqual(bad, [], 'files that do not belong in the .vsix');
  assert.ok(Date.now() - t0 < 60000, 'vsce package takes seconds');
  assert.ok(fs.statSync(out).size < 8 * 1024 * 1024, `the .vsix is ${fs.statSync(out).size} bytes`);
});
