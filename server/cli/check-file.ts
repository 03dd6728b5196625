// Checks one file: read it safely, parse, analyse, and turn the result into
// plain, serialisable records (what a worker thread sends back).

import * as fs from 'node:fs';
import type { FindingData } from '../../shared/evaluate';
import { AnalysisContext } from '../analysis/context';
import { analyzeIR, LineIndex, mayBlockChain, nofailChain } from '../analysis/analyze-file';
import type { SummaryIndex } from '../analysis/summary-index';
import { summarize, type FunctionSummary } from '../analysis/summary';
import { extractFile } from '../syntax/extract';
import type { CParser } from '../syntax/backend';
import { interestingRanges } from '../syntax/ranges';

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
}

export interface CheckFileOptions {
  readonly maxBytes: number;
  readonly sites: boolean;
  /** Parse every file whole instead of only its interesting definitions (for comparisons). */
  readonly wholeFile?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a file as text, or says why it will not be analysed. */
export function readSource(file: string, maxBytes: number): { text: string } | { skipped: string; bytes: number } | { error: string } {
  let buf: Buffer;
  try {
    const stat = fs.statSync(file);
    if (stat.size > maxBytes) return { skipped: `larger than the size limit (${stat.size} > ${maxBytes} bytes)`, bytes: stat.size };
    buf = fs.readFileSync(file);
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message };
  }
  if (buf.includes(0)) return { skipped: 'binary file (contains NUL bytes)', bytes: buf.length };
  try {
    return { text: utf8.decode(buf) };
  } catch {
    return { skipped: 'not valid UTF-8', bytes: buf.length };
  }
}

/** Summaries of the other files of the run, and the pattern of what is worth lowering given them. */
export interface SummaryContext {
  readonly index: SummaryIndex;
  readonly pattern: RegExp;
}

export function checkText(
  ctx: AnalysisContext,
  parser: CParser,
  text: string,
  options: Pick<CheckFileOptions, 'sites' | 'wholeFile'>,
  file = '',
  summaries?: SummaryContext,
): Omit<FileResult, 'bytes'> {
  const pattern = summaries?.pattern ?? ctx.interesting;
  // Nothing to say about a file that mentions no allocator, GFP name, scope or
  // function with a summary: skip the parse (the single most expensive step).
  if (!pattern.test(text)) return { findings: [], ...(options.sites ? { sites: [] } : {}) };
  // Parse only the top-level definitions that mention something the analysis
  // reads (ranges.ts); the rest would be lowered to nothing anyway.
  const tree = options.wholeFile ? parser.parse(text) : parser.parse(text, undefined, interestingRanges(text, pattern));
  try {
    const callees = summaries?.index.forFile(file);
    const analysis = analyzeIR(ctx, extractFile(tree.rootNode, text, { interesting: pattern }), text, callees);
    // What this file's functions do to their callers, for the next round (effectful ones only).
    const fileSummaries = analysis.functions
      .map((f) => summarize(f.flow, file, f.sites, summaries ? nofailChain(f.flow, summaries.index.forFile(file)) : undefined, mayBlockChain(f.flow, f.sites, summaries?.index.forFile(file))))
      .filter((x) => x.outcomes.length > 0 || (x.nofail && x.nofail.via.length < 2) || (x.mayBlock && x.mayBlock.via.length < 2));
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
    if (!options.sites) return { findings, summaries: fileSummaries };
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
      };
    });
    return { findings, sites, summaries: fileSummaries };
  } finally {
    tree.dispose();
  }
}

export function checkFile(ctx: AnalysisContext, parser: CParser, file: string, options: CheckFileOptions, summaries?: SummaryContext, recheck?: RegExp): FileResult {
  const source = readSource(file, options.maxBytes);
  if ('error' in source) return { findings: [], error: source.error, bytes: 0 };
  if ('skipped' in source) return { findings: [], skipped: source.skipped, bytes: source.bytes };
  // A later round re-checks only the files that call a function whose summary changed.
  if (recheck && !recheck.test(source.text)) return { findings: [], unchanged: true, bytes: 0 };
  return { ...checkText(ctx, parser, source.text, options, file, summaries), bytes: Buffer.byteLength(source.text) };
}
