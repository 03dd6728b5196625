// Function-level re-analysis for the language server. A keystroke changes one
// function; the others keep their text and only move. Each function is
// analysed in coordinates relative to its own start (its IR is shifted to
// start at 0), so the cached result stays valid when text above it grows or
// shrinks; the sites and findings are shifted back to document offsets on use.
//
// Messages name lines ("restored at line 12"), so the key includes the line the
// function starts on; the kernel context, the thread-function flag and the
// callee summaries in use are part of the key too. The semantics are exactly
// analyzeIR()'s: the same analyzeFlow(), site collection and scope findings run
// on the same IR (a test compares both on every fixture).
//
// Calls between the document's own functions use their summaries
// (summary.ts), as the checker does for a file: the analysis repeats until no
// summary changes, starting from no summaries as a fresh analysis does; every
// round reuses the functions the same round of the last analysis saw with the
// same text and callee summaries. A function's key includes the
// summaries of the functions it calls, so it is re-analysed exactly when its
// text or a callee's summary changed.
//
// With the workspace index (ExternalSummaries), calls of functions the
// document does not define resolve through the index's summaries of the rest
// of the tree, and the contexts at the calls of the document's functions come
// from the index: both are part of a function's key, so a new index
// generation re-analyses only the functions whose callees or callers changed.
// The document's own definitions always win over what the index read from
// disk (the text on disk may be older than the editor's).

import type { FindingData } from '../../shared/evaluate';
import type { SyntaxNode } from '../syntax/backend';
import { ExtractCache } from '../syntax/extract-cache';
import { shiftSpans as shift } from '../syntax/shift-spans';
import type { CallOp, FileIR, FunctionIR, Stmt } from '../syntax/ir';
import { collectSites, LineIndex, mayBlockCallFindings, mayBlockChain, nofailCallFindings as nofailFindings, nofailChain, type FileAnalysis, type FunctionResult } from './analyze-file';
import { blockingPattern, patternWith, SummaryIndex, type SummaryContext } from './summary-index';
import { eitherFilter } from '../syntax/ranges';
import { scanDefinitions } from './definitions';
import { summarize, type FunctionSummary } from './summary';
import type { AnalysisContext } from './context';
import { analyzeFlow, type CalleeEffects } from './dataflow';
import { scopeFindings } from './scope-findings';

/**
 * One function's results, in document offsets, except `flow`: the dataflow is
 * in offsets relative to `base` (its keys, such as save ids, are offsets, so it
 * cannot be shifted as data). Add `base` to read a span.
 */
export interface FunctionAnalysis extends FunctionResult {
  readonly base: number;
  readonly findings: readonly FindingData[];
}

/** A file's analysis (as analyzeIR's), with per-function results that may come from the cache. */
export interface IncrementalAnalysis extends Omit<FileAnalysis, 'functions'> {
  readonly functions: readonly FunctionAnalysis[];
  /** How many functions were analysed (the rest came from the cache). */
  readonly analysed: number;
}

interface CachedFunction {
  readonly rel: FunctionResult;
  readonly findings: readonly FindingData[];
  /** What the function does to its callers (position-free). */
  readonly summary: FunctionSummary;
}

interface Round {
  readonly ir: FileIR;
  readonly functions: FunctionAnalysis[];
  readonly summaries: FunctionSummary[];
  readonly analysed: number;
}

/** The analysis rounds until summaries settle, as in analyzeTree(). */
const MAX_ROUNDS = 6;
/** The document's own name in the summary index (one file). */
const SELF = '';

/**
 * The rest of the tree, as the workspace index knows it, seen from one
 * document: summaries of other files' functions, the tree's name table and
 * the contexts at the calls of this file's functions.
 */
export interface ExternalSummaries {
  /** The document's path, as the index names files. */
  readonly file: string;
  /** The index's summary context: its pattern lowers the callers of every function with an effect (hovers show them). */
  readonly context: SummaryContext;
  /** Changes whenever the index's summaries or caller contexts change. */
  readonly generation: number;
}

/** Called between functions: throws (or rejects) to abandon stale work. */
export type Checkpoint = () => void | Promise<void>;

/**
 * Per-function memo for one document. Entries not used by the latest analysis
 * are dropped, so the cache holds at most one result per function.
 */
export class FunctionCache {
  private entries = new Map<string, CachedFunction>();

  get size(): number {
    return this.entries.size;
  }

