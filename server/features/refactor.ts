// The code actions that need more than a finding's own fix data (rules.md §7),
// as plain edits over document offsets; code-actions.ts makes LSP of them.
//
// - "Replace GFP_NOFS with scope at transaction start": from a GFP_NOFS site,
//   the transaction start (else sleeping-lock acquisition) that dominates it,
//   the scope's end on every path (the matching end call, else each exit),
//   the save before the anchor, restores after each end, the cookie declared
//   first among the locals, GFP_NOFS -> GFP_KERNEL at every site the scope
//   covers on all paths.
// - "Restore the scope on this path" for scope/unbalanced.
// - "Use memalloc_flags_save/restore" for scope/direct-pf-write.
//
// Every action is conservative: when a path cannot be handled exactly (a
// return reached both inside and outside the new scope, an end inside a
// return expression, an opaque region), no action is offered rather than an
// edit that could loosen a context. test/code-actions.test.ts applies every
// action on every fixture and checks the contexts.

import type { FixData, FixEdit, Span } from '../../shared/evaluate';
import { replaceMaskName } from '../../shared/evaluate';
import { lockOp } from '../../shared/model/locks';
import { takesTransactionHandle } from '../../shared/model/transactions';
import { scopeApiBySave } from '../../shared/model/scopes';
import { atLeast } from '../../shared/model/version';
import type { SiteResult } from '../analysis/analyze-file';
import type { AnalysisContext } from '../analysis/context';
import type { FunctionAnalysis } from '../analysis/incremental';
import type { CfgNode } from '../analysis/cfg';
import type { AssignOp, CallOp, Stmt } from '../syntax/ir';

// ---- statement helpers -----------------------------------------------------------

interface Located {
  readonly stmt: Stmt;
  readonly parent: Stmt | undefined;
}

function statements(body: Stmt): Located[] {
  const out: Located[] = [];
  const visit = (s: Stmt, parent: Stmt | undefined): void => {
    out.push({ stmt: s, parent });
    switch (s.kind) {
      case 'block':
        s.body.forEach((x) => visit(x, s));
        return;
      case 'if':
        visit(s.then, s);
        if (s.else) visit(s.else, s);
        return;
      case 'loop':
        if (s.init) visit(s.init, s);
        visit(s.body, s);
        return;
      case 'switch':
      case 'scoped-guard':
        visit(s.body, s);
        return;
      default:
        return;
    }
  };
  visit(body, undefined);
  return out;
}

/** The innermost statement (not a block) whose span contains `span`. */
function statementOf(all: readonly Located[], span: Span): Located | undefined {
  let best: Located | undefined;
  for (const l of all) {
    if (l.stmt.kind === 'block' || l.stmt.kind === 'label' || l.stmt.kind === 'case') continue;
    if (l.stmt.span.start <= span.start && span.end <= l.stmt.span.end) {
      if (!best || l.stmt.span.end - l.stmt.span.start <= best.stmt.span.end - best.stmt.span.start) best = l;
    }
  }
  return best;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentAt(text: string, offset: number): string {
  const s = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(s, offset + 1))![0];
}

/** Whether only whitespace precedes `offset` on its line. */
function startsLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, offset), offset));
}

/**
 * Edits that run `before` just before statement `l` and `after` just after it.
 * In a block these are new lines; as the unbraced body of an if/else, the body
 * gets braces. Undefined when neither is possible (a loop body, mid-line).
 */
