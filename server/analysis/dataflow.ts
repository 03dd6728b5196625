// Forward, path-sensitive dataflow of the task state (state.ts) over a
// function's CFG. Every op is interpreted against the model: scope saves and
// restores with the version's cookie semantics, direct current->flags writes,
// locks and atomic sections, cleanup guards, transactions, and callee effects
// (the transaction table now; function summaries plug in through
// CalleeEffects). Sets of states are kept per node up to a bound; beyond it the
// function is reported as too complex and its sites as unknown.

import type { CallerContext } from '../../shared/evaluate';
import { lockOp, GUARD_CLASSES, isAtomicKind, type SectionKind } from '../../shared/model/locks';
import { ASSERTION_MACROS, cookieSemantics, pfFlag, scopeApiByRestore, scopeApiBySave, type CookieSemantics } from '../../shared/model/scopes';
import { startFailure, type TransactionDef } from '../../shared/model/transactions';
import { sleepingCall, sleepingGuard } from '../../shared/model/sleeping';
import type { AssignOp, CallOp, Condition, FunctionIR, GuardOp, Op, Span, Stmt } from '../syntax/ir';
import type { AnalysisContext } from './context';
import { buildCfg, mayExit, type Cfg, type CfgNode } from './cfg';
import { transactionParam } from '../../shared/model/transactions';
import { ENTRY_STATE, flagValue, mergeConds, MODELLED_TASK_FLAGS, taskKey, withConds, withCookie, withFlag, type BitVal, type Cookie, type Held, type Origin, type State } from './state';

/** More distinct states than this at one point: the function is too complex to follow. */
const MAX_STATES = 48;
/** Nested holds or open saves beyond this (a lock taken in a loop): unknown. */
const MAX_DEPTH = 8;

/** What a callee does to the task state on return, per alternative path. */
/**
 * What a callee returns on a path: the caller's `if (error)` or
 * `if (IS_ERR(handle))` then tells its success path (scope entered) from its
 * error path (nothing entered).
 */
export type ReturnKind = 'zero' | 'nonzero' | 'err-ptr' | 'ptr' | 'unknown';

/**
 * What a callee does to the task state on return, per alternative path.
 * Keys are cookie homes: `field:t_pflags` (a struct field, whatever the
 * struct), `return` (the return value), `param:N` (the N-th argument, or what
 * it points to), or a name private to the model (`<xfs-transaction>`).
 */
export interface CalleeOutcome {
  readonly enter?: { readonly flags: readonly string[]; readonly key: string };
  readonly leave?: { readonly flags: readonly string[]; readonly key: string };
  readonly acquire?: { readonly kind: SectionKind; readonly lock: string };
  /** Locks of the caller it releases, in order (ceph's handle_cap_grant() drops a spinlock, a rwsem and a mutex). */
  readonly release?: ReadonlyArray<{ readonly kind: SectionKind; readonly lock: string }>;
  readonly returns?: ReturnKind;
}

export interface CalleeEffects {
  /** Alternatives for this call (one per distinct outcome), or undefined when the callee is unknown. */
  outcomes(call: CallOp): readonly CalleeOutcome[] | undefined;
  /** The call chain to a __GFP_NOFAIL allocation that this call reaches, if any. */
  nofail?(call: CallOp): readonly string[] | undefined;
  /** The contexts at the call sites of a function of this file, when the workspace index followed them. */
  callers?(fn: string): CallerContext | undefined;
  /** Where this call may sleep, if it may: the callee and the functions below it, and the blocking call. */
  mayBlock?(call: CallOp): BlockingChain | undefined;
  /** mayBlock() for a callee defined in the calling file only (what that file's summaries may fold in: ownBlocking()). */
  ownMayBlock?(call: CallOp): BlockingChain | undefined;
}

/**
 * A chain to a call that may sleep: `via` the functions called on the way
 * (none when the blocking call is in the function itself), `at` the blocking
 * call as a reader would write it (`kmalloc(GFP_KERNEL)`, `mutex_lock()`).
 */
export interface BlockingChain {
  readonly via: readonly string[];
  readonly at: string;
}

export interface SaveInfo {
  readonly id: number;
  readonly call: CallOp;
  readonly api: string;
  readonly flags: readonly string[];
}

export interface FunctionFlow {
  readonly fn: FunctionIR;
  readonly cfg: Cfg;
  /** The state bound or iteration bound was hit: nothing about this function is certain. */
  readonly overflow: boolean;
  /** States arriving at each node after the fixed point (cleanup guards already ended). */
  readonly inStates: ReadonlyArray<readonly State[]>;
  readonly saves: ReadonlyMap<number, SaveInfo>;
  /** Saves whose cookie left the function (struct field, return, argument, global). */
  readonly escaped: ReadonlySet<number>;
  /** The home each escaped cookie went to. */
  readonly escapedTo: ReadonlyMap<number, string>;
  readonly semantics: CookieSemantics;
}

const IDENT = /^[A-Za-z_]\w*$/;

/** The tests of a returned value that summaries and callers correlate on. */
const RETURN_TEST = /^(?:[A-Za-z_]\w*|IS_ERR(?:_OR_NULL)?\(\s*[A-Za-z_]\w*\s*\)|[A-Za-z_]\w*\s*(?:<|!=|==)\s*0)$/;

export class FunctionInterpreter {
  private readonly ctx: AnalysisContext;
  private readonly fn: FunctionIR;
  private readonly callees: CalleeEffects | undefined;
  private readonly semantics: CookieSemantics;
  readonly saves = new Map<number, SaveInfo>();
  readonly escaped = new Set<number>();
  /** Where each escaped cookie went: a cookie home (see CalleeOutcome). */
  readonly escapedTo = new Map<number, string>();
  /** Calls that are an if/while condition by themselves: trylocks act on the branch edges. */
  private readonly conditionCalls = new Set<CallOp>();
  /** Every call inside a condition (whose value the branch reads). */
  private readonly conditionOps = new Set<CallOp>();
  /** Variables that hold the result of a transaction start that can fail: tests of them tell its success path. */
  private readonly startResults = new Set<string>();
  private guardBlocks: ReadonlyMap<GuardOp, number> = new Map();
  /** The node being interpreted (for locks retaken inside a guard's block). */
  private node: CfgNode | undefined;
  /** Identifiers each assumed condition reads, by condition key. */
  private readonly condVars = new Map<string, readonly string[]>();
  /**
   * Conditions worth assuming: those of branches and loops that contain a
   * task-state operation. Correlating any other condition cannot change a
   * task state, only multiply work.
   */
  private relevantConds = new Set<string>();