  /**
   * Analyses `root`/`text`, reusing cached functions. `contextKey` must change
   * whenever `ctx` or `callees` would give different results.
   */
  async analyze(ctx: AnalysisContext, contextKey: string, root: SyntaxNode, text: string, checkpoint?: Checkpoint, external?: ExternalSummaries): Promise<IncrementalAnalysis> {
    // Every analysis starts from no summaries, as a fresh one (analyzeIR) does.
    // Summaries are not monotone and a call cycle can hold up a claim of its
    // own making: started from the previous version's summaries, the rounds
    // could settle on another fixed point than a fresh analysis of the same
    // text (verify:incremental found one). The cache keeps what every round
    // used, so an unchanged function is still a hit in each round.
    this.summaries = [];
    const seen = new Map<string, CachedFunction>();
    let analysed = 0;
    let round: Round | undefined;
    // Every name the document defines, lowered or not: those calls never go to the index.
    const defined = external ? new Set(scanDefinitions(text).map((d) => d.name)) : undefined;
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const index = new SummaryIndex();
      // Names defined twice (#ifdef variants) stay unknown, as in analyzeIR: never guessed.
      const names = this.summaries.map((x) => x.name);
      index.setFile(SELF, this.summaries.filter((x) => names.indexOf(x.name) === names.lastIndexOf(x.name)));
      round = await this.round(ctx, contextKey, root, text, layered(index, external, defined), seen, checkpoint);
      analysed += round.analysed;
      const same = JSON.stringify(round.summaries) === JSON.stringify(this.summaries);
      this.summaries = round.summaries;
      if (same) break;
    }
    // Keep only what this analysis used (older entries are stale).
    this.entries = seen;
    const r = round!;
    const sites = r.functions.flatMap((f) => f.sites).sort((a, b) => a.call.span.start - b.call.span.start);
    const all = r.functions.flatMap((f) => f.findings);
    all.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
    return { ir: r.ir, functions: r.functions, sites, findings: dedupe(all), analysed };
  }

  private summaries: FunctionSummary[] = [];
  private readonly extractor = new ExtractCache();

  /** One pass over the functions with the given summaries of this document's functions (and the index's). */
  private async round(ctx: AnalysisContext, contextKey: string, root: SyntaxNode, text: string, layers: Layered, seen: Map<string, CachedFunction>, checkpoint?: Checkpoint): Promise<Round> {
    const { own, external } = layers;
    const ownBlocking = blockingPattern(own);
    const extBlocking = external?.context.blocking;
    const blocking = ownBlocking && extBlocking ? eitherFilter(ownBlocking, extBlocking) : ownBlocking ?? extBlocking;
    const pattern = ctx.lowering(text, external ? eitherFilter(patternWith(ctx, own), external.context.pattern) : patternWith(ctx, own), blocking);
    const lines = new LineIndex(text);
    const ir = this.extractor.extract(root, text, pattern, (o) => lines.line(o));
    const callees = layers.effects;
    const next = new Map<string, CachedFunction>();
    const functions: FunctionAnalysis[] = [];
    const summaries: FunctionSummary[] = [];
    let analysed = 0;
    let sinceYield = Date.now();
    for (const fn of ir.functions) {
      const base = fn.span.start;
      const thread = ir.threadFunctions.has(fn.name);
      const body = text.slice(fn.span.start, fn.span.end);
      // The summaries this function's calls see: part of what it depends on.
      const used: string[] = [];
      for (const name of new Set(body.match(/\b[A-Za-z_]\w*(?=\s*\()/g) ?? [])) {
        const s = layers.resolve(name);
        if (s) used.push(`${name}=${JSON.stringify([s.file === SELF ? 0 : 1, s.outcomes, s.nofail ?? null, s.mayBlock ?? null, s.unknown])}`);
      }
      // The contexts at this function's calls elsewhere in the tree (hovers and the callers' verdicts).
      const callers = external ? JSON.stringify(callees.callers?.(fn.name) ?? null) : '';
      // The same text can lower differently: an error region's recovery
      // depends on the text after the function (its closing brace inside an
      // #ifndef that now runs into the next function), and `static` on the
      // line before counts. Such functions are keyed by their lowered shape too.
      const key = `${contextKey}\u0000${thread ? 1 : 0}\u0000${fn.isStatic ? 1 : 0}\u0000${lines.line(base)}\u0000${used.join(';')}\u0000${callers}\u0000${errorShape(fn.body, base)}\u0000${body}`;
      let entry = next.get(key) ?? seen.get(key) ?? this.entries.get(key);
      if (!entry) {
        // Yield to the event loop every ~10 ms of work, so that other documents
        // and requests are served and a newer version can supersede this one.
        if (checkpoint && Date.now() - sinceYield > 10) {
          await checkpoint();
          sinceYield = Date.now();
        }
        entry = analyseRelative(ctx, fn, base, thread, lines, callees);
        analysed++;
      }
      next.set(key, entry);
      functions.push(absolute(fn, entry, base));
      summaries.push(entry.summary);
    }
    for (const [k, v] of next) seen.set(k, v);
    return { ir, functions, summaries, analysed };
  }

  clear(): void {
    this.entries.clear();
    this.extractor.clear();
  }
}

