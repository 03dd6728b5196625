// The whole-tree run on both parser backends, as functions that
// `npm run verify:tree` (tree.ts, over the kernel tree) and its small version
// in the suite (tree.test.ts, over test/fixtures) share: run the real CLI
// (`gfp-lens check --no-index --format json --sites`) with one backend,
// classify what it says on standard error (skipped files and why, internal
// errors, time limits), compare two runs file by file, and explain a file on
// which they differ by re-running the analysis in this process with each
// backend and comparing the trees that the analysis parsed.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AnalysisContext } from '../../server/analysis/context';
import { analyzeSource, summaryContext } from '../../server/analysis/summary-index';
import { chooseVersion, findKernelTree } from '../../server/kernel-tree';
import type { BackendName, CParser, SyntaxNode } from '../../server/syntax/backend';
import type { TextRange } from '../../server/syntax/ranges';
import { CLI } from './kernel-tree';

export interface CheckRun {
  readonly backend: BackendName;
  /** The CLI's exit status (0 clean, 1 findings, 2 I/O errors, timeouts or internal errors), or null when a signal ended it. */
  readonly status: number | null;
  readonly signal: string | null;
  /** Files analysed, from the JSON report. */
  readonly files: number;
  /** Findings and sites of each file, as canonical JSON (files with neither are absent). */
  readonly perFile: Map<string, string>;
  readonly findings: number;
  readonly sites: number;
  /** Skipped files by reason ("larger than the size limit", "binary file", ...). */
  readonly skipped: Map<string, string[]>;
  /** Files whose analysis threw (the worker's `internal error`), with the message. */
  readonly internalErrors: Map<string, string>;
  /** Files that hit the per-file time limit, by the name the CLI printed. */
  readonly timeouts: string[];
  /** Other error lines (unreadable files, missing paths). */
  readonly otherErrors: string[];
  /** Lines on standard error that none of the above explains (warnings, a crash's stack). */
  readonly unexpected: string[];
  /** Wall seconds. */
  readonly wall: number;
  /** CPU seconds (user+sys) of the run, workers included (GNU time; absent without /usr/bin/time). */
  readonly cpu?: number;
  /** Peak resident MB of the CLI and its worker processes together (sampled from /proc; absent without it). */
  readonly peakRssMb?: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly paths: readonly string[];
  readonly fileTimeout?: number;
  readonly jobs?: number;
  readonly extra?: readonly string[];
}

const TIME = '/usr/bin/time';

/**
 * Runs `gfp-lens check` with one backend and reads what it printed. CPU time
 * comes from GNU time (its child's rusage includes the worker processes it
 * reaped); peak memory is sampled from /proc, summing the CLI and every
 * process below it, since a process's maximum RSS counts one process only
 * (worker threads are inside the CLI's own).
 */
