// Findings about the scopes themselves (rules.md §4, scope/* and the scope
// parts of gfp/*): unbalanced saves, restores out of order or with a foreign
// cookie, direct current->flags writes, scopes around a single call, unsafe
// scope flags and scope APIs of another kernel version. Computed after the
// dataflow's fixed point from the states at each save, restore and exit.

import { findingRule, type FindingCode, type Severity } from '../../shared/findings';
import { versionWhen, type FindingData, type Related, type Span } from '../../shared/evaluate';
import { PF_MASK_EFFECT, scopeSafety } from '../../shared/model/scope-safety';
import { pfFlagPresent, pfFlag, scopeApiByRestore, scopeApiBySave, scopeApiElsewhere } from '../../shared/model/scopes';
import { formatVersion } from '../../shared/model/version';
import type { CallOp, FunctionIR, Op, Stmt } from '../syntax/ir';
import type { AnalysisContext } from './context';
import { pfNames, type FunctionFlow } from './dataflow';
import type { State } from './state';

function finding(code: FindingCode, message: string, span: Span, related: Related[] = [], severity?: Severity): FindingData {
  return { code, severity: severity ?? findingRule(code).severity, message, span, related, fixes: [] };
}

export interface ScopeFindingOptions {
  /** The function is a kernel thread's main function: a scope may last until the thread exits. */
  readonly threadFunction: boolean;
}

