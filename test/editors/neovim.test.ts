// Invariant: in a real Neovim (Debian's 0.7, headless) the server attaches over
// stdio, publishes the headline fixture's diagnostics, answers a Markdown
// hover with the effective mask first, offers the headline refactor, whose
// edit produces exactly headline.expected.c, and clears the diagnostics after.
// The Lua side (nvim-test.lua) polls for every result; no fixed sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EDITOR_DIR, requireProgram, runEditor } from './editor-run';

test('Neovim: diagnostics, hover, headline refactor', () => {
  const nvim = requireProgram('nvim', 'apt-get install neovim');
  const run = runEditor(nvim, (file) => ['--headless', '--clean', '-u', path.join(EDITOR_DIR, 'nvim-test.lua'), file], {});
  assert.equal(run.status, 0, run.log);
  for (const check of ['PASS diagnostics published', 'PASS hover returns markdown', 'PASS headline refactor offered', 'PASS refactored text is the expected one', 'PASS diagnostics cleared']) {
    assert.ok(run.log.includes(check), `${check} missing:\n${run.log}`);
  }
});
