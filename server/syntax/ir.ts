// The statement IR: what the analysis needs of a C function, and nothing of
// tree-sitter. extract.ts lowers syntax trees into it; analysis/ builds control
// flow and dataflow on it. Offsets are UTF-16 code units into the document, like
// LSP positions and JavaScript strings.

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Arg {
  readonly text: string;
  readonly span: Span;
}

/** Where a call's value goes, when it matters (cookies that escape, lock results). */
export type CallResult =
  | { readonly kind: 'assign'; readonly target: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'argument' };

export interface CallOp {
  readonly kind: 'call';
  /** The called identifier; '' for calls through pointers or expressions. */
  readonly callee: string;
  readonly calleeText: string;
  readonly calleeSpan: Span;
  readonly span: Span;
  readonly args: readonly Arg[];
  readonly result?: CallResult;
  /** Inside a sizeof-free but conditional expression (`a && f()`, `c ? f() : g()`): may not run. */
  readonly conditional: boolean;
  /**
   * The argument list has an ERROR or MISSING node, so argument positions
   * cannot be trusted (`offsetof(struct s, a.b)` derails tree-sitter-c and
   * shifts the arguments after it).
   */
  readonly argsBroken?: boolean;
}

export interface AssignOp {
  readonly kind: 'assign';
  /** The assigned lvalue's text, whitespace-normalised: `current->flags`, `nofs_flag`. */
  readonly target: string;
  /** `=`, `|=`, `&=`, `++`, ... */
  readonly op: string;
  readonly value: string;
  readonly valueSpan: Span;
  readonly span: Span;
}

/** `&x`: x may change through the pointer. */
export interface AddressOp {
  readonly kind: 'address';
  readonly name: string;
}

/** `guard(class)(args)`: held until the end of the enclosing block. */
export interface GuardOp {
  readonly kind: 'guard';
  readonly cls: string;
  readonly args: readonly Arg[];
  readonly span: Span;
}

export type Op = CallOp | AssignOp | AddressOp | GuardOp;

export interface Condition {
  /** Normalised text without outer parentheses, negation or likely()/unlikely(). */
  readonly key: string;
  readonly negated: boolean;
  readonly ops: readonly Op[];
  /** Identifiers the condition reads; an assignment to any of them ends a correlation. */
  readonly vars: readonly string[];
  /** False when evaluating the condition twice may give different answers (assignments, allocations, lock calls). */
  readonly stable: boolean;
  /** A preprocessor condition (`#ifdef CONFIG_X`): fixed for a build, never changed by code. */
  readonly config: boolean;
  readonly span: Span;
  /** The span of the expression after stripping parentheses, `!` and likely(): a call here *is* the condition. */
  readonly innerSpan: Span;
  /**
   * `!suspend && (...)`: the top-level chain of one logical operator, each term
   * stripped like the whole. A term whose value is known can make a branch
   * infeasible (md_start_sync() pairs its NOIO save with `suspend` this way).
   */
  readonly junction?: { readonly op: '&&' | '||'; readonly terms: ReadonlyArray<{ readonly key: string; readonly negated: boolean }> };
}

export type Stmt =
  | { readonly kind: 'block'; readonly id: number; readonly body: readonly Stmt[]; readonly span: Span }
  | { readonly kind: 'ops'; readonly ops: readonly Op[]; readonly span: Span }
  | { readonly kind: 'if'; readonly cond: Condition; readonly then: Stmt; readonly else?: Stmt; readonly span: Span }
  | {
      readonly kind: 'loop';
      /** 'macro' for list_for_each_entry(...) and friends: a body that runs zero or more times. */
      readonly form: 'while' | 'for' | 'do' | 'macro';
      readonly init?: Stmt;
      readonly cond?: Condition;
      readonly update: readonly Op[];
      readonly body: Stmt;
      readonly span: Span;
    }
  | { readonly kind: 'switch'; readonly cond: Condition; readonly body: Stmt; readonly span: Span }
  | { readonly kind: 'case'; readonly isDefault: boolean; readonly span: Span }
  | { readonly kind: 'break'; readonly span: Span }
  | { readonly kind: 'continue'; readonly span: Span }
  | { readonly kind: 'return'; readonly ops: readonly Op[]; readonly value?: string; readonly span: Span }
  | { readonly kind: 'goto'; readonly label: string; readonly span: Span }
  | { readonly kind: 'label'; readonly name: string; readonly span: Span }
  /** scoped_guard(class, args) body: the lock is held while the body runs. */
  | { readonly kind: 'scoped-guard'; readonly guard: GuardOp; readonly body: Stmt; readonly span: Span }
  /**
   * Code the parser could not structure (an ERROR region). Its calls are kept
   * so that allocation sites are still listed; `opaque` says whether it may
   * hide control flow or task-state changes, in which case what follows is
   * unknown.
   */
  | { readonly kind: 'unknown'; readonly ops: readonly Op[]; readonly opaque: boolean; readonly span: Span };

export interface FunctionIR {
  readonly name: string;
  readonly nameSpan: Span;
  readonly span: Span;
  readonly body: Stmt;
  readonly params: readonly string[];
  /** Each named parameter's declaration text (`handle_t *handle`), aligned with `params`. */
  readonly paramDecls?: readonly string[];
  /** Identifiers declared in the body: a cookie stored anywhere else escapes. */
  readonly locals: ReadonlySet<string>;
  readonly isStatic: boolean;
  /** Sparse-style annotations on the declarator: `__acquires(x)`, `__releases(x)`, `__must_hold(x)`. */
  readonly annotations: readonly string[];
  /** How the name was found, when not from a plain declarator (`__init` recovery, `SYSCALL_DEFINE3`). */
  readonly nameFrom?: 'type-recovery' | 'macro';
}

export interface FileIR {
  readonly functions: readonly FunctionIR[];
  /** Functions passed to kthread_run()/kthread_create(): their scopes last as long as the thread. */
  readonly threadFunctions: ReadonlySet<string>;
}
