// Summaries of many files, their name resolution, and the fixed point that
// computes them: a function's summary depends on its callees' summaries, so
// files are re-analysed until no summary changes (recursion and call cycles
// converge because outcomes come from a finite set of flags, homes and return
// kinds, and the iteration is bounded).

import type { CParser } from '../syntax/backend';
import { extractFile } from '../syntax/extract';
import type { CallOp } from '../syntax/ir';
import { interestingRanges } from '../syntax/ranges';
import { analyzeIR, mayBlockChain, nofailChain, type FileAnalysis } from './analyze-file';
import type { AnalysisContext } from './context';
import type { BlockingChain, CalleeEffects, CalleeOutcome } from './dataflow';
import { summarize, type FunctionSummary } from './summary';

export class SummaryIndex {
  private readonly byFile = new Map<string, readonly FunctionSummary[]>();
  private readonly byName = new Map<string, FunctionSummary[]>();

  /** Replaces the summaries of one file; returns whether anything changed. */
  setFile(file: string, summaries: readonly FunctionSummary[]): boolean {
    const before = this.byFile.get(file);
    const same = before !== undefined && JSON.stringify(before) === JSON.stringify(summaries);
    if (same) return false;
    for (const s of before ?? []) {
      const list = this.byName.get(s.name)!.filter((x) => x !== s);
      if (list.length > 0) this.byName.set(s.name, list);
      else this.byName.delete(s.name);
    }
    this.byFile.set(file, summaries);
    for (const s of summaries) this.byName.set(s.name, [...(this.byName.get(s.name) ?? []), s]);
    return true;
  }

  /**
   * The definition a call in `fromFile` reaches, as C resolves it: a static
   * definition in the same file first, then the one non-static definition (or
   * the one static inline of a header, which every includer sees). Ambiguous
   * names and calls through pointers resolve to nothing: never guessed.
   */
  resolve(name: string, fromFile: string): FunctionSummary | undefined {
    const defs = this.byName.get(name);
    if (!defs || name === '') return undefined;
    const local = defs.find((d) => d.isStatic && d.file === fromFile);
    if (local) return local;
    const globals = defs.filter((d) => !d.isStatic);
    if (globals.length === 1) return globals[0];
    if (globals.length === 0) {
      const inHeaders = defs.filter((d) => d.isStatic && d.file.endsWith('.h'));
      if (inHeaders.length === 1) return inHeaders[0];
    }
    return undefined;
  }

  /** The callee effects seen from one file. */
  forFile(file: string): CalleeEffects {
    return {
      outcomes: (call: CallOp): readonly CalleeOutcome[] | undefined => {
        const s = this.resolve(call.callee, file);
        return s && s.outcomes.length > 0 ? s.outcomes : undefined;
      },
      nofail: (call: CallOp): readonly string[] | undefined => {
        const s = this.resolve(call.callee, file);
        return s?.nofail ? [s.name, ...s.nofail.via] : undefined;
      },
      // From another file, only the chains effectfulNames() lets through:
      // those names are in the lowering pattern, so a static function of the
      // same name in the calling file is lowered too and shadows the global one.
      mayBlock: (call: CallOp): BlockingChain | undefined => {
        const s = this.resolve(call.callee, file);
        if (!s?.mayBlock || (s.file !== file && s.mayBlock.via.length >= 2)) return undefined;
        return { via: [s.name, ...s.mayBlock.via].slice(0, 8), at: s.mayBlock.at };
      },
    };
  }

  /**
   * Names of functions whose calls change their caller's state, and so make
   * callers worth analysing. A __GFP_NOFAIL allocation counts up to two calls
   * away (what a no-reclaim scope can be checked through): further up, almost
   * every kernel function reaches one, and following them all would re-analyse
   * the tree in waves. May-block counts the same way: most kernel functions
   * sleep somewhere a few calls down, so following every chain would lower
   * nearly every caller in the tree and never settle, and each further call
   * is a further guess (the callee sleeps on *some* path, which the caller's
   * arguments may rule out).
   */
  effectfulNames(): string[] {
    const names: string[] = [];
    for (const [name, defs] of this.byName) if (defs.some((d) => d.outcomes.length > 0 || (d.nofail && d.nofail.via.length < 2) || (d.mayBlock && d.mayBlock.via.length < 2))) names.push(name);
    return names;
  }

