// Lowers a tree-sitter-c syntax tree into the statement IR (ir.ts). This and the
// backends are the only code that touches syntax nodes.
//
// Kernel hazards handled here (kernel-c-parsing.md, docs/kernel-idioms.md):
// - `for_each_possible_cpu(i) { ... }` after a declaration parses as a nested
//   function_definition: it is a loop, and sites belong to the outer function.
// - `list_for_each_entry(...) { ... }` parses as a call missing its `;`
//   followed by a statement: a loop macro and its body.
// - `static int __init foo(void)` loses the name `foo` to the type field.
// - `SYSCALL_DEFINE3(name, ...) { ... }` and `BPF_CALL_2(name, ...)` are a
//   macro call followed by a block at file scope.
// - ERROR regions become `unknown` statements that keep their calls.

import type { TextFilter } from './ranges';
import type { SyntaxNode } from './backend';
import type { Arg, CallOp, Condition, FileIR, FunctionIR, Op, Span, Stmt } from './ir';

/** Callees that start a kernel thread with the function given as first argument. */
const THREAD_CREATORS = new Set(['kthread_run', 'kthread_create', 'kthread_create_on_node', 'kthread_run_on_cpu', 'kthread_create_on_cpu', 'kthread_run_worker']);

/** Macro names that introduce a loop body when followed by a statement. */
const LOOP_MACRO = /(?:^|_)for_each|foreach|(?:^|_)for_(?:every|all)|_while\b|^while_/;

const SCOPED_GUARDS = new Set(['scoped_guard', 'scoped_cond_guard']);

const FUNCTION_MACROS: ReadonlyArray<[RegExp, (first: string) => string]> = [
  [/^(?:COMPAT_)?SYSCALL_DEFINE\d$/, (n) => `sys_${n}`],
  [/^BPF_CALL_\d$/, (n) => n],
];

export interface ExtractOptions {
  /**
   * Only functions whose text matches are lowered (the others yield no sites
   * and no scope facts). Lowering walks every node, which costs about as much
   * as parsing; most functions have nothing to say.
   */
  readonly interesting?: TextFilter;
  /** The thread functions of this text, when already known (threadFunctionsOf); else found again. */
  readonly threadFunctions?: ReadonlySet<string>;
  /**
   * The IR of the same text lowered before from another tree of it (an
   * earlier pass over the file with fewer included ranges): a definition at
   * the same span, without an error, whose name was read normally, lowers to
   * the same IR and is taken from here instead of being walked again.
   */
  readonly reuse?: FileIR;
}

const THREAD_STARTS = new RegExp(`\\b(?:${[...THREAD_CREATORS].join('|')})\\s*\\(\\s*([A-Za-z_]\\w*)\\s*,`, 'g');
/** What every thread creator's name starts with ("kthread_"): a text without it starts no thread, and indexOf finds that far faster than the pattern. */
const THREAD_PREFIX = [...THREAD_CREATORS].reduce((a, b) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
});

/**
 * The functions `text` starts as kernel threads. The function that starts a
 * thread is usually not lowered (it allocates nothing), so they are found in
 * the text: `kthread_run(fn, ...)`.
 */
export function threadFunctionsOf(text: string): Set<string> {
  const out = new Set<string>();
  if (!text.includes(THREAD_PREFIX)) return out;
  const re = new RegExp(THREAD_STARTS);
  for (let m = re.exec(text); m; m = re.exec(text)) out.add(m[1]);
  return out;
}

/** The IR lowerFunction() made of a clean definition whose name it read normally: what ExtractOptions.reuse may hand back. */
const fromDefinition = new WeakSet<FunctionIR>();

const spanOf = (n: SyntaxNode): Span => ({ start: n.startIndex, end: n.endIndex });

