// Invariant: the extension works in a real VS Code. Runs
// test/vscode/run-code-server.sh: the .vsix built from this checkout is
// installed into code-server (VS Code 1.139.1, installed on first use into
// ~/.cache/gfp-lens/code-server), the integration suite runs in its extension
// host, and a Chromium browser test drives the workbench. Fails, never skips,
// when code-server or Chromium cannot run here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, '..', '..', 'test', 'vscode', 'run-code-server.sh');

test('vscode: integration suite in the extension host and browser test, in code-server', { timeout: 900000 }, () => {
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 880000 });
  const output = `${r.stdout}\n${r.stderr}`;
  process.stdout.write(output.split('\n').map((l) => `# ${l}`).join('\n') + '\n');
  assert.equal(r.status, 0, `test/vscode/run-code-server.sh failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${output}`);
  assert.match(output, /suite ok=1; ui rc=0/);
});
