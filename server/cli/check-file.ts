// Checks one file: read it safely, parse, analyse, and turn the result into
// plain, serialisable records (what a worker thread sends back).

import * as fs from 'node:fs';
import type { FindingData } from '../../shared/evaluate';
import type { AnalysisContext } from '../analysis/context';
import { LineIndex } from '../analysis/analyze-file';
import { analyzeSource, callSiteFacts, effectfulSummaries, summaryContext, type CallSiteFact, type SummaryContext } from '../analysis/summary-index';
import type { CallerVerdicts } from '../../shared/evaluate';
import type { FunctionSummary } from '../analysis/summary';
import type { CParser } from '../syntax/backend';
import { encodeDefinitions, scanDefinitions, type Definition } from '../analysis/definitions';
import { calledNames, encodeCalls } from '../analysis/call-names';
import { sha1, statNow, type AnalyseFiles, type FileFacts, type FileStat, type Recheck } from '../analysis/workspace-index';
import type { FileCensus } from '../../shared/report';
import { fileCensus } from './census';

export interface FileFinding {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly severity: FindingData['severity'];
  readonly code: FindingData['code'];
  readonly message: string;
  readonly related: readonly { readonly line: number; readonly column: number; readonly message: string }[];
}

export interface FileSite {
  readonly line: number;
  readonly column: number;
  readonly function: string;
  readonly callee: string;
  readonly requested: string;
  readonly effective: readonly string[];
  readonly fs: string;
  readonly io: string;
  readonly mayBlock: string;
  readonly atomic: string;
  /** The verdicts with the contexts of the function's callers folded in, where the index followed them. */
  readonly callers?: CallerVerdicts;
}

export interface FileResult {
  readonly findings: readonly FileFinding[];
  readonly sites?: readonly FileSite[];
  /** Why the file was not analysed (binary, not UTF-8, too large). */
  readonly skipped?: string;
  /** An I/O error (unreadable). */
  readonly error?: string;
  readonly bytes: number;
  /** Summaries of this file's functions that change their callers' state. */
  readonly summaries?: readonly FunctionSummary[];
  /** A re-check round found nothing in this file that changed: the previous result stands. */
  readonly unchanged?: boolean;
  /** What the workspace index keeps of the file (with `CheckFileOptions.index`). */
  readonly facts?: FileFacts;
  /** Functions with a GFP_NOFS/GFP_NOIO and no scope for it of their own, whose callers the index follows. */
  readonly targets?: readonly string[];
  /** The calls of such functions (of the whole tree) that this file makes. */
  readonly callSites?: readonly CallSiteFact[];
  /**
   * In a later index round: the functions analysed (those mentioning a name
   * whose summary changed). The rest of the file was not: its findings here
   * are partial, and its facts only replace those of these functions.
   */
  readonly analysed?: readonly string[];
  /** For `gfp-lens report`: the file's GFP_NOFS/GFP_NOIO sites by category and its scopes. */
  readonly census?: FileCensus;
}

export interface CheckFileOptions {
  readonly maxBytes: number;
  readonly sites: boolean;
  /** Parse every file whole instead of only its interesting definitions (for comparisons). */
  readonly wholeFile?: boolean;
  /** Also return what the workspace index keeps of the file (`FileResult.facts`). */
  readonly index?: boolean;
  /** Compute the report's census of the file (server/cli/census.ts). */
  readonly census?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What is known of a file that is not analysed (too large, binary, not UTF-8): enough for the index to remember it (skippedFacts). */
interface Skipped {
  readonly skipped: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly size: number;
  readonly racy: boolean;
  /** sha1 of the bytes when they were read; '' for a file too large to read. */
  readonly hash: string;
}

/** Reads a file as text, or says why it will not be analysed. */
export function readSource(file: string, maxBytes: number): { text: string; mtimeMs: number; size: number; racy: boolean } | Skipped | { error: string } {
  let buf: Buffer;
  let stat: FileStat;
  try {
    stat = statNow(file);
    if (stat.size > maxBytes) return { skipped: `larger than the size limit (${stat.size} > ${maxBytes} bytes)`, bytes: stat.size, ...stat, hash: '' };
    buf = fs.readFileSync(file);
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message };
  }
  if (buf.includes(0)) return { skipped: 'binary file (contains NUL bytes)', bytes: buf.length, ...stat, hash: sha1(buf) };
  try {
    return { text: utf8.decode(buf), ...stat };
  } catch {
    return { skipped: 'not valid UTF-8', bytes: buf.length, ...stat, hash: sha1(buf) };
  }
}

/**
 * What the index keeps of a file it does not analyse: nothing defined,
 * nothing called, under the file's time, size and hash, so that a restart
 * does not read it again (the 35 files of a kernel tree over 4 MiB cost every
 * warm start a pool of workers). A file too large to read has no hash: a new
 * time at the same size makes it stale, and it is skipped again.
 */
function skippedFacts(source: Skipped): FileFacts {
  return { mtimeMs: source.mtimeMs, size: source.size, ...(source.racy ? { racy: true } : {}), hash: source.hash, definitions: encodeDefinitions([]), summaries: [], calls: encodeCalls(new Set()), targets: '', callSites: [] };
}

