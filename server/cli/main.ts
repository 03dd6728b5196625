#!/usr/bin/env node
// gfp-lens: the command line. `check` for trees and CI, `explain` for masks.
// Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or I/O errors.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explain, ExplainError, SCOPE_NAMES, type Explanation } from '../../shared/explain';
import { SEVERITY_RANK, type Severity } from '../../shared/findings';
import { GfpModel, builtinModel } from '../../shared/model/gfp-model';
import { formatVersion, parseVersion, VersionError, type KernelVersion } from '../../shared/model/version';
import { chooseVersion, findKernelTree } from '../kernel-tree';
import type { BackendChoice } from '../syntax/backend';
import { collectFiles, shard, WorkerPool } from './check';
import type { CheckFileOptions, FileResult } from './check-file';
import type { AnalysisState, WorkerInit } from './worker';
import { MAX_INDEX_ROUNDS, statNow, WorkspaceIndex, type FileStat } from '../analysis/workspace-index';
import { analysisFingerprint, indexKey, toolVersion } from '../analysis/index-key';
import { formatJson, formatSarif, formatText, summaryLine, type CheckedFile, type RunInfo } from './formats';
import { GROUPINGS, type GroupBy } from '../../shared/report';
import { REPORT_FORMATS, renderReport, reportDocument, type ReportFormat } from './report';

class UsageError extends Error {}

const USAGE = `usage:
  gfp-lens check [options] [PATH...]    check C files and directories (default: the bundled examples/)
  gfp-lens report [options] PATH...     the GFP_NOFS/GFP_NOIO census of a tree, by subsystem and category
  gfp-lens explain [options] MASK       explain a GFP mask: 'GFP_NOFS | __GFP_NOFAIL', 0xcc0, gfp_mask=0x...(...)

check options:
  --format text|json|sarif   output format (default text)
  --sites                    with --format json: list every allocation site and its context
  --kernel-version X.Y       kernel to model (default: the tree's Makefile, else ${formatVersion(parseVersion('6.12'))})
  --jobs N                   workers (default: all cores)
  --shard I/N                check only the I-th of N deterministic slices of the files
  --fail-on LEVEL            error|warning|information|hint|none: exit 1 at or above (default error)
  --backend auto|native|wasm parser backend (default wasm: fastest for whole files; auto = native where it loads)
  --max-size BYTES           skip larger files (default 4194304)
  --file-timeout SECONDS     report and skip a file that takes longer (default 60; fractions allowed)
  --whole-file               parse every file whole, not only the definitions that can matter
  --root DIR                 the tree whose workspace index applies (default: the kernel tree
                             the first path is in); summaries of every function in it
                             apply across files, cached in ~/.cache/gfp-lens/index
  --no-index                 no workspace index: only summaries of the same file apply
  --interprocedural          outside a kernel tree: an index of the checked files themselves
                             (not cached)
  -o, --out FILE             write the report to FILE instead of standard output

report options (and the analysis options of check: --kernel-version, --jobs, --shard, --backend,
--max-size, --file-timeout, --whole-file, --interprocedural, --root, --no-index):
  --format md|html|json      output format (default md; html is one self-contained page with charts)
  --by subsystem|file|function  how sites are grouped (default subsystem: fs/xfs, drivers/md, mm, ...)
  -o, --out FILE             write the report to FILE instead of standard output

explain options:
  --kernel X.Y               kernel version (default 6.12)
  --scope NAME               fold the mask inside a scope (repeatable): ${Object.keys(SCOPE_NAMES).join(', ')}
  --config CONFIG_X[,...]    config options that were on, for decoding hex (e.g. CONFIG_LOCKDEP)
  --json                     machine-readable output
`;

interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

function parseArgs(args: readonly string[], valued: ReadonlySet<string>, boolean: ReadonlySet<string>): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '-o') a = '--out';
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (boolean.has(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, ['true']);
    } else if (valued.has(name)) {
      if (value === undefined) {
        if (i + 1 >= args.length) throw new UsageError(`--${name} needs a value`);
        value = args[++i];
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags };
}