function around(text: string, l: Located, before: string | undefined, after: string | undefined): FixEdit[] | undefined {
  const s = l.stmt;
  if (l.parent?.kind === 'block') {
    const edits: FixEdit[] = [];
    if (!startsLine(text, s.span.start)) return undefined;
    const ind = indentAt(text, s.span.start);
    if (before !== undefined) {
      const at = aboveComment(text, lineStart(text, s.span.start));
      edits.push({ span: { start: at, end: at }, text: before.split('\n').map((x) => `${ind}${x}\n`).join('') });
    }
    if (after !== undefined) {
      // Only a comment may follow on the line; the new lines go after it.
      const eol = text.indexOf('\n', s.span.end) < 0 ? text.length : text.indexOf('\n', s.span.end);
      if (!/^[ \t]*(?:\/\/.*|\/\*.*\*\/[ \t]*)?$/.test(text.slice(s.span.end, eol))) return undefined;
      edits.push({ span: { start: eol, end: eol }, text: after.split('\n').map((x) => `\n${ind}${x}`).join('') });
    }
    return edits;
  }
  if (l.parent?.kind === 'if' && (l.parent.then === s || l.parent.else === s)) {
    const head = text.slice(l.parent.span.start, s.span.start).trimEnd();
    if (!head.endsWith(')') && !head.endsWith('else')) return undefined;
    const from = l.parent.span.start + head.length;
    const outer = indentAt(text, from);
    const inner = startsLine(text, s.span.start) ? indentAt(text, s.span.start) : `${outer}\t`;
    const lines: string[] = [];
    if (before !== undefined) lines.push(...before.split('\n'));
    lines.push(text.slice(s.span.start, s.span.end));
    if (after !== undefined) lines.push(...after.split('\n'));
    return [{ span: { start: from, end: s.span.end }, text: ` {\n${lines.map((x) => `${inner}${x}`).join('\n')}\n${outer}}` }];
  }
  return undefined;
}

/**
 * The start of the comment lines directly above the line at `at` (no blank
 * line between), else `at`: such a comment is about the statement below it,
 * and a new line inserted before the statement must not come between them.
 */
function aboveComment(text: string, at: number): number {
  for (;;) {
    if (at === 0) return at;
    const prevStart = lineStart(text, at - 1);
    const prev = text.slice(prevStart, at - 1).trim();
    if (prev.startsWith('//')) {
      at = prevStart;
      continue;
    }
    if (!prev.endsWith('*/')) return at;
    // A block comment ending on that line: it must start a line of its own and hold no code before it.
    const open = text.lastIndexOf('/*', at - 1);
    if (open < 0 || !startsLine(text, open) || text.slice(open, at - 1).indexOf('*/') !== text.slice(open, at - 1).lastIndexOf('*/')) return at;
    at = lineStart(text, open);
  }
}

// ---- graph helpers ---------------------------------------------------------------

function predecessors(nodes: readonly CfgNode[]): number[][] {
  const preds: number[][] = nodes.map(() => []);
  for (const n of nodes) for (const s of n.succ) preds[s].push(n.id);
  return preds;
}

/** Dominator sets, one bit row per node: `has(i, j)` says whether node j dominates node i. */
interface Dominators {
  has(node: number, dominator: number): boolean;
  /** How many nodes dominate `node` (itself included). */
  count(node: number): number;
}

/**
 * Dominator sets by the iterative algorithm (the maximal fixed point from
 * "everything dominates everything"; a node without predecessors is
 * dominated by itself only), over bit rows; undefined for huge graphs.
 */
function dominators(nodes: readonly CfgNode[], entry: number): Dominators | undefined {
  const n = nodes.length;
  if (n > 2500) return undefined;
  const preds = predecessors(nodes);
  const W = Math.ceil(n / 32) || 1;
  const tail = n % 32 === 0 ? 0xffffffff : (1 << (n % 32)) - 1;
  const bits = new Uint32Array(n * W);
  for (let i = 0; i < n; i++) {
    if (i === entry) {
      bits[i * W + (entry >>> 5)] = 1 << (entry & 31);
      continue;
    }
    bits.fill(0xffffffff, i * W, i * W + W);
    bits[i * W + W - 1] = tail;
  }
  const next = new Uint32Array(W);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (i === entry) continue;
      const ps = preds[i];
      if (ps.length > 0) {
        next.fill(0xffffffff);
        next[W - 1] = tail;
      } else next.fill(0);
      for (const p of ps) for (let w = 0; w < W; w++) next[w] &= bits[p * W + w];
      next[i >>> 5] |= 1 << (i & 31);
      let same = true;
      for (let w = 0; w < W; w++) {
        if (next[w] !== bits[i * W + w]) {
          same = false;
          break;
        }
      }
      if (!same) {
        bits.set(next, i * W);
        changed = true;
      }
    }
  }
  const counts = new Map<number, number>();
  return {
    has: (i, j) => (bits[i * W + (j >>> 5)] & (1 << (j & 31))) !== 0,
    count: (i) => {
      let c = counts.get(i);
      if (c === undefined) {
        c = 0;
        for (let w = 0; w < W; w++) {
          let x = bits[i * W + w];
          while (x) {
            x &= x - 1;
            c++;
          }
        }
        counts.set(i, c);
      }
      return c;
    },
  };
}

