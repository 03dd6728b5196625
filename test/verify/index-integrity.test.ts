// The small version of verify:index, in the normal suite: a small kernel tree
// made of the multi-file fixtures (never the kernel source), every damaged
// or foreign cache, two checkers and two servers at once, and files rewritten
// during a build: each detected, rebuilt, and giving an empty cache's results.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURE_ROOT } from '../fixture-files';
import { verifyIndex } from './index-integrity';

function fixtureTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-index-tree-'));
  fs.writeFileSync(path.join(root, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  fs.mkdirSync(path.join(root, 'include', 'linux'), { recursive: true });
  const trees = path.join(FIXTURE_ROOT, 'trees');
  for (const d of fs.readdirSync(trees)) fs.cpSync(path.join(trees, d), path.join(root, 'fs', d), { recursive: true });
  return root;
}

test('index cache integrity: damaged, truncated, foreign caches, concurrent builders and rewrites never give other results', async () => {
  const root = fixtureTree();
  try {
    const outcomes = await verifyIndex(root, { servers: true, log: () => undefined });
    assert.deepEqual(outcomes.filter((o) => !o.ok).map((o) => `${o.name}: ${o.detail}`), []);
    assert.ok(outcomes.length >= 10, `${outcomes.length} cases`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
