// Summaries of many files as one file's analysis sees them: their name
// resolution (with the workspace index's name table), the caller contexts of
// the file's functions, what is worth lowering given them, the analysis of a
// file with them (analyzeSource), and what that analysis yields for the index
// (effectful summaries, call sites of followed functions). The fixed point
// over a tree is workspace-index.ts's.

import type { CParser } from '../syntax/backend';
import { extractFile } from '../syntax/extract';
import type { CallOp, FileIR } from '../syntax/ir';
import { eitherFilter, interestingRanges, type TextFilter } from '../syntax/ranges';
import { analyzeIR, mayBlockChain, nofailChain, type FileAnalysis, type FlowMemo } from './analyze-file';
import { scanDefinitions, type Definition } from './definitions';
import type { AnalysisContext } from './context';
import type { BlockingChain, CalleeEffects, CalleeOutcome } from './dataflow';
import type { CallerContext, Verdict } from '../../shared/evaluate';
import { isAtomicKind } from '../../shared/model/locks';
import type { Tri } from '../../shared/model/known-bits';
import type { State } from './state';
import { summarize, type FunctionSummary } from './summary';

/**
 * Where a name is defined across the tree, from the name table of the
 * workspace index (definitions.ts): the files with a global definition, and
 * the headers with a static one (every includer sees those). A file appears
 * once per definition, so two `#ifdef` variants in one file count twice.
 */
export interface NameDefinitions {
  readonly globals: readonly string[];
  readonly headerStatics: readonly string[];
}

export class SummaryIndex {
  private readonly byFile = new Map<string, readonly FunctionSummary[]>();
  private readonly byName = new Map<string, FunctionSummary[]>();
  /** Definitions of names that have summaries, when a whole tree's name table is known. */
  private nameTable: ReadonlyMap<string, NameDefinitions> = new Map();
  /**
   * The functions the file being analysed defines (and which are static),
   * whether or not they have a summary: one file at a time (a worker analyses
   * thousands, and keeping them all would grow without end).
   */
  private local: { readonly file: string; readonly statics: ReadonlySet<string>; readonly all: ReadonlySet<string> } | undefined;
  /** Functions whose callers the index follows (see WorkspaceIndex targets), by name. */
  private targets: ReadonlySet<string> = new Set();
  /** The contexts at their call sites, keyed by `file#name` of the definition. */
  private callerContexts: ReadonlyMap<string, CallerContext> = new Map();

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

  /** Forgets the summaries of one file (it has none now, or went away). */
  removeFile(file: string): void {
    this.setFile(file, []);
    this.byFile.delete(file);
  }

  /** The tree's definitions of the names that have summaries (see NameDefinitions). */
  setNameTable(table: ReadonlyMap<string, NameDefinitions>): void {
    this.nameTable = table;
  }

  /** The functions `file` defines (all of them, not only those with summaries). */
  setLocalDefinitions(file: string, defs: readonly Definition[]): void {
    this.local = { file, statics: new Set(defs.filter((d) => d.isStatic).map((d) => d.name)), all: new Set(defs.map((d) => d.name)) };
  }

  /** The functions whose callers the index follows, and the contexts it found at their calls. */
  setCallerContexts(targets: readonly string[], contexts: ReadonlyArray<[string, CallerContext]>): void {
    this.targets = new Set(targets);
    this.callerContexts = new Map(contexts);
  }

  isTarget(name: string): boolean {
    return this.targets.has(name);
  }

