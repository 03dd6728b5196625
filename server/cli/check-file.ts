// Checks one file: read it safely, parse, analyse, and turn the result into
// plain, serialisable records (what a worker thread sends back).

import * as fs from 'node:fs';
import type { FindingData } from '../../shared/evaluate';
import { AnalysisContext } from '../analysis/context';
import { analyzeText, LineIndex } from '../analysis/analyze-file';
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

export function checkText(ctx: AnalysisContext, parser: CParser, text: string, options: Pick<CheckFileOptions, 'sites' | 'wholeFile'>): Omit<FileResult, 'bytes'> {
  // Nothing to say about a file that mentions no allocator, GFP name or scope:
  // skip the parse (the single most expensive step).
  if (!ctx.interesting.test(text)) return { findings: [], ...(options.sites ? { sites: [] } : {}) };
  // Parse only the top-level definitions that mention something the analysis
  // reads (ranges.ts); the rest would be lowered to nothing anyway.
  const tree = options.wholeFile ? parser.parse(text) : parser.parse(text, undefined, interestingRanges(text, ctx.interesting));
  try {
    const analysis = analyzeText(ctx, tree.rootNode, text);
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
    if (!options.sites) return { findings };
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
    return { findings, sites };
  } finally {
    tree.dispose();
  }
}

export function checkFile(ctx: AnalysisContext, parser: CParser, file: string, options: CheckFileOptions): FileResult {
  const source = readSource(file, options.maxBytes);
  if ('error' in source) return { findings: [], error: source.error, bytes: 0 };
  if ('skipped' in source) return { findings: [], skipped: source.skipped, bytes: source.bytes };
  return { ...checkText(ctx, parser, source.text, options), bytes: Buffer.byteLength(source.text) };
}
