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
// summary changes, starting from no summaries, as a fresh analysis does (the
// fixed point reached depends on where the rounds start: what is lowered
// depends on the summaries, and the summaries on what is lowered). The cache
// keeps what every round of the last version used, so each round of the next
// one re-analyses only what changed in it. A function's key includes the
// summaries of the functions it calls, so it is re-analysed exactly when its
// text or a callee's summary changed; except a callee's "may block", which
// its dataflow does not read: what depends on it (the function's own may-block
// claim, its calls that may sleep under an atomic section) is computed again
// from the cached flow (Blocking), as analyzeIR() settles it over final flows.
// (Before, a file of 50,000 functions calling each other was analysed whole a
// second time because every callee's claim appeared in the second round.)
//
// With the workspace index (ExternalSummaries), calls of functions the
// document does not define resolve through the index's summaries of the rest
// of the tree, and the contexts at the calls of the document's functions come
// from the index: both are part of a function's key, so a new index
// generation re-analyses only the functions whose callees or callers changed.
// The document's own definitions always win over what the index read from
// disk (the text on disk may be older than the editor's).

import type { FindingData } from '../../shared/evaluate';
import type { IndexRange, SyntaxNode } from '../syntax/backend';
import { changedRegion } from '../syntax/text-region';
import { ExtractCache, type LoweredFile, type LoweredFunction } from '../syntax/extract-cache';
import { shiftSpans as shift } from '../syntax/shift-spans';
import type { CallOp, FileIR, FunctionIR, Span, Stmt } from '../syntax/ir';
import { collectSites, LineIndex, ownBlocking, type SiteResult, mayBlockCallFindings, mayBlockChain, nofailCallFindings as nofailFindings, nofailChain, type FileAnalysis, type FunctionResult } from './analyze-file';
import { blockingPattern, patternWith, SummaryIndex, type SummaryContext } from './summary-index';
import { eitherFilter } from '../syntax/ranges';
import { scanDefinitions } from './definitions';
import { summarize, withMayBlock, type FunctionSummary } from './summary';
import type { AnalysisContext } from './context';
import { analyzeFlow, type CalleeEffects } from './dataflow';
import { scopeFindings } from './scope-findings';

/**
 * One function's results, in document offsets, except `flow`: the dataflow is
 * in offsets relative to `base` (its keys, such as save ids, are offsets, so it
 * cannot be shifted as data). Add `base` to read a span.
 */
export interface FunctionAnalysis extends FunctionResult {
  /** The function's name and span in document offsets (reading \`fn\` may build its IR in document offsets). */
  readonly name: string;
  readonly span: Span;
  readonly base: number;
  readonly findings: readonly FindingData[];
}

/** A file's analysis (as analyzeIR's), with per-function results that may come from the cache. */
export interface IncrementalAnalysis extends Omit<FileAnalysis, 'functions'> {
  readonly functions: readonly FunctionAnalysis[];
  /** How many functions were analysed, in one summary round or more (the rest came from the cache). */
  readonly analysed: number;
}

interface AnalysedFunction {
  readonly rel: FunctionResult;
  /** The findings that do not depend on whether callees may block (all but mayBlockCallFindings'). */
  readonly findings: readonly FindingData[];
  /** What the function does to its callers (position-free), without its may-block claim. */
  readonly summary: FunctionSummary;
}

/**
 * What depends on whether the function's callees may block, for one set of
 * answers (\`key\`): the findings of calls under an atomic section and the
 * summary's may-block claim. The dataflow does not depend on them, so these
 * are computed again from the cached flow, never by analysing the function
 * again (analyzeIR settles may-block over its final flows the same way).
 */
interface Blocking {
  readonly key: string;
  /** All the function's findings, in analyzeIR's order. */
  readonly findings: readonly FindingData[];
  /** The whole summary, may-block claim included. */
  readonly summary: FunctionSummary;
  /** The results in document offsets, as last handed out (reused while the function does not move). */
  at?: { readonly base: number; readonly rel: FunctionIR; readonly result: FunctionAnalysis };
}