function analyseRelative(ctx: AnalysisContext, fn: FunctionIR, base: number, thread: boolean, lines: LineIndex, callees: CalleeEffects): CachedFunction {
  // Exactly the per-function step of analyzeIR(), on the function shifted to
  // start at offset 0; messages get document lines through the base.
  const relFn = shift(fn, -base);
  const flow = analyzeFlow(ctx, relFn, callees);
  const sites = collectSites(ctx, flow, callees.callers?.(fn.name));
  const findings: FindingData[] = [];
  for (const site of sites) findings.push(...site.evaluation.findings);
  findings.push(...scopeFindings(ctx, flow, (o) => lines.line(o + base), { threadFunction: thread }));
  if (callees.nofail) findings.push(...nofailFindings(flow, callees));
  findings.push(...mayBlockCallFindings(ctx, flow, callees));
  const rel: FunctionResult = { fn: relFn, flow, sites };
  return { rel, findings, summary: summarize(flow, SELF, sites, nofailChain(rel.flow, callees), mayBlockChain(rel.flow, sites, callees)) };
}

function absolute(fn: FunctionIR, entry: CachedFunction, base: number): FunctionAnalysis {
  return {
    fn,
    flow: entry.rel.flow,
    base,
    sites: shift(entry.rel.sites, base),
    findings: shift(entry.findings, base),
  };
}

/** For a function with an error region (an `unknown` statement), its statements' kinds and spans; '' for the others. */
function errorShape(body: Stmt, base: number): string {
  const out: string[] = [];
  let errors = false;
  const walk = (st: Stmt | undefined): void => {
    if (!st) return;
    out.push(`${st.kind}${st.span.start - base}-${st.span.end - base}`);
    switch (st.kind) {
      case 'unknown':
        errors = true;
        out.push(`${st.ops.length}${st.opaque ? 'o' : ''}`);
        break;
      case 'block':
        st.body.forEach(walk);
        break;
      case 'if':
        walk(st.then);
        walk(st.else);
        break;
      case 'loop':
      case 'switch':
      case 'scoped-guard':
        walk(st.body);
        break;
      default:
        break;
    }
  };
  walk(body);
  return errors ? out.join(' ') : '';
}

function dedupe(findings: FindingData[]): FindingData[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}@${f.span.start}:${f.span.end}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The document's own summaries over the index's: what one round's calls resolve to. */
interface Layered {
  readonly own: SummaryIndex;
  readonly external: ExternalSummaries | undefined;
  readonly effects: CalleeEffects;
  /** The summary a call of `name` reaches (for the function cache's keys). */
  resolve(name: string): FunctionSummary | undefined;
}

/**
 * Calls of names the document defines resolve in the document (as C does: its
 * static or global definition), the others through the index, except to this
 * file's summaries on disk: a function the editor's text no longer defines
 * does not exist, whatever the index read.
 */
function layered(own: SummaryIndex, external: ExternalSummaries | undefined, defined: ReadonlySet<string> | undefined): Layered {
  const mine = own.forFile(SELF);
  if (!external || !defined) return { own, external: undefined, effects: mine, resolve: (name) => own.resolve(name, SELF) };
  const index = external.context.index;
  const theirs = index.forFile(external.file);
  const isMine = (name: string): boolean => defined.has(name) || own.resolve(name, SELF) !== undefined;
  const foreign = (name: string): FunctionSummary | undefined => {
    if (isMine(name)) return undefined;
    const s = index.resolve(name, external.file);
    return s && s.file !== external.file ? s : undefined;
  };
  const pick = <T>(call: CallOp, ours: ((c: CallOp) => T | undefined) | undefined, other: ((c: CallOp) => T | undefined) | undefined): T | undefined =>
    isMine(call.callee) ? ours?.(call) : foreign(call.callee) ? other?.(call) : undefined;
  return {
    own,
    external,
    effects: {
      callers: (fn) => theirs.callers?.(fn),
      outcomes: (call) => pick(call, mine.outcomes, theirs.outcomes),
      nofail: (call) => pick(call, mine.nofail, theirs.nofail),
      mayBlock: (call) => pick(call, mine.mayBlock, theirs.mayBlock),
    },
    resolve: (name) => own.resolve(name, SELF) ?? foreign(name),
  };
}