export function checkText(
  ctx: AnalysisContext,
  parser: CParser,
  text: string,
  options: Pick<CheckFileOptions, 'sites' | 'wholeFile' | 'census' | 'index'>,
  file = '',
  summaries?: SummaryContext,
  definitions?: readonly Definition[],
  only?: readonly string[],
): Omit<FileResult, 'bytes'> {
  const analysis = analyzeSource(ctx, parser, text, file, summaries, { wholeFile: options.wholeFile, definitions, ...(only ? { only } : {}) });
  if (!analysis) return { findings: [], ...(options.sites ? { sites: [] } : {}), ...(only ? { analysed: [] } : {}) };
  // What the index keeps of the file: only when it is asked for (a check
  // after the index, or without one, would summarise every function for nothing).
  const indexed = options.index
    ? {
        summaries: effectfulSummaries(analysis, file, summaries),
        targets: [...new Set(analysis.sites.filter((x) => x.evaluation.outsideLocalScope).map((x) => x.function))],
        callSites: summaries ? callSiteFacts(analysis, file, summaries) : [],
        ...(only ? { analysed: analysis.functions.map((f) => f.fn.name) } : {}),
      }
    : {};
  const lines = new LineIndex(text);
  const pos = (offset: number) => lines.position(offset);
  const findings = analysis.findings.map((f): FileFinding => {
    const s = pos(f.span.start);
    const e = pos(f.span.end);
    return {
      line: s.line + 1,
      column: s.character + 1,
      endLine: e.line + 1,
      endColumn: e.character + 1,
      severity: f.severity,
      code: f.code,
      message: f.message,
      related: f.related.map((r) => {
        const p = pos(r.span.start);
        return { line: p.line + 1, column: p.character + 1, message: r.message };
      }),
    };
  });
  const census = options.census ? { census: fileCensus(ctx, analysis, pos) } : {};
  if (!options.sites) return { findings, ...indexed, ...census };
  const sites = analysis.sites.map((s): FileSite => {
    const p = pos(s.call.calleeSpan.start);
    const e = s.evaluation;
    const unknown = s.input.contextUnknown || s.input.states.length === 0 || s.input.states.some((st) => st.unknown);
    return {
      line: p.line + 1,
      column: p.character + 1,
      function: s.function,
      callee: s.call.callee,
      requested: e.requestedText === '' ? 'unknown' : ctx.gfp.describe(e.requested) === 'unknown' ? e.requestedText : ctx.gfp.describe(e.requested),
      effective: unknown ? [] : e.variants.map((v) => v.canonical),
      fs: e.fs,
      io: e.io,
      mayBlock: e.mayBlock,
      atomic: e.atomic,
      ...(e.callers ? { callers: e.callers } : {}),
    };
  });
  return { findings, sites, ...indexed, ...census };
}

export function checkFile(ctx: AnalysisContext, parser: CParser, file: string, options: CheckFileOptions, summaries?: SummaryContext, recheck?: Recheck): FileResult {
  const source = readSource(file, options.maxBytes);
  if ('error' in source) return { findings: [], error: source.error, bytes: 0 };
  if ('skipped' in source) return { findings: [], skipped: source.skipped, bytes: source.bytes, ...(options.index ? { facts: skippedFacts(source) } : {}) };
  // The names this file calls, its own functions included: when one of them
  // gains an effect, the file's other functions that call it are worth
  // lowering too (they may mention nothing else the analysis reads).
  const calls = recheck || options.index ? calledNames(source.text) : undefined;
  // A later round re-checks only the files that call a function whose summary
  // changed, and in them only the functions that mention one.
  let only: string[] | undefined;
  if (recheck) {
    const names = new Set(recheck.names);
    if (recheck.ifAtomic.length > 0 && ctx.atomic.test(source.text)) for (const n of recheck.ifAtomic) names.add(n);
    only = [...calls!].filter((n) => names.has(n));
  }
  // (Most files a later round reads call none of the names: they are not scanned further.)
  if (only && only.length === 0) return { findings: [], unchanged: true, bytes: 0 };
  const definitions = summaries?.index.hasSummaries() || options.index ? scanDefinitions(source.text) : undefined;
  const result = checkText(ctx, parser, source.text, options, file, summaries, definitions, only);
  if (!options.index) return { ...result, bytes: Buffer.byteLength(source.text) };
  const { summaries: fileSummaries, targets, callSites, ...rest } = result;
  const facts: FileFacts = { mtimeMs: source.mtimeMs, size: source.size, ...(source.racy ? { racy: true } : {}), hash: sha1(source.text), definitions: encodeDefinitions(definitions ?? []), summaries: fileSummaries ?? [], calls: encodeCalls(calls!), targets: (targets ?? []).join(' '), callSites: callSites ?? [], ...(result.analysed ? { analysed: result.analysed } : {}) };
  // The index's part once, in the facts (a worker sends it to the main thread).
  return { ...rest, bytes: Buffer.byteLength(source.text), facts };
}

/**
 * The index's analyser without threads: checks the files one after the other
 * in this thread (tests, small trees). The CLI uses worker threads instead.
 */
export function inProcessAnalyser(ctx: AnalysisContext, parser: CParser, maxBytes = 4 * 1024 * 1024): AnalyseFiles {
  return async (files, summaries, nameTable, recheck, callers) => {
    const context = summaryContext(ctx, summaries, nameTable, callers);
    const wanted = recheck;
    return files.map((file) => {
      const r = checkFile(ctx, parser, file, { maxBytes, sites: false, index: true }, context, wanted);
      return r.unchanged ? undefined : r.facts;
    });
  };
}