/**
 * A function's results, with what they were computed from besides its text:
 * the line it starts on (messages name lines), whether it is a thread
 * function, the summaries its calls saw and the contexts at its callers.
 */
interface CachedFunction extends AnalysedFunction {
  /** The names its text calls (calledHere). */
  readonly names: readonly string[];
  readonly line: number;
  readonly thread: boolean;
  readonly used: string;
  readonly callers: string;
  /** Its may-block parts for the answers the last version's rounds saw (one per distinct set of answers). */
  blocking: Blocking[];
}

interface Round {
  readonly lowered: LoweredFile;
  /** Each function with its cached results (turned into document offsets for the last round only). */
  readonly functions: Array<{ readonly fn: LoweredFunction; readonly entry: CachedFunction; readonly blocking: Blocking; readonly base: number }>;
  readonly summaries: FunctionSummary[];
  /** The starts of the functions analysed (not from the cache). */
  readonly analysed: readonly number[];
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
  /** By function text: the results for each context that text was analysed in. */
  private entries = new Map<string, CachedFunction[]>();

  get size(): number {
    let n = 0;
    for (const list of this.entries.values()) n += list.length;
    return n;
  }

  /**
   * Analyses `root`/`text`, reusing cached functions. `contextKey` must change
   * whenever `ctx` or `callees` would give different results.
   */
  async analyze(ctx: AnalysisContext, contextKey: string, root: SyntaxNode, text: string, checkpoint?: Checkpoint, external?: ExternalSummaries): Promise<IncrementalAnalysis> {
    if (this.summaryKey !== contextKey) {
      this.entries.clear();
      this.extractor.clear();
      this.summaryKey = contextKey;
    }
    // The numbers only grow (each version's new answers add some): start
    // again when they far outnumber the functions.
    if (this.blockingIds.size > 4 * this.size + 1000) this.resetBlockingIds();
    const analysed = new Set<number>();
    let round: Round | undefined;
    // Every name the document defines, lowered or not: those calls never go to the index.
    const defined = external ? new Set(scanDefinitions(text).map((d) => d.name)) : undefined;
    const lines = this.lineIndex(text);
    /** What the rounds of this version used (the next version's rounds find theirs in it). */
    const used = new Map<string, CachedFunction[]>();
    const usedBlocking = new Set<Blocking>();
    let summaries: FunctionSummary[] = [];
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const index = new SummaryIndex();
      // Names defined twice (#ifdef variants) stay unknown, as in analyzeIR: never guessed.
      const count = new Map<string, number>();
      for (const x of summaries) count.set(x.name, (count.get(x.name) ?? 0) + 1);
      index.setFile(SELF, summaries.filter((x) => count.get(x.name) === 1));
      round = await this.round(ctx, root, text, lines, layered(index, external, defined), used, usedBlocking, checkpoint);
      for (const at of round.analysed) analysed.add(at);
      const same = sameSummaries(round.summaries, summaries);
      summaries = round.summaries;
      if (same) break;
    }
    // Each entry keeps the may-block parts this version used, no older ones.
    for (const list of used.values()) for (const e of list) if (e.blocking.length > 1 || !usedBlocking.has(e.blocking[0])) e.blocking = e.blocking.filter((b) => usedBlocking.has(b));
    this.entries = used;
    this.extractor.release();
    const r = round!;
    const functions = r.functions.map((f) => absolute(f.fn, f.entry, f.blocking, f.base));
    const all = functions.flatMap((f) => f.findings);
    all.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
    let sites: readonly SiteResult[] | undefined;
    return {
      get ir(): FileIR {
        return r.lowered.ir;
      },
      functions,
      // Every site in document order, built when first read (hovers, hints, code
      // actions): diagnostics need only the findings.
      get sites(): readonly SiteResult[] {
        return (sites ??= functions.flatMap((f) => f.sites).sort((a, b) => a.call.span.start - b.call.span.start));
      },
      findings: dedupe(all),
      analysed: analysed.size,
    };
  }

  /** The lines of the last text: the next differs in one region (an edit), so only that region is read. */
  private lines: { readonly text: string; readonly index: LineIndex } | undefined;

  private lineIndex(text: string): LineIndex {
    const last = this.lines;
    const index = last === undefined ? new LineIndex(text) : last.text === text ? last.index : last.index.edited(text, changedRegion(last.text, text));
    this.lines = { text, index };
    return index;
  }

  /**
   * Numbers for what callees' summaries say about blocking (blockingFingerprint),
   * so that a function's blocking key is short: a key per function names one
   * per callee that may block, and the strings would cost more than the rest
   * of the entry. Kept while the entries whose keys use them are.
   */
  private blockingIds = new Map<string, number>();
  private blockingIdOf = new WeakMap<FunctionSummary, number>();

  private blockingId(s: FunctionSummary): number {
    let id = this.blockingIdOf.get(s);
    if (id === undefined) {
      const f = blockingFingerprint(s);
      id = this.blockingIds.get(f);
      if (id === undefined) this.blockingIds.set(f, (id = this.blockingIds.size));
      this.blockingIdOf.set(s, id);
    }
    return id;
  }

  /** Forgets the numbers, and with them every entry's may-block parts (computed again from the flows when next used). */
  private resetBlockingIds(): void {
    this.blockingIds = new Map();
    this.blockingIdOf = new WeakMap();
    for (const list of this.entries.values()) for (const e of list) e.blocking = [];
  }

  private readonly extractor = new ExtractCache();
  /** The context the cache's entries were analysed with: another clears them. */
  private summaryKey = '';

  /** One pass over the functions with the given summaries of this document's functions (and the index's). */
  private async round(ctx: AnalysisContext, root: SyntaxNode, text: string, lines: LineIndex, layers: Layered, next: Map<string, CachedFunction[]>, usedBlocking: Set<Blocking>, checkpoint?: Checkpoint): Promise<Round> {
    const { own, external } = layers;
    const ownBlockingNames = blockingPattern(own);
    const extBlocking = external?.context.blocking;
    const blocking = ownBlockingNames && extBlocking ? eitherFilter(ownBlockingNames, extBlocking) : ownBlockingNames ?? extBlocking;
    const pattern = ctx.lowering(text, external ? eitherFilter(patternWith(ctx, own), external.context.pattern) : patternWith(ctx, own), blocking);
    // With a checkpoint, the lowering pauses there too (see extractPaused: the syntax nodes it reads are freed only between tasks).
    const lowered = checkpoint ? await this.extractor.extractPaused(root, text, pattern, async () => void (await checkpoint())) : this.extractor.extract(root, text, pattern);
    const callees = layers.effects;
    const functions: Round['functions'] = [];
    const summaries: FunctionSummary[] = [];
    const analysed: number[] = [];
    // "May block" through the document's own functions only, as analyzeIR's summaries (ownBlocking).
    const ownCallees: CalleeEffects = { ...callees, mayBlock: (call) => ownBlocking(own.resolve(call.callee, SELF)) };
    let sinceYield = Date.now();
    for (const fn of lowered.functions) {
      const base = fn.span.start;
      const thread = lowered.threadFunctions.has(fn.name);
      const body = text.slice(fn.span.start, fn.span.end);
      // This version's earlier rounds, then the last version's.
      const mine = next.get(body);
      const last = this.entries.get(body);
      // The summaries this function's calls see: part of what it depends on.
      // Whether they may block is apart (\`blockingKey\`): only the may-block
      // parts depend on it, and they are computed again from the cached flow.
      const names = mine?.[0]?.names ?? last?.[0]?.names ?? calledHere(body);
      let used = '';
      let blockingKey = '';
      for (const name of names) {
        const s = layers.resolve(name);
        if (!s) continue;
        const f = fingerprint(s);
        if (f !== '') used += `${name}=${f};`;
        if (s.mayBlock) blockingKey += `${this.blockingId(s)};`;
      }
      // The contexts at this function's calls elsewhere in the tree (hovers and the callers' verdicts).
      const callers = external ? JSON.stringify(callees.callers?.(fn.name) ?? null) : '';
      const line = lines.line(base);
      // (The same text lowers to another IR only by a \`static\` before it that type recovery lost.)
      // An error region's recovery depends on the text after the function too
      // (its closing brace inside an #ifndef that now runs into the next
      // function): such a function matches only with the same lowered shape.
      const shape = errorShapeOf(fn.rel.body);
      const same = (e: CachedFunction): boolean =>
        e.line === line && e.thread === thread && e.used === used && e.callers === callers && e.rel.fn.isStatic === fn.rel.isStatic && (shape === '' || errorShapeOf(e.rel.fn.body) === shape);
      let entry = mine?.find(same) ?? last?.find(same);
      if (!entry) {
        // Yield to the event loop every ~10 ms of work, so that other documents
        // and requests are served and a newer version can supersede this one.
        if (checkpoint && Date.now() - sinceYield > 10) {
          await checkpoint();
          sinceYield = Date.now();
        }
        const a = analyseRelative(ctx, fn.rel, fn.name, base, thread, lines, callees);
        // (A literal, not a spread: V8 gives every object built by spreading one of its own hidden classes, a few hundred bytes each.)
        entry = { rel: a.rel, findings: a.findings, summary: a.summary, names, line, thread, used, callers, blocking: [] };
        analysed.push(base);
      }
      const kept = next.get(body);
      if (!kept) next.set(body, [entry]);
      else if (!kept.includes(entry)) kept.push(entry);
      let blocking = entry.blocking.find((b) => b.key === blockingKey);
      if (!blocking) {
        blocking = blockingParts(ctx, entry, blockingKey, callees, ownCallees);
        entry.blocking.push(blocking);
      }
      usedBlocking.add(blocking);
      functions.push({ fn, entry, blocking, base });
      summaries.push(blocking.summary);
    }
    return { lowered, functions, summaries, analysed };
  }

  /**
   * The tree of the next analyze() is `to`'s, reparsed from the tree of
   * `from` (edited), its structure differing only in `changed` (tree-sitter's
   * changed ranges) and in the edited text: the top level is read from the
   * tree only there.
   */
  reparsed(from: string, to: string, changed: readonly IndexRange[]): void {
    this.extractor.reparsed(from, to, changed);
  }

  clear(): void {
    this.entries.clear();
    this.resetBlockingIds();
    this.extractor.clear();
    this.lines = undefined;
  }
}