export function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export class Extractor {
  private readonly text: string;
  private readonly options: ExtractOptions;
  private blockId = 0;
  private locals = new Set<string>();
  /** Thread functions seen in lowered calls. */
  private readonly threadFunctions = new Set<string>();

  constructor(text: string, options: ExtractOptions = {}) {
    this.text = text;
    this.options = options;
  }

  private src(n: SyntaxNode): string {
    return this.text.slice(n.startIndex, n.endIndex);
  }

  extractFile(root: SyntaxNode): FileIR {
    const functions: FunctionIR[] = [];
    const reuse = this.options.reuse;
    if (reuse) for (const fn of reuse.functions) if (fromDefinition.has(fn)) this.lowered.set(fn.span.start, fn);
    this.collectTopLevel(root, functions);
    // Those found in the text, and (in a lowered call) those the regex misses;
    // a reused function's calls were seen when it was lowered.
    const threadFunctions = new Set(this.options.threadFunctions ?? threadFunctionsOf(this.text));
    for (const name of this.threadFunctions) threadFunctions.add(name);
    if (reuse) for (const name of reuse.threadFunctions) threadFunctions.add(name);
    return { functions, threadFunctions };
  }

  /** ExtractOptions.reuse's functions by where they start. */
  private readonly lowered = new Map<number, FunctionIR>();

  private collectTopLevel(container: SyntaxNode, out: FunctionIR[]): void {
    const kids = children(container);
    for (let i = 0; i < kids.length; i++) {
      const node = kids[i];
      switch (node.type) {
        case 'function_definition': {
          const fn = this.lowerFunction(node, kids[i - 1]);
          if (fn) out.push(fn);
          break;
        }
        case 'expression_statement': {
          // SYSCALL_DEFINE3(name, ...) { ... }: a macro call missing its ';' and a block.
          const next = kids[i + 1];
          const call = macroCallMissingSemicolon(node);
          if (call && next?.type === 'compound_statement') {
            const fn = this.lowerMacroFunction(call, next);
            if (fn) {
              out.push(fn);
              i++;
            }
          }
          break;
        }
        case 'preproc_if':
        case 'preproc_ifdef':
        case 'preproc_elif':
        case 'preproc_else':
        case 'preproc_elifdef':
        case 'linkage_specification':
        case 'declaration_list':
          this.collectTopLevel(node, out);
          break;
        case 'ERROR': {
          const broken = this.lowerBrokenFunction(node);
          if (broken) out.push(broken);
          this.collectTopLevel(node, out);
          break;
        }
        default:
          break;
      }
    }
  }

  private lowerFunction(node: SyntaxNode, previous: SyntaxNode | undefined): FunctionIR | undefined {
    const body = node.childForFieldName('body');
    if (!body) return undefined;
    const named = this.functionName(node);
    if (!named) return undefined;
    if (this.options.interesting && !this.options.interesting.test(this.src(node))) return undefined;
    const before = this.lowered.get(node.startIndex);
    if (before && before.span.end === node.endIndex && named.from === undefined && !node.hasError) return before;
    let isStatic = children(node).some((c) => c.type === 'storage_class_specifier' && this.src(c) === 'static');
    if (named.from === 'type-recovery' && previous && /^\s*static\b/.test(this.src(previous))) isStatic = true;
    this.blockId = 0;
    this.locals = new Set();
    const fn: FunctionIR = {
      name: named.name,
      nameSpan: named.span,
      span: spanOf(node),
      body: this.lowerStmt(body),
      ...this.params(node),
      locals: this.locals,
      isStatic,
      annotations: this.annotations(node),
      ...(named.from ? { nameFrom: named.from } : {}),
    };
    if (named.from === undefined && !node.hasError) fromDefinition.add(fn);
    return fn;
  }

  /**
   * A definition the parser could not structure: an `#ifdef` that splits an
   * `if` header from its body turns the whole function into a top-level ERROR
   * whose children are the pieces (`static int`, the declarator, `{`,
   * statements). Its calls are kept in one opaque region, so its allocation
   * sites are listed with an unknown context and give no findings, instead of
   * vanishing.
   */
  private lowerBrokenFunction(node: SyntaxNode): FunctionIR | undefined {
    const kids = children(node);
    const declIdx = kids.findIndex((k) => (k.type === 'function_declarator' || k.type === 'pointer_declarator') && findFunctionDeclarator(k) !== null);
    if (declIdx < 0) return undefined;
    const open = kids.findIndex((k, i) => i > declIdx && k.type === '{');
    if (open < 0) return undefined;
    let name: SyntaxNode | null = findFunctionDeclarator(kids[declIdx])!.childForFieldName('declarator');
    while (name && name.type !== 'identifier') name = name.childForFieldName('declarator') ?? firstNamed(name);
    if (!name) return undefined;
    const stop = kids.findIndex((k, i) => i > open && k.type === 'function_definition');
    const parts = kids.slice(open + 1, stop < 0 ? kids.length : stop);
    if (parts.length === 0) return undefined;
    const span: Span = { start: kids[open].startIndex, end: parts[parts.length - 1].endIndex };
    if (this.options.interesting && !this.options.interesting.test(this.text.slice(span.start, span.end))) return undefined;
    this.blockId = 0;
    this.locals = new Set();
    const ops: Op[] = [];
    const walk = (n: SyntaxNode): void => {
      if (n.type === 'function_definition') return; // lowered on its own by collectTopLevel
      if (n.type === 'call_expression') {
        ops.push(...this.exprOps(n, true));
        return;
      }
      for (const c of n.namedChildren) if (c) walk(c);
    };
    parts.forEach(walk);
    return {
      name: this.src(name),
      nameSpan: spanOf(name),
      span: { start: node.startIndex, end: span.end },
      body: { kind: 'block', id: ++this.blockId, body: [{ kind: 'unknown', ops, opaque: true, span }], span },
      params: [],
      locals: this.locals,
      isStatic: kids.slice(0, declIdx).some((k) => k.type === 'storage_class_specifier' && this.src(k) === 'static'),
      annotations: [],
    };
  }

  private lowerMacroFunction(call: SyntaxNode, body: SyntaxNode): FunctionIR | undefined {
    const fnNode = call.childForFieldName('function');
    if (!fnNode || fnNode.type !== 'identifier') return undefined;
    const macro = this.src(fnNode);
    const args = namedChildren(call.childForFieldName('arguments'));
    if (args.length === 0 || args[0].type !== 'identifier') return undefined;
    const rule = FUNCTION_MACROS.find(([re]) => re.test(macro));
    if (!rule) return undefined;
    if (this.options.interesting && !this.options.interesting.test(this.src(body))) return undefined;
    this.blockId = 0;
    this.locals = new Set();
    return {
      name: rule[1](this.src(args[0])),
      nameSpan: spanOf(args[0]),
      span: { start: call.startIndex, end: body.endIndex },
      body: this.lowerStmt(body),
      params: [],
      locals: this.locals,
      isStatic: false,
      annotations: [],
      nameFrom: 'macro',
    };
  }

  private functionName(node: SyntaxNode): { name: string; span: Span; from?: 'type-recovery' } | undefined {
    let decl = node.childForFieldName('declarator');
    while (decl) {
      if (decl.type === 'identifier') return { name: this.src(decl), span: spanOf(decl) };
      if (decl.type === 'function_declarator' || decl.type === 'pointer_declarator' || decl.type === 'attributed_declarator') {
        const inner = decl.childForFieldName('declarator');
        if (decl.type === 'function_declarator' && inner?.type === 'parenthesized_declarator') {
          decl = firstNamed(inner);
          continue;
        }
        decl = inner;
        continue;
      }
      if (decl.type === 'parenthesized_declarator') {
        // `static int __init foo(void)`: the name went into the type field.
        const type = node.childForFieldName('type');
        if (type?.type === 'type_identifier') return { name: this.src(type), span: spanOf(type), from: 'type-recovery' };
        return undefined;
      }
      return undefined;
    }
    return undefined;
  }

  private params(node: SyntaxNode): { params: string[]; paramDecls: string[] } {
    const fd = findFunctionDeclarator(node.childForFieldName('declarator'));
    const list = fd ? fd.childForFieldName('parameters') : null;
    const params: string[] = [];
    const paramDecls: string[] = [];
    for (const p of namedChildren(list)) {
      if (p.type !== 'parameter_declaration') continue;
      let d = p.childForFieldName('declarator');
      while (d && d.type !== 'identifier') d = d.childForFieldName('declarator') ?? firstNamed(d);
      if (d) {
        params.push(this.src(d));
        paramDecls.push(this.src(p).replace(/\s+/g, ' '));
      }
    }
    return { params, paramDecls };
  }

  private annotations(node: SyntaxNode): string[] {
    const fd = findFunctionDeclarator(node.childForFieldName('declarator'));
    if (!fd) return [];
    const params = fd.childForFieldName('parameters');
    const inner = fd.childForFieldName('declarator');
    return namedChildren(fd)
      .filter((c) => c.type === 'call_expression' && c.startIndex !== params?.startIndex && c.startIndex !== inner?.startIndex)
      .map((c) => normalize(this.src(c)));
  }

  // ---- statements -------------------------------------------------------

  private lowerStmt(node: SyntaxNode): Stmt {
    const span = spanOf(node);
    switch (node.type) {
      case 'compound_statement':
        return { kind: 'block', id: ++this.blockId, body: this.lowerList(namedChildren(node)), span };
      case 'expression_statement':
        // A block passed to a macro, or a statement expression, that jumps out
        // (`MACRO(x, { ... goto out; ... })`): its control flow cannot be followed.
        if (this.src(node).includes('{') && blockJumpsOut(node)) {
          const region = this.unknown(node);
          return region.kind === 'unknown' ? { ...region, opaque: true } : region;
        }
        return { kind: 'ops', ops: this.statementOps(node), span };
      case 'declaration': {
        // `scoped_guard(rcu) p = kmalloc(...);`: a one-argument scoped_guard with an
        // unbraced body parses as a declaration whose type is the macro.
        const type = node.childForFieldName('type');
        const macroName = type?.type === 'macro_type_specifier' ? type.childForFieldName('name') : null;
        if (type && macroName && SCOPED_GUARDS.has(this.src(macroName))) {
          const cls = namedChildren(type).find((c) => c.startIndex !== macroName.startIndex);
          const ops = namedChildren(node).filter((c) => c.startIndex !== type.startIndex).flatMap((c) => this.exprOps(c, false));
          return { kind: 'scoped-guard', guard: { kind: 'guard', cls: cls ? normalize(this.src(cls)) : '', args: [], span: spanOf(type) }, body: { kind: 'ops', ops, span }, span };
        }
        return { kind: 'ops', ops: this.statementOps(node), span };
      }
      case 'if_statement': {
        const cond = this.condition(node.childForFieldName('condition'), node);
        const consequence = node.childForFieldName('consequence');
        const alternative = node.childForFieldName('alternative');
        const elseStmt = alternative ? firstNamed(alternative) : null;
        return {
          kind: 'if',
          cond,
          then: consequence ? this.lowerStmt(consequence) : emptyOps(span),
          ...(elseStmt ? { else: this.lowerStmt(elseStmt) } : {}),
          span,
        };
      }
      case 'while_statement': {
        const body = node.childForFieldName('body');
        return { kind: 'loop', form: 'while', cond: this.condition(node.childForFieldName('condition'), node), update: [], body: body ? this.lowerStmt(body) : emptyOps(span), span };
      }
      case 'do_statement': {
        const body = node.childForFieldName('body');
        return { kind: 'loop', form: 'do', cond: this.condition(node.childForFieldName('condition'), node), update: [], body: body ? this.lowerStmt(body) : emptyOps(span), span };
      }
      case 'for_statement': {
        const init = node.childForFieldName('initializer');
        const cond = node.childForFieldName('condition');
        const update = node.childForFieldName('update');
        const body = node.childForFieldName('body');
        return {
          kind: 'loop',
          form: 'for',
          ...(init ? { init: init.type === 'declaration' ? this.lowerStmt(init) : { kind: 'ops', ops: this.exprOps(init, false), span: spanOf(init) } } : {}),
          ...(cond ? { cond: this.condition(cond, node) } : {}),
          update: update ? this.exprOps(update, false) : [],
          body: body ? this.lowerStmt(body) : emptyOps(span),
          span,
        };
      }
      case 'switch_statement': {
        const body = node.childForFieldName('body');
        return { kind: 'switch', cond: this.condition(node.childForFieldName('condition'), node), body: body ? this.lowerStmt(body) : emptyOps(span), span };
      }
      case 'break_statement':
        return { kind: 'break', span };
      case 'continue_statement':
        return { kind: 'continue', span };
      case 'return_statement': {
        const value = firstNamed(node);
        if (!value) return { kind: 'return', ops: [], span };
        return { kind: 'return', ops: this.exprOps(value, false, { kind: 'return' }), value: normalize(this.src(value)), span };
      }
      case 'goto_statement': {
        const label = node.childForFieldName('label');
        return { kind: 'goto', label: label ? this.src(label) : '', span };
      }
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_elif':
      case 'preproc_elifdef':
      case 'preproc_else':
        return this.lowerPreproc(node);
      case 'function_definition': {
        // `int i; for_each_possible_cpu(i) { ... }` parses as a nested definition: a loop.
        // `scoped_guard(rcu) { ... }` (one argument) parses the same way: a guarded body.
        const body = node.childForFieldName('body');
        const type = node.childForFieldName('type');
        const decl = node.childForFieldName('declarator');
        if (type?.type === 'type_identifier' && SCOPED_GUARDS.has(this.src(type)) && decl?.type === 'parenthesized_declarator') {
          const cls = firstNamed(decl);
          return { kind: 'scoped-guard', guard: { kind: 'guard', cls: cls ? normalize(this.src(cls)) : '', args: [], span: { start: type.startIndex, end: decl.endIndex } }, body: body ? this.lowerStmt(body) : emptyOps(span), span };
        }
        return { kind: 'loop', form: 'macro', update: [], body: body ? this.lowerStmt(body) : emptyOps(span), span };
      }
      case 'attributed_statement': {
        const inner = namedChildren(node).find((c) => c.type !== 'attribute_declaration');
        return inner ? this.lowerStmt(inner) : emptyOps(span);
      }
      case 'labeled_statement':
      case 'case_statement':
        return { kind: 'block', id: ++this.blockId, body: this.lowerList([node]), span };
      case 'ERROR':
        return this.unknown(node);
      default:
        // Comments, empty statements, type definitions and other declarations without code.
        if (node.hasError) return this.unknown(node);
        return { kind: 'ops', ops: this.exprOps(node, false), span };
    }
  }

  /** Lowers a statement list, expanding labels and case labels, and pairing loop macros with their bodies. */
  private lowerList(input: readonly SyntaxNode[]): Stmt[] {
    const out: Stmt[] = [];
    const nodes = [...input];
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      if (node.type === 'comment') continue;
      if (node.type === 'labeled_statement') {
        // `restart: list_for_each_entry(...) { ... }`: the label holds the macro
        // call, the body is the next sibling. Splice the labelled statement into
        // this list so that it pairs with what follows.
        const label = node.childForFieldName('label');
        out.push({ kind: 'label', name: label ? this.src(label) : '', span: spanOf(node) });
        const inner = namedChildren(node).filter((c) => c.type !== 'statement_identifier' && c.type !== 'comment');
        nodes.splice(i, 1, ...inner);
        i--;
        continue;
      }
      if (node.type === 'case_statement') {
        const value = node.childForFieldName('value');
        out.push({ kind: 'case', isDefault: !value, span: spanOf(node) });
        const body = namedChildren(node).filter((c) => c.startIndex !== value?.startIndex && c.type !== 'comment');
        out.push(...this.lowerList(body));
        continue;
      }
      const macro = node.type === 'expression_statement' ? macroCallMissingSemicolon(node) : undefined;
      const next = nodes[i + 1];
      if (macro && next && next.type !== 'case_statement' && next.type !== 'labeled_statement') {
        const fnNode = macro.childForFieldName('function');
        const name = fnNode?.type === 'identifier' ? this.src(fnNode) : '';
        if (SCOPED_GUARDS.has(name)) {
          const args = this.args(macro);
          const guardArgs = name === 'scoped_cond_guard' ? [args[0], ...args.slice(2)] : args;
          out.push({
            kind: 'scoped-guard',
            guard: { kind: 'guard', cls: guardArgs[0]?.text ?? '', args: guardArgs.slice(1), span: spanOf(macro) },
            body: this.lowerStmt(next),
            span: { start: node.startIndex, end: next.endIndex },
          });
          i++;
          continue;
        }
        if (LOOP_MACRO.test(name)) {
          out.push({
            kind: 'loop',
            form: 'macro',
            init: { kind: 'ops', ops: this.exprOps(macro.childForFieldName('arguments'), false), span: spanOf(node) },
            update: [],
            body: this.lowerStmt(next),
            span: { start: node.startIndex, end: next.endIndex },
          });
          i++;
          continue;
        }
      }
      out.push(this.lowerStmt(node));
    }
    return out;
  }

  /**
   * `#if A / #elif B / #else` becomes `if (A) ... else if (B) ... else ...` over
   * config conditions, so that a save under `#ifdef X` pairs with a restore
   * under a later `#ifdef X` exactly like correlated runtime conditions do.
   * Without `#else`, the last branch is empty: the code may be compiled out.
   */
  private lowerPreproc(node: SyntaxNode): Stmt {
    const alternative = node.childForFieldName('alternative');
    const condNode = node.childForFieldName('condition') ?? node.childForFieldName('name');
    const body = namedChildren(node).filter(
      (c) => c.startIndex !== alternative?.startIndex && c.startIndex !== condNode?.startIndex && c.type !== 'comment',
    );
    const block: Stmt = { kind: 'block', id: ++this.blockId, body: this.lowerList(body), span: spanOf(node) };
    if (node.type === 'preproc_else') return block;
    const directive = node.child(0) ? this.src(node.child(0)!) : '#if';
    let key = condNode ? normalize(this.src(condNode)) : '';
    let negated = false;
    if (node.type === 'preproc_ifdef' || node.type === 'preproc_elifdef') {
      key = `defined(${key})`;
      negated = /n/.test(directive.replace('#', '').replace('elif', ''));
    } else if (/^!\s*defined\s*\(?\s*\w+\s*\)?$/.test(key)) {
      key = `defined(${key.replace(/^!\s*defined\s*\(?\s*|\s*\)?$/g, '')})`;
      negated = true;
    } else if (/^defined\s*\(?\s*\w+\s*\)?$/.test(key)) {
      key = `defined(${key.replace(/^defined\s*\(?\s*|\s*\)?$/g, '')})`;
    }
    const condSpan = condNode ? spanOf(condNode) : spanOf(node);
    const cond: Condition = { key: `#${key}`, negated, ops: [], vars: [], stable: true, config: true, span: condSpan, innerSpan: condSpan };
    const rest = alternative ? this.lowerPreproc(alternative) : undefined;
    return { kind: 'if', cond, then: block, ...(rest ? { else: rest } : {}), span: spanOf(node) };
  }

  private unknown(node: SyntaxNode): Stmt {
    const ops: Op[] = [];
    let opaque = false;
    const walk = (n: SyntaxNode): void => {
      switch (n.type) {
        case 'return_statement':
        case 'goto_statement':
        case 'break_statement':
        case 'continue_statement':
        case 'return':
        case 'goto':
        case 'break':
        case 'continue':
        case '{':
        case '}':
          opaque = true;
          break;
        case 'call_expression':
          ops.push(...this.exprOps(n, true));
          return;
        default:
          break;
      }
      for (let i = 0; i < n.childCount; i++) walk(n.child(i)!);
    };
    walk(node);
    return { kind: 'unknown', ops, opaque, span: spanOf(node) };
  }

  // ---- expressions ------------------------------------------------------

  private statementOps(node: SyntaxNode): Op[] {
    if (node.type === 'declaration') {
      const ops: Op[] = [];
      for (const d of namedChildren(node)) {
        if (d.type === 'identifier' || d.type === 'pointer_declarator' || d.type === 'array_declarator') {
          const name = declaredName(d, this.text);
          if (name) this.locals.add(name);
          continue;
        }
        if (d.type !== 'init_declarator') continue;
        const target = declaredName(d.childForFieldName('declarator'), this.text);
        if (target) this.locals.add(target);
        const value = d.childForFieldName('value');
        if (!value) continue;
        ops.push(...this.valueOps(value, target ?? normalize(this.src(d)), d));
      }
      return ops;
    }
    const expr = firstNamed(node);
    return expr ? this.exprOps(expr, false) : [];
  }

  /** Ops of `target = value`: a call's result goes to target; anything else is an assignment. */
  private valueOps(value: SyntaxNode, target: string, whole: SyntaxNode): Op[] {
    const call = unwrapToCall(value);
    if (call) return this.exprOps(call, false, { kind: 'assign', target });
    return [
      ...this.exprOps(value, false),
      { kind: 'assign', target, op: '=', value: normalize(this.src(value)), valueSpan: spanOf(value), span: spanOf(whole) },
    ];
  }

  private exprOps(node: SyntaxNode | null, conditional: boolean, result?: CallOp['result']): Op[] {
    if (!node) return [];
    const ops: Op[] = [];
    const visit = (n: SyntaxNode, cond: boolean, res?: CallOp['result']): void => {
      switch (n.type) {
        case 'call_expression': {
          const fn = n.childForFieldName('function');
          const argList = n.childForFieldName('arguments');
          // Arguments are evaluated before the call.
          for (const a of namedChildren(argList)) visit(a, cond, unwrapToCall(a) === a ? { kind: 'argument' } : undefined);
          if (fn && fn.type === 'call_expression') {
            const innerFn = fn.childForFieldName('function');
            if (innerFn?.type === 'identifier' && this.src(innerFn) === 'guard') {
              const cls = namedChildren(fn.childForFieldName('arguments'))[0];
              ops.push({ kind: 'guard', cls: cls ? normalize(this.src(cls)) : '', args: this.args(n), span: spanOf(n) });
              return;
            }
          }
          if (fn && fn.type !== 'identifier') visit(fn, cond);
          const callee = fn?.type === 'identifier' ? this.src(fn) : '';
          const args = this.args(n);
          if (THREAD_CREATORS.has(callee) && args[0] && /^[A-Za-z_]\w*$/.test(args[0].text)) this.threadFunctions.add(args[0].text);
          ops.push({
            kind: 'call',
            callee,
            calleeText: fn ? normalize(this.src(fn)) : '',
            calleeSpan: fn ? spanOf(fn) : spanOf(n),
            span: spanOf(n),
            args,
            ...(res ? { result: res } : {}),
            conditional: cond,
            ...(argList && argList.hasError && argumentsShifted(argList) ? { argsBroken: true } : {}),
          });
          return;
        }
        case 'assignment_expression': {
          const left = n.childForFieldName('left');
          const right = n.childForFieldName('right');
          const op = n.childForFieldName('operator');
          const opText = op ? this.src(op) : '=';
          const target = left ? normalize(this.src(left)) : '';
          const call = right && opText === '=' ? unwrapToCall(right) : null;
          if (call) {
            visit(call, cond, { kind: 'assign', target });
            return;
          }
          if (right) visit(right, cond);
          ops.push({ kind: 'assign', target, op: opText, value: right ? normalize(this.src(right)) : '', valueSpan: right ? spanOf(right) : spanOf(n), span: spanOf(n) });
          return;
        }
        case 'update_expression': {
          const arg = n.childForFieldName('argument');
          const op = n.childForFieldName('operator');
          if (arg) ops.push({ kind: 'assign', target: normalize(this.src(arg)), op: op ? this.src(op) : '++', value: '', valueSpan: spanOf(n), span: spanOf(n) });
          return;
        }
        case 'pointer_expression': {
          const op = n.childForFieldName('operator');
          const arg = n.childForFieldName('argument');
          if (op && this.src(op) === '&' && arg?.type === 'identifier') ops.push({ kind: 'address', name: this.src(arg) });
          if (arg) visit(arg, cond);
          return;
        }
        case 'binary_expression': {
          const op = n.childForFieldName('operator');
          const opText = op ? this.src(op) : '';
          const left = n.childForFieldName('left');
          const right = n.childForFieldName('right');
          if (left) visit(left, cond);
          if (right) visit(right, cond || opText === '&&' || opText === '||');
          return;
        }
        case 'conditional_expression': {
          const c = n.childForFieldName('condition');
          if (c) visit(c, cond);
          const a = n.childForFieldName('consequence');
          const b = n.childForFieldName('alternative');
          if (a) visit(a, true);
          if (b) visit(b, true);
          return;
        }
        case 'compound_statement':
          // A statement expression `({ ... })`: its statements run in order.
          for (const s of namedChildren(n)) visit(s, cond);
          return;
        default: {
          if (LEAF_TYPES.has(n.type)) return;
          const passRes = res && n.type === 'parenthesized_expression' ? res : undefined;
          for (const c of n.namedChildren) if (c) visit(c, cond, passRes);
        }
      }
    };
    visit(node, conditional, result);
    return ops;
  }

  private args(call: SyntaxNode): Arg[] {
    return namedChildren(call.childForFieldName('arguments'))
      .filter((a) => a.type !== 'comment')
      .map((a) => ({ text: normalize(this.src(a)), span: spanOf(a) }));
  }

  /** Strips parentheses, `!` and likely()/unlikely(): what remains, and whether it was negated. */
  private stripCondition(node: SyntaxNode): { inner: SyntaxNode; negated: boolean } {
    let inner: SyntaxNode = node;
    let negated = false;
    for (;;) {
      if (inner.type === 'parenthesized_expression' && inner.namedChildCount === 1) {
        inner = inner.namedChild(0)!;
        continue;
      }
      if (inner.type === 'unary_expression') {
        const op = inner.childForFieldName('operator');
        const arg = inner.childForFieldName('argument');
        if (op && arg && this.src(op) === '!') {
          negated = !negated;
          inner = arg;
          continue;
        }
      }
      if (inner.type === 'call_expression') {
        const fn = inner.childForFieldName('function');
        const args = namedChildren(inner.childForFieldName('arguments'));
        if (fn?.type === 'identifier' && (this.src(fn) === 'likely' || this.src(fn) === 'unlikely') && args.length === 1) {
          inner = args[0];
          continue;
        }
      }
      return { inner, negated };
    }
  }

  /** `a && !b && (c || d)`: the top-level chain of one operator, each term stripped. */
  private junction(inner: SyntaxNode): Condition['junction'] {
    if (inner.type !== 'binary_expression') return undefined;
    const opNode = inner.childForFieldName('operator');
    const op = opNode ? this.src(opNode) : '';
    if (op !== '&&' && op !== '||') return undefined;
    const terms: Array<{ key: string; negated: boolean }> = [];
    const collect = (n: SyntaxNode): void => {
      if (n.type === 'binary_expression') {
        const o = n.childForFieldName('operator');
        if (o && this.src(o) === op) {
          const l = n.childForFieldName('left');
          const r = n.childForFieldName('right');
          if (l) collect(l);
          if (r) collect(r);
          return;
        }
      }
      const t = this.stripCondition(n);
      terms.push({ key: normalize(this.src(t.inner)), negated: t.negated });
    };
    collect(inner);
    return { op, terms };
  }

  private condition(node: SyntaxNode | null, owner: SyntaxNode): Condition {
    if (!node) return { key: '', negated: false, ops: [], vars: [], stable: false, config: false, span: spanOf(owner), innerSpan: spanOf(owner) };
    const { inner, negated } = this.stripCondition(node);
    const vars = new Set<string>();
    let stable = !node.hasError;
    const scan = (n: SyntaxNode): void => {
      if (n.type === 'assignment_expression' || n.type === 'update_expression') stable = false;
      if (n.type === 'identifier') {
        const parent = n.parent;
        const isCallee = parent?.type === 'call_expression' && parent.childForFieldName('function')?.startIndex === n.startIndex;
        if (!isCallee) vars.add(this.src(n));
      }
      for (const c of n.namedChildren) if (c) scan(c);
    };
    scan(inner);
    const junction = this.junction(inner);
    return {
      key: normalize(this.src(inner)),
      negated,
      ops: this.exprOps(node, false),
      vars: [...vars],
      stable,
      config: false,
      span: spanOf(node),
      innerSpan: spanOf(inner),
      ...(junction ? { junction } : {}),
    };
  }
}

