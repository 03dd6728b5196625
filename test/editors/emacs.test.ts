// Invariant: in a real Emacs (Debian's emacs-nox + elpa-eglot, batch ERT) the
// server is managed by eglot over stdio, its diagnostics reach flymake, the
// hover reaches eldoc with the effective mask, and the headline refactor,
// applied by eglot, produces exactly headline.expected.c and clears the
// diagnostics. The ERT side (eglot-test.el) polls for every result.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EDITOR_DIR, requireProgram, runEditor } from './editor-run';

test('Emacs + eglot: diagnostics, hover, headline refactor', () => {
  const emacs = requireProgram('emacs', 'apt-get install emacs-nox elpa-eglot');
  const run = runEditor(emacs, () => ['--batch', '-l', path.join(EDITOR_DIR, 'eglot-test.el'), '-f', 'ert-run-tests-batch-and-exit'], {});
  assert.equal(run.status, 0, run.log);
  assert.match(run.log, /Ran 1 tests, 1 results as expected/);
});