export function scopeFindings(ctx: AnalysisContext, flow: FunctionFlow, lineOf: (offset: number) => number, options: ScopeFindingOptions): FindingData[] {
  const out: FindingData[] = [];
  const { cfg, fn } = flow;
  const v = ctx.version;

  // Findings that need only the op: versions, unsafe flags, direct writes.
  for (const node of cfg.nodes) {
    const ops: readonly Op[] = node.action.kind === 'op' ? [node.action.op] : node.action.kind === 'unknown' ? node.action.ops : [];
    for (const op of ops) {
      if (op.kind === 'call') out.push(...callChecks(ctx, op));
      if (op.kind === 'assign' && op.target === 'current->flags') {
        const flags = pfNames(op.value);
        if (flags.length === 0) continue;
        out.push(...flagChecks(ctx, flags, op.valueSpan, op.op === '|=' ? 'sets' : op.op === '&=' && /~/.test(op.value) ? 'clears' : 'writes'));
        if (flags.some((f) => f.startsWith('PF_MEMALLOC'))) {
          const api = v.major > 6 || (v.major === 6 && v.minor >= 9) ? 'memalloc_flags_save()/memalloc_flags_restore()' : 'the memalloc_*_save()/restore() pairs';
          out.push(finding('scope/direct-pf-write', `current->flags ${op.op} ${op.value} bypasses the scope API; ${api} say the same and nest correctly.`, op.span));
        }
      }
    }
  }
  if (flow.overflow) return out; // Nothing path-dependent is certain in a function we could not follow.

  // Restores: pairing, order, foreign cookies.
  for (const node of cfg.nodes) {
    if (node.action.kind !== 'op' || node.action.op.kind !== 'call') continue;
    const op = node.action.op;
    const restore = scopeApiByRestore(op.callee, v);
    if (!restore) continue;
    const states = flow.inStates[node.id].filter((s) => !s.unknown);
    if (states.length === 0) continue;
    const arg = op.args[0]?.text ?? '';
    const isLocal = fn.locals.has(arg);
    const cookies = states.map((s) => s.cookies.get(arg));
    const withCookie = cookies.filter((c) => c?.kind === 'cookie');
    if (/^\d+[uUlL]*$/.test(arg) || (isLocal && cookies.every((c) => c?.kind === 'const'))) {
      out.push(finding('scope/foreign-cookie', `${op.callee}(${arg}) is given a constant, not the value its save returned; ${flow.semantics === 'clear-new' ? 'since 6.9 restore(0) does nothing' : 'before 6.9 restore(0) clears the flag whatever the nesting'}.`, op.args[0]?.span ?? op.span));
      continue;
    }
    // Since 6.9 restore(0) does nothing, so `flags = 0; if (c) flags = save(); ...
    // restore(flags)` is harmless on the path that did not save; before 6.9 it
    // clears the flag there, and an uninitialised cookie is wrong in any version.
    const harmless = (c: (typeof cookies)[number]): boolean => flow.semantics === 'clear-new' && c?.kind === 'const' && /^0+[uUlL]*$/.test(c.value);
    if (isLocal && withCookie.length > 0 && withCookie.length < cookies.length && !cookies.every((c) => c?.kind === 'cookie' || harmless(c))) {
      const saved = withCookie[0]!;
      const save = saved.kind === 'cookie' ? flow.saves.get(saved.saveId) : undefined;
      out.push(finding(
        'scope/unbalanced',
        `${op.callee}(${arg}) runs on a path where ${arg} was not saved${save ? ` by ${save.api}() at line ${lineOf(save.call.span.start) + 1}` : ''}: that path restores a scope it never opened.`,
        op.span,
        save ? [{ span: save.call.span, message: `${save.api}() here, on some paths only` }] : [],
      ));
    }
    for (const c of withCookie) {
      if (c?.kind !== 'cookie') continue;
      if (restore.flags.length > 0 && !c.flags.some((f) => restore.flags.includes(f))) {
        const save = flow.saves.get(c.saveId);
        out.push(finding('scope/foreign-cookie', `${op.callee}() is given the cookie of ${c.api}(), a scope of another kind; ${flow.semantics === 'clear-new' ? 'since 6.9 every restore clears the bits its cookie holds, so this ends the right scope, but it reads as a mistake and breaks on older kernels: use ' + c.api.replace('_save', '_restore') + '()' : 'before 6.9 it clears its own flag and sets the other scope\'s bit from the cookie, leaving both wrong'}.`, op.args[0]?.span ?? op.span, save ? [{ span: save.call.span, message: `${c.api}() here` }] : []));
        break;
      }
    }
    const reported = new Set<number>();
    for (const s of states) {
      const c = s.cookies.get(arg);
      if (c?.kind !== 'cookie') continue;
      const idx = s.open.lastIndexOf(c.saveId);
      if (idx < 0 || idx === s.open.length - 1) continue;
      const inner = s.open.slice(idx + 1).map((id) => flow.saves.get(id)).find((sv) => sv && sv.flags.some((f) => c.flags.includes(f)));
      if (!inner || reported.has(inner.id)) continue;
      reported.add(inner.id);
      out.push(finding(
        'scope/restore-order',
        `Scopes restored out of order: ${arg} (from line ${lineOf(c.saveId) + 1}) is restored while the scope saved at line ${lineOf(inner.call.span.start) + 1} is still open; ${flow.semantics === 'clear-new' ? 'this ends the inner scope early (6.9+)' : 'the inner restore will re-set the flag (before 6.9)'}.`,
        op.span,
        [{ span: inner.call.span, message: `${inner.api}() here is still open` }],
      ));
    }
  }

  // Saves still open at the exit. The exit's own states are exact; a `return` whose
  // states hold the save open says where, else the path falls off the end.
  if (!options.threadFunction) {
    const leaked = new Set<number>();
    for (const s of flow.inStates[cfg.exit]) {
      if (!s.unknown) for (const id of openLocalSaves(s, flow)) leaked.add(id);
    }
    for (const id of [...leaked].sort((a, b) => a - b)) {
      const save = flow.saves.get(id)!;
      const ret = cfg.nodes.find((n) => n.action.kind === 'return' && flow.inStates[n.id].some((s) => !s.unknown && s.open.includes(id)));
      const exitSpan = ret && ret.action.kind === 'return' ? ret.action.span : { start: fn.span.end - 1, end: fn.span.end };
      const restoreName = save.api.replace('_save', '_restore');
      out.push(finding(
        'scope/unbalanced',
        `${save.api}() is not restored on every path: the function can return at line ${lineOf(exitSpan.start) + 1} with the scope still open, and the task keeps ${save.flags.join('|') || 'the flags'}. Call ${restoreName}() on that path.`,
        save.call.span,
        [{ span: exitSpan, message: 'returns here with the scope open' }],
      ));
    }
  }

  out.push(...wrapsSingleCall(ctx, fn));
  return out;
}

function openLocalSaves(s: State, flow: FunctionFlow): number[] {
  return s.open.filter((id) => id >= 0 && !flow.escaped.has(id) && flow.saves.has(id));
}