  constructor(ctx: AnalysisContext, fn: FunctionIR, callees?: CalleeEffects) {
    this.ctx = ctx;
    this.fn = fn;
    this.callees = callees;
    this.semantics = cookieSemantics(ctx.version);
  }

  run(): FunctionFlow {
    const cfg = buildCfg(this.fn);
    this.guardBlocks = cfg.guardBlocks;
    const scan = this.scanTaskOps(this.fn.body);
    this.relevantConds = scan.relevant;
    const entries = entryStates(this.fn);
    if (!scan.any) {
      // Nothing in the function changes the task state: every point sees the entry states.
      return {
        fn: this.fn,
        cfg,
        overflow: false,
        inStates: cfg.nodes.map(() => entries),
        saves: this.saves,
        escaped: this.escaped,
        escapedTo: this.escapedTo,
        semantics: this.semantics,
      };
    }
    for (const node of cfg.nodes) {
      if (node.action.kind !== 'assume') continue;
      const { cond } = node.action;
      for (const op of cond.ops) {
        if (op.kind !== 'call') continue;
        this.conditionOps.add(op);
        if (op.span.start === cond.innerSpan.start && op.span.end === cond.innerSpan.end) this.conditionCalls.add(op);
      }
    }
    // Each node keeps its states by task key; only states that are new, or whose
    // condition assumptions shrank on merge, are propagated again (delta
    // propagation), so long functions do not re-send every state on every visit.
    const inMaps: Array<Map<string, State>> = cfg.nodes.map(() => new Map());
    const pending: State[][] = cfg.nodes.map(() => []);
    for (const e of entries) {
      inMaps[cfg.entry].set(taskKey(e), e);
      pending[cfg.entry].push(e);
    }
    const work: number[] = [cfg.entry];
    const queued = new Set<number>(work);
    let overflow = false;
    let budget = cfg.nodes.length * 64 + 1000;
    while (work.length > 0 && !overflow) {
      if (--budget < 0) {
        overflow = true;
        break;
      }
      const id = work.pop()!;
      queued.delete(id);
      const node = cfg.nodes[id];
      const batch = pending[id];
      pending[id] = [];
      for (const state of batch) {
        for (const out of this.transfer(node, state)) {
          for (const succ of node.succ) {
            const arriving = this.enter(cfg.nodes[succ], out);
            const key = taskKey(arriving);
            const map = inMaps[succ];
            const existing = map.get(key);
            let stored: State | undefined;
            if (!existing) {
              stored = arriving;
            } else {
              const merged = mergeConds(existing, arriving);
              if (merged !== existing) stored = merged;
            }
            if (!stored) continue;
            map.set(key, stored);
            if (map.size > MAX_STATES) overflow = true;
            pending[succ].push(stored);
            if (!queued.has(succ)) {
              queued.add(succ);
              work.push(succ);
            }
          }
        }
      }
    }
    return {
      fn: this.fn,
      cfg,
      overflow,
      inStates: inMaps.map((m) => [...m.values()]),
      saves: this.saves,
      escaped: this.escaped,
      escapedTo: this.escapedTo,
      semantics: this.semantics,
    };
  }

  /** A state entering a node: cleanup guards whose block the node is outside of have ended. */
  private enter(node: CfgNode, s: State): State {
    if (!s.held.some((h) => h.guardBlock !== undefined)) return s;
    const held = s.held.filter((h) => h.guardBlock === undefined || node.blocks.includes(h.guardBlock));
    return held.length === s.held.length ? s : { ...s, held };
  }

  transfer(node: CfgNode, s: State): State[] {
    this.node = node;
    const a = node.action;
    switch (a.kind) {
      case 'entry':
      case 'exit':
      case 'nop':
        return [s];
      case 'return':
        if (a.value !== undefined) this.noteEscape(s, a.value, 'return');
        return [s];
      case 'lost':
        return [{ ...s, unknown: true }];
      case 'assume':
        return this.assume(s, a.cond, a.value);
      case 'unknown': {
        let states = [s];
        let touchesTask = a.opaque;
        for (const op of a.ops) {
          if (op.kind === 'call' && this.affectsTask(op)) touchesTask = true;
        }
        if (touchesTask) return [{ ...s, unknown: true }];
        for (const op of a.ops) states = states.flatMap((x) => this.op(x, op));
        return states;
      }
      case 'op':
        return this.op(s, a.op);
    }
  }

