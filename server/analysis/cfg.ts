// A control-flow graph over the statement IR: one node per action (an op, an
// assumption about a condition on a branch edge, an opaque region), so that the
// dataflow can give the state at every allocation call without re-running
// transfers inside basic blocks. Functions are small; a node per op is cheap.

import type { Condition, FunctionIR, GuardOp, Op, Span, Stmt } from '../syntax/ir';

export type Action =
  | { readonly kind: 'entry' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'nop' }
  | { readonly kind: 'op'; readonly op: Op }
  /** The branch edge on which `cond` evaluated to `value`. */
  | { readonly kind: 'assume'; readonly cond: Condition; readonly value: boolean }
  | { readonly kind: 'unknown'; readonly ops: readonly Op[]; readonly opaque: boolean; readonly span: Span }
  /** `return`: the value's text, for cookies that escape through the return value. */
  | { readonly kind: 'return'; readonly value?: string; readonly span: Span }
  /** A goto whose label is not in the function (it sits in an ERROR region): nothing after is known. */
  | { readonly kind: 'lost'; readonly span: Span };

export interface CfgNode {
  readonly id: number;
  readonly action: Action;
  /** Enclosing block ids, outermost first: cleanup guards end with their block. */
  readonly blocks: readonly number[];
  readonly succ: number[];
}

export interface Cfg {
  readonly nodes: readonly CfgNode[];
  readonly entry: number;
  readonly exit: number;
  /** Guard ops and the block they belong to. */
  readonly guardBlocks: ReadonlyMap<GuardOp, number>;
}

interface Targets {
  readonly breakTo?: number;
  readonly continueTo?: number;
  /** For `case` labels inside a switch body. */
  readonly switchHead?: number;
}

/**
 * Builds the graph. Construction is backwards-free: each statement is built
 * with the id of the node that follows it, returning the id of its first node.
 */
/**
 * Whether a statement may leave the code that follows it: a return or goto
 * anywhere in it (through blocks and both branches of an if), and with
 * `loopExits`, a break or continue too (leaving the loop body it is in).
 */
export function mayExit(st: Stmt, loopExits = false): boolean {
  switch (st.kind) {
    case 'return':
    case 'goto':
      return true;
    case 'break':
    case 'continue':
      return loopExits;
    case 'block':
      return st.body.some((b) => mayExit(b, loopExits));
    case 'if':
      return mayExit(st.then, loopExits) || (st.else !== undefined && mayExit(st.else, loopExits));
    default:
      return false;
  }
}