/** Dominators per CFG (CFGs are never changed once built): the anchor search runs once per GFP_NOFS site. */
const dominatorMemo = new WeakMap<readonly CfgNode[], Dominators | undefined>();

function dominatorsOf(nodes: readonly CfgNode[], entry: number): Dominators | undefined {
  if (!dominatorMemo.has(nodes)) dominatorMemo.set(nodes, dominators(nodes, entry));
  return dominatorMemo.get(nodes);
}

function callNode(fa: AnchorInput, call: CallOp): CfgNode | undefined {
  const rel = call.span.start - fa.base;
  return fa.flow.cfg.nodes.find((n) => n.action.kind === 'op' && n.action.op.kind === 'call' && n.action.op.span.start === rel);
}

const abs = (fa: AnchorInput, s: Span): Span => ({ start: s.start + fa.base, end: s.end + fa.base });

function freshName(fa: FunctionAnalysis, text: string, wanted: readonly string[]): string {
  const body = text.slice(fa.fn.span.start, fa.fn.span.end);
  for (const w of wanted) if (!new RegExp(`\\b${w}\\b`).test(body)) return w;
  for (let i = 2; ; i++) if (!new RegExp(`\\b${wanted[0]}${i}\\b`).test(body)) return `${wanted[0]}${i}`;
}

/** `unsigned int name;` as the first local of the function. */
function declareLocal(fa: FunctionAnalysis, text: string, decl: string): FixEdit | undefined {
  if (fa.fn.body.kind !== 'block') return undefined;
  const open = fa.fn.body.span.start;
  if (text[open] !== '{') return undefined;
  const nl = text.indexOf('\n', open);
  if (nl < 0 || !/^\s*$/.test(text.slice(open + 1, nl))) return undefined;
  const next = text.slice(nl + 1, text.indexOf('\n', nl + 1) < 0 ? text.length : text.indexOf('\n', nl + 1));
  const ind = /^[ \t]*/.exec(next)![0] || '\t';
  // A body that starts with a statement, not a declaration, gets a blank line after the new one.
  const blank = isDeclarationLine(next.trim()) || next.trim() === '' ? '' : '\n';
  return { span: { start: nl + 1, end: nl + 1 }, text: `${ind}${decl}\n${blank}` };
}