  /**
   * The file of the definition a call of `name` in `fromFile` reaches, by the
   * name table (for functions that may have no summary): this file's own
   * definition first, then the one global one, else the one static of a header.
   */
  resolveDefinition(name: string, fromFile: string): string | undefined {
    if (this.local?.file === fromFile && this.local.all.has(name)) return fromFile;
    const table = this.nameTable.get(name);
    if (!table) return undefined;
    if (table.globals.length > 0) return table.globals.length === 1 ? table.globals[0] : undefined;
    return table.headerStatics.length === 1 ? table.headerStatics[0] : undefined;
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
    const local = defs.filter((d) => d.isStatic && d.file === fromFile);
    if (local.length > 0) return local.length === 1 ? local[0] : undefined;
    // A static of this file without a summary (it has no effect) still hides
    // every other definition from this file's calls.
    if (this.local?.file === fromFile && this.local.statics.has(name)) return undefined;
    const globals = defs.filter((d) => !d.isStatic);
    const inHeaders = defs.filter((d) => d.isStatic && d.file.endsWith('.h'));
    const table = this.nameTable.get(name);
    if (table) {
      // The name table also sees definitions that have no summary: one of
      // them is a second definition, and makes the name ambiguous. A lowered
      // definition the text scan missed still counts.
      const pick = (files: readonly string[], summarised: readonly FunctionSummary[]): FunctionSummary | undefined | 'none' => {
        const all = [...files, ...summarised.map((d) => d.file).filter((f) => !files.includes(f))];
        if (all.length === 0) return 'none';
        if (all.length > 1) return undefined;
        const found = summarised.filter((d) => d.file === all[0]);
        return found.length === 1 ? found[0] : undefined;
      };
      const global = pick(table.globals, globals);
      if (global !== 'none') return global;
      const header = pick(table.headerStatics, inHeaders);
      return header === 'none' ? undefined : header;
    }
    if (globals.length === 1) return globals[0];
    if (globals.length === 0 && inHeaders.length === 1) return inHeaders[0];
    return undefined;
  }

  hasSummaries(): boolean {
    return this.byName.size > 0 || this.targets.size > 0;
  }

  /** The callee effects seen from one file. */
  forFile(file: string): CalleeEffects {
    return {
      callers: (fn: string): CallerContext | undefined => this.callerContexts.get(`${file}#${fn}`),
      outcomes: (call: CallOp): readonly CalleeOutcome[] | undefined => {
        const s = this.resolve(call.callee, file);
        return s && s.outcomes.length > 0 ? s.outcomes : undefined;
      },
      nofail: (call: CallOp): readonly string[] | undefined => {
        const s = this.resolve(call.callee, file);
        return s?.nofail ? [s.name, ...s.nofail.via] : undefined;
      },
      // From another file, only the chains blockingNames() lets through (under
      // two calls); a static function of the same name in the calling file
      // shadows the global one (resolve(), with the file's own definitions).
      mayBlock: (call: CallOp): BlockingChain | undefined => {
        const s = this.resolve(call.callee, file);
        if (!s?.mayBlock || (s.file !== file && s.mayBlock.via.length >= 2)) return undefined;
        return { via: [s.name, ...s.mayBlock.via].slice(0, 8), at: s.mayBlock.at };
      },
      // The index's copy of this file's functions: of the same content (a round
      // that finds the file changed analyses it whole again), for the functions
      // a later round does not analyse again.
      ownMayBlock: (call: CallOp): BlockingChain | undefined => {
        const s = this.resolve(call.callee, file);
        return s?.mayBlock && s.file === file ? { via: [s.name, ...s.mayBlock.via].slice(0, 8), at: s.mayBlock.at } : undefined;
      },
    };
  }

  targetNames(): string[] {
    return [...this.targets];
  }

  /**
   * Names of functions whose calls change their caller's state, and so make
   * callers worth analysing. A __GFP_NOFAIL allocation counts up to two calls
   * away (what a no-reclaim scope can be checked through): further up, almost
   * every kernel function reaches one, and following them all would re-analyse
   * the tree in waves.
   */
  effectfulNames(): string[] {
    const names: string[] = [];
    for (const [name, defs] of this.byName) if (defs.some((d) => d.outcomes.length > 0 || (d.nofail && d.nofail.via.length < 2))) names.push(name);
    return names;
  }

  /**
   * Names of functions that may sleep, within a call: worth lowering a caller
   * for where the caller may hold an atomic section (AnalysisContext.lowering).
   * May-block counts up to two calls away like NOFAIL: most kernel functions
   * sleep somewhere a few calls down, so following every chain would lower
   * nearly every caller in the tree and never settle, and each further call
   * is a further guess (the callee sleeps on *some* path, which the caller's
   * arguments may rule out).
   */
  blockingNames(): string[] {
    const names: string[] = [];
    for (const [name, defs] of this.byName) if (defs.some((d) => d.mayBlock && d.mayBlock.via.length < 2)) names.push(name);
    return names;
  }