// ---- small node helpers ---------------------------------------------------

/**
 * Whether the parser's error recovery may have moved arguments: an ERROR among
 * the list's own children, or a token it had to invent (MISSING ")") anywhere
 * below. An ERROR deeper down, such as a type passed to a macro
 * (`struct_size_t(struct s, f, n)`), leaves the positions alone.
 */
function argumentsShifted(argList: SyntaxNode): boolean {
  const missingBelow = (n: SyntaxNode): boolean => {
    if (n.isMissing) return true;
    if (!n.hasError) return false;
    for (let i = 0; i < n.childCount; i++) if (missingBelow(n.child(i)!)) return true;
    return false;
  };
  for (let i = 0; i < argList.childCount; i++) {
    const c = argList.child(i)!;
    if (c.type === 'ERROR' || missingBelow(c)) return true;
  }
  return false;
}

function children(node: SyntaxNode | null): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  if (!node) return out;
  for (let i = 0; i < node.childCount; i++) out.push(node.child(i)!);
  return out;
}

function namedChildren(node: SyntaxNode | null): SyntaxNode[] {
  if (!node) return [];
  return node.namedChildren.filter((c): c is SyntaxNode => c !== null);
}

function firstNamed(node: SyntaxNode | null): SyntaxNode | null {
  if (!node) return null;
  for (const c of node.namedChildren) {
    if (c && c.type !== 'comment') return c;
  }
  return null;
}

