// The small version of `npm run verify:tree` (tree.ts): the same run of the
// real CLI with both parser backends and the same file-by-file comparison,
// over test/fixtures instead of the kernel tree; and the time-limit path on
// both backends (a generated file over a quarter-second limit is reported by
// name and the files after it are still checked).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { BackendName } from '../../server/syntax/backend';
import { createParser } from '../../server/syntax/parser';
import { REPO } from './kernel-tree';
import { checkTimeLimit } from './time-limit';
import { differingFiles, explainDifference, runCheck } from './tree-compare';

test('verify:tree in small: both backends through the CLI agree on every fixture, with no error, time-limit hit or stray output', async () => {
  const runs = [];
  for (const backend of ['native', 'wasm'] as BackendName[]) {
    const run = await runCheck(backend, { cwd: REPO, paths: ['test/fixtures'], jobs: 2 });
    assert.equal(run.status, 0, `${backend}: exit ${run.status} ${run.signal ?? ''}`);
    assert.ok(run.files > 50 && run.sites > 100, `${backend}: ${run.files} files, ${run.sites} sites`);
    assert.deepEqual([...run.internalErrors.keys()], [], backend);
    assert.deepEqual(run.timeouts, [], backend);
    assert.deepEqual([...run.otherErrors, ...run.unexpected], [], backend);
    runs.push(run);
  }
  const differing = differingFiles(runs[0], runs[1]);
  if (differing.length > 0) {
    const parsers = { native: await createParser('native'), wasm: await createParser('wasm') };
    const why = differing.map((f) => explainDifference(path.join(REPO, f), f, parsers));
    assert.fail(why.map((e) => [`${e.file}: ${e.category}`, ...e.detail].join('\n')).join('\n'));
  }
});

for (const backend of ['native', 'wasm'] as BackendName[]) {
  test(`a file over the time limit is reported by name and the run goes on (${backend})`, async () => {
    const { problems } = await checkTimeLimit(backend);
    assert.deepEqual(problems, []);
  });
}
