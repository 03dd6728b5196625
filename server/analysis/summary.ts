// Function summaries: what a function does to its caller's task state, per
// path to its exit, computed from its own dataflow (which already applied its
// callees' summaries). xfs_trans_alloc() enters NOFS with the cookie in a
// struct field and returns 0 on that path; xfs_trans_commit() leaves it;
// ext4_journal_start()'s scope exists on some paths only; a lock wrapper
// returns with a lock held.

import { B } from '../../shared/model/gfp-flags';
import { hasAll } from '../../shared/model/known-bits';
import type { SiteResult } from './analyze-file';
import { cookieKey, type BlockingChain, type CalleeOutcome, type FunctionFlow, type ReturnKind } from './dataflow';
import { MODELLED_TASK_FLAGS, type State } from './state';


export interface FunctionSummary {
  readonly name: string;
  readonly file: string;
  readonly isStatic: boolean;
  /** Distinct effects on return, one per kind of path; empty when the function changes nothing. */
  readonly outcomes: readonly CalleeOutcome[];
  /** Makes a __GFP_NOFAIL allocation (the callee chain when through calls). */
  readonly nofail?: { readonly via: readonly string[] };
  /**
   * May sleep on some path when entered with no scope and no lock: `at` is the
   * blocking call (`kmalloc(GFP_KERNEL)`, `mutex_lock()`), `via` the callee
   * chain to it when through calls (as for nofail).
   */
  readonly mayBlock?: MayBlock;
  /** The function could not be followed: its effect is unknown (no outcomes are claimed). */
  readonly unknown: boolean;
}