  summaries(): FunctionSummary[] {
    return [...this.byFile.values()].flat();
  }
}

/** The lowering pattern given the summaries: the model's words and every function with an effect. */
export function patternWith(ctx: AnalysisContext, index: SummaryIndex): RegExp {
  const names = index.effectfulNames();
  return names.length > 0 ? new RegExp(`${ctx.interesting.source}|\\b(?:${names.map(escapeRe).join('|')})\\b`) : ctx.interesting;
}

/** Builds an index from summaries sent by other threads. */
export function indexOf(summaries: readonly FunctionSummary[]): SummaryIndex {
  const index = new SummaryIndex();
  const byFile = new Map<string, FunctionSummary[]>();
  for (const s of summaries) byFile.set(s.file, [...(byFile.get(s.file) ?? []), s]);
  for (const [file, list] of byFile) index.setFile(file, list);
  return index;
}

export interface TreeFile {
  readonly path: string;
  readonly text: string;
}

export interface TreeAnalysis {
  readonly index: SummaryIndex;
  readonly files: ReadonlyMap<string, FileAnalysis>;
  readonly rounds: number;
}

const MAX_ROUNDS = 6;

/**
 * Analyses a set of files with each other's summaries: round after round,
 * re-analysing the files that call a function whose summary changed, until
 * nothing changes. Returns the final analysis of every file.
 */
export function analyzeTree(ctx: AnalysisContext, parser: CParser, files: readonly TreeFile[]): TreeAnalysis {
  const index = new SummaryIndex();
  const results = new Map<string, FileAnalysis>();
  let pattern = ctx.interesting;
  let dirty = new Set(files.map((f) => f.path));
  let rounds = 0;
  while (dirty.size > 0 && rounds < MAX_ROUNDS) {
    rounds++;
    const changedNames = new Set<string>();
    for (const file of files) {
      if (!dirty.has(file.path) || !pattern.test(file.text)) continue;
      const analysis = analyzeOne(ctx, parser, file, pattern, index);
      results.set(file.path, analysis);
      const summaries = analysis.functions.map((f) => summarize(f.flow, file.path, f.sites, nofailChain(f.flow, index.forFile(file.path)), mayBlockChain(f.flow, f.sites, index.forFile(file.path))));
      const before = new Map(index.summaries().filter((s) => s.file === file.path).map((s) => [s.name, JSON.stringify(s)]));
      if (index.setFile(file.path, summaries)) {
        for (const s of summaries) if (before.get(s.name) !== JSON.stringify(s)) changedNames.add(s.name);
        for (const name of before.keys()) if (!summaries.some((s) => s.name === name)) changedNames.add(name);
      }
    }
    if (changedNames.size === 0) break;
    // Callers of what changed are worth (re-)analysing, even if they mention nothing else.
    pattern = patternWith(ctx, index);
    const changed = new RegExp(`\\b(?:${[...changedNames].map(escapeRe).join('|')})\\s*\\(`);
    dirty = new Set(files.filter((f) => changed.test(f.text)).map((f) => f.path));
  }
  return { index, files: results, rounds };
}

function analyzeOne(ctx: AnalysisContext, parser: CParser, file: TreeFile, pattern: RegExp, index: SummaryIndex): FileAnalysis {
  const tree = parser.parse(file.text, undefined, interestingRanges(file.text, pattern));
  try {
    const ir = extractFile(tree.rootNode, file.text, { interesting: pattern });
    return analyzeIR(ctx, ir, file.text, index.forFile(file.path));
  } finally {
    tree.dispose();
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