  /**
   * Whether anything in `stmt` can change the task state (scopes, task flags,
   * locks, guards, transactions, callees with effects, opaque regions), and
   * which conditions guard such things.
   */
  private scanTaskOps(stmt: Stmt): { any: boolean; relevant: Set<string> } {
    const relevant = new Set<string>();
    // Sleeping calls change no task state, but the conditions that guard them
    // correlate with those that guard an atomic section (`if (!atomic)
    // cond_resched()` after `if (atomic) preempt_disable()`), so in a function
    // that enters one they are relevant too (elsewhere they only cost states).
    // Only the model's sleeping calls: callees that may block are known only
    // once every flow of the file is done (analyzeIR), and the flow must not
    // depend on them.
    let sleepy = false;
    let atomic = false;
    const sleepGuards = new Set<string>();
    const sleeps = (op: Op): boolean => (op.kind === 'call' && sleepingCall(op.callee) !== undefined) || (op.kind === 'guard' && sleepingGuard(op.cls));
    const entersAtomic = (op: Op): boolean => {
      if (op.kind === 'guard') return GUARD_CLASSES[op.cls] !== undefined && isAtomicKind(GUARD_CLASSES[op.cls]);
      if (op.kind !== 'call') return false;
      const lock = lockOp(op.callee);
      if (lock) return isAtomicKind(lock.kind) && lock.op !== 'release';
      return this.callees?.outcomes(op)?.some((o) => o.acquire !== undefined && isAtomicKind(o.acquire.kind)) ?? false;
    };
    const opTouches = (op: Op): boolean => {
      switch (op.kind) {
        case 'call':
          if (op.result?.kind === 'assign' && IDENT.test(op.result.target)) {
            const tx = this.ctx.transactions.lookup(op.callee);
            if (tx?.role === 'start' && tx.def.scope !== 'none' && startFailure(tx.def, op.callee)) this.startResults.add(op.result.target);
          }
          return this.affectsTask(op) || assertedFlags(op) !== undefined || (this.callees?.outcomes(op)?.some((o) => o.enter || o.leave || o.acquire || o.release) ?? false);
        case 'assign':
          return op.target === 'current->flags';
        case 'guard':
          return true;
        case 'address':
          return false;
      }
    };
    // Every op is looked at (no short cut), so that each start's result variable is noted.
    const touches = (ops: readonly Op[]): boolean => ops.map(opTouches).some(Boolean);
    const exits = (st: Stmt): boolean => mayExit(st);
    const visit = (st: Stmt): boolean => {
      switch (st.kind) {
        case 'block':
          return st.body.map(visit).some(Boolean);
        case 'ops':
        case 'return':
          if (st.ops.some(sleeps)) sleepy = true;
          if (!atomic && st.ops.some(entersAtomic)) atomic = true;
          return touches(st.ops);
        case 'unknown':
          return st.opaque || touches(st.ops);
        case 'scoped-guard':
          if (entersAtomic(st.guard)) atomic = true;
          visit(st.body);
          return true;
        case 'if': {
          const inCond = touches(st.cond.ops);
          if (!atomic && st.cond.ops.some(entersAtomic)) atomic = true;
          const before = sleepy;
          sleepy = false;
          const inThen = visit(st.then);
          const inElse = st.else ? visit(st.else) : false;
          const guardsSleep = sleepy;
          sleepy ||= before;
          // Conditions that guard task-state code correlate; so do return-value
          // tests that guard an exit (`if (error) goto out;`, `if (IS_ERR(h))`),
          // which tell a summary's success path from its error path.
          const guardsExit = RETURN_TEST.test(st.cond.key) && (exits(st.then) || (st.else !== undefined && exits(st.else)));
          // A test of a transaction start's result tells the path where its scope is open.
          const testsStart = RETURN_TEST.test(st.cond.key) && st.cond.vars.some((v) => this.startResults.has(v));
          const into = inThen || inElse || guardsExit || testsStart ? relevant : guardsSleep ? sleepGuards : undefined;
          if (into) {
            into.add(st.cond.key);
            for (const t of st.cond.junction?.terms ?? []) into.add(t.key);
          }
          return inCond || inThen || inElse;
        }
        case 'loop': {
          const inInit = st.init ? visit(st.init) : false;
          const inCond = st.cond ? touches(st.cond.ops) : false;
          const inBody = visit(st.body);
          const inUpdate = touches(st.update);
          if (st.cond && (inBody || inUpdate)) relevant.add(st.cond.key);
          return inInit || inCond || inBody || inUpdate;
        }
        case 'switch':
          return touches(st.cond.ops) || visit(st.body);
        default:
          return false;
      }
    };
    const any = visit(stmt);
    if (atomic) for (const k of sleepGuards) relevant.add(k);
    return { any, relevant };
  }

  /** Whether a call changes scopes or locks (in an ERROR region, that makes what follows unknown). */
  private affectsTask(op: CallOp): boolean {
    const v = this.ctx.version;
    return (
      scopeApiBySave(op.callee, v) !== undefined ||
      scopeApiByRestore(op.callee, v) !== undefined ||
      lockOp(op.callee) !== undefined ||
      this.ctx.transactions.lookup(op.callee) !== undefined ||
      /^current_(?:set|restore)_flags/.test(op.callee)
    );
  }

  private assume(s: State, cond: Condition, value: boolean): State[] {
    let states = [s];
    for (const op of cond.ops) {
      if (op.kind !== 'call' || !this.conditionCalls.has(op)) continue;
      const truth = value !== cond.negated; // the call's own value is non-zero
      // A trylock that is the whole condition: it holds the lock on one edge only.
      const def = lockOp(op.callee);
      if (def && (def.op === 'try' || def.op === 'acquire-on-zero')) {
        const acquired = def.op === 'try' ? truth : !truth;
        if (acquired) states = states.map((x) => this.acquire(x, def.kind, lockText(op, def.lockArg), op.callee, op.span));
      }
      // `if (xfs_trans_alloc(...))`: the start failed on the true edge, entered its scope on the other.
      const tx = this.ctx.transactions.lookup(op.callee);
      if (tx?.role === 'start' && this.startDeferred(tx.def, op)) states = states.flatMap((x) => this.transaction(x, op, 'start', tx.def, truth ? 'failed' : 'succeeded'));
      // `if (WARN_ON(!(current->flags & PF_X)))`: PF_X holds on the edge where the assertion did not fire.
      const asserted = assertedFlags(op);
      if (asserted && !truth) states = states.flatMap((x) => this.assertFlags(x, op, asserted));
    }
    return states.flatMap((state) => this.assumeCond(state, cond, value));
  }

  private assumeCond(state: State, cond: Condition, value: boolean): State[] {
    if (!cond.stable || cond.key === '' || !this.relevantConds.has(cond.key)) return [state];
    if (!cond.config) this.condVars.set(cond.key, cond.vars);
    const truth = value !== cond.negated;
    const known = state.conds.get(cond.key);
    if (known !== undefined) return known === truth ? [state] : [];
    const conds = new Map(state.conds);
    conds.set(cond.key, truth);
    if (cond.junction && !this.applyJunction(conds, cond.junction, truth, cond.vars)) return [];
    return [withConds(state, conds)];
  }