/** Scope APIs of another kernel version, and unsafe flags given to memalloc_flags_save(). */
function callChecks(ctx: AnalysisContext, op: CallOp): FindingData[] {
  const v = ctx.version;
  const other = scopeApiElsewhere(op.callee, v);
  if (other && !scopeApiBySave(op.callee, v) && !scopeApiByRestore(op.callee, v)) {
    const when = versionWhen(v, other);
    return [finding('gfp/removed-flag', `${op.callee}() ${when}; kernel ${formatVersion(v)} does not have it.`, op.calleeSpan)];
  }
  if (op.callee === 'memalloc_flags_save' && scopeApiBySave(op.callee, v)) {
    return flagChecks(ctx, pfNames(op.args[0]?.text ?? ''), op.args[0]?.span ?? op.span, 'sets');
  }
  return [];
}

function flagChecks(ctx: AnalysisContext, flags: readonly string[], span: Span, how: 'sets' | 'clears' | 'writes'): FindingData[] {
  const out: FindingData[] = [];
  for (const f of flags) {
    if (!pfFlag(f)) continue;
    if (!pfFlagPresent(f, ctx.version)) {
      const def = pfFlag(f)!;
      const when = versionWhen(ctx.version, def);
      out.push(finding('gfp/removed-flag', `${f} ${when}; kernel ${formatVersion(ctx.version)} does not have it.`, span));
      continue;
    }
    if (how !== 'sets') continue;
    const effect = PF_MASK_EFFECT[f];
    if (!effect) continue;
    for (const [bits, verb] of [[effect.clears, 'clears'], [effect.sets, 'sets']] as const) {
      for (const bit of bits) {
        const row = scopeSafety(bit);
        if (!row || (verb === 'clears' ? row.mayClear : row.maySet)) continue;
        out.push(finding('gfp/unsafe-scope-flag', `${f} ${verb} ${bit} for every allocation in the scope: ${row.why}`, span));
      }
    }
  }
  return out;
}

/**
 * `save; one allocation; restore` with nothing else in the scope. vmalloc-family
 * calls are exempt: wrapping them is the documented way to give vmalloc a
 * NOFS/NOIO context before 5.17 (gfp_mask-from-fs-io.rst:64-68).
 */
function wrapsSingleCall(ctx: AnalysisContext, fn: FunctionIR): FindingData[] {
  const out: FindingData[] = [];
  const v = ctx.version;
  const visit = (stmt: Stmt): void => {
    switch (stmt.kind) {
      case 'block': {
        const body = stmt.body;
        for (let i = 0; i + 2 < body.length; i++) {
          const save = singleCall(body[i]);
          const alloc = singleCall(body[i + 1]);
          const restore = singleCall(body[i + 2]);
          if (!save || !alloc || !restore) continue;
          const api = scopeApiBySave(save.callee, v);
          if (!api || !scopeApiByRestore(restore.callee, v)) continue;
          const cookie = save.result?.kind === 'assign' ? save.result.target : undefined;
          if (cookie === undefined || restore.args[0]?.text !== cookie) continue;
          const allocator = ctx.allocators.lookup(alloc.callee);
          if (!allocator || allocator.def.backend === 'vmalloc' || allocator.def.backend === 'kvmalloc') continue;
          out.push(finding(
            'scope/wraps-single-call',
            `This ${api.save}() scope covers one allocation and nothing else. Scopes belong where the reclaim-critical section starts (the transaction or lock), with a comment; for a single call, the mask says it.`,
            save.span,
            [{ span: alloc.span, message: `${alloc.callee}() is the only call in the scope` }],
          ));
        }
        body.forEach(visit);
        return;
      }
      case 'if':
        visit(stmt.then);
        if (stmt.else) visit(stmt.else);
        return;
      case 'loop':
        visit(stmt.body);
        return;
      case 'switch':
      case 'scoped-guard':
        visit(stmt.body);
        return;
      default:
        return;
    }
  };
  visit(fn.body);
  return out;
}

function singleCall(stmt: Stmt): CallOp | undefined {
  if (stmt.kind !== 'ops') return undefined;
  const calls = stmt.ops.filter((o): o is CallOp => o.kind === 'call');
  return calls.length === 1 && stmt.ops.every((o) => o.kind === 'call' || o.kind === 'address') ? calls[0] : undefined;
}
