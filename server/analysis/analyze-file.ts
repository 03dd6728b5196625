// The analysis of one file: lower it, run the dataflow of every interesting
// function, and evaluate every allocation site and every scope. The result is
// plain data (offsets, strings, enums): the CLI prints it, the server converts
// it to LSP, and neither adds meaning.

import { evaluateSite, type CallerContext, type FindingData, type PathState, type ScopeOrigin, type SiteEvaluation, type SiteInput } from '../../shared/evaluate';
import type { AllocatorDef } from '../../shared/model/allocators';
import { sleepingCall, sleepingGuard } from '../../shared/model/sleeping';
import type { SyntaxNode } from '../syntax/backend';
import { extractFile } from '../syntax/extract';
import type { CallOp, Condition, FileIR, FunctionIR, GuardOp, Op, Stmt } from '../syntax/ir';
import type { AnalysisContext } from './context';
import { mayExit } from './cfg';
import { analyzeFlow, type BlockingChain, type CalleeEffects, type FunctionFlow } from './dataflow';
import type { TextRegion } from '../syntax/text-region';
import { scopeFindings } from './scope-findings';
import { summarize, withMayBlock, type FunctionSummary } from './summary';
import type { State } from './state';

export interface SiteResult {
  readonly function: string;
  readonly call: CallOp;
  readonly input: SiteInput;
  readonly evaluation: SiteEvaluation;
}

export interface FunctionResult {
  readonly fn: FunctionIR;
  readonly flow: FunctionFlow;
  readonly sites: readonly SiteResult[];
}

export interface FileAnalysis {
  readonly ir: FileIR;
  readonly functions: readonly FunctionResult[];
  readonly sites: readonly SiteResult[];
  readonly findings: readonly FindingData[];
  /**
   * The callee effects the functions were analysed with: this file's own
   * functions first (as analysed now), then `callees`. A summary computed
   * after the analysis must see the same, never the index's copy of this
   * file's functions (which may be of an older content). (The server's
   * incremental analysis settles its summaries its own way and has none.)
   */
  readonly effects?: CalleeEffects;
}

/** Maps offsets to 0-based lines, for messages that name a line. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /**
   * The index of a text that differs from this one's only in `region` (see
   * changedRegion): the lines above it are kept, those below it moved, and only
   * the region itself is read.
   */
  edited(text: string, region: TextRegion): LineIndex {
    const out = Object.create(LineIndex.prototype) as LineIndex;
    const starts: number[] = [];
    const old = this.starts;
    // Line starts up to the region's start (a start at `region.start` follows a newline before it).
    let i = 0;
    for (; i < old.length && old[i] <= region.start; i++) starts.push(old[i]);
    for (let j = text.indexOf('\n', region.start); j >= 0 && j < region.newEnd; j = text.indexOf('\n', j + 1)) starts.push(j + 1);
    const delta = region.newEnd - region.oldEnd;
    // Starts after the old region: each follows a newline at or after its end.
    while (i < old.length && old[i] <= region.oldEnd) i++;
    for (; i < old.length; i++) starts.push(old[i] + delta);
    (out as unknown as { starts: number[] }).starts = starts;
    return out;
  }

  line(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): { line: number; character: number } {
    const line = this.line(offset);
    return { line, character: offset - this.starts[line] };
  }

  offset(line: number, character: number): number {
    return (this.starts[line] ?? this.starts[this.starts.length - 1]) + character;
  }

  get lineCount(): number {
    return this.starts.length;
  }
}

export function analyzeText(ctx: AnalysisContext, root: SyntaxNode, text: string, callees?: CalleeEffects): FileAnalysis {
  const ir = extractFile(root, text, { interesting: ctx.lowering(text) });
  return analyzeIR(ctx, ir, text, callees);
}

/**
 * Flows and sites of functions analysed before, with the callee outcomes each
 * read (by call): analyzeSource's passes over one file re-analyse every
 * function, and most read the same outcomes as in the pass before.
 */
export type FlowMemo = Map<FunctionIR, { readonly read: ReadonlyMap<CallOp, string>; readonly flow: FunctionFlow; readonly sites: SiteResult[] }>;