  /**
   * What `a && b` (or `a || b`) being `truth` says about its terms: false when
   * a known term contradicts it (the branch is infeasible); otherwise records
   * the terms it decides. Only terms that guard task-state code are recorded.
   */
  private applyJunction(conds: Map<string, boolean>, j: NonNullable<Condition['junction']>, truth: boolean, vars: readonly string[]): boolean {
    const values = j.terms.map((t) => {
      const k = conds.get(t.key);
      return k === undefined ? undefined : k !== t.negated;
    });
    // For &&, `truth` forces every term when true; for ||, when false.
    const forcing = j.op === '&&' ? truth : !truth;
    const termValue = j.op === '&&'; // the value each term must have when forced
    if (forcing) {
      if (values.some((v) => v !== undefined && v !== termValue)) return false;
      j.terms.forEach((t) => this.recordTerm(conds, t, termValue, vars));
      return true;
    }
    // Not forcing: at least one term has the other value.
    if (values.every((v) => v === termValue)) return false;
    const open = values.map((v, i) => (v === undefined ? i : -1)).filter((i) => i >= 0);
    if (open.length === 1 && values.every((v) => v === undefined || v === termValue)) this.recordTerm(conds, j.terms[open[0]], !termValue, vars);
    return true;
  }

  private recordTerm(conds: Map<string, boolean>, term: { key: string; negated: boolean }, value: boolean, vars: readonly string[]): void {
    if (!this.relevantConds.has(term.key)) return;
    if (!this.condVars.has(term.key)) this.condVars.set(term.key, IDENT.test(term.key) ? [term.key] : vars);
    conds.set(term.key, value !== term.negated);
  }

  private op(s: State, op: Op): State[] {
    switch (op.kind) {
      case 'address':
        // A snapshot's address goes to current_{set,restore}_flags_nested(&sp, f),
        // which fill or read it (the call itself models that): keep it.
        if (s.cookies.get(op.name)?.kind === 'snapshot') return [this.invalidate(s, op.name)];
        // `helper(&flags)`: a save's cookie whose address is taken is passed on.
        this.noteEscape(s, op.name, 'argument');
        return [this.invalidate(withCookie(s, op.name, undefined), op.name)];
      case 'guard': {
        const kind = GUARD_CLASSES[op.cls];
        if (!kind) return [s];
        const guardBlock = this.guardBlockOf(op);
        const held: Held = { kind, atomic: isAtomicKind(kind), lock: op.args[0]?.text ?? '', name: `guard(${op.cls})`, span: op.span, guard: op, ...(guardBlock !== undefined ? { guardBlock } : {}) };
        return [this.push(s, held)];
      }
      case 'assign':
        return [this.assign(s, op)];
      case 'call':
        return this.call(s, op);
    }
  }

  private guardBlockOf(op: GuardOp): number | undefined {
    return this.guardBlocks.get(op);
  }

  // ---- calls --------------------------------------------------------------

  private call(s: State, op: CallOp): State[] {
    const v = this.ctx.version;
    // Cookies passed to other functions escape.
    if (!scopeApiByRestore(op.callee, v)) {
      for (const arg of op.args) this.noteEscape(s, arg.text, 'argument');
    }
    const save = scopeApiBySave(op.callee, v);
    if (save) return [this.save(s, op, save.save, save.flags.length > 0 ? save.flags : pfNames(op.args[0]?.text ?? ''))];
    // `c = foo();` ends the correlations that read c, and c holds no cookie any more.
    if (op.result?.kind === 'assign') s = this.invalidate(withCookie(s, op.result.target, undefined), op.result.target);
    const restore = scopeApiByRestore(op.callee, v);
    if (restore) return [this.restore(s, op, restore.flags)];
    if (op.callee === 'current_restore_flags' || op.callee === 'current_restore_flags_nested') return [this.restoreSnapshot(s, op)];
    if (op.callee === 'current_set_flags_nested') return [this.setNested(s, op)];
    const lock = lockOp(op.callee);
    if (lock) {
      if (this.conditionCalls.has(op)) return [s];
      switch (lock.op) {
        case 'acquire':
          return [this.acquire(s, lock.kind, lockText(op, lock.lockArg), op.callee, op.span)];
        case 'acquire-on-zero':
          // Used as a value (`ret = mutex_lock_killable(&m)`): assume it succeeded.
          return [this.acquire(s, lock.kind, lockText(op, lock.lockArg), op.callee, op.span)];
        case 'try':
          // A trylock whose result is stored: which path holds the lock is not known; hold nothing.
          return [s];
        case 'release':
          return [this.release(s, lock.kind, lockText(op, lock.lockArg))];
      }
    }
    const asserted = assertedFlags(op);
    if (asserted) {
      // As a whole condition it acts on the branch edges (assume); inside a
      // larger condition, or with its value kept, the code handles the case
      // where it fires: nothing is assumed.
      if (this.conditionOps.has(op) || op.conditional || op.result) return [s];
      return this.assertFlags(s, op, asserted);
    }
    const trans = this.ctx.transactions.lookup(op.callee);
    if (trans) {
      if (trans.role === 'start' && this.startDeferred(trans.def, op)) return [s];
      return this.transaction(s, op, trans.role, trans.def);
    }
    const outcomes = this.callees?.outcomes(op);
    if (outcomes && outcomes.length > 0) {
      // An outcome is conditional when another one returns the same kind of
      // value with a different effect: the caller cannot tell them apart.
      const effect = (o: CalleeOutcome) => JSON.stringify([o.enter, o.leave, o.acquire, o.release]);
      return outcomes.flatMap((o) => {
        const conditional = outcomes.some((p) => p !== o && (p.returns ?? 'unknown') === (o.returns ?? 'unknown') && effect(p) !== effect(o));
        return this.returnFacts(this.applyOutcome(s, op, o, conditional), op, o.returns);
      });
    }
    return [s];
  }

  /**
   * `error = f(...)`: on the outcome where f returns 0, `error` is false, so a
   * later `if (error)` follows that outcome only. Records what the return kind
   * says about the usual tests of the result; none when it contradicts a fact
   * already known (the outcome is infeasible).
   */
  private returnFacts(s: State, op: CallOp, returns: ReturnKind | undefined): State[] {
    if (!returns || returns === 'unknown' || op.result?.kind !== 'assign') return [s];
    const t = op.result.target;
    const facts: Array<[string, boolean]> = [];
    if (returns === 'zero' || returns === 'nonzero') {
      const nonzero = returns === 'nonzero';
      facts.push([t, nonzero], [`${t} != 0`, nonzero], [`${t} < 0`, nonzero], [`${t} == 0`, !nonzero]);
    } else {
      const err = returns === 'err-ptr';
      facts.push([`IS_ERR(${t})`, err], [`IS_ERR_OR_NULL(${t})`, err], [t, true]);
    }
    let conds: Map<string, boolean> | undefined;
    for (const [key, value] of facts) {
      if (!this.relevantConds.has(key)) continue;
      const known = s.conds.get(key);
      if (known !== undefined && known !== value) return [];
      conds ??= new Map(s.conds);
      conds.set(key, value);
      if (!this.condVars.has(key)) this.condVars.set(key, [t]);
    }
    return [conds ? withConds(s, conds) : s];
  }