/** What `return X;` returns, as far as the path's facts tell. */
export function returnKind(value: string | undefined, s: State): ReturnKind {
  if (value === undefined) return 'unknown';
  const v = value.replace(/^\((.*)\)$/, '$1').trim();
  if (/^(?:0+[uUlL]*|NULL|false)$/.test(v)) return 'zero';
  if (/^(?:-\s*E[A-Z0-9]+|-?\s*[1-9]\d*[uUlL]*|true)$/.test(v)) return 'nonzero';
  if (/^(?:ERR_PTR|ERR_CAST)\s*\(/.test(v)) return 'err-ptr';
  if (/^PTR_ERR\s*\(/.test(v)) return 'nonzero';
  if (/^[A-Za-z_]\w*$/.test(v)) {
    const isErr = s.conds.get(`IS_ERR(${v})`) ?? s.conds.get(`IS_ERR_OR_NULL(${v})`);
    if (isErr !== undefined) return isErr ? 'err-ptr' : 'ptr';
    const truth = s.conds.get(v) ?? s.conds.get(`${v} != 0`) ?? s.conds.get(`${v} < 0`);
    if (truth !== undefined) return truth ? 'nonzero' : 'zero';
  }
  return 'unknown';
}

/** The outcome of one state at the exit, relative to the function's entry. */
function outcomeOf(s: State, flow: FunctionFlow, returns: ReturnKind, params: readonly string[]): CalleeOutcome {
  const enter: string[] = [];
  const leave: string[] = [];
  let enterKey: string | undefined;
  let leaveKey: string | undefined;
  for (const flag of MODELLED_TASK_FLAGS) {
    const st = s.pf.get(flag);
    if (!st || !st.by) continue;
    if (st.v === 'set') {
      const by = st.by;
      let key: string | undefined;
      if (by.kind === 'save' && by.saveId !== undefined) key = flow.escapedTo.get(by.saveId) ?? `<open in ${flow.fn.name}>`;
      else if (by.kind === 'callee') key = [...s.cookies].find(([, c]) => c.kind === 'cookie' && c.saveId === -1 && c.flags.includes(flag))?.[0];
      else if (by.kind === 'direct') key = '<direct>';
      if (key === undefined) continue;
      enter.push(flag);
      enterKey ??= homeFor(key, params);
    } else if (st.v === 'clear' && st.by.kind === 'restore' && st.by.home) {
      leave.push(flag);
      leaveKey ??= homeFor(st.by.home, params);
    }
  }
  // Locks held at the exit were taken here for the caller; the lock text is
  // rewritten over the parameters so that the caller can substitute its arguments.
  // A lock of the caller's dropped and taken again (`spin_unlock(&s->lock);
  // wait...; spin_lock(&s->lock);`, libiscsi's iscsi_exec_task_mgmt_fn())
  // is held on return as on entry: neither released nor acquired for it.
  let held = s.held.filter((h) => h.guardBlock === undefined);
  let released = s.released ?? [];
  for (const r of s.released ?? []) {
    const i = held.findIndex((h) => h.kind === r.kind && h.lock === r.lock);
    if (i < 0) continue;
    held = [...held.slice(0, i), ...held.slice(i + 1)];
    released = released.filter((x) => x !== r);
  }
  const acquire = held.length > 0 ? { kind: held[held.length - 1].kind, lock: overParams(held[held.length - 1].lock, params) } : undefined;
  const release = released.length > 0 ? released.map((r) => ({ kind: r.kind, lock: overParams(r.lock, params) })) : undefined;
  return {
    ...(enter.length > 0 ? { enter: { flags: enter, key: enterKey! } } : {}),
    ...(leave.length > 0 ? { leave: { flags: leave, key: leaveKey! } } : {}),
    ...(acquire ? { acquire } : {}),
    ...(release ? { release } : {}),
    returns,
  };
}

/** A cookie key of the callee as a home the caller can map: fields stay, parameters become `param:N`. */
function homeFor(key: string, params: readonly string[]): string {
  if (key.startsWith('field:') || key.startsWith('param:') || key === 'return' || key.startsWith('<')) return key;
  const i = params.indexOf(cookieKey(key));
  return i >= 0 ? `param:${i}` : key;
}

function overParams(text: string, params: readonly string[]): string {
  let out = text;
  params.forEach((p, i) => {
    out = out.replace(new RegExp(`\\b${p}\\b`, 'g'), `param:${i}`);
  });
  return out;
}

export type MayBlock = BlockingChain;

export function summarize(flow: FunctionFlow, file: string, sites: readonly SiteResult[], nofailVia?: readonly string[], mayBlock?: MayBlock): FunctionSummary {
  const fn = flow.fn;
  const base = { name: fn.name, file, isStatic: fn.isStatic };
  const directNofail = sites.some((s) => hasAll(s.evaluation.requested, B.NOFAIL) === 'yes');
  const nofail = directNofail ? { via: [] } : nofailVia ? { via: nofailVia } : undefined;
  if (flow.overflow) return { ...base, outcomes: [], unknown: true, ...(nofail ? { nofail } : {}) }; // no may-block claim either
  const seen = new Map<string, CalleeOutcome>();
  let unknown = false;
  const add = (s: State, returns: ReturnKind) => {
    if (s.unknown) {
      unknown = true;
      return;
    }
    const o = outcomeOf(s, flow, returns, fn.params);
    seen.set(JSON.stringify(o), o);
  };
  const valued = flow.cfg.nodes.some((n) => n.action.kind === 'return' && n.action.value !== undefined);
  if (valued) {
    // A `return X` does not change the state, so the states arriving at it are
    // the states on return, and X tells the caller which path it was.
    for (const node of flow.cfg.nodes) {
      if (node.action.kind !== 'return') continue;
      const value = node.action.value;
      for (const s of flow.inStates[node.id]) add(s, returnKind(value, s));
    }
  } else {
    // A void function: the exit's own states, whatever way they got there.
    for (const s of flow.inStates[flow.cfg.exit]) add(s, 'unknown');
  }
  let outcomes = [...seen.values()];
  // A lock held on some return paths only is a guess about the caller's state;
  // a summary carries a held lock only when every path holds it, or when the
  // function says so (`__acquires(...)`).
  const declaresAcquire = fn.annotations.some((a) => a.startsWith('__acquires'));
  if (!declaresAcquire) {
    const locks = new Set(outcomes.map((o) => JSON.stringify(o.acquire ?? null)));
    // A section with no lock object (irqs or preemption off, an RCU read
    // side) left open on return is rarely a wrapper's contract and often a
    // hand-over the analysis cannot follow: __schedule() disables irqs and
    // the next task's finish_task_switch() enables them. Carried only when
    // the function says so.
    const lockless = outcomes.some((o) => o.acquire !== undefined && o.acquire.lock === '');
    if (locks.size > 1 || locks.has('null') || lockless) outcomes = outcomes.map(({ acquire: _dropped, ...rest }) => rest);
  }
  // Likewise for an unlock wrapper: it releases the caller's lock on every path, or says so.
  const declaresRelease = fn.annotations.some((a) => a.startsWith('__releases'));
  if (!declaresRelease) {
    const locks = new Set(outcomes.map((o) => JSON.stringify(o.release ?? null)));
    if (locks.size > 1 || locks.has('null')) outcomes = outcomes.map(({ release: _dropped, ...rest }) => rest);
  } else {
    // It says it releases them all: each path releases every lock some path
    // does (mthca_unlock_cqs() unlocks one lock when both CQs are the same, two
    // otherwise, and the caller cannot tell which its lock wrapper took).
    const all = new Map(outcomes.flatMap((o) => o.release ?? []).map((r) => [`${r.kind}:${r.lock}`, r]));
    if (all.size > 0) outcomes = outcomes.map((o) => ({ ...o, release: [...all.values()] }));
  }
  const distinct = new Map(outcomes.map((o) => [JSON.stringify(o), o]));
  outcomes = [...distinct.values()];
  // A function that changes nothing on every path needs no outcomes at all.
  const effectful = outcomes.some((o) => o.enter || o.leave || o.acquire || o.release);
  return withMayBlock({ ...base, outcomes: unknown ? [] : effectful ? outcomes : [], unknown, ...(nofail ? { nofail } : {}) }, mayBlock);
}

/**
 * The summary with another may-block claim, as a literal of fixed shape: the
 * fields in summarize()'s order, the claim last, so that JSON comparisons
 * hold; not built by spreading, since V8 gives each object built that way a
 * hidden class of its own, a few hundred bytes per summary, kept for every
 * function of an open document.
 */
export function withMayBlock(s: FunctionSummary, mayBlock: MayBlock | undefined): FunctionSummary {
  const out: { -readonly [K in keyof FunctionSummary]: FunctionSummary[K] } = { name: s.name, file: s.file, isStatic: s.isStatic, outcomes: s.outcomes, unknown: s.unknown };
  if (s.nofail) out.nofail = s.nofail;
  if (mayBlock) out.mayBlock = mayBlock;
  return out;
}