export async function runCheck(backend: BackendName, options: RunOptions): Promise<CheckRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-verify-'));
  try {
    const out = path.join(dir, 'report.json');
    const timeFile = path.join(dir, 'time');
    const argv = [
      process.execPath,
      CLI,
      'check',
      '--no-index',
      '--format',
      'json',
      '--sites',
      '--fail-on',
      'none',
      '--backend',
      backend,
      '--file-timeout',
      String(options.fileTimeout ?? 60),
      ...(options.jobs ? ['--jobs', String(options.jobs)] : []),
      ...(options.extra ?? []),
      '-o',
      out,
      ...options.paths,
    ];
    const timed = fs.existsSync(TIME);
    const started = Date.now();
    const child = timed ? spawn(TIME, ['-o', timeFile, '-f', '%U %S', ...argv], { cwd: options.cwd }) : spawn(argv[0], argv.slice(1), { cwd: options.cwd });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    let peakKb: number | undefined;
    const sample = (): void => {
      const kb = treeRssKb(child.pid!);
      if (kb !== undefined) peakKb = Math.max(peakKb ?? 0, kb);
    };
    const poll = setInterval(sample, 200);
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
    clearInterval(poll);
    const wall = +((Date.now() - started) / 1000).toFixed(1);
    const report = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as JsonReport) : undefined;
    let cpu: number | undefined;
    let note: string | null = null;
    if (timed && fs.existsSync(timeFile)) {
      const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
      // With GNU time, a signal shows as exit status 128+n and the line "Command terminated by signal n".
      note = /Command terminated by signal (\d+)/.exec(lines.join('\n'))?.[1] ?? null;
      const [user, sys] = lines[lines.length - 1].split(' ').map(Number);
      if (Number.isFinite(user) && Number.isFinite(sys)) cpu = +(user + sys).toFixed(1);
    }
    return {
      backend,
      status,
      signal: signal ?? (note ? `signal ${note}` : null),
      ...readReport(report),
      ...readStderr(stderr),
      wall,
      ...(cpu !== undefined ? { cpu } : {}),
      ...(peakKb !== undefined ? { peakRssMb: Math.round(peakKb / 1024) } : {}),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Resident kB of a process and all its descendants, from /proc (undefined where there is none). */
function treeRssKb(root: number): number | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state ppid ... rss is field 24 (pages).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(e);
      const ppid = Number(rest[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      rss.set(pid, Number(rest[21]) * PAGE_KB);
    } catch {
      // It ended meanwhile.
    }
  }
  if (!rss.has(root)) return undefined;
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

const PAGE_KB = 4;

interface JsonReport {
  readonly files: number;
  readonly findings: ReadonlyArray<{ readonly file: string } & Record<string, unknown>>;
  readonly sites?: ReadonlyArray<{ readonly file: string } & Record<string, unknown>>;
}

function readReport(report: JsonReport | undefined): Pick<CheckRun, 'files' | 'perFile' | 'findings' | 'sites'> {
  const perFile = new Map<string, string>();
  if (!report) return { files: 0, perFile, findings: 0, sites: 0 };
  const grouped = new Map<string, { findings: unknown[]; sites: unknown[] }>();
  const entry = (file: string) => {
    let e = grouped.get(file);
    if (!e) grouped.set(file, (e = { findings: [], sites: [] }));
    return e;
  };
  for (const { file, ...rest } of report.findings) entry(file).findings.push(rest);
  for (const { file, ...rest } of report.sites ?? []) entry(file).sites.push(rest);
  for (const [file, e] of grouped) perFile.set(file, JSON.stringify(e));
  return { files: report.files, perFile, findings: report.findings.length, sites: report.sites?.length ?? 0 };
}

function readStderr(stderr: string): Pick<CheckRun, 'skipped' | 'internalErrors' | 'timeouts' | 'otherErrors' | 'unexpected'> {
  const skipped = new Map<string, string[]>();
  const internalErrors = new Map<string, string>();
  const timeouts: string[] = [];
  const otherErrors: string[] = [];
  const unexpected: string[] = [];
  const lines = stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || /^gfp-lens: \d+ files? checked/.test(line) || /^Command (exited with non-zero status|terminated by signal)/.test(line)) continue;
    let m = /^gfp-lens: note: skipped (.*?): (.*)$/.exec(line);
    if (m) {
      // "larger than the size limit (5 > 4 bytes)" -> "larger than the size limit"
      const reason = m[2].replace(/\s*\(.*\)\s*$/, '');
      skipped.set(reason, [...(skipped.get(reason) ?? []), m[1]]);
      continue;
    }
    m = /^gfp-lens: error: (.*?): analysis took longer than ([\d.]+)s; skipped$/.exec(line);
    if (m) {
      timeouts.push(m[1]);
      continue;
    }
    m = /^gfp-lens: error: (.*?): internal error: (.*)$/.exec(line);
    if (m) {
      // The stack follows on the next lines, indented.
      let message = m[2];
      while (i + 1 < lines.length && /^\s+at /.test(lines[i + 1])) message += `\n${lines[++i]}`;
      internalErrors.set(m[1], message);
      continue;
    }
    if (line.startsWith('gfp-lens: error: ')) {
      otherErrors.push(line);
      continue;
    }
    unexpected.push(line);
  }
  return { skipped, internalErrors, timeouts, otherErrors, unexpected };
}

/** Files whose findings or sites differ between two runs (present in one run only included), sorted. */
export function differingFiles(a: CheckRun, b: CheckRun): string[] {
  const files = new Set([...a.perFile.keys(), ...b.perFile.keys()]);
  return [...files].filter((f) => a.perFile.get(f) !== b.perFile.get(f)).sort();
}

// ---- explaining a difference -------------------------------------------------

/** One parse the analysis made: the ranges it asked for and the tree it got, flattened. */
interface ParseRecord {
  readonly ranges?: readonly TextRange[];
  /** Every node in document order: type, start, end (MISSING nodes marked). */
  readonly nodes: string[];
  /** ERROR and MISSING nodes: "line:column ERROR `text`". */
  readonly errors: string[];
}