  private save(s: State, op: CallOp, api: string, flags: readonly string[]): State {
    const id = op.span.start;
    this.saves.set(id, { id, call: op, api, flags });
    const old: Record<string, BitVal> = {};
    const outer: Record<string, Origin> = {};
    let state = s;
    const by: Origin = { kind: 'save', span: op.span, name: api, saveId: id };
    for (const f of flags) {
      old[f] = flagValue(s, f).v;
      state = this.enterFlag(state, f, by, outer);
    }
    if (state.open.length >= MAX_DEPTH) return { ...state, unknown: true };
    state = { ...state, open: [...state.open, id] };
    const cookie: Cookie = { kind: 'cookie', saveId: id, api, flags, old, ...(Object.keys(outer).length > 0 ? { outer } : {}) };
    const res = op.result;
    if (!res) return state;
    if (res.kind === 'assign') {
      const key = cookieKey(res.target);
      if (!this.isLocalName(res.target)) this.escape(id, this.homeOf(res.target));
      return this.invalidate(withCookie(state, key, cookie), res.target);
    }
    this.escape(id, res.kind === 'return' ? 'return' : 'argument');
    return state;
  }

  private escape(saveId: number, home: string): void {
    this.escaped.add(saveId);
    if (!this.escapedTo.has(saveId)) this.escapedTo.set(saveId, home);
  }

  /** The cookie home of an lvalue outside the function: a struct field, a parameter's pointee, or a global. */
  homeOf(target: string): string {
    const key = cookieKey(target);
    if (key.startsWith('field:')) return key;
    const param = this.fn.params.indexOf(target.replace(/^\*\s*/, '').replace(/^\(\s*\*\s*(\w+)\s*\)$/, '$1'));
    if (param >= 0) return `param:${param}`;
    return `global:${key}`;
  }

  /**
   * memalloc_*_restore(cookie). `apiFlags` are the restore function's own bits
   * (empty for memalloc_flags_restore), which matter before 6.9 only.
   */
  private restore(s: State, op: CallOp, apiFlags: readonly string[]): State {
    const arg = cookieKey(op.args[0]?.text ?? '');
    const cookie = s.cookies.get(arg);
    let state = s;
    const by: Origin = { kind: 'restore', span: op.span, name: op.callee };
    if (cookie?.kind === 'cookie') {
      if (this.semantics === 'clear-new') {
        // Clears the bits the save newly set (mm.h:331-341).
        for (const f of cookie.flags) {
          const old = cookie.old[f];
          if (old === 'clear') state = withFlag(state, f, { v: 'clear', by });
          else if (old === 'entry' || old === 'unknown') state = withFlag(state, f, flagValue(state, f).v === 'clear' ? flagValue(state, f) : { v: old });
          else state = this.leaveFlag(state, f, cookie);
        }
      } else {
        // Before 6.9: the restore's own bit takes the cookie's value.
        const own = apiFlags.length > 0 ? apiFlags : cookie.flags;
        for (const f of own) {
          const old = cookie.flags.includes(f) ? cookie.old[f] : 'clear';
          const outer = cookie.outer?.[f];
          state = withFlag(state, f, old === 'clear' ? { v: 'clear', by } : old === 'set' ? outer ? { v: 'set', by: outer } : flagValue(s, f).v === 'set' ? flagValue(s, f) : { v: 'set', by } : { v: old });
        }
      }
      const idx = state.open.lastIndexOf(cookie.saveId);
      if (idx >= 0) state = { ...state, open: [...state.open.slice(0, idx), ...state.open.slice(idx + 1)] };
      return state;
    }
    if (cookie?.kind === 'const' || /^\d+[uUlL]*$/.test(arg)) {
      const value = cookie?.kind === 'const' ? cookie.value : arg;
      if (this.semantics === 'assign' && Number.parseInt(value, 10) === 0) {
        for (const f of apiFlags) state = withFlag(state, f, { v: 'clear', by });
      }
      return state;
    }
    // A cookie saved elsewhere (tp->t_pflags, a parameter): this function leaves a scope its caller entered.
    const leaving: Origin = { ...by, home: this.homeOf(op.args[0]?.text ?? '') };
    for (const f of apiFlags) {
      const cur = flagValue(state, f);
      if (!(cur.v === 'set' && cur.by?.kind === 'save')) state = withFlag(state, f, { v: 'clear', by: leaving });
    }
    return state;
  }

  /** current_restore_flags(orig, flags): each bit of `flags` takes its value in the snapshot. */
  private restoreSnapshot(s: State, op: CallOp): State {
    const flags = pfNames(op.args[1]?.text ?? '');
    const snap = s.cookies.get(cookieKey(op.args[0]?.text ?? ''));
    let state = s;
    for (const f of flags) {
      if (snap?.kind === 'snapshot') state = withFlag(state, f, snap.old[f] === 'clear' ? { v: 'clear', by: { kind: 'restore', span: op.span, name: op.callee } } : { v: snap.old[f] ?? 'entry' });
      else state = withFlag(state, f, { v: 'unknown' });
    }
    return state;
  }

  /** xfs's current_set_flags_nested(&sp, flags): snapshot current->flags into sp, then set flags. */
  private setNested(s: State, op: CallOp): State {
    const flags = pfNames(op.args[1]?.text ?? '');
    let state = withCookie(s, cookieKey(op.args[0]?.text ?? ''), { kind: 'snapshot', old: this.snapshot(s) });
    for (const f of flags) state = withFlag(state, f, { v: 'set', by: { kind: 'direct', span: op.span, name: op.callee } });
    return state;
  }