/** Whether an expression holds a block (`({ ... })`, a macro argument) with a goto, return, or a break or continue that leaves it. */
function blockJumpsOut(node: SyntaxNode): boolean {
  const jumps = (n: SyntaxNode, inLoop: boolean, inSwitch: boolean): boolean => {
    switch (n.type) {
      case 'goto_statement':
      case 'return_statement':
        return true;
      case 'break_statement':
        return !inLoop && !inSwitch;
      case 'continue_statement':
        return !inLoop;
      case 'for_statement':
      case 'while_statement':
      case 'do_statement':
        inLoop = true;
        break;
      case 'switch_statement':
        inSwitch = true;
        break;
      default:
        break;
    }
    return n.namedChildren.some((c) => c !== null && jumps(c, inLoop, inSwitch));
  };
  const find = (n: SyntaxNode): boolean => (n.type === 'compound_statement' ? jumps(n, false, false) : n.namedChildren.some((c) => c !== null && find(c)));
  return find(node);
}

/**
 * Named node types that contain nothing the analysis needs (no call, no
 * assignment, no address-of): visiting stops there. With the native binding
 * a named node's type is a prototype property, so this test costs no call
 * into tree-sitter, while descending would cost several per node.
 */
const LEAF_TYPES = new Set([
  'identifier', 'field_identifier', 'type_identifier', 'primitive_type', 'statement_identifier',
  'number_literal', 'string_literal', 'concatenated_string', 'char_literal', 'true', 'false', 'null',
  'comment', 'sizeof_expression', 'alignof_expression', 'offsetof_expression', 'type_descriptor',
  'escape_sequence', 'string_content', 'system_lib_string',
]);