export function buildCfg(fn: FunctionIR): Cfg {
  const nodes: CfgNode[] = [];
  const labels = new Map<string, number>();
  const pendingGotos: Array<{ node: CfgNode; label: string; span: Span }> = [];
  const guardBlocks = new Map<GuardOp, number>();
  let blocks: number[] = [];
  let syntheticBlock = 1_000_000;

  const add = (action: Action, succ: number[]): number => {
    const node: CfgNode = { id: nodes.length, action, blocks: [...blocks], succ };
    nodes.push(node);
    return node.id;
  };

  const exit = add({ kind: 'exit' }, []);
  // Exit lies outside every block, so guards end there.
  nodes[exit] = { ...nodes[exit], blocks: [] };

  const opsChain = (ops: readonly Op[], next: number): number => {
    let first = next;
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      if (op.kind === 'guard') guardBlocks.set(op, blocks.length > 0 ? blocks[blocks.length - 1] : -1);
      first = add({ kind: 'op', op }, [first]);
    }
    return first;
  };

  const branch = (cond: Condition, onTrue: number, onFalse: number): number => {
    const t = add({ kind: 'assume', cond, value: true }, [onTrue]);
    const f = add({ kind: 'assume', cond, value: false }, [onFalse]);
    return opsChain(cond.ops, add({ kind: 'nop' }, [t, f]));
  };

  // Switch bodies: each `case` label is a target of the head, collected while building.
  const caseStack: number[][] = [];
  const defaultStack: boolean[] = [];

  const build = (stmt: Stmt, next: number, t: Targets): number => {
    switch (stmt.kind) {
      case 'block': {
        blocks.push(stmt.id);
        let first = next;
        for (let i = stmt.body.length - 1; i >= 0; i--) first = build(stmt.body[i], first, t);
        // A node at the block's start keeps `blocks` of the block for its ops; the edge
        // into `next` leaves the block.
        const start = add({ kind: 'nop' }, [first]);
        blocks.pop();
        return start;
      }
      case 'ops':
        return opsChain(stmt.ops, next);
      case 'if': {
        const thenStart = build(stmt.then, next, t);
        const elseStart = stmt.else ? build(stmt.else, next, t) : next;
        return branch(stmt.cond, thenStart, elseStart);
      }
      case 'loop': {
        // head: condition (or nothing for a macro loop) -> body | out
        const head = add({ kind: 'nop' }, []);
        const updateStart = opsChain(stmt.update, head);
        const body = build(stmt.body, stmt.form === 'for' ? updateStart : head, { breakTo: next, continueTo: stmt.form === 'for' ? updateStart : head });
        if (stmt.cond && stmt.cond.key !== '') {
          nodes[head].succ.push(branch(stmt.cond, body, next));
        } else if (stmt.form === 'for' || stmt.form === 'while') {
          // `for (;;)`: only break leaves.
          nodes[head].succ.push(body);
        } else {
          nodes[head].succ.push(body, next);
        }
        const init = stmt.init ? build(stmt.init, stmt.form === 'do' ? body : head, t) : stmt.form === 'do' ? body : head;
        return init;
      }
      case 'switch': {
        const head = add({ kind: 'nop' }, []);
        caseStack.push([]);
        defaultStack.push(false);
        const bodyStart = build(stmt.body, next, { ...t, breakTo: next, switchHead: head });
        const cases = caseStack.pop()!;
        const hasDefault = defaultStack.pop()!;
        nodes[head].succ.push(...cases);
        if (!hasDefault) nodes[head].succ.push(next);
        if (cases.length === 0) nodes[head].succ.push(bodyStart);
        return opsChain(stmt.cond.ops, head);
      }
      case 'case': {
        const node = add({ kind: 'nop' }, [next]);
        if (caseStack.length > 0) {
          caseStack[caseStack.length - 1].push(node);
          if (stmt.isDefault) defaultStack[defaultStack.length - 1] = true;
        }
        return node;
      }
      // A break or continue with nowhere to go means the loop around it was not
      // recognised (a macro the lowering did not pair): what follows is unknown.
      case 'break':
        return t.breakTo !== undefined ? add({ kind: 'nop' }, [t.breakTo]) : add({ kind: 'lost', span: stmt.span }, [exit]);
      case 'continue':
        return t.continueTo !== undefined ? add({ kind: 'nop' }, [t.continueTo]) : add({ kind: 'lost', span: stmt.span }, [exit]);
      case 'return': {
        const ret = add({ kind: 'return', ...(stmt.value !== undefined ? { value: stmt.value } : {}), span: stmt.span }, [exit]);
        return opsChain(stmt.ops, ret);
      }
      case 'goto': {
        const id = add({ kind: 'nop' }, []);
        pendingGotos.push({ node: nodes[id], label: stmt.label, span: stmt.span });
        return id;
      }
      case 'label': {
        const id = add({ kind: 'nop' }, [next]);
        labels.set(stmt.name, id);
        return id;
      }
      case 'scoped-guard': {
        const id = ++syntheticBlock;
        blocks.push(id);
        const body = build(stmt.body, next, t);
        guardBlocks.set(stmt.guard, id);
        const acquire = add({ kind: 'op', op: stmt.guard }, [body]);
        blocks.pop();
        return acquire;
      }
      case 'unknown':
        return add({ kind: 'unknown', ops: stmt.ops, opaque: stmt.opaque, span: stmt.span }, [next]);
    }
  };

  const first = build(fn.body, exit, {});
  const entry = add({ kind: 'entry' }, [first]);
  for (const g of pendingGotos) {
    const target = labels.get(g.label);
    if (target !== undefined) g.node.succ.push(target);
    else g.node.succ.push(add({ kind: 'lost', span: g.span }, [exit]));
  }
  return { nodes, entry, exit, guardBlocks };
}