  private snapshot(s: State): Record<string, BitVal> {
    const old: Record<string, BitVal> = {};
    for (const def of MODELLED_TASK_FLAGS) old[def] = flagValue(s, def).v;
    return old;
  }

  /**
   * A transaction start or end. A start that can fail (its row's `fails`)
   * enters its scope on success only: where its result is stored, the error
   * path goes on without the scope, told apart by the usual tests of the
   * result; `outcome` forces one side (the start is a whole condition).
   */
  private transaction(s: State, op: CallOp, role: 'start' | 'end', def: TransactionDef, outcome?: 'succeeded' | 'failed'): State[] {
    const { fs, scope } = def;
    const key = `<${fs}-transaction>`;
    if (role === 'start') {
      const entry = { fs, name: op.callee, span: op.span, ...(scope !== 'none' ? { cookieKey: key } : {}) };
      const push = (st: State, failed: boolean): State => (st.trans.length < MAX_DEPTH ? { ...st, trans: [...st.trans, failed ? { ...entry, failed } : entry] } : st);
      if (scope === 'none') return [push(s, false)];
      const failure = startFailure(def, op.callee);
      const opened = push(s, false);
      const entered = this.applyOutcome(opened, op, { enter: { flags: ['PF_MEMALLOC_NOFS'], key } }, scope === 'nofs-conditional');
      const succeeded = scope === 'nofs' ? [entered] : [entered, opened];
      if (outcome === 'succeeded') return succeeded;
      if (outcome === 'failed') return [push(s, true)];
      // Only a result kept in a plain variable is tested in a form the correlation reads (`IS_ERR(handle)`).
      if (!failure || op.result?.kind !== 'assign' || !IDENT.test(op.result.target)) return succeeded;
      return [
        ...succeeded.flatMap((x) => this.returnFacts(x, op, failure === 'err-ptr' ? 'ptr' : 'zero')),
        ...this.returnFacts(push(s, true), op, failure),
      ];
    }
    let idx = -1;
    for (let i = s.trans.length - 1; i >= 0; i--) if (s.trans[i].fs === fs) { idx = i; break; }
    const closed = idx >= 0 ? { ...s, trans: [...s.trans.slice(0, idx), ...s.trans.slice(idx + 1)] } : s;
    // Ending a start that failed on this path leaves no scope.
    if (scope === 'none' || (idx >= 0 && s.trans[idx].failed)) return [closed];
    return [this.applyOutcome(closed, op, { leave: { flags: ['PF_MEMALLOC_NOFS'], key } }, false)];
  }

  /** A start that is a whole `if` condition and reports failure as non-zero: its edges tell success from failure. */
  private startDeferred(def: TransactionDef, op: CallOp): boolean {
    return this.conditionCalls.has(op) && def.scope !== 'none' && startFailure(def, op.callee) === 'nonzero';
  }

  /**
   * After an assertion that PF flags are held, the paths that go on hold them
   * (elsewhere the kernel has warned). A flag this path is known to hold, or
   * known to have cleared, keeps what the analysis knows. A conditional
   * assertion (`a && !(current->flags & PF_X)`) splits: PF_X may be held.
   */
  private assertFlags(s: State, op: CallOp, a: { readonly flags: readonly string[]; readonly certain: boolean }): State[] {
    const by: Origin = { kind: 'assert', span: op.span, name: op.callee, ...(a.certain ? {} : { conditional: true }) };
    let state = s;
    for (const f of a.flags) {
      const cur = flagValue(state, f).v;
      if (cur === 'entry' || cur === 'unknown') state = withFlag(state, f, { v: 'set', by });
    }
    if (state === s) return [s];
    return a.certain ? [state] : [state, s];
  }

  /**
   * A save or callee sets flag `f`. A scope already open keeps its origin (the
   * scope started there), unless that origin holds it on some paths only and
   * this one for certain: then the certain origin names the flag until its
   * scope ends, and `outer` keeps the conditional one for that end.
   */
  private enterFlag(s: State, f: string, by: Origin, outer: Record<string, Origin>): State {
    const cur = flagValue(s, f);
    if (cur.v !== 'set') return withFlag(s, f, { v: 'set', by });
    if (cur.by?.conditional && !by.conditional) {
      outer[f] = cur.by;
      return withFlag(s, f, { v: 'set', by });
    }
    return s;
  }

  /** The end of a scope entered while `f` was already set: the conditional origin it covered names the flag again. */
  private leaveFlag(s: State, f: string, cookie: Extract<Cookie, { kind: 'cookie' }>): State {
    const outer = cookie.outer?.[f];
    return outer && flagValue(s, f).v === 'set' ? withFlag(s, f, { v: 'set', by: outer }) : s;
  }

  /** The key in the caller under which a callee's cookie home lives. */
  private homeAtCall(op: CallOp, home: string): string {
    if (home === 'return') return op.result?.kind === 'assign' ? cookieKey(op.result.target) : `<return of ${op.callee}@${op.span.start}>`;
    const param = /^param:(\d+)$/.exec(home);
    if (param) return cookieKey(op.args[Number(param[1])]?.text ?? `<arg ${param[1]}>`);
    return home;
  }

  /** A lock text of the callee's, with its parameters replaced by the call's arguments. */
  private lockAtCall(op: CallOp, lock: string): string {
    return lock.replace(/\bparam:(\d+)\b/g, (_, i: string) => op.args[Number(i)]?.text ?? `<arg ${i}>`);
  }