function flatten(root: SyntaxNode, text: string): Pick<ParseRecord, 'nodes' | 'errors'> {
  const nodes: string[] = [];
  const errors: string[] = [];
  const walk = (n: SyntaxNode): void => {
    nodes.push(`${n.type}${n.isMissing ? '(missing)' : ''}@${n.startIndex}-${n.endIndex}`);
    if (n.type === 'ERROR' || n.isMissing) {
      const excerpt = text.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 60)).replace(/\s+/g, ' ');
      errors.push(`${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.isMissing ? `MISSING ${n.type}` : 'ERROR'} (${n.endIndex - n.startIndex} chars) \`${excerpt}\``);
    }
    for (let i = 0; i < n.childCount; i++) walk(n.child(i)!);
  };
  walk(root);
  return { nodes, errors };
}

/** A parser that records every tree it hands out, for comparing what two backends gave the same analysis. */
function recording(parser: CParser, text: string, log: ParseRecord[]): CParser {
  return {
    backend: parser.backend,
    parse(t, old, ranges) {
      const tree = parser.parse(t, old, ranges);
      log.push({ ...(ranges ? { ranges } : {}), ...flatten(tree.rootNode, text) });
      return tree;
    },
    dispose() {},
  };
}

export type DifferenceCategory = 'error recovery' | 'unexplained: same trees, different results' | 'unexplained: not reproduced in process';

export interface Explanation {
  readonly file: string;
  readonly category: DifferenceCategory;
  /** What the reader needs: the first node where the trees part, the ERROR nodes only one backend has. */
  readonly detail: string[];
}

/**
 * Re-runs the CLI's analysis of one file (the same kernel version and masks,
 * the worker's empty summary context, the same lowering and parsed ranges)
 * with each backend, recording every tree the analysis parsed, and says why
 * the two runs differed: the trees differ (different tree-sitter error
 * recovery; shows the ERROR nodes each has that the other has not), or not
 * (a bug somewhere).
 */
export function explainDifference(abs: string, display: string, parsers: Record<BackendName, CParser>): Explanation {
  const text = fs.readFileSync(abs, 'utf8');
  const choice = chooseVersion(undefined, findKernelTree(path.dirname(abs)));
  const treeMasks = choice.tree?.gfpHeader && choice.tree.version.major === choice.version.major && choice.tree.version.minor === choice.version.minor ? { masks: choice.tree.gfpHeader.masks, path: choice.tree.gfpHeader.path } : undefined;
  const ctx = new AnalysisContext(choice.version, treeMasks ? { treeMasks } : {});
  const run = (backend: BackendName) => {
    const log: ParseRecord[] = [];
    const a = analyzeSource(ctx, recording(parsers[backend], text, log), text, abs, summaryContext(ctx, []));
    const result = JSON.stringify({ f: (a?.findings ?? []).map((f) => [f.span.start, f.code, f.message]), s: (a?.sites ?? []).map((s) => [s.call.span.start, s.evaluation.variants.map((v) => v.canonical)]) });
    return { log, result };
  };
  const n = run('native');
  const w = run('wasm');
  const detail: string[] = [];
  for (let i = 0; i < Math.max(n.log.length, w.log.length); i++) {
    const x = n.log[i];
    const y = w.log[i];
    if (!x || !y) {
      detail.push(`parse ${i + 1}: only the ${x ? 'native' : 'wasm'} analysis made it`);
      continue;
    }
    if (JSON.stringify(x.ranges) !== JSON.stringify(y.ranges)) detail.push(`parse ${i + 1}: different ranges asked for`);
    if (x.nodes.join('\n') === y.nodes.join('\n')) continue;
    const k = x.nodes.findIndex((node, j) => node !== y.nodes[j]);
    detail.push(`parse ${i + 1}${x.ranges ? ` (${x.ranges.length} ranges)` : ' (whole file)'}: trees part at node ${k}: native ${x.nodes[k] ?? '(end)'}, wasm ${y.nodes[k] ?? '(end)'}`);
    const onlyIn = (a: string[], b: string[]) => {
      const other = new Set(b);
      return a.filter((e) => !other.has(e));
    };
    for (const e of onlyIn(x.errors, y.errors).slice(0, 5)) detail.push(`  native only: ${e}`);
    for (const e of onlyIn(y.errors, x.errors).slice(0, 5)) detail.push(`  wasm only:   ${e}`);
  }
  const treesDiffer = detail.length > 0;
  const category: DifferenceCategory = treesDiffer ? 'error recovery' : n.result !== w.result ? 'unexplained: same trees, different results' : 'unexplained: not reproduced in process';
  return { file: display, category, detail };
}