const DECL = /^(?:(?:const|static|volatile|register|unsigned|signed|struct|union|enum)\s+)*[A-Za-z_]\w*(?:\s+|\s*\*+\s*)(?:[A-Za-z_]\w*(?:\s+|\s*\*+\s*))*\**\s*[A-Za-z_]\w*\s*(?:=|;|\[|,)/;

function isDeclarationLine(line: string): boolean {
  return DECL.test(line) && !/^(?:return|goto|case|else|do)\b/.test(line);
}

// ---- the headline refactor -------------------------------------------------------

export interface RefactorResult {
  readonly fix: FixData;
  /** The sites whose GFP_NOFS the edit turns into GFP_KERNEL. */
  readonly converted: readonly SiteResult[];
}

/** A written GFP_NOFS that a scope could replace: not a policy input of the callee (jbd2__journal_start()). */
export const writesNofs = (s: SiteResult): boolean => s.input.gfp !== undefined && s.input.allocator.gfpPolicy === undefined && /\bGFP_NOFS\b/.test(s.input.gfp.text);

/** What the anchor search needs of a function's analysis (the CLI's per-file results have base 0). */
export type AnchorInput = Pick<FunctionAnalysis, 'flow' | 'base' | 'fn'>;

/** Where the refactor would open the scope for a GFP_NOFS site: plain data, in document offsets. */
export interface NofsAnchor {
  /** A transaction start from the model's table, else a sleeping lock's acquisition. */
  readonly kind: 'transaction' | 'lock';
  readonly callee: string;
  readonly span: Span;
  /** The transaction's filesystem (kind `transaction`). */
  readonly fs?: string;
  /** Whether the transaction start already enters a NOFS scope (then the refactor is the plain replacement). */
  readonly entersNofs?: boolean;
  /** The lock argument as written (kind `lock`). */
  readonly lock?: string;
}

interface AnchorSearch {
  readonly siteNode: CfgNode;
  readonly anchorNode: CfgNode;
  readonly anchor: CallOp;
  readonly isTransaction: boolean;
}

/**
 * The refactor's anchor for `site`: the closest dominating transaction start
 * from the table, else the closest dominating sleeping-lock acquisition,
 * except in a function handed a running transaction (a btrfs or xfs handle):
 * there the GFP_NOFS is for the caller's transaction, not for the lock.
 */
function findAnchor(ctx: AnalysisContext, fa: AnchorInput, site: SiteResult): AnchorSearch | undefined {
  if (!writesNofs(site) || fa.flow.overflow) return undefined;
  const { cfg } = fa.flow;
  const siteNode = callNode(fa, site.call);
  if (!siteNode) return undefined;
  const call = (n: CfgNode): CallOp => (n.action as { op: CallOp }).op;
  const calls = cfg.nodes.filter((n) => n.id !== siteNode.id && n.action.kind === 'op' && n.action.op.kind === 'call');
  const starts = calls.filter((n) => ctx.transactions.lookup(call(n).callee)?.role === 'start');
  const locks = calls.filter((n) => {
    const op = lockOp(call(n).callee);
    return op !== undefined && (op.kind === 'mutex' || op.kind === 'rwsem' || op.kind === 'semaphore') && (op.op === 'acquire' || op.op === 'acquire-on-zero');
  });
  // No candidate anywhere in the function: no anchor, and no dominators to compute.
  if (starts.length === 0 && locks.length === 0) return undefined;
  const dom = dominatorsOf(cfg.nodes, cfg.entry);
  if (!dom) return undefined;
  const dominates = (n: CfgNode): boolean => dom.has(siteNode.id, n.id);
  // The closest dominator has the most dominators of its own.
  const closest = (list: CfgNode[]): CfgNode | undefined => list.sort((x, y) => dom.count(y.id) - dom.count(x.id))[0];
  const txAnchor = closest(starts.filter(dominates));
  const lockAnchor = txAnchor || takesTransactionHandle(fa.fn.paramDecls ?? []) ? undefined : closest(locks.filter(dominates));
  const anchorNode = txAnchor ?? lockAnchor;
  if (!anchorNode) return undefined;
  return { siteNode, anchorNode, anchor: call(anchorNode), isTransaction: txAnchor !== undefined };
}

/**
 * The anchor the headline refactor would use for a GFP_NOFS site, or
 * undefined when there is none (or the site does not write GFP_NOFS). The
 * report's `convertible` category is exactly this.
 */
export function nofsScopeAnchor(ctx: AnalysisContext, fa: AnchorInput, site: SiteResult): NofsAnchor | undefined {
  const found = findAnchor(ctx, fa, site);
  if (!found) return undefined;
  const { anchor } = found;
  const span = abs(fa, anchor.span);
  if (found.isTransaction) {
    const tx = ctx.transactions.lookup(anchor.callee)!;
    return { kind: 'transaction', callee: anchor.callee, span, fs: tx.def.fs, entersNofs: tx.def.scope === 'nofs' };
  }
  const lock = lockOp(anchor.callee)!;
  const lockText = lock.lockArg !== undefined ? anchor.args[lock.lockArg]?.text.replace(/\s+/g, '') : undefined;
  return { kind: 'lock', callee: anchor.callee, span, ...(lockText !== undefined ? { lock: lockText } : {}) };
}

/** "Replace GFP_NOFS with scope at transaction start" for `site`, or undefined when it does not apply. */
export function nofsScopeRefactor(ctx: AnalysisContext, fa: FunctionAnalysis, site: SiteResult, text: string): RefactorResult | undefined {
  const found = findAnchor(ctx, fa, site);
  if (!found) return undefined;
  const { cfg } = fa.flow;
  const { siteNode, anchorNode, anchor } = found;
  const txAnchor = found.isTransaction ? anchorNode : undefined;
  const lockAnchor = found.isTransaction ? undefined : anchorNode;
  const anchorAbs = abs(fa, anchor.span);
  const tx = txAnchor ? ctx.transactions.lookup(anchor.callee)! : undefined;

  if (tx && tx.def.scope === 'nofs') {
    // The start already enters NOFS where it succeeds: the plain replacement is
    // the whole fix, but only where every path holds that scope for certain
    // (not on the start's error branch, not after a start nobody checked).
    const covered = site.input.states.length > 0 && site.input.states.every((st) => !st.unknown && st.origins.some((o) => (o.flag === 'PF_MEMALLOC_NOFS' || o.flag === 'PF_MEMALLOC_NOIO') && !o.conditional));
    if (!covered) return undefined;
    const to = replaceMaskName(site.input.gfp!.text, 'GFP_NOFS', 'GFP_KERNEL');
    return {
      fix: { title: `Use GFP_KERNEL: ${anchor.callee}() already enters a NOFS scope`, edits: [{ span: site.input.gfp!.span, text: to }], preferred: true },
      converted: [site],
    };
  }

  // What ends the scope: the transaction's end calls, or the release of the same lock.
  const lock = lockAnchor ? lockOp(anchor.callee)! : undefined;
  const lockText = lock && lock.lockArg !== undefined ? anchor.args[lock.lockArg]?.text.replace(/\s+/g, '') : undefined;
  if (lock && lockText === undefined) return undefined;
  const isEnd = (op: CallOp): boolean => {
    if (tx) return tx.def.end.includes(op.callee);
    const o = lockOp(op.callee);
    return o !== undefined && o.op === 'release' && o.kind === lock!.kind && op.args[lock!.lockArg!]?.text.replace(/\s+/g, '') === lockText;
  };

  // Forward from the anchor: 1 = inside the new scope, 2 = after its end.
  const OPEN = 1;
  const CLOSED = 2;
  const state = cfg.nodes.map(() => 0);
  const work: number[] = [];
  const flow = (id: number, s: number): void => {
    if ((state[id] | s) !== state[id]) {
      state[id] |= s;
      work.push(id);
    }
  };
  for (const s of anchorNode.succ) flow(s, OPEN);
  while (work.length > 0) {
    const id = work.pop()!;
    const node = cfg.nodes[id];
    const a = node.action;
    if (a.kind === 'lost' || (a.kind === 'unknown' && a.opaque)) return undefined;
    if (id === anchorNode.id) return undefined; // the anchor runs again (a loop): no single scope
    let out = state[id];
    if (a.kind === 'op' && a.op.kind === 'call' && isEnd(a.op)) {
      if (state[id] !== OPEN) return undefined;
      out = CLOSED;
    }
    for (const s of node.succ) flow(s, out);
  }
  if (state[siteNode.id] !== OPEN) return undefined;

  const all = statements(fa.fn.body);
  const name = freshName(fa, text, ['nofs_flag', 'nofs_flags', 'nofs_cookie']);
  const save = `${name} = memalloc_nofs_save();`;
  const restore = `memalloc_nofs_restore(${name});`;
  const edits: FixEdit[] = [];
  const returnsBefore = new Set<Stmt>();

  // Restores after each end reached inside the scope.
  for (const n of cfg.nodes) {
    if (state[n.id] === 0 || n.action.kind !== 'op' || n.action.op.kind !== 'call' || !isEnd(n.action.op)) continue;
    const l = statementOf(all, abs(fa, n.action.op.span));
    if (!l || l.stmt.kind !== 'ops') return undefined;
    const e = around(text, l, undefined, restore);
    if (!e) return undefined;
    edits.push(...e);
  }
  // Restores before each exit still inside the scope.
  const preds = predecessors(cfg.nodes);
  for (const p of preds[cfg.exit]) {
    const node = cfg.nodes[p];
    const s = state[p];
    if (!(s & OPEN)) continue;
    if (s !== OPEN) return undefined; // reached inside and outside the scope
    if (node.action.kind === 'return') {
      const l = statementOf(all, abs(fa, node.action.span));
      if (!l || l.stmt.kind !== 'return') return undefined;
      const e = around(text, l, restore, undefined);
      if (!e) return undefined;
      edits.push(...e);
      returnsBefore.add(l.stmt);
    } else {
      // Falls off the end of the function: restore before the closing brace.
      const close = fa.fn.span.end - 1;
      if (text[close] !== '}') return undefined;
      const ind = indentAt(text, fa.fn.body.kind === 'block' && fa.fn.body.body.length > 0 ? fa.fn.body.body[0].span.start : close) || '\t';
      edits.push({ span: { start: lineStart(text, close), end: lineStart(text, close) }, text: `${ind}${restore}\n` });
    }
  }

  // The save before the anchor's statement, with the reason.
  const anchorStmt = statementOf(all, anchorAbs);
  if (!anchorStmt || anchorStmt.stmt.kind === 'loop' || anchorStmt.stmt.kind === 'return') return undefined;
  if (anchorStmt.stmt.kind === 'ops' && isDeclarationLine(text.slice(anchorStmt.stmt.span.start, anchorStmt.stmt.span.end))) return undefined;
  const why = tx
    ? `/* No reclaim recursion into the fs while the ${tx.def.fs} transaction is open. */`
    : `/* No reclaim recursion into the fs while holding ${lockText!.replace(/^&/, '')}: reclaim may need it. */`;
  const before = around(text, anchorStmt, `${why}\n${save}`, undefined);
  if (!before) return undefined;
  edits.push(...before);
  const decl = declareLocal(fa, text, `unsigned int ${name};`);
  if (!decl) return undefined;
  edits.push(decl);

  // GFP_NOFS -> GFP_KERNEL at every site inside the scope on every path.
  const converted: SiteResult[] = [];
  for (const s of fa.sites) {
    if (!writesNofs(s)) continue;
    const node = callNode(fa, s.call);
    if (!node || state[node.id] !== OPEN) continue;
    const l = statementOf(all, s.call.span);
    if (l && returnsBefore.has(l.stmt)) continue; // the restore runs before this return's value
    converted.push(s);
    edits.push({ span: s.input.gfp!.span, text: replaceMaskName(s.input.gfp!.text, 'GFP_NOFS', 'GFP_KERNEL') });
  }
  if (!converted.includes(site)) return undefined;
  if (overlapping(edits)) return undefined;
  const where = tx ? `transaction start: ${anchor.callee}()` : `lock: ${anchor.callee}(${lockText})`;
  return {
    fix: { title: `Replace GFP_NOFS with scope at ${where} (converts ${converted.length} site${converted.length === 1 ? '' : 's'})`, edits: edits.sort((x, y) => x.span.start - y.span.start), preferred: false },
    converted,
  };
}

function overlapping(edits: readonly FixEdit[]): boolean {
  const sorted = [...edits].sort((x, y) => x.span.start - y.span.start || x.span.end - y.span.end);
  for (let i = 1; i < sorted.length; i++) if (sorted[i].span.start < sorted[i - 1].span.end) return true;
  return false;
}

// ---- scope/unbalanced: restore on the leaking paths -----------------------------

/** "Restore the scope on this path" for the save at `saveSpan` (document offsets). */
export function restoreOnPath(ctx: AnalysisContext, fa: FunctionAnalysis, saveSpan: Span, text: string): FixData | undefined {
  if (fa.flow.overflow) return undefined;
  const id = saveSpan.start - fa.base;
  const save = fa.flow.saves.get(id);
  if (!save || fa.flow.escaped.has(id)) return undefined;
  const api = scopeApiBySave(save.call.callee, ctx.version);
  const cookie = save.call.result?.kind === 'assign' ? save.call.result.target : undefined;
  if (!api || !cookie || !/^[A-Za-z_]\w*$/.test(cookie)) return undefined;
  const restore = `${api.restore}(${cookie});`;
  const { cfg } = fa.flow;
  const all = statements(fa.fn.body);
  const edits: FixEdit[] = [];
  for (const p of predecessors(cfg.nodes)[cfg.exit]) {
    const states = fa.flow.inStates[p];
    const open = states.filter((s) => s.open.includes(id));
    if (open.length === 0) continue;
    if (open.length !== states.length || states.some((s) => s.unknown)) return undefined; // mixed: a restore here would double-restore
    const node = cfg.nodes[p];
    if (node.action.kind === 'return') {
      const l = statementOf(all, abs(fa, node.action.span));
      if (!l || l.stmt.kind !== 'return' || l.stmt.ops.length > 0) return undefined; // `return f(x);` would run f outside the scope
      const e = around(text, l, restore, undefined);
      if (!e) return undefined;
      edits.push(...e);
    } else if (node.action.kind === 'lost') {
      return undefined;
    } else {
      const close = fa.fn.span.end - 1;
      if (text[close] !== '}') return undefined;
      edits.push({ span: { start: lineStart(text, close), end: lineStart(text, close) }, text: `\t${restore}\n` });
    }
  }
  if (edits.length === 0 || overlapping(edits)) return undefined;
  return { title: `Restore the scope on this path (${api.restore}(${cookie}))`, edits, preferred: true };
}

// ---- scope/direct-pf-write: use the scope API --------------------------------------

/**
 * "Use memalloc_flags_save/restore" where `current->flags |= F;` and a later
 * `current->flags &= ~F;` sit in the same block (6.9+, where the API exists).
 * The restore clears only what the save set, so a flag the caller had stays
 * set: the context after is the same or tighter.
 */
export function flagsSaveRestore(ctx: AnalysisContext, fa: FunctionAnalysis, writeSpan: Span, text: string): FixData | undefined {
  if (!atLeast(ctx.version, '6.9')) return undefined;
  const all = statements(fa.fn.body);
  const setL = statementOf(all, writeSpan);
  if (!setL || setL.stmt.kind !== 'ops' || setL.parent?.kind !== 'block') return undefined;
  const block = setL.parent;
  const setOp = setL.stmt.ops.find((o): o is AssignOp => o.kind === 'assign' && o.target === 'current->flags');
  if (!setOp || setOp.op !== '|=' || setL.stmt.ops.length !== 1) return undefined;
  const flags = setOp.value.replace(/\s+/g, '');
  if (!/^PF_MEMALLOC_\w+(\|PF_MEMALLOC_\w+)*$/.test(flags)) return undefined;
  const i = block.body.indexOf(setL.stmt);
  let clear: Stmt | undefined;
  for (let j = i + 1; j < block.body.length; j++) {
    const s = block.body[j];
    const t = text.slice(s.span.start, s.span.end);
    if (/current->flags/.test(t)) {
      const m = /^current->flags\s*&=\s*~\s*\(?([\w\s|]+?)\)?\s*;$/.exec(t.trim());
      if (s.kind === 'ops' && m && m[1].replace(/\s+/g, '') === flags) clear = s;
      break;
    }
    if (s.kind === 'return' || s.kind === 'goto' || s.kind === 'label' || s.kind === 'break' || s.kind === 'continue' || s.kind === 'unknown') break;
    if (/\breturn\b|\bgoto\b|\bbreak\b|\bcontinue\b/.test(t)) break;
  }
  if (!clear) return undefined;
  // `set; one allocation; clear` would become a scope around a single call
  // (scope/wraps-single-call): the mask, not a scope, should say that.
  const between = block.body.slice(i + 1, block.body.indexOf(clear));
  if (between.length === 1 && between[0].kind === 'ops') {
    const calls = between[0].ops.filter((o): o is CallOp => o.kind === 'call');
    if (calls.length === 1 && ctx.allocators.lookup(calls[0].callee)) return undefined;
  }
  const name = freshName(fa, text, ['pflags', 'memalloc_flags', 'pf_cookie']);
  const decl = declareLocal(fa, text, `unsigned int ${name};`);
  if (!decl) return undefined;
  return {
    title: 'Use memalloc_flags_save/restore',
    edits: [
      decl,
      { span: setL.stmt.span, text: `${name} = memalloc_flags_save(${setOp.value.trim()});` },
      { span: clear.span, text: `memalloc_flags_restore(${name});` },
    ],
    preferred: true,
  };
}