function emptyOps(span: Span): Stmt {
  return { kind: 'ops', ops: [], span: { start: span.end, end: span.end } };
}

/** The call of `MACRO(args)` in an expression statement whose `;` the parser had to invent. */
function macroCallMissingSemicolon(stmt: SyntaxNode): SyntaxNode | undefined {
  const last = stmt.child(stmt.childCount - 1);
  if (!last || !last.isMissing) return undefined;
  const expr = firstNamed(stmt);
  return expr?.type === 'call_expression' ? expr : undefined;
}

/** `(type)call(...)`, `(call(...))` -> the call; anything else -> null. */
function unwrapToCall(node: SyntaxNode): SyntaxNode | null {
  let n: SyntaxNode | null = node;
  while (n) {
    if (n.type === 'call_expression') return n;
    if (n.type === 'parenthesized_expression' && n.namedChildCount === 1) n = n.namedChild(0);
    else if (n.type === 'cast_expression') n = n.childForFieldName('value');
    else return null;
  }
  return null;
}

function findFunctionDeclarator(node: SyntaxNode | null): SyntaxNode | null {
  let n = node;
  while (n) {
    if (n.type === 'function_declarator') return n;
    n = n.childForFieldName('declarator');
  }
  return null;
}

function declaredName(node: SyntaxNode | null, text: string): string | undefined {
  let n = node;
  while (n) {
    if (n.type === 'identifier') return text.slice(n.startIndex, n.endIndex);
    n = n.childForFieldName('declarator') ?? firstNamed(n);
  }
  return undefined;
}

export function extractFile(root: SyntaxNode, text: string, options: ExtractOptions = {}): FileIR {
  return new Extractor(text, options).extractFile(root);
}
