#!/usr/bin/env node
// npm run verify:refactor [-- [--verbose] [--show TITLE-PREFIX] [SUBDIR...]]
//
// Refactor safety over the kernel tree (issue 8, part 3): every file of fs/,
// drivers/md and mm (or the SUBDIRs given, relative to the tree) is analysed
// as the language server analyses an open document (its configuration from
// the kernel tree around the file, the document store, same-file summaries),
// every code action the server offers on it is collected (each finding's
// range, each allocation site's range, source.fixAll.gfp-lens), and each
// action's WorkspaceEdit is applied on its own and the result re-analysed:
// no new ERROR/MISSING node, no site's effective context loosened, no new
// scope/* finding (test/verify/refactor-check.ts, which the fixture test
// test/code-actions.test.ts runs too). Exits 1 on any failure.
// --verbose lists every action; --show prints the `diff -u` of every action
// whose title starts with TITLE-PREFIX (for reading what a refactor does).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectFiles } from '../../server/cli/check';
import { readSource } from '../../server/cli/check-file';
import { ConfigProvider } from '../../server/documents/config';
import { DEFAULT_SETTINGS } from '../../shared/settings';
import { applyAction, checkDocument, type OfferedAction } from './refactor-check';
import { kernelTree, seconds } from './kernel-tree';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const showAt = args.indexOf('--show');
  const show = showAt >= 0 ? args.splice(showAt, 2)[1] : undefined;
  const subdirs = args.filter((a) => !a.startsWith('--'));
  const tree = kernelTree();
  const targets = subdirs.length > 0 ? subdirs : ['fs', 'drivers/md', 'mm'];
  const collected = collectFiles(targets.map((t) => path.join(tree, t)));
  if (collected.errors.length > 0) throw new Error(collected.errors.join('; '));
  // The server's configuration, with the defaults a client that sends none gets.
  const configs = new ConfigProvider({ read: async () => undefined, report: (p) => console.error(`settings: ${p.join('; ')}`) });

  const started = Date.now();
  const cpu0 = process.cpuUsage();
  let analysed = 0;
  let withActions = 0;
  const skipped = new Map<string, number>();
  const byFamily = new Map<string, number>();
  const byKind = new Map<string, number>();
  const failures: string[] = [];
  const slowest: Array<{ file: string; ms: number; actions: number }> = [];
  let peakRss = 0;
  for (const { abs } of collected.files) {
    const rel = path.relative(tree, abs);
    const source = readSource(abs, DEFAULT_SETTINGS.maxFileSize);
    if ('error' in source) {
      failures.push(`${rel}: unreadable: ${source.error}`);
      continue;
    }
    if ('skipped' in source) {
      const reason = source.skipped.replace(/\(.*\)/, '').trim();
      skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      continue;
    }
    const uri = pathToFileURL(abs).toString();
    const t0 = Date.now();
    try {
      const config = await configs.config(uri);
      const { actions, problems } = await checkDocument(source.text, config, uri);
      analysed++;
      if (actions.length > 0) withActions++;
      for (const a of actions) {
        byFamily.set(a.family, (byFamily.get(a.family) ?? 0) + 1);
        byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + 1);
        if (verbose) console.log(`${rel}: ${a.title}`);
        if (show !== undefined && a.title.startsWith(show)) console.log(unifiedDiff(rel, source.text, a));
      }
      for (const p of problems) failures.push(`${rel}: ${p}`);
      slowest.push({ file: rel, ms: Date.now() - t0, actions: actions.length });
    } catch (e) {
      failures.push(`${rel}: internal error: ${(e as Error).stack ?? e}`);
    } finally {
      configs.forget(uri);
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const cpu = process.cpuUsage(cpu0);
  slowest.sort((a, b) => b.ms - a.ms);
  const actions = [...byFamily.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `verify:refactor over ${targets.join(', ')} of ${tree}`,
    `files: ${collected.files.length} (.c and .h), analysed ${analysed}, with actions ${withActions}; skipped: ${[...skipped].map(([r, n]) => `${n} ${r}`).join(', ') || 'none'}`,
    `actions applied and re-analysed: ${actions}`,
    ...[...byFamily].sort((a, b) => b[1] - a[1]).map(([f, n]) => `  ${String(n).padStart(6)}  ${f}`),
    `by kind: ${[...byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `wall ${seconds(Date.now() - started)} s, CPU ${seconds((cpu.user + cpu.system) / 1000)} s, peak RSS ${Math.round(peakRss / 2 ** 20)} MB`,
    `slowest files: ${slowest.slice(0, 3).map((s) => `${s.file} ${seconds(s.ms)} s (${s.actions} actions)`).join('; ')}`,
    `failures: ${failures.length}`,
    ...failures.map((f) => `  ${f}`),
  ];
  console.log(lines.join('\n'));
  return failures.length > 0 ? 1 : 0;
}

/** `diff -u` of an action's result against the text, labelled with the file's path in the tree. */
function unifiedDiff(rel: string, text: string, action: OfferedAction): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-show-'));
  try {
    fs.writeFileSync(path.join(dir, 'a'), text);
    fs.writeFileSync(path.join(dir, 'b'), applyAction(text, action));
    const r = spawnSync('diff', ['-u', '--label', `a/${rel}`, '--label', `b/${rel}`, path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8' });
    return `${action.title}\n${r.stdout}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