const outcomeKey = (outcomes: ReturnType<CalleeEffects['outcomes']>): string => (outcomes === undefined ? '-' : JSON.stringify(outcomes));

export function analyzeIR(ctx: AnalysisContext, ir: FileIR, text: string, callees?: CalleeEffects, memo?: FlowMemo): FileAnalysis {
  const lines = new LineIndex(text);
  // Summaries of this file's own functions apply to calls in this file before
  // any index (a definition in the translation unit is the one called).
  // Functions are analysed in source order, which C style makes callee-first;
  // a caller that came before its callee is analysed once more.
  const local = new Map<string, FunctionSummary>();
  const definedHere = new Set(ir.functions.map((f) => f.name));
  const effects: CalleeEffects = {
    outcomes: (call) => {
      const s = local.get(call.callee);
      if (s) return s.outcomes.length > 0 ? s.outcomes : undefined;
      return definedHere.has(call.callee) ? undefined : callees?.outcomes(call);
    },
    nofail: (call) => {
      const s = local.get(call.callee);
      if (s) return s.nofail ? [s.name, ...s.nofail.via] : undefined;
      return definedHere.has(call.callee) ? undefined : callees?.nofail?.(call);
    },
    mayBlock: (call) => {
      const s = local.get(call.callee);
      if (s) return s.mayBlock ? { via: [s.name, ...s.mayBlock.via].slice(0, MAX_CHAIN), at: s.mayBlock.at } : undefined;
      return definedHere.has(call.callee) ? undefined : callees?.mayBlock?.(call);
    },
  };
  // A summary's "may block" follows this file's functions only (see
  // ownBlocking): what a function of another file may do is applied at the
  // call under a lock (findings), never folded into this file's summaries.
  const summaryEffects: CalleeEffects = {
    ...effects,
    mayBlock: (call) => {
      const s = local.get(call.callee);
      if (s) return ownBlocking(s);
      return definedHere.has(call.callee) ? undefined : callees?.ownMayBlock?.(call);
    },
  };
  const duplicated = new Set(ir.functions.map((f) => f.name).filter((n, i, all) => all.indexOf(n) !== i));
  const results: FunctionResult[] = [];
  const analyse = (fn: FunctionIR): FunctionResult => {
    let flow: FunctionFlow;
    let sites: SiteResult[];
    const before = memo?.get(fn);
    if (before && [...before.read].every(([call, key]) => outcomeKey(effects.outcomes(call)) === key)) ({ flow, sites } = before);
    else {
      // The flow depends on the callees through their outcomes only (the dataflow reads nothing else of them).
      const read = new Map<CallOp, string>();
      const reading: CalleeEffects = memo
        ? {
            ...effects,
            outcomes: (call) => {
              const o = effects.outcomes(call);
              read.set(call, outcomeKey(o));
              return o;
            },
          }
        : effects;
      flow = analyzeFlow(ctx, fn, reading);
      sites = collectSites(ctx, flow, callees?.callers?.(fn.name));
      memo?.set(fn, { read, flow, sites });
    }
    // Names defined twice (#ifdef variants) stay unknown: never guessed.
    if (!duplicated.has(fn.name)) local.set(fn.name, summarize(flow, '', sites, nofailChain(flow, effects)));
    return { fn, flow, sites };
  };
  ir.functions.forEach((fn) => results.push(analyse(fn)));
  const position = new Map(ir.functions.map((f, i) => [f.name, i]));
  ir.functions.forEach((fn, i) => {
    const later = results[i].flow.cfg.nodes.some((n) => {
      if (n.action.kind !== 'op' || n.action.op.kind !== 'call') return false;
      const s = local.get(n.action.op.callee);
      return !!s && (s.outcomes.length > 0 || !!s.nofail) && (position.get(n.action.op.callee) ?? -1) > i;
    });
    if (later) results[i] = analyse(fn);
  });
  // Whether each function may block depends on its callees' answers, and its
  // dataflow does not depend on them, so it is settled here over the final
  // flows: a chain's length only decreases as callees' chains are found, so
  // this converges (recursion included) within the chain bound.
  for (let round = 0; round <= MAX_CHAIN + 1; round++) {
    let changed = false;
    for (const { fn, flow, sites } of results) {
      const s = local.get(fn.name);
      if (!s || duplicated.has(fn.name)) continue;
      const chain = mayBlockChain(flow, sites, summaryEffects);
      if (JSON.stringify(chain) === JSON.stringify(s.mayBlock)) continue;
      local.set(fn.name, withMayBlock(s, chain));
      changed = true;
    }
    if (!changed) break;
  }
  const findings: FindingData[] = [];
  const allSites: SiteResult[] = [];
  for (const { fn, flow, sites } of results) {
    allSites.push(...sites);
    for (const site of sites) findings.push(...site.evaluation.findings);
    findings.push(...scopeFindings(ctx, flow, (o) => lines.line(o), { threadFunction: ir.threadFunctions.has(fn.name) }));
    findings.push(...nofailCallFindings(flow, effects));
    findings.push(...mayBlockCallFindings(ctx, flow, effects));
  }
  findings.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
  return { ir, functions: results, sites: allSites, findings: dedupe(findings), effects: summaryEffects };
}