  /** Applies a callee's effect on return. */
  private applyOutcome(s: State, op: CallOp, o: CalleeOutcome, conditional: boolean): State {
    let state = s;
    if (o.enter) {
      const by: Origin = { kind: 'callee', span: op.span, name: op.callee, conditional };
      const old: Record<string, BitVal> = {};
      const outer: Record<string, Origin> = {};
      for (const f of o.enter.flags) {
        old[f] = flagValue(state, f).v;
        state = this.enterFlag(state, f, by, outer);
      }
      // The callee's hidden cookie, so that its pair (commit, stop) restores exactly what it set.
      state = withCookie(state, this.homeAtCall(op, o.enter.key), { kind: 'cookie', saveId: -1, api: op.callee, flags: o.enter.flags, old, ...(Object.keys(outer).length > 0 ? { outer } : {}) });
    }
    if (o.leave) {
      const leaveKey = this.homeAtCall(op, o.leave.key);
      const cookie = state.cookies.get(leaveKey);
      // Without the cookie here, this function too leaves a scope its caller
      // entered: the home, in this function's terms, goes into its own summary.
      const by: Origin = { kind: 'restore', span: op.span, name: op.callee, ...(cookie ? {} : { home: leaveKey }) };
      for (const f of o.leave.flags) {
        const cur = flagValue(state, f);
        if (cookie?.kind === 'cookie') {
          const old = cookie.old[f];
          if (old === 'clear' || old === 'entry') state = withFlag(state, f, old === 'clear' ? { v: 'clear', by } : { v: 'entry' });
          else state = this.leaveFlag(state, f, cookie);
        } else if (!(cur.v === 'set' && cur.by?.kind === 'save')) {
          state = withFlag(state, f, { v: 'clear', by });
        }
      }
      state = withCookie(state, leaveKey, undefined);
    }
    if (o.acquire) state = this.push(state, { kind: o.acquire.kind, atomic: isAtomicKind(o.acquire.kind), lock: this.lockAtCall(op, o.acquire.lock), name: op.callee, span: op.span, viaCallee: true });
    for (const r of o.release ?? []) state = this.release(state, r.kind, this.lockAtCall(op, r.lock));
    return state;
  }

  // ---- locks --------------------------------------------------------------

  private acquire(s: State, kind: SectionKind, lock: string, name: string, span: Span): State {
    // `guard(spinlock)(&l); ... spin_unlock(&l); ...; spin_lock(&l);` (fs/super.c
    // __iterate_supers()): retaken inside the guard's block, the lock is the
    // guard's again and ends with the block.
    for (const [guard, block] of this.guardBlocks) {
      if (GUARD_CLASSES[guard.cls] !== kind || (guard.args[0]?.text ?? '') !== lock || !this.node?.blocks.includes(block)) continue;
      if (s.held.some((h) => h.guard === guard)) break;
      return this.push(s, { kind, atomic: isAtomicKind(kind), lock, name, span, guardBlock: block, guard });
    }
    return this.push(s, { kind, atomic: isAtomicKind(kind), lock, name, span });
  }

  private push(s: State, held: Held): State {
    if (s.held.length >= MAX_DEPTH) return { ...s, unknown: true };
    return { ...s, held: [...s.held, held] };
  }

  private release(s: State, kind: SectionKind, lock: string): State {
    for (let i = s.held.length - 1; i >= 0; i--) {
      const h = s.held[i];
      if (h.kind === kind && h.lock === lock && h.guardBlock === undefined) {
        return { ...s, held: [...s.held.slice(0, i), ...s.held.slice(i + 1)] };
      }
    }
    // An explicit unlock of a lock a guard holds: dropped until retaken (see acquire()).
    for (let i = s.held.length - 1; i >= 0; i--) {
      const h = s.held[i];
      if (h.kind === kind && h.lock === lock) return { ...s, held: [...s.held.slice(0, i), ...s.held.slice(i + 1)] };
    }
    // Released a lock the caller took (an unlock wrapper): remembered for the summary.
    const released = s.released ?? [];
    if (released.length >= MAX_DEPTH || released.some((r) => r.kind === kind && r.lock === lock)) return s;
    return { ...s, released: [...released, { kind, lock }] };
  }

  // ---- assignments --------------------------------------------------------

  private assign(s: State, op: AssignOp): State {
    if (op.target === 'current->flags') return this.pfWrite(s, op);
    let state = this.invalidate(s, op.target);
    // `suspend = true; noio = memalloc_noio_save(); ... if (suspend) restore`:
    // a constant (or the negation) stored in a variable that guards scope code
    // is what the later condition will read.
    if (op.op === '=' && this.relevantConds.has(op.target)) {
      const truth = constantTruth(op.value, op.target, s.conds.get(op.target));
      if (truth !== undefined) {
        const conds = new Map(state.conds);
        conds.set(op.target, truth);
        if (!this.condVars.has(op.target)) this.condVars.set(op.target, [op.target]);
        state = withConds(state, conds);
      }
    }
    const key = cookieKey(op.target);
    if (op.op !== '=') return withCookie(state, key, undefined);
    const copied = s.cookies.get(cookieKey(op.value));
    if (copied) {
      if (copied.kind === 'cookie' && copied.saveId >= 0 && !this.isLocalName(op.target)) this.escape(copied.saveId, this.homeOf(op.target));
      return withCookie(state, key, copied);
    }
    // Snapshots and constants matter only in local variables (current_restore_flags(),
    // restore(0)); remembering every `p->x = 0` would only multiply states.
    const local = this.isLocalName(op.target);
    if (local && /^current->flags\b/.test(op.value)) return withCookie(state, key, { kind: 'snapshot', old: this.snapshot(s) });
    if (local && /^\d+[uUlL]*$/.test(op.value)) return withCookie(state, key, { kind: 'const', value: op.value });
    return state.cookies.has(key) ? withCookie(state, key, undefined) : state;
  }

  /** `current->flags |= PF_X`, `&= ~PF_X`, `= ...`. */
  private pfWrite(s: State, op: AssignOp): State {
    const flags = pfNames(op.value);
    const by: Origin = { kind: 'direct', span: op.span, name: 'current->flags' };
    let state = s;
    if (op.op === '|=') {
      for (const f of flags) state = withFlag(state, f, { v: 'set', by });
    } else if (op.op === '&=' && /~/.test(op.value)) {
      for (const f of flags) state = withFlag(state, f, { v: 'clear', by });
    } else if (op.op === '&=') {
      // `current->flags &= mask` keeps the named bits and clears the others: unknowable in general.
      for (const f of MODELLED_TASK_FLAGS) if (!flags.includes(f)) state = withFlag(state, f, { v: 'unknown' });
    } else {
      for (const f of MODELLED_TASK_FLAGS) state = withFlag(state, f, { v: 'unknown' });
    }
    return state;
  }

