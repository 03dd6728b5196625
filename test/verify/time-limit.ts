// Whether `gfp-lens check` reports a file that exceeds the per-file time
// limit by name, and goes on with the files after it: a generated file that
// takes seconds to analyse, between two small ones, with a limit of a
// quarter second and one worker (so the slow file holds the only worker and
// the pool must replace it).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../../server/syntax/backend';
import { manyFunctions } from './generated';
import { runCheck, type CheckRun } from './tree-compare';

const SMALL = 'static void *demo_small(void)\n{\n\treturn kmalloc(16, GFP_NOFS);\n}\n';

export interface TimeLimitCheck {
  readonly run: CheckRun;
  /** Empty when the slow file was reported by name, and only it, and the small files were still checked. */
  readonly problems: string[];
}

export async function checkTimeLimit(backend: BackendName): Promise<TimeLimitCheck> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-timeout-'));
  try {
    fs.writeFileSync(path.join(dir, 'a-small.c'), SMALL);
    fs.writeFileSync(path.join(dir, 'b-slow.c'), manyFunctions(2000));
    fs.writeFileSync(path.join(dir, 'c-small.c'), SMALL);
    const run = await runCheck(backend, { cwd: dir, paths: ['a-small.c', 'b-slow.c', 'c-small.c'], fileTimeout: 0.25, jobs: 1 });
    const problems: string[] = [];
    if (run.timeouts.join() !== 'b-slow.c') problems.push(`time limit reported for [${run.timeouts.join(', ')}], expected [b-slow.c]`);
    if (run.status !== 2) problems.push(`exit status ${run.status}, expected 2 (a file was not checked)`);
    for (const f of ['a-small.c', 'c-small.c']) if (!run.perFile.get(f)?.includes('nofs-outside-scope')) problems.push(`${f} was not checked`);
    if (run.unexpected.length > 0) problems.push(`unexpected output: ${run.unexpected.join(' | ')}`);
    return { run, problems };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