const last = (p: Parsed, name: string): string | undefined => p.flags.get(name)?.at(-1);

function examplesDir(): string {
  return path.join(__dirname, '..', '..', '..', 'examples');
}

// ---- explain -------------------------------------------------------------

function runExplain(args: readonly string[]): number {
  const p = parseArgs(args, new Set(['kernel', 'scope', 'config']), new Set(['json']));
  if (p.positional.length === 0) throw new UsageError('explain needs a mask');
  const version = p.flags.has('kernel') ? parseVersion(last(p, 'kernel')!) : parseVersion('6.12');
  const model = modelFor(version);
  const scopes = (p.flags.get('scope') ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const configs = new Set((p.flags.get('config') ?? []).flatMap((s) => s.split(',')).filter(Boolean).map((c) => (c.startsWith('CONFIG_') ? c : `CONFIG_${c}`)));
  const e = explain(model, p.positional.join(' '), scopes, configs);
  process.stdout.write(p.flags.has('json') ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
  return 0;
}

function modelFor(version: KernelVersion): GfpModel {
  // checkSupported() is applied through the model's version table.
  const { version: checked } = chooseVersion(version, undefined);
  return builtinModel(checked);
}

const yesNo = (t: string): string => (t === 'yes' ? 'yes' : t === 'no' ? 'no' : 'unknown');

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  lines.push(`${e.canonical}   (${e.hex}, kernel ${e.kernel}, ${e.maskSource})`);
  lines.push('');
  lines.push('bits:');
  for (const b of e.bits) lines.push(`  ${b.name.padEnd(22)} ${(b.hex ?? `(${b.config})`).padEnd(10)} ${b.meaning}`);
  if (e.bits.length === 0) lines.push('  (none)');
  if (e.effective) {
    lines.push('');
    lines.push(`inside ${e.scopes.join(' + ')}: ${e.effective.canonical}   (${e.effective.hex})`);
  }
  lines.push('');
  lines.push(`may sleep:               ${yesNo(e.mayBlock)}`);
  lines.push(`may enter direct reclaim: ${yesNo(e.directReclaim)}`);
  lines.push(`may start IO:            ${yesNo(e.mayStartIo)}`);
  lines.push(`may recurse into the FS: ${yesNo(e.mayRecurseFs)}`);
  lines.push(`may use reserves:        ${e.reserves}`);
  lines.push(`may fail:                ${yesNo(e.mayFail)}`);
  lines.push(`warns on failure:        ${yesNo(e.warnsOnFailure)}`);
  if (e.notes.length > 0) {
    lines.push('');
    for (const n of e.notes) lines.push(`note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- check ---------------------------------------------------------------

/** Options that every command analysing files takes (`check`, and commands built on it). */
const ANALYSIS_VALUED = ['kernel-version', 'jobs', 'shard', 'backend', 'max-size', 'file-timeout', 'root'];
const ANALYSIS_BOOLEAN = ['whole-file', 'interprocedural', 'no-index'];

/** The files of a run, analysed: what every output format is made from. */
export interface AnalysedRun {
  readonly checked: CheckedFile[];
  readonly info: RunInfo;
  /** Missing paths and unreadable files (exit status 2). */
  readonly ioErrors: number;
  readonly skipped: number;
  readonly started: number;
}

/**
 * Collects the files below the positional paths and analyses them with the
 * analysis options of `p`; notes about skipped and unreadable files go to
 * standard error.
 */
async function analysePaths(p: Parsed, sites: boolean, extra: Pick<CheckFileOptions, 'census'> = {}): Promise<AnalysedRun> {
  const backend = (last(p, 'backend') ?? 'wasm') as BackendChoice;
  if (!['auto', 'native', 'wasm'].includes(backend)) throw new UsageError(`--backend must be auto, native or wasm`);
  const jobs = last(p, 'jobs') !== undefined ? positiveInt(last(p, 'jobs')!, '--jobs') : os.availableParallelism?.() ?? os.cpus().length;
  const maxBytes = last(p, 'max-size') !== undefined ? positiveInt(last(p, 'max-size')!, '--max-size') : 4 * 1024 * 1024;
  const timeout = last(p, 'file-timeout') !== undefined ? positiveSeconds(last(p, 'file-timeout')!, '--file-timeout') : 60;
  let shardSpec: [number, number] | undefined;
  if (p.flags.has('shard')) {
    const m = /^(\d+)\/(\d+)$/.exec(last(p, 'shard')!);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard must be I/N with 1 <= I <= N, like 2/4`);
    shardSpec = [Number(m[1]), Number(m[2])];
  }
  const paths = p.positional.length > 0 ? p.positional : [path.relative(process.cwd(), examplesDir()) || '.'];
  const tree = findKernelTree(paths[0]);
  const choice = chooseVersion(p.flags.has('kernel-version') ? parseVersion(last(p, 'kernel-version')!) : undefined, tree);
  if (choice.warning) process.stderr.write(`gfp-lens: warning: ${choice.warning}\n`);
  const treeMasks = choice.tree?.gfpHeader && formatVersion(choice.version) === formatVersion(choice.tree.version) ? choice.tree.gfpHeader : undefined;
  const maskSource = treeMasks ? treeMasks.path : `built-in table for ${formatVersion(choice.version)}`;

  const collected = collectFiles(paths);
  for (const err of collected.errors) process.stderr.write(`gfp-lens: error: ${err}\n`);
  const files = shardSpec ? shard(collected.files, shardSpec[0], shardSpec[1]) : collected.files;
  // GFP_LENS_PROGRESS=1: progress lines also when standard error is a pipe (the VS Code report command reads them).
  const progress = (process.stderr.isTTY || process.env.GFP_LENS_PROGRESS === '1') && files.length > 20;
  const started = Date.now();
  const baseInit = {
    backend,
    version: formatVersion(choice.version),
    ...(treeMasks ? { treeMasks: { masks: [...treeMasks.masks], path: treeMasks.path } } : {}),
    options: { maxBytes, sites, wholeFile: p.flags.has('whole-file'), ...extra },
  };
  // The workspace index: of the tree given with --root, else of the kernel
  // tree the paths are in; with --interprocedural outside a tree, of the
  // checked files alone.
  let indexRoot: string | undefined;
  if (p.flags.has('root')) {
    indexRoot = path.resolve(last(p, 'root')!);
    if (!fs.existsSync(indexRoot) || !fs.statSync(indexRoot).isDirectory()) throw new UsageError(`--root ${last(p, 'root')}: not a directory`);
  } else if (choice.tree) {
    indexRoot = choice.tree.root;
  }
  const indexScope: IndexScope | undefined = p.flags.has('no-index')
    ? undefined
    : indexRoot !== undefined
      ? { root: indexRoot, files: paths.length === 1 && path.resolve(paths[0]) === indexRoot && !shardSpec ? collected.files.map((f) => f.abs) : collectFiles([indexRoot]).files.map((f) => f.abs), persistent: true }
      : p.flags.has('interprocedural')
        ? { root: process.cwd(), files: files.map((f) => f.abs), persistent: false }
        : undefined;
  const key = indexKey(baseInit.version, baseInit.treeMasks);
  const results = await checkWithIndex(files.map((f) => f.abs), jobs, timeout, baseInit, progress, indexScope, key);
  if (progress) process.stderr.write('\r\x1b[K');

  const checked: CheckedFile[] = [];
  let ioErrors = collected.errors.length;
  let skipped = 0;
  results.forEach((r, i) => {
    const display = files[i].display;
    if (!r) return;
    if (r.error) {
      process.stderr.write(`gfp-lens: error: ${display}: ${r.error}\n`);
      ioErrors++;
      skipped++;
      return;
    }
    if (r.skipped) {
      process.stderr.write(`gfp-lens: note: skipped ${display}: ${r.skipped}\n`);
      skipped++;
      return;
    }
    checked.push({ display, findings: r.findings, ...(r.sites ? { sites: r.sites } : {}), ...(r.census ? { census: r.census } : {}) });
  });
  const info = { toolVersion: toolVersion(), kernelVersion: formatVersion(choice.version), kernelSource: `${choice.source}; masks from ${maskSource}`, files: checked.length };
  return { checked, info, ioErrors, skipped, started };
}

async function runCheck(args: readonly string[]): Promise<number> {
  const p = parseArgs(args, new Set(['format', 'fail-on', 'out', ...ANALYSIS_VALUED]), new Set(['sites', ...ANALYSIS_BOOLEAN]));
  const format = last(p, 'format') ?? 'text';
  if (!['text', 'json', 'sarif'].includes(format)) throw new UsageError(`--format must be text, json or sarif, not '${format}'`);
  const failOn = (last(p, 'fail-on') ?? 'error') as Severity | 'none';
  if (!['error', 'warning', 'information', 'hint', 'none'].includes(failOn)) throw new UsageError(`--fail-on must be error, warning, information, hint or none`);
  const { checked, info, ioErrors, skipped, started } = await analysePaths(p, p.flags.has('sites'));
  const report = format === 'json' ? formatJson(checked, info, p.flags.has('sites')) : format === 'sarif' ? formatSarif(checked, info) : formatText(checked);
  const out = last(p, 'out');
  if (out) fs.writeFileSync(out, report);
  else process.stdout.write(report);
  const summary = `${summaryLine(checked, checked.length, skipped)} (kernel ${info.kernelVersion}, ${((Date.now() - started) / 1000).toFixed(1)}s)\n`;
  if (format === 'text' && !out) process.stdout.write(summary);
  else process.stderr.write(summary);

  if (ioErrors > 0) return 2;
  if (failOn === 'none') return 0;
  const threshold = SEVERITY_RANK[failOn];
  return checked.some((f) => f.findings.some((d) => SEVERITY_RANK[d.severity] >= threshold)) ? 1 : 0;
}

// ---- report ----------------------------------------------------------------

async function runReport(args: readonly string[]): Promise<number> {
  const p = parseArgs(args, new Set(['format', 'by', 'out', ...ANALYSIS_VALUED]), new Set(ANALYSIS_BOOLEAN));
  const format = (last(p, 'format') ?? 'md') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format must be md, html or json, not '${format}'`);
  const by = (last(p, 'by') ?? 'subsystem') as GroupBy;
  if (!GROUPINGS.includes(by)) throw new UsageError(`--by must be subsystem, file or function, not '${by}'`);
  if (p.positional.length === 0) throw new UsageError('report needs a PATH (. for the current directory)');
  const { checked, info, ioErrors, skipped, started } = await analysePaths(p, false, { census: true });
  const out = last(p, 'out');
  const doc = reportDocument(checked, info, p.positional, by);
  const text = renderReport(doc, format, out);
  if (out) {
    try {
      fs.writeFileSync(out, text);
    } catch (e) {
      process.stderr.write(`gfp-lens: error: cannot write ${out}: ${(e as Error).message}\n`);
      return 2;
    }
  } else process.stdout.write(text);
  const t = doc.totals;
  process.stderr.write(
    `gfp-lens: ${checked.length} file${checked.length === 1 ? '' : 's'} analysed${skipped > 0 ? `, ${skipped} skipped` : ''}: ${t.sites} GFP_NOFS/GFP_NOIO site${t.sites === 1 ? '' : 's'} ` +
      `(${t.counts['under-atomic']} under atomic, ${t.counts.redundant} redundant, ${t.counts.convertible} convertible, ${t.counts.unexplained} unexplained, ${t.counts.other} other), ` +
      `${t.saves} memalloc_*_save() (kernel ${info.kernelVersion}, ${((Date.now() - started) / 1000).toFixed(1)}s)${out ? `; wrote ${out}` : ''}\n`,
  );
  return ioErrors > 0 ? 2 : 0;
}

/** The files whose summaries apply to each other, and whether their index is kept on disk. */
interface IndexScope {
  readonly root: string;
  readonly files: readonly string[];
  readonly persistent: boolean;
}

/**
 * Checks the files, with the summaries of the workspace index when there is
 * one: the index is brought up to date first (re-analysing what changed since
 * its cache, and the callers of every summary that changed), then the checked
 * files that the index rounds did not already analyse with the final
 * summaries are checked with them.
 */
async function checkWithIndex(
  files: readonly string[],
  jobs: number,
  timeout: number,
  init: Omit<WorkerInit, 'state'> & { readonly options: CheckFileOptions },
  progress: boolean,
  scope: IndexScope | undefined,
  key: string,
): Promise<Array<FileResult | undefined>> {
  const say = (text: string) => {
    if (progress) process.stderr.write(`\r\x1b[K${text}`);
  };
  const { options, ...fixed } = init;
  // One pool for the index rounds and the check: the workers keep their summaries between runs.
  const pool = new WorkerPool({ jobs, fileTimeoutMs: timeout * 1000, init: fixed });
  try {
    const run = async (list: readonly string[], state: Omit<AnalysisState, 'options'> & { readonly options?: Partial<CheckFileOptions> }, label: string): Promise<Array<FileResult | undefined>> => {
      const { results } = await pool.run(list, { ...state, options: { ...options, ...(state.options ?? {}) } }, progress ? (done, total) => say(`gfp-lens: ${label}: ${done}/${total} files`) : undefined);
      return results;
    };
    // The check's results also depend on how this directory's code reports them (check-file.ts, census.ts).
    return await checkWithPool(files, run, scope, key, JSON.stringify([options, analysisFingerprint(['server/cli'])]));
  } finally {
    pool.close();
  }
}

type PoolRun = (list: readonly string[], state: Omit<AnalysisState, 'options'> & { readonly options?: Partial<CheckFileOptions> }, label: string) => Promise<Array<FileResult | undefined>>;

async function checkWithPool(files: readonly string[], run: PoolRun, scope: IndexScope | undefined, key: string, optionsKey: string): Promise<Array<FileResult | undefined>> {
  if (!scope) return run(files, {}, 'checking');

  const started = Date.now();
  // Each checked file's time and size before anything reads it: a results
  // cache entry must not claim a content newer than the one analysed.
  const before = scope.persistent ? new Map(files.map((f) => [f, statOf(f)])) : undefined;
  const index = new WorkspaceIndex(scope.root, key);
  if (scope.persistent) index.load();
  const wanted = new Set(files);
  // The latest result of each checked file from the index rounds: final once the rounds settle.
  const fresh = new Map<string, FileResult>();
  let round = 0;
  const stats = await index.refresh(scope.files, async (list, summaries, nameTable, recheck, callers) => {
    round++;
    const roundStarted = Date.now();
    const got = await run(list, { summaries, nameTable, callers, ...(recheck !== undefined ? { recheck } : {}), options: { index: true } }, `indexing ${scope.root} (round ${round})`);
    got.forEach((r, i) => {
      if (!r || r.unchanged || !wanted.has(list[i])) return;
      // A later round's result covers the functions it re-analysed only: the
      // file is checked whole once the rounds are over.
      if (r.analysed) fresh.delete(list[i]);
      else {
        // The facts live in the index; the result keeps what the report needs.
        fresh.set(list[i], reportPart(r));
      }
    });
    if (process.env.GFP_LENS_DEBUG) process.stderr.write(`gfp-lens: round ${round}: ${list.length} files, ${((Date.now() - roundStarted) / 1000).toFixed(1)}s\n`);
    return got.map((r) => (r && !r.unchanged && r.facts ? r.facts : undefined));
  }, undefined, before);
  // The results a run with the same facts left (nothing changed since it, nothing pending), for files whose content is the same.
  const results = scope.persistent ? new CheckResults(index, optionsKey) : undefined;
  const earlier = before ? results?.load(before) : undefined;
  if (scope.persistent && index.changed) {
    try {
      if (!index.save()) process.stderr.write(`gfp-lens: note: ${stats.moved} files of ${scope.root} changed while they were indexed; the index cache is not written this time\n`);
    } catch (e) {
      process.stderr.write(`gfp-lens: warning: could not write the index cache ${index.cacheFile}: ${(e as Error).message}\n`);
    }
  }
  if (process.env.GFP_LENS_DEBUG) {
    process.stderr.write(
      `gfp-lens: index of ${scope.root}: ${index.size} files, ${stats.reused} from the cache${stats.cacheNote ? ` (${stats.cacheNote})` : ''}, rounds analysed ${stats.rounds.join('+') || 0} files, ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
    );
  }
  if (!stats.settled) {
    process.stderr.write(
      `gfp-lens: note: ${stats.pending} function summaries of the index of ${scope.root} are still settling after ${MAX_INDEX_ROUNDS} rounds; ` +
        `their deepest effects are left out this time, and the next run goes on from there\n`,
    );
  }
  // Results from the rounds are final, except for callers of summaries that
  // changed in a last round whose callers were not analysed again, and for
  // files whose followed functions have callers (their contexts are complete
  // only now).
  const out: Array<FileResult | undefined> = files.map((f) => earlier?.get(f)?.result);
  if (out.some((r) => r === undefined)) {
    const stale = stats.settled ? new Set<string>() : new Set(index.callersOf(files, index.pendingNames));
    for (const [key, context] of index.callerContexts()) if (context.count > 0) stale.add(key.slice(0, key.lastIndexOf('#')));
    // A file that a later round re-analysed in part has no whole result from the rounds.
    files.forEach((f, i) => {
      if (out[i] === undefined && !stale.has(f)) out[i] = fresh.get(f);
    });
  }
  const rest = files.filter((_, i) => out[i] === undefined);
  if (rest.length > 0) {
    const checkStarted = Date.now();
    const got = await run(rest, { summaries: index.summaries(), nameTable: index.nameTable(), callers: index.callerInput(), findingsOnly: true }, 'checking');
    if (process.env.GFP_LENS_DEBUG) process.stderr.write(`gfp-lens: check after the index: ${rest.length} files, ${((Date.now() - checkStarted) / 1000).toFixed(1)}s\n`);
    const at = new Map(rest.map((f, i) => [f, got[i]]));
    files.forEach((f, i) => {
      if (out[i] === undefined) out[i] = at.get(f);
    });
  }
  if (results && before && rest.length > 0) {
    try {
      results.save(files, out, before, earlier);
    } catch (e) {
      process.stderr.write(`gfp-lens: warning: could not write the results cache ${results.file}: ${(e as Error).message}\n`);
    }
  }
  return out;
}

