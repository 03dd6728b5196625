#!/usr/bin/env node
// npm run verify:tree [-- [--file-timeout SECONDS] [--jobs N] [SUBDIR...]]
//
// The whole-tree run (issue 8, part 1): every .c and .h of the kernel tree
// (or of the SUBDIRs given, relative to it) through the real CLI,
// `gfp-lens check --no-index --format json --sites`, once with each parser
// backend. Fails on a crash (a signal, an exit status other than 0 or 2, no
// report), an internal error, a file over the time limit, any other error or
// unexpected line on standard error, and any file on which the backends'
// findings or sites differ for a reason other than different tree-sitter error
// recovery (shown with the ERROR nodes). Before the tree, it checks that a
// file over the time limit is reported by name on both backends.
// Prints per backend: files, skipped files by reason, errors, time-limit hits,
// wall and CPU time, and the peak resident memory of the CLI with its workers.

import * as path from 'node:path';
import type { BackendName, CParser } from '../../server/syntax/backend';
import { createParser } from '../../server/syntax/parser';
import { kernelTree } from './kernel-tree';
import { checkTimeLimit } from './time-limit';
import { differingFiles, explainDifference, runCheck, type CheckRun, type Explanation } from './tree-compare';

const BACKENDS: readonly BackendName[] = ['native', 'wasm'];

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
}

function describe(run: CheckRun): string[] {
  const skipped = [...run.skipped].map(([reason, files]) => `${files.length} ${reason}`).join(', ') || 'none';
  return [
    `${run.backend}: exit ${run.status ?? run.signal}; ${run.files} files analysed, ${run.findings} findings, ${run.sites} allocation sites`,
    `  skipped: ${skipped}`,
    `  internal errors ${run.internalErrors.size}, time-limit hits ${run.timeouts.length}, other errors ${run.otherErrors.length}, unexpected lines ${run.unexpected.length}`,
    `  wall ${run.wall} s, CPU ${run.cpu ?? '?'} s (user+sys, workers included), peak RSS ${run.peakRssMb ?? '?'} MB (CLI and workers together)`,
  ];
}

/** What makes a run fail, one line each. */
function failuresOf(run: CheckRun): string[] {
  const out: string[] = [];
  if (run.signal || (run.status !== 0 && run.status !== 2)) out.push(`${run.backend}: crashed (exit ${run.status}, ${run.signal ?? 'no signal'})`);
  if (run.files === 0) out.push(`${run.backend}: no report`);
  for (const [file, message] of run.internalErrors) out.push(`${run.backend}: internal error on ${file}: ${message.split('\n')[0]}`);
  for (const file of run.timeouts) out.push(`${run.backend}: time limit on ${file}`);
  for (const line of run.otherErrors) out.push(`${run.backend}: ${line}`);
  for (const line of run.unexpected) out.push(`${run.backend}: unexpected output: ${line}`);
  return out;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const fileTimeout = Number(option(args, '--file-timeout') ?? 60);
  const jobs = option(args, '--jobs');
  const tree = kernelTree();
  const targets = args.length > 0 ? args : ['.'];
  const failures: string[] = [];
  const lines: string[] = [`verify:tree over ${targets.join(' ')} of ${tree} (file time limit ${fileTimeout} s)`];

  for (const backend of BACKENDS) {
    const check = await checkTimeLimit(backend);
    lines.push(`time limit, ${backend}: a generated file over 0.25 s ${check.problems.length === 0 ? `reported by name (${check.run.timeouts.join(', ')}), the files after it still checked` : 'NOT handled'}`);
    for (const p of check.problems) failures.push(`time-limit check, ${backend}: ${p}`);
  }

  const runs = {} as Record<BackendName, CheckRun>;
  for (const backend of BACKENDS) {
    process.stderr.write(`verify:tree: checking with ${backend}...\n`);
    runs[backend] = await runCheck(backend, { cwd: tree, paths: targets, fileTimeout, ...(jobs ? { jobs: Number(jobs) } : {}) });
    lines.push(...describe(runs[backend]));
    failures.push(...failuresOf(runs[backend]));
  }
  const [a, b] = [runs.native, runs.wasm];
  const skipKey = (r: CheckRun) => JSON.stringify([...r.skipped].sort());
  if (skipKey(a) !== skipKey(b)) failures.push('the backends skipped different files');

  const differing = differingFiles(a, b);
  const parsers = { native: await createParser('native'), wasm: await createParser('wasm') } as Record<BackendName, CParser>;
  const explained: Explanation[] = [];
  for (const file of differing) {
    // A file one run could not analyse (time limit, internal error) is already a failure above.
    if (a.timeouts.includes(file) || b.timeouts.includes(file) || a.internalErrors.has(file) || b.internalErrors.has(file)) continue;
    explained.push(explainDifference(path.join(tree, file), file, parsers));
  }
  const byCategory = new Map<string, number>();
  for (const e of explained) byCategory.set(e.category, (byCategory.get(e.category) ?? 0) + 1);
  lines.push(`files whose findings or sites differ between the backends: ${differing.length}${byCategory.size > 0 ? ` (${[...byCategory].map(([c, n]) => `${n} ${c}`).join(', ')})` : ''}`);
  for (const e of explained) {
    lines.push(`  ${e.file}: ${e.category}`);
    for (const d of e.detail) lines.push(`    ${d}`);
    if (e.category !== 'error recovery') failures.push(`${e.file}: ${e.category}`);
  }
  lines.push(`failures: ${failures.length}`, ...failures.map((f) => `  ${f}`));
  console.log(lines.join('\n'));
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