/**
 * A callee's "may block" as its caller's *summary* may use it: only a callee
 * of the same file, whose summary depends on nothing but this file's text.
 * Folding other files' answers into summaries would make each summary depend
 * on the order the index analysed files in (a file without atomic sections is
 * not analysed again when a callee elsewhere starts to sleep), so an index
 * built incrementally would disagree with one built from nothing. Calls of
 * other files' functions under a lock still use their summaries (one call
 * across files, then that file's own chain).
 */
export function ownBlocking(s: FunctionSummary | undefined): BlockingChain | undefined {
  return s?.mayBlock ? { via: [s.name, ...s.mayBlock.via].slice(0, MAX_CHAIN), at: s.mayBlock.at } : undefined;
}

/** The chain to a __GFP_NOFAIL allocation through the first call of this function that reaches one. */
export function nofailChain(flow: FunctionFlow, effects: CalleeEffects): string[] | undefined {
  for (const node of flow.cfg.nodes) {
    if (node.action.kind !== 'op' || node.action.op.kind !== 'call' || node.action.op.callee === flow.fn.name) continue;
    const chain = effects.nofail?.(node.action.op);
    if (chain) return [...chain].slice(0, 8);
  }
  return undefined;
}

/**
 * gfp/nofail-cannot-reclaim through calls: a call that reaches a __GFP_NOFAIL
 * allocation, made inside a no-reclaim scope (PF_MEMALLOC, or 6.9-6.11's
 * PF_MEMALLOC_NORECLAIM), the concern that got PF_MEMALLOC_NORECLAIM reverted.
 */
export function nofailCallFindings(flow: FunctionFlow, callees: CalleeEffects): FindingData[] {
  const out: FindingData[] = [];
  if (flow.overflow) return out;
  for (const node of flow.cfg.nodes) {
    if (node.action.kind !== 'op' || node.action.op.kind !== 'call') continue;
    const op = node.action.op;
    const chain = callees.nofail?.(op);
    if (!chain) continue;
    const states = flow.inStates[node.id].filter((st) => !st.unknown);
    const inScope = states.filter((st) => ['PF_MEMALLOC', 'PF_MEMALLOC_NORECLAIM'].some((f) => st.pf.get(f)?.v === 'set'));
    if (inScope.length === 0) continue;
    const must = inScope.length === states.length;
    const flag = ['PF_MEMALLOC', 'PF_MEMALLOC_NORECLAIM'].find((f) => inScope[0].pf.get(f)?.v === 'set')!;
    const origin = inScope[0].pf.get(flag)!.by;
    out.push({
      code: 'gfp/nofail-cannot-reclaim',
      severity: must ? 'error' : 'warning',
      message: `${op.callee}() reaches a __GFP_NOFAIL allocation (${chain.join('() -> ')}()) inside a no-reclaim scope${must ? '' : ' on some paths'}: there the allocator cannot reclaim, so NOFAIL WARNs and may return NULL anyway.`,
      span: op.calleeSpan,
      related: origin ? [{ span: origin.span, message: `${origin.name}() opens the no-reclaim scope here` }] : [],
      fixes: [],
    });
  }
  return out;
}

/** The longest call chain a may-block claim keeps (the message names them all). */
export const MAX_CHAIN = 8;