/**
 * The findings of the last check of each file of a tree, kept beside the
 * index cache under the index's stamp: a file's findings depend only on its
 * content and on the index's facts (its summaries, name table and caller
 * contexts), so while both are the same a restart reports them without
 * analysing the file again. One cache per set of check options (--sites,
 * --whole-file, the size limit, the report's census). Written whole and
 * renamed over, like the index's; anything unreadable or foreign is ignored.
 */
class CheckResults {
  readonly file: string;

  constructor(
    private readonly index: WorkspaceIndex,
    optionsKey: string,
  ) {
    this.file = index.cacheFile.replace(/\.json$/, `-results-${createHash('sha1').update(optionsKey).digest('hex').slice(0, 12)}.json`);
  }

  /** The results still valid: none unless the index is exactly as stamped when they were written, each only if its file is untouched. */
  load(stats: ReadonlyMap<string, { mtimeMs: number; size: number } | undefined>): Map<string, KeptResult> | undefined {
    const stamp = this.index.stamp;
    if (stamp === undefined) return undefined;
    let doc: { stamp?: unknown; files?: unknown };
    try {
      doc = JSON.parse(fs.readFileSync(this.file, 'utf8')) as typeof doc;
    } catch {
      return undefined;
    }
    if (!doc || doc.stamp !== stamp || !Array.isArray(doc.files)) return undefined;
    const out = new Map<string, KeptResult>();
    for (const entry of doc.files as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 4) return undefined;
      const [rel, mtimeMs, size, result] = entry as [string, number, number, FileResult];
      if (typeof rel !== 'string' || !result || !Array.isArray(result.findings)) return undefined;
      const abs = path.join(this.index.root, rel);
      // Files this run does not check are kept as they were (and checked by a later run).
      const st = stats.has(abs) ? stats.get(abs) : { mtimeMs, size };
      if (st && st.mtimeMs === mtimeMs && st.size === size) out.set(abs, { mtimeMs, size, result });
    }
    return out;
  }

  /**
   * Keeps the results of `files` as of `stats` (taken before they were read),
   * with those of `earlier` for the files this run did not check. Errors are
   * not kept: they may not happen again.
   */
  save(files: readonly string[], results: ReadonlyArray<FileResult | undefined>, stats: ReadonlyMap<string, { mtimeMs: number; size: number; racy: boolean } | undefined>, earlier: ReadonlyMap<string, KeptResult> | undefined): void {
    const stamp = this.index.stamp;
    if (stamp === undefined) return;
    const kept = new Map<string, [string, number, number, FileResult]>();
    for (const [abs, k] of earlier ?? []) kept.set(abs, [path.relative(this.index.root, abs), k.mtimeMs, k.size, k.result]);
    files.forEach((file, i) => {
      const r = results[i];
      const st = stats.get(file);
      // A time read too soon after a write may be shared by the next content: such a result is not kept.
      if (!r || r.error || !st || st.racy) return;
      const rel = path.relative(this.index.root, file);
      if (rel.startsWith('..') || path.isAbsolute(rel)) return;
      kept.set(file, [rel, st.mtimeMs, st.size, reportPart(r)]);
    });
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ stamp, files: [...kept.values()] }));
    fs.renameSync(tmp, this.file);
  }
}

