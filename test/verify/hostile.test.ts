// The small version of verify:hostile, in the normal suite: the generated
// corpus (smaller sizes, the same kinds) through one `gfp-lens check` run and
// through the real server; a tree indexed while another process rewrites it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkWhileRewriting, generateCorpus, SMALL, throughServer, writeTree } from './hostile';
import { CLI } from './lib-server';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-hostile-'));
const corpus = generateCorpus(dir, SMALL);

test('hostile corpus through gfp-lens check: no crash, every skip explained', () => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--format', 'json', '--fail-on', 'none', '--no-index', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  const report = JSON.parse(r.stdout) as { files: Array<{ file: string }> } | unknown;
  assert.ok(report);
  for (const f of corpus) {
    const note = new RegExp(`note: skipped .*${f.name.replace('.', '\\.')}: (.*)`).exec(r.stderr)?.[1];
    if (f.skippedByCli) assert.match(note ?? '', f.skippedByCli, f.name);
    else if (note) assert.ok(f.mayBeTooDeep && /nested too deeply/.test(note), `${f.name} skipped: ${note}`);
  }
});

test('hostile corpus through the real server: answers for each, one diagnostic where skipped, still responsive', async () => {
  const s = await throughServer(dir, corpus, 30_000, () => undefined);
  assert.deepEqual(s.results.filter((r) => r.problem).map((r) => `${r.file}: ${r.problem}`), []);
  assert.ok(s.alive, s.stderr);
  assert.doesNotMatch(s.stderr, /uncaught|unhandled/);
});

test('a tree rewritten by another process while gfp-lens indexes it: no crash, the report is whole', async () => {
  const tree = path.join(dir, 'tree');
  const files = writeTree(tree, 40);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-hostile-cache-'));
  for (const args of [['--root', '.', '.'], ['--interprocedural', '.']]) {
    const [r] = await checkWhileRewriting(tree, cache, args, files, 40, 1);
    assert.equal(r.problem, undefined, `${args.join(' ')}: ${r.problem}`);
  }
  fs.rmSync(cache, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});