/**
 * Conditions by which a function adapts to its caller's context (it tests
 * whether it may sleep: the gfp mask it was given, in_atomic(), a nowait or
 * RCU-walk flag): whatever it does on the blocking branch, a caller in an
 * atomic section takes the other one, so such a function claims no may-block.
 */
const CONTEXT_TEST = /\b(?:gfpflags_allow_blocking|gfpflags_normal_context|in_atomic|in_interrupt|in_irq|in_hardirq|in_softirq|in_serving_softirq|in_task|in_nmi|irqs_disabled|preemptible|oops_in_progress|__GFP_DIRECT_RECLAIM|__GFP_RECLAIM|GFP_ATOMIC|GFP_NOWAIT|MAY_NOT_BLOCK|LOOKUP_RCU|\w*NOWAIT\w*|\w*NONBLOCK\w*|nonblock\w*|nowait|can_sleep|may_sleep|may_block|can_block|blocking|atomic)\b/;

/** Whether any condition of the function tests its context (CONTEXT_TEST). */
function testsItsContext(fn: FunctionIR): boolean {
  const cond = (c: Condition | undefined) => c !== undefined && CONTEXT_TEST.test(c.key);
  const visit = (st: Stmt): boolean => {
    switch (st.kind) {
      case 'block':
        return st.body.some(visit);
      case 'if':
        return cond(st.cond) || visit(st.then) || (st.else !== undefined && visit(st.else));
      case 'loop':
        return cond(st.cond) || (st.init !== undefined && visit(st.init)) || visit(st.body);
      case 'switch':
        return cond(st.cond) || visit(st.body);
      case 'scoped-guard':
        return visit(st.body);
      default:
        return false;
    }
  };
  return visit(fn.body);
}

/** Every piece of text the IR keeps of a statement tree (arguments, assignments, conditions, return values). */
function irTexts(st: Stmt, out: string[] = []): string[] {
  const ops = (list: readonly Op[]) => {
    for (const op of list) {
      if (op.kind === 'call' || op.kind === 'guard') out.push(...op.args.map((a) => a.text));
      else if (op.kind === 'assign') out.push(op.target, op.value);
      else out.push(op.name);
    }
  };
  const cond = (c: Condition | undefined) => {
    if (!c) return;
    out.push(c.key);
    ops(c.ops);
  };
  switch (st.kind) {
    case 'block':
      st.body.forEach((b) => irTexts(b, out));
      break;
    case 'ops':
    case 'unknown':
      ops(st.ops);
      break;
    case 'return':
      ops(st.ops);
      if (st.value !== undefined) out.push(st.value);
      break;
    case 'if':
      cond(st.cond);
      irTexts(st.then, out);
      if (st.else) irTexts(st.else, out);
      break;
    case 'loop':
      cond(st.cond);
      if (st.init) irTexts(st.init, out);
      ops(st.update);
      irTexts(st.body, out);
      break;
    case 'switch':
      cond(st.cond);
      irTexts(st.body, out);
      break;
    case 'scoped-guard':
      ops([st.guard]);
      irTexts(st.body, out);
      break;
    default:
      break;
  }
  return out;
}

/**
 * The ops of a function that run only as one of its value parameters says:
 * inside a branch of an `if` or `switch` on a parameter the function never
 * dereferences (a flag, a mask, an optional preallocation), or after such an
 * `if` that leaves on one branch. The caller picks the branch: ext4's
 * `__es_alloc_extent(false)` takes GFP_ATOMIC, btrfs passes a preallocated
 * subpage under its spinlock, gfs2_recover_journal(jd, false) does not wait.
 */
function paramGuarded(fn: FunctionIR): Set<Op> {
  let guarded = guardedCache.get(fn);
  if (!guarded) {
    guarded = computeParamGuarded(fn);
    guardedCache.set(fn, guarded);
  }
  return guarded;
}

const guardedCache = new WeakMap<FunctionIR, Set<Op>>();