/** What a report needs of a file's result (not what the index keeps of it). */
function reportPart(r: FileResult): FileResult {
  return { findings: r.findings, bytes: r.bytes, ...(r.sites ? { sites: r.sites } : {}), ...(r.skipped ? { skipped: r.skipped } : {}), ...(r.error ? { error: r.error } : {}), ...(r.census ? { census: r.census } : {}) };
}

interface KeptResult {
  readonly mtimeMs: number;
  readonly size: number;
  readonly result: FileResult;
}

function statOf(file: string): FileStat | undefined {
  try {
    return statNow(file);
  } catch {
    return undefined;
  }
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} must be a positive whole number`);
  return Number(text);
}

/** Seconds, fractions allowed: a short limit lets tests reach the time-limit path with files that take well under a second. */
function positiveSeconds(text: string, flag: string): number {
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) || !(Number(text) > 0)) throw new UsageError(`${flag} must be a positive number of seconds`);
  return Number(text);
}

// ---- main ------------------------------------------------------------------

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        return await runCheck(rest);
      case 'report':
        return await runReport(rest);
      case 'explain':
        return runExplain(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
        process.stdout.write(`${toolVersion()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`gfp-lens: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ExplainError || e instanceof VersionError) {
      process.stderr.write(`gfp-lens: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  // `gfp-lens check . | head`: when the reader goes away, stop quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`gfp-lens: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