  summaries(): FunctionSummary[] {
    return [...this.byFile.values()].flat();
  }
}

/** The names of functions that may sleep, as a pattern (undefined when there are none). */
export function blockingPattern(index: SummaryIndex): RegExp | undefined {
  const names = index.blockingNames();
  return names.length > 0 ? new RegExp(`\\b(?:${names.map(escapeRe).join('|')})\\b`) : undefined;
}

/** The lowering pattern given the summaries: the model's words and every function with an effect. */
export function patternWith(ctx: AnalysisContext, index: SummaryIndex): RegExp {
  // The callers of a function the index follows are worth lowering too: the
  // contexts at their calls are what it collects.
  const names = [...new Set([...index.effectfulNames(), ...index.targetNames()])];
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

/** Summaries of the other files, and the pattern of what is worth lowering given them. */
export interface SummaryContext {
  readonly index: SummaryIndex;
  /** The interesting words and the names whose calls change a caller's state. */
  readonly pattern: RegExp;
  /** The names of functions that may sleep (lowered only where an atomic section may be held). */
  readonly blocking?: RegExp;
  /**
   * The index has settled and only findings are wanted: a global function of
   * the file that sleeps is not lowered for callers in other files, whose
   * summaries the index already has (see AnalysisContext.lowering).
   */
  readonly findingsOnly?: boolean;
}

/** The summary context of an index (what a worker builds from the summaries it is sent). */
export function summaryContext(
  ctx: AnalysisContext,
  summaries: readonly FunctionSummary[],
  nameTable?: ReadonlyArray<[string, NameDefinitions]>,
  callers?: { readonly targets: readonly string[]; readonly contexts: ReadonlyArray<[string, CallerContext]> },
  findingsOnly = false,
): SummaryContext {
  const index = indexOf(summaries);
  if (nameTable) index.setNameTable(new Map(nameTable));
  if (callers) index.setCallerContexts(callers.targets, callers.contexts);
  return contextOf(ctx, index, findingsOnly);
}

/** The summary context of an index already filled (a worker that keeps its index from round to round). */
export function contextOf(ctx: AnalysisContext, index: SummaryIndex, findingsOnly = false): SummaryContext {
  const blocking = blockingPattern(index);
  // With the index settled, a function lowered only because it calls one with
  // an effect (or a followed one) has no site of its own: it mattered for its
  // summary, which the index already has. Findings need the interesting words,
  // and the calls that may sleep under an atomic section (the lowering's part).
  return { index, pattern: findingsOnly ? ctx.interesting : patternWith(ctx, index), ...(blocking ? { blocking } : {}), ...(findingsOnly ? { findingsOnly } : {}) };
}

/**
 * Parses and analyses one file with the summaries of the others: only the
 * top-level definitions that mention something the analysis reads are parsed
 * (ranges.ts), unless `wholeFile`. Undefined when the file mentions nothing of
 * the kind (no allocator, GFP name, scope or function with a summary), which
 * spares the parse, the single most expensive step.
 */
export function analyzeSource(
  ctx: AnalysisContext,
  parser: CParser,
  text: string,
  file: string,
  summaries?: SummaryContext,
  options: {
    readonly wholeFile?: boolean;
    readonly definitions?: readonly Definition[];
    /**
     * Analyse only the functions that mention one of these names (a later
     * index round: the callers of what changed); the file's other functions
     * keep what the index has of them.
     */
    readonly only?: readonly string[];
  } = {},
): FileAnalysis | undefined {
  const atomicCalls = options.only ? undefined : ctx.calledUnderAtomic(text);
  let pattern: TextFilter = options.only ? new RegExp(`\\b(?:${options.only.map(escapeRe).join('|')})\\b`) : ctx.lowering(text, summaries?.pattern ?? ctx.interesting, summaries?.blocking, atomicCalls, !summaries?.findingsOnly);
  if (options.only?.length === 0 || !pattern.test(text)) return undefined;
  // A static function of this file hides every other definition of its name
  // from this file's calls, whether or not the analysis lowers it.
  if (summaries && summaries.index.hasSummaries()) summaries.index.setLocalDefinitions(file, options.definitions ?? scanDefinitions(text));
  // The IR of the pass before: a later pass selects more definitions, and those
  // it lowered already are not walked again (the second passes over 395 of
  // fs/'s files, the third over 35 and the fourth over 14 cost four fifths of
  // the first passes over all of them).
  let lowered: FileIR | undefined;
  // And the flows of the pass before, reused where a function reads the same callee outcomes.
  const flows: FlowMemo = new Map();
  const analyse = (): FileAnalysis => {
    const tree = options.wholeFile === true ? parser.parse(text) : parser.parse(text, undefined, interestingRanges(text, pattern));
    try {
      lowered = extractFile(tree.rootNode, text, { interesting: pattern, ...(lowered ? { reuse: lowered } : {}) });
      return analyzeIR(ctx, lowered, text, summaries?.index.forFile(file), flows);
    } finally {
      tree.dispose();
    }
  };
  // A function of this file that gains an effect makes its callers here
  // worth lowering even when they mention nothing else the analysis reads
  // (a commit that only calls a helper which restores the cookie): analyse
  // again with those names, a bounded number of times (each pass lifts the
  // effects one call level).
  let analysis = analyse();
  // (With `only`, the index's next round does this for the names that changed.)
  // A function that only may sleep lifts its callers only where they may hold
  // an atomic section (the lowering's blocking part), not everywhere.
  let base: TextFilter = summaries?.pattern ?? ctx.interesting;
  let blocking: TextFilter | undefined = summaries?.blocking;
  const seen = new Set<string>();
  for (let pass = 1; pass < (options.only ? 1 : SAME_FILE_PASSES); pass++) {
    const lifted: string[] = [];
    const sleepy: string[] = [];
    for (const x of effectfulSummaries(analysis, file, summaries, 'lifting')) {
      if (seen.has(x.name) || base.test(x.name)) continue;
      seen.add(x.name);
      if (x.outcomes.length > 0 || x.nofail !== undefined) lifted.push(x.name);
      else sleepy.push(x.name);
    }
    if (lifted.length === 0 && sleepy.length === 0) break;
    if (lifted.length > 0) base = eitherFilter(base, namesPattern(lifted));
    if (sleepy.length > 0) blocking = blocking ? eitherFilter(blocking, namesPattern(sleepy)) : namesPattern(sleepy);
    // Functions that only may sleep matter only to callers under an atomic section.
    if (lifted.length === 0 && (atomicCalls === undefined || !sleepy.some((n) => atomicCalls.has(n)))) break;
    pattern = ctx.lowering(text, base, blocking, atomicCalls, !summaries?.findingsOnly);
    analysis = analyse();
  }
  return analysis;
}

function namesPattern(names: readonly string[]): RegExp {
  return new RegExp(`\\b(?:${names.map(escapeRe).join('|')})\\b`);
}

/** Passes over one file at most (see analyzeSource): call chains inside one file are short. */
const SAME_FILE_PASSES = 4;

/**
 * What a file's functions do to their callers, as the index keeps it: the
 * effectful ones only, and of locks only atomic sections. A mutex or rwsem
 * that a callee returns holding changes no allocation context (it is an
 * anchor for the scope refactor, which looks in the function itself), while
 * following the kernel's sleeping-lock wrappers from file to file costs more
 * than half of the index's rounds (drivers/net alone has hundreds).
 */
export function effectfulSummaries(analysis: FileAnalysis, file: string, summaries?: SummaryContext, view: 'stored' | 'lifting' = 'stored'): FunctionSummary[] {
  // What the index keeps: the analysis's own view of the callees (this file's
  // functions first), as its flows were computed. Which functions of the file
  // to lower once more (analyzeSource's passes) is decided as before, with the
  // index's view: lifting through the file's own chains too found 2-level
  // chains whose middle call sleeps only on a path the caller rules out
  // (dm9000_init_dm9000() -> dm9000_phy_write() under db->in_timeout) or under
  // a macro that drops the lock (wait_event_lock_irq_cmd in raid1's freeze_array()).
  const effects = summaries ? (view === 'stored' ? (analysis.effects ?? summaries.index.forFile(file)) : summaries.index.forFile(file)) : undefined;
  return analysis.functions
    .map((f) => withoutSleepingLocks(summarize(f.flow, file, f.sites, effects ? nofailChain(f.flow, effects) : undefined, mayBlockChain(f.flow, f.sites, effects))))
    .filter((x) => x.outcomes.length > 0 || (x.nofail !== undefined && x.nofail.via.length < 2) || (x.mayBlock !== undefined && x.mayBlock.via.length < 2));
}

function withoutSleepingLocks(summary: FunctionSummary): FunctionSummary {
  if (!summary.outcomes.some((o) => (o.acquire && !isAtomicKind(o.acquire.kind)) || (o.release ?? []).some((r) => !isAtomicKind(r.kind)))) return summary;
  const outcomes = summary.outcomes.map(({ acquire, release, ...rest }) => {
    const atomicReleases = (release ?? []).filter((r) => isAtomicKind(r.kind));
    return {
      ...rest,
      ...(acquire && isAtomicKind(acquire.kind) ? { acquire } : {}),
      ...(atomicReleases.length > 0 ? { release: atomicReleases } : {}),
    };
  });
  const distinct = [...new Map(outcomes.map((o) => [JSON.stringify(o), o])).values()];
  return { ...summary, outcomes: distinct.some((o) => o.enter || o.leave || o.acquire || o.release) ? distinct : [] };
}

/**
 * One call of a function the index follows (a target), as the caller's
 * analysis saw it: [callee, file of its definition, calling function, whether
 * the caller is static, fs, io, atomic], the last three 'yes' (in a scope that
 * excludes __GFP_FS / __GFP_IO; under an atomic section), 'no', 'varies' or
 * 'unknown'.
 */
export type CallSiteFact = [string, string, string, boolean, Verdict, Verdict, Verdict];

/** The calls of targets in one file's analysis (resolved as C does; unresolvable calls are left out). */
export function callSiteFacts(analysis: FileAnalysis, file: string, summaries: SummaryContext): CallSiteFact[] {
  const out: CallSiteFact[] = [];
  for (const { fn, flow } of analysis.functions) {
    for (const node of flow.cfg.nodes) {
      const ops = node.action.kind === 'op' ? [node.action.op] : node.action.kind === 'unknown' ? node.action.ops : [];
      for (const op of ops) {
        if (op.kind !== 'call' || op.callee === '' || !summaries.index.isTarget(op.callee)) continue;
        const to = summaries.index.resolveDefinition(op.callee, file);
        if (to === undefined) continue;
        const states = flow.inStates[node.id];
        const opaque = flow.overflow || node.action.kind === 'unknown' || states.some((st) => st.unknown);
        const flag = (st: State, name: string): Tri => {
          const v = st.pf.get(name)?.v;
          return v === 'set' ? 'yes' : v === 'unknown' ? 'unknown' : 'no';
        };
        const per = (f: (st: State) => Tri): Verdict => (opaque || states.length === 0 ? 'unknown' : verdictOf(states.map(f)));
        const noio = (st: State) => flag(st, 'PF_MEMALLOC_NOIO');
        const nofs = (st: State): Tri => (noio(st) === 'yes' ? 'yes' : flag(st, 'PF_MEMALLOC_NOFS'));
        out.push([op.callee, to, fn.name, fn.isStatic, per(nofs), per(noio), per((st) => (st.held.some((h) => h.atomic) ? 'yes' : 'no'))]);
      }
    }
  }
  return out;
}

function verdictOf(values: readonly Tri[]): Verdict {
  if (values.includes('unknown')) return 'unknown';
  if (values.every((v) => v === 'yes')) return 'yes';
  if (values.every((v) => v === 'no')) return 'no';
  return 'varies';
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