function computeParamGuarded(fn: FunctionIR): Set<Op> {
  const guarded = new Set<Op>();
  if (fn.params.length === 0) return guarded;
  // A parameter is a value when no text dereferences it (`p->x`, `p[i]`, `*p`; a field of the same name, `ob->p->x`, is not it).
  const dereferenced = new Set<string>();
  for (const text of irTexts(fn.body)) {
    for (const m of text.matchAll(/(->|\.)?\s*\b([A-Za-z_]\w*)(?=\s*(?:->|\[))|\*\s*\(?\s*([A-Za-z_]\w*)/g)) {
      if (m[3] !== undefined) dereferenced.add(m[3]);
      else if (m[1] === undefined) dereferenced.add(m[2]);
    }
  }
  const values = fn.params.filter((p) => /^[A-Za-z_]\w*$/.test(p) && !dereferenced.has(p));
  if (values.length === 0) return guarded;
  // Identifiers only (checked above), so no escaping.
  const readsValue = new RegExp(`(?:^|[^\\w.>])(?:${values.join('|')})\\b(?!\\s*(?:->|\\.|\\[))`);
  const onParam = (c: Condition | undefined) => c !== undefined && !c.config && readsValue.test(c.key);
  const exits = (st: Stmt): boolean => mayExit(st, true);
  const mark = (list: readonly Op[], g: boolean) => {
    if (g) list.forEach((op) => guarded.add(op));
  };
  const visit = (st: Stmt, g: boolean): void => {
    switch (st.kind) {
      case 'block': {
        let inner = g;
        for (const b of st.body) {
          visit(b, inner);
          if (b.kind === 'if' && onParam(b.cond) && exits(b)) inner = true;
        }
        break;
      }
      case 'ops':
      case 'return':
      case 'unknown':
        mark(st.ops, g);
        break;
      case 'if':
        mark(st.cond.ops, g);
        visit(st.then, g || onParam(st.cond));
        if (st.else) visit(st.else, g || onParam(st.cond));
        break;
      case 'switch':
        mark(st.cond.ops, g);
        visit(st.body, g || onParam(st.cond));
        break;
      case 'loop':
        if (st.init) visit(st.init, g);
        if (st.cond) mark(st.cond.ops, g);
        mark(st.update, g);
        visit(st.body, g);
        break;
      case 'scoped-guard':
        mark([st.guard], g);
        visit(st.body, g);
        break;
      default:
        break;
    }
  };
  visit(fn.body, false);
  return guarded;
}

/** `kmalloc(GFP_KERNEL)`, `vmalloc()`: an allocation as a chain's last step. */
function allocationText(site: SiteResult): string {
  const mask = site.input.gfp?.text.replace(/\s+/g, ' ') ?? '';
  return `${site.call.callee}(${mask.length > 40 ? `${mask.slice(0, 37)}...` : mask})`;
}

/**
 * What sleeps at this op, if anything: the op itself (a blocking allocation,
 * a sleeping lock or primitive, a sleeping guard), or a callee that may.
 */
function blockingAt(op: Op, sites: ReadonlyMap<CallOp, SiteResult>, effects: CalleeEffects | undefined, self: string): BlockingChain | undefined {
  if (op.kind === 'guard') return sleepingGuard(op.cls) ? { via: [], at: `guard(${op.cls})` } : undefined;
  if (op.kind !== 'call' || op.callee === '') return undefined;
  const site = sites.get(op);
  if (site) return site.evaluation.mayBlock === 'yes' ? { via: [], at: allocationText(site) } : undefined;
  if (sleepingCall(op.callee) !== undefined) return { via: [], at: `${op.callee}()` };
  if (op.callee === self) return undefined;
  return effects?.mayBlock?.(op);
}

/** A state in which sleeping is the function's own doing: known, no atomic section of its own, no lock of its caller dropped. */
function enteredClean(s: State): boolean {
  return !s.unknown && !s.held.some((h) => h.atomic) && !(s.released && s.released.length > 0);
}

/**
 * Whether the function may sleep when entered with no scope and no lock: the
 * shortest chain to a blocking allocation (a constant sleeping mask, or an
 * allocator that always sleeps), a sleeping lock or primitive, or a callee
 * that may block, reached on a path outside the function's own atomic
 * sections (those sites are reported here) and before it drops a lock its
 * caller holds (it is meant to be called with that lock), and not only on a
 * branch that one of its parameters chooses. Silent when the function could
 * not be followed, tests its context, or says it runs with a lock held.
 */
export function mayBlockChain(flow: FunctionFlow, sites: readonly SiteResult[], effects: CalleeEffects | undefined): BlockingChain | undefined {
  if (flow.overflow || testsItsContext(flow.fn)) return undefined;
  // Called with a lock its caller holds (`__releases(x)`, `__must_hold(x)`):
  // "entered with no lock" is not how it runs, so it claims nothing.
  if (flow.fn.annotations.some((a) => /^__(?:releases|must_hold)\b/.test(a))) return undefined;
  const bySite = new Map(sites.map((s) => [s.call, s]));
  let guarded: Set<Op> | undefined;
  let best: { chain: BlockingChain; at: number } | undefined;
  for (const node of flow.cfg.nodes) {
    if (node.action.kind !== 'op') continue;
    const op = node.action.op;
    const chain = blockingAt(op, bySite, effects, flow.fn.name);
    if (!chain) continue;
    guarded ??= paramGuarded(flow.fn);
    if (guarded.has(op)) continue;
    const at = (op as CallOp | GuardOp).span.start;
    if (best && (best.chain.via.length < chain.via.length || (best.chain.via.length === chain.via.length && best.at < at))) continue;
    if (!flow.inStates[node.id].some(enteredClean)) continue;
    best = { chain: { via: chain.via.slice(0, MAX_CHAIN), at: chain.at }, at };
  }
  return best?.chain;
}

/**
 * gfp/sleep-in-atomic through calls: a call that may sleep (a callee whose
 * summary says so, a sleeping lock or primitive) made while an atomic section
 * is held. Allocator calls are left to their own site's evaluation.
 */
export function mayBlockCallFindings(ctx: AnalysisContext, flow: FunctionFlow, callees: CalleeEffects): FindingData[] {
  const out: FindingData[] = [];
  if (flow.overflow) return out;
  for (const node of flow.cfg.nodes) {
    if (node.action.kind !== 'op') continue;
    const op = node.action.op;
    if (op.kind !== 'call' && op.kind !== 'guard') continue;
    if (op.kind === 'call' && ctx.allocators.lookup(op.callee)) continue;
    const states = flow.inStates[node.id];
    if (states.length === 0 || states.some((st) => st.unknown)) continue;
    const atomic = states.filter((st) => st.held.some((h) => h.atomic));
    if (atomic.length === 0) continue;
    const chain = blockingAt(op, new Map(), callees, '');
    if (!chain) continue;
    const must = atomic.length === states.length;
    const section = [...atomic[0].held].reverse().find((h) => h.atomic)!;
    const held = section.viaCallee ? `${section.kind.replace('_', ' ')} ${section.lock}, taken by ${section.name}(),` : `${section.name}(${section.lock})`;
    const what = op.kind === 'guard' ? `guard(${op.cls})(${op.args[0]?.text ?? ''}) takes a sleeping lock` : chain.via.length === 0 ? `${op.callee}() sleeps` : `${[...chain.via.map((n) => `${n}()`), chain.at].join(' -> ')} may sleep`;
    out.push({
      code: 'gfp/sleep-in-atomic',
      severity: must ? 'error' : 'warning',
      message: `${what}, but ${held} is held${must ? '' : ' on some paths'}: sleeping in atomic context. Make the call outside the atomic section, or give the callee a path that does not sleep.`,
      span: op.kind === 'guard' ? op.span : op.calleeSpan,
      related: [{ span: section.span, message: section.viaCallee ? `${section.name}() takes it here` : `${section.name}() taken here` }],
      fixes: [],
    });
  }
  return out;
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

export function collectSites(ctx: AnalysisContext, flow: FunctionFlow, callers?: CallerContext): SiteResult[] {
  const sites: SiteResult[] = [];
  let guards: ReadonlyMap<number, readonly string[]> | undefined;
  for (const node of flow.cfg.nodes) {
    const ops: readonly Op[] = node.action.kind === 'op' ? [node.action.op] : node.action.kind === 'unknown' ? node.action.ops : [];
    for (const op of ops) {
      if (op.kind !== 'call') continue;
      const match = ctx.allocators.lookup(op.callee);
      if (!match) continue;
      guards ??= scopeGuards(flow);
      const input = siteInput(op, match.def, flow.inStates[node.id], flow.overflow || (node.action.kind === 'unknown' && node.action.opaque), guards, callers);
      if (!input) continue;
      sites.push({ function: flow.fn.name, call: op, input, evaluation: evaluateSite(input, ctx.gfp) });
    }
  }
  sites.sort((a, b) => a.call.span.start - b.call.span.start);
  return sites;
}

/**
 * For each save and direct current->flags write (by the op's start offset):
 * the condition assumptions that every state reaching it makes, i.e. the
 * conditions it runs under. gfp/partial-scope uses them to tell a scope
 * opened under `if (c)` on purpose from one lost on some path.
 */
function scopeGuards(flow: FunctionFlow): Map<number, readonly string[]> {
  const guards = new Map<number, readonly string[]>();
  for (const node of flow.cfg.nodes) {
    if (node.action.kind !== 'op') continue;
    const op = node.action.op;
    const isSave = op.kind === 'call' && flow.saves.has(op.span.start);
    const isWrite = op.kind === 'assign' && op.target === 'current->flags';
    if (!isSave && !isWrite) continue;
    let common: string[] | undefined;
    for (const s of flow.inStates[node.id]) {
      const a = assumptionsOf(s);
      common = common === undefined ? a : common.filter((x) => a.includes(x));
    }
    guards.set(op.span.start, common ?? []);
  }
  return guards;
}

function assumptionsOf(s: State): string[] {
  return [...s.conds].map(([k, v]) => (v ? k : `!${k}`));
}

function siteInput(op: CallOp, def: AllocatorDef, states: readonly State[], contextUnknown: boolean, guards?: ReadonlyMap<number, readonly string[]>, callers?: CallerContext): SiteInput | undefined {
  let gfp: SiteInput['gfp'];
  switch (def.gfp.kind) {
    case 'arg': {
      const arg = op.args[def.gfp.index];
      if (!arg) return undefined; // Not a call of this allocator (a macro of the same name with other arguments).
      gfp = { text: arg.text, span: arg.span };
      break;
    }
    case 'config-arg': {
      const idx = def.gfp.indexes.find((i) => op.args[i] && /\bGFP_|gfp|flags/i.test(op.args[i].text));
      if (idx === undefined) return undefined;
      gfp = { text: op.args[idx].text, span: op.args[idx].span };
      break;
    }
    case 'optional': {
      const arg = op.args[def.gfp.index];
      if (arg) gfp = { text: arg.text, span: arg.span };
      break;
    }
    case 'implicit':
      break;
  }
  return {
    callee: op.callee,
    allocator: def,
    span: op.span,
    calleeSpan: op.calleeSpan,
    ...(gfp ? { gfp } : {}),
    args: op.args,
    states: states.map((s) => pathState(s, guards)),
    contextUnknown,
    ...(op.argsBroken ? { maskUnknown: true } : {}),
    ...(callers ? { callers } : {}),
  };
}

export function pathState(s: State, guards?: ReadonlyMap<number, readonly string[]>): PathState {
  const pf: string[] = [];
  const origins: ScopeOrigin[] = [];
  let unknown = s.unknown;
  for (const [flag, st] of s.pf) {
    if (st.v === 'unknown') unknown = true;
    if (st.v !== 'set') continue;
    pf.push(flag);
    const by = st.by;
    if (by && (by.kind === 'save' || by.kind === 'callee' || by.kind === 'direct' || by.kind === 'assert' || by.kind === 'param')) {
      const guard = by.kind === 'save' || by.kind === 'direct' ? guards?.get(by.span.start) : undefined;
      origins.push({ flag, kind: by.kind, name: by.name, span: by.span, conditional: by.conditional === true, ...(guard ? { guard } : {}) });
    }
  }
  return {
    pf: pf.sort(),
    origins,
    held: s.held.map((h) => ({ kind: h.kind, atomic: h.atomic, name: h.name, lock: h.lock, span: h.span, ...(h.viaCallee ? { viaCallee: true } : {}) })),
    unknown,
    assumptions: assumptionsOf(s),
    ...(s.released && s.released.length > 0 ? { releasedCallers: true } : {}),
  };
}