/** Names followed by `(` in a function's text: the calls whose summaries its analysis may read (a superset). */
function calledHere(body: string): string[] {
  return [...new Set(body.match(/\b[A-Za-z_]\w*(?=\s*\()/g) ?? [])];
}

/**
 * What of a summary a caller's dataflow, sites and findings other than
 * may-block ones read, as a string (kept per summary object: summaries are
 * immutable); '' for a summary with no outcomes and no __GFP_NOFAIL, which
 * reads as no summary at all (CalleeEffects answer undefined for both).
 */
const fingerprints = new WeakMap<FunctionSummary, string>();
function fingerprint(s: FunctionSummary): string {
  let f = fingerprints.get(s);
  if (f === undefined) {
    f = s.outcomes.length === 0 && !s.nofail ? '' : JSON.stringify([s.file === SELF ? 0 : 1, s.outcomes, s.nofail ?? null, s.unknown]);
    fingerprints.set(s, f);
  }
  return f;
}

/** What of a summary a caller's may-block parts read (see Blocking). */
function blockingFingerprint(s: FunctionSummary): string {
  return JSON.stringify([s.file === SELF ? 0 : 1, s.name, s.mayBlock ?? null]);
}

/** Whether two rounds' summaries are the same (most are the same objects, from the cache). */
function sameSummaries(a: readonly FunctionSummary[], b: readonly FunctionSummary[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && wholeSummary(a[i]) !== wholeSummary(b[i])) return false;
  return true;
}

const wholeSummaries = new WeakMap<FunctionSummary, string>();
function wholeSummary(s: FunctionSummary): string {
  let f = wholeSummaries.get(s);
  if (f === undefined) {
    f = JSON.stringify(s);
    wholeSummaries.set(s, f);
  }
  return f;
}

function analyseRelative(ctx: AnalysisContext, relFn: FunctionIR, name: string, base: number, thread: boolean, lines: LineIndex, callees: CalleeEffects): AnalysedFunction {
  // Exactly the per-function step of analyzeIR(), on the function shifted to
  // start at offset 0; messages get document lines through the base. (The
  // may-block parts follow in blockingParts.)
  const flow = analyzeFlow(ctx, relFn, callees);
  const sites = collectSites(ctx, flow, callees.callers?.(name));
  const findings: FindingData[] = [];
  for (const site of sites) findings.push(...site.evaluation.findings);
  findings.push(...scopeFindings(ctx, flow, (o) => lines.line(o + base), { threadFunction: thread }));
  if (callees.nofail) findings.push(...nofailFindings(flow, callees));
  const rel: FunctionResult = { fn: relFn, flow, sites };
  return { rel, findings, summary: summarize(flow, SELF, sites, nofailChain(rel.flow, callees)) };
}

/** The may-block parts of an analysed function, for the callees' answers of this round (\`key\` names them). */
function blockingParts(ctx: AnalysisContext, entry: AnalysedFunction, key: string, callees: CalleeEffects, ownCallees: CalleeEffects): Blocking {
  const { flow, sites } = entry.rel;
  const calls = mayBlockCallFindings(ctx, flow, callees);
  return {
    key,
    findings: calls.length === 0 ? entry.findings : [...entry.findings, ...calls],
    summary: withMayBlock(entry.summary, mayBlockChain(flow, sites, ownCallees)),
  };
}

/**
 * The function's results in document offsets: those of the previous version
 * when it has not moved; else the findings moved now (diagnostics read them)
 * and the sites when first read.
 */
function absolute(fn: LoweredFunction, entry: CachedFunction, blocking: Blocking, base: number): FunctionAnalysis {
  if (blocking.at && blocking.at.base === base && blocking.at.rel === fn.rel) return blocking.at.result;
  const result = new Absolute(fn, entry.rel, base, shift(blocking.findings, base));
  blocking.at = { base, rel: fn.rel, result };
  return result;
}

/** (A class, not a literal with getters: V8 gives each such literal a hidden class of its own.) */
class Absolute implements FunctionAnalysis {
  readonly name: string;
  readonly span: Span;
  readonly flow: FunctionResult['flow'];
  private moved: readonly SiteResult[] | undefined;

  constructor(
    private readonly lowered: LoweredFunction,
    private readonly rel: FunctionResult,
    readonly base: number,
    readonly findings: readonly FindingData[],
  ) {
    this.name = lowered.name;
    this.span = lowered.span;
    this.flow = rel.flow;
  }

  get fn(): FunctionIR {
    return this.lowered.fn;
  }

  get sites(): readonly SiteResult[] {
    return (this.moved ??= shift(this.rel.sites, this.base));
  }
}

/**
 * errorShape() of a function's relative body, kept with it: the bodies are
 * the IR cache's objects, the same from version to version for a function
 * whose text did not change, and every function of the document is matched
 * against the cache on every edit (walking them all cost 1 ms an edit on
 * fs/nfs/nfs4proc.c).
 */
const errorShapes = new WeakMap<Stmt, string>();
function errorShapeOf(body: Stmt): string {
  let shape = errorShapes.get(body);
  if (shape === undefined) errorShapes.set(body, (shape = errorShape(body, 0)));
  return shape;
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