  /**
   * An assignment to `name` ends every correlation whose condition reads it: a
   * plain variable it names, or a field path (`sbi->s_journal`) it contains.
   */
  private invalidate(s: State, name: string): State {
    if (s.conds.size === 0) return s;
    const isPath = !IDENT.test(name);
    let conds: Map<string, boolean> | undefined;
    for (const key of s.conds.keys()) {
      if (key.startsWith('#')) continue; // preprocessor conditions never change
      // A fact whose variables were never recorded (set by `x = 0`, or by a
      // callee's return kind) is at least about the variable it is named after.
      const vars = this.condVars.get(key) ?? [key];
      if (key === name || vars.includes(name) || (isPath && key.includes(name))) {
        conds ??= new Map(s.conds);
        conds.delete(key);
      }
    }
    return conds ? withConds(s, conds) : s;
  }

  private noteEscape(s: State, text: string, home: string): void {
    const c = s.cookies.get(cookieKey(text));
    if (c?.kind === 'cookie' && c.saveId >= 0) this.escape(c.saveId, home);
  }

  /** A variable declared in the body or a parameter (a plain identifier): storing a cookie there keeps it in the function. */
  private isLocalName(target: string): boolean {
    return IDENT.test(target) && (this.fn.locals.has(target) || this.fn.params.includes(target));
  }
}

/**
 * The key a cookie is kept under: `tp->t_pflags` and `handle->saved_alloc_context`
 * are kept by field name (`field:t_pflags`), so that a save in one function and
 * the restore in its pair meet whatever the struct is called in each; locals
 * keep their name. `&flags` and `*flags` name the variable.
 */
export function cookieKey(text: string): string {
  const t = text.trim().replace(/^&\s*/, '');
  const field = /(?:->|\.)\s*([A-Za-z_]\w*)$/.exec(t);
  if (field) return `field:${field[1]}`;
  return t.replace(/^\*\s*/, '');
}

/**
 * The truth value of `target = value` when it is a constant (`true`, `0`,
 * `NULL`) or the negation of the variable's own known value (`x = !x`).
 */
function constantTruth(value: string, target: string, known: boolean | undefined): boolean | undefined {
  if (/^(?:true|[1-9]\d*[uUlL]*|0[xX]0*[1-9a-fA-F][0-9a-fA-F]*)$/.test(value)) return true;
  if (/^(?:false|0+[uUlL]*|NULL|0[xX]0+)$/.test(value)) return false;
  if (known !== undefined && value.replace(/\s+/g, '') === `!${target}`) return !known;
  return undefined;
}

/**
 * The task flags an assertion macro says are held where the code goes on:
 * `WARN_ON_ONCE(!(current->flags & PF_X))` asserts PF_X for certain; so does
 * each such term of an `||` (all of them are false); a term of an `&&`
 * (`WARN_ON_ONCE(valid && !(current->flags & PF_X))`) only may hold. Other
 * conditions assert nothing the model uses.
 */
export function assertedFlags(op: CallOp): { readonly flags: readonly string[]; readonly certain: boolean } | undefined {
  if (!ASSERTION_MACROS.has(op.callee)) return undefined;
  const text = op.args[0]?.text;
  if (!text || !text.includes('current->flags')) return undefined;
  const whole = stripParens(text.replace(/\s+/g, ''));
  for (const [sep, certain] of [['||', true], ['&&', false]] as const) {
    const terms = splitTop(whole, sep);
    if (terms.length < 2) continue;
    const flags = terms.map(notHeld).filter((f): f is string => f !== undefined);
    return flags.length > 0 ? { flags, certain } : undefined;
  }
  const flag = notHeld(whole);
  return flag ? { flags: [flag], certain: true } : undefined;
}

/** `!(current->flags & PF_X)` (or `(current->flags & PF_X) == 0`): the flag it says is clear. */
function notHeld(term: string): string | undefined {
  const t = stripParens(term);
  const m = /^!\((?:current->flags&(PF_[A-Z_]+)|(PF_[A-Z_]+)&current->flags)\)$/.exec(t) ?? /^\((?:current->flags&(PF_[A-Z_]+)|(PF_[A-Z_]+)&current->flags)\)==0$/.exec(t);
  const flag = m ? m[1] ?? m[2] : undefined;
  return flag && MODELLED_TASK_FLAGS.includes(flag) ? flag : undefined;
}

function stripParens(t: string): string {
  let x = t;
  while (x.startsWith('(') && x.endsWith(')') && balanced(x.slice(1, -1))) x = x.slice(1, -1);
  return x;
}

function balanced(t: string): boolean {
  let depth = 0;
  for (const c of t) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Splits `t` at top-level (outside parentheses) occurrences of `sep`. */
function splitTop(t: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && t.startsWith(sep, i)) {
      out.push(t.slice(from, i));
      i += sep.length - 1;
      from = i + 1;
    }
  }
  out.push(t.slice(from));
  return out;
}

/** PF_ names in an expression: `PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO`. */
export function pfNames(text: string): string[] {
  return (text.match(/\bPF_[A-Z_]+\b/g) ?? []).filter((n) => pfFlag(n) !== undefined || n.startsWith('PF_MEMALLOC'));
}

function lockText(op: CallOp, lockArg: number | undefined): string {
  return lockArg === undefined ? '' : op.args[lockArg]?.text ?? '';
}

/** Runs the dataflow for one function. */
export function analyzeFlow(ctx: AnalysisContext, fn: FunctionIR, callees?: CalleeEffects): FunctionFlow {
  const interp = new FunctionInterpreter(ctx, fn, callees);
  return interp.run();
}

/**
 * The states a function is entered in: as its caller had them, and, when a
 * parameter is a running transaction (TRANSACTION_PARAMS), also inside that
 * transaction's scope: the caller may or may not have started it.
 */
function entryStates(fn: FunctionIR): State[] {
  const param = transactionParam(fn.paramDecls ?? []);
  if (!param) return [ENTRY_STATE];
  const by: Origin = { kind: 'param', span: fn.nameSpan, name: param.decl, conditional: true };
  let inScope = ENTRY_STATE;
  for (const flag of param.def.flags) inScope = withFlag(inScope, flag, { v: 'set', by });
  return [ENTRY_STATE, inScope];
}
