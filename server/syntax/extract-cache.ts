// Incremental lowering for the language server. Lowering a function walks all
// its nodes (about as costly as parsing it), and an edit changes one function:
// the IR of every top-level function definition is cached, relative to its
// start, by its text and whether the node before it says `static` (the IR
// holds offsets only, no lines); only the others are lowered again, through
// the same Extractor on a container holding just those top-level nodes.
// Definitions inside preprocessor blocks are cached the same way; ERROR
// regions and macro-defined functions are lowered every time.
//
// Whether a definition is worth lowering (the filter) is decided apart from
// its IR: the filter changes with the document's summaries and with the
// names called under its atomic sections (an edit anywhere can change both),
// and neither changes what a definition lowers to. With a LoweringFilter, what
// the decision reads of a definition's own text is kept with it, so a new
// filter costs set lookups per definition rather than a scan of its text.
//
// A definition that stays where it was keeps its IR object from the previous
// version (no copy), so the function cache (incremental.ts) can recognise it
// by identity.

import type { TextFilter } from './ranges';
import { shiftSpans } from './shift-spans';
import type { FileIR, FunctionIR, Span } from './ir';
import type { SyntaxNode } from './backend';
import { extractFile, threadFunctionsOf } from './extract';
import { newLoweringMemo, type LoweringFilter, type LoweringMemo } from '../analysis/context';

interface Cached {
  /** The IR relative to the definition's start, per value of the `static` before it; null: lowers to nothing. */
  readonly rel: [FunctionIR | null | undefined, FunctionIR | null | undefined];
  /** The IR at `at`, as last handed out (reused while the definition does not move). */
  abs?: { readonly at: number; readonly prevStatic: boolean; readonly fn: FunctionIR };
  readonly memo: LoweringMemo;
}

export class ExtractCache {
  private entries = new Map<string, Cached>();

  /** The top-level nodes of the last tree (the summary rounds of one version lower the same tree). */
  private top: { readonly root: SyntaxNode; readonly text: string; readonly kids: readonly SyntaxNode[] } | undefined;

  private threads: { readonly text: string; readonly names: ReadonlySet<string> } | undefined;

  clear(): void {
    this.entries.clear();
    this.top = undefined;
    this.threads = undefined;
  }

  extract(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter): LoweredFile {
    const kids = this.topLevel(root, text);
    const test = 'testMemo' in interesting ? (t: string, memo: LoweringMemo) => interesting.testMemo(t, memo) : (t: string) => interesting.test(t);
    const next = new Map<string, Cached>();
    const functions: LoweredFunction[] = [];
    const keep: SyntaxNode[] = [];
    /** Definitions to lower now, by start: their cache entry and the `static` before them. */
    const misses = new Map<number, { entry: Cached; prevStatic: boolean }>();
    const staticAt = /\s*static\b/y;
    for (let i = 0; i < kids.length; i++) {
      const kid = kids[i];
      if (kid.type !== 'function_definition') {
        keep.push(kid);
        continue;
      }
      const start = kid.startIndex;
      const body = text.slice(start, kid.endIndex);
      const entry = next.get(body) ?? this.entries.get(body) ?? { rel: [undefined, undefined], memo: newLoweringMemo() };
      next.set(body, entry);
      if (!test(body, entry.memo)) continue;
      const prev = kids[i - 1];
      let prevStatic = false;
      if (prev) {
        staticAt.lastIndex = prev.startIndex;
        prevStatic = staticAt.test(text) && staticAt.lastIndex <= prev.endIndex;
      }
      const rel = entry.rel[prevStatic ? 1 : 0];
      if (rel === null) continue;
      if (rel !== undefined) {
        functions.push(new Lowered(rel, start, entry, prevStatic));
        continue;
      }
      // The node before matters only for `static` after type recovery.
      if (prevStatic && keep[keep.length - 1] !== prev) keep.push(prev);
      keep.push(kid);
      misses.set(start, { entry, prevStatic });
    }
    const container = containerOf(root, keep);
    // Found in the text once per version, not once per summary round.
    if (this.threads?.text !== text) this.threads = { text, names: threadFunctionsOf(text) };
    const fresh = extractFile(container, text, { interesting, threadFunctions: this.threads.names });
    for (const fn of fresh.functions) {
      const start = topLevelStart(kids, fn.span);
      const miss = start !== undefined ? misses.get(start) : undefined;
      if (start !== undefined && !miss) continue; // lowered only as the \`static\` context of a miss: listed already
      if (miss && start !== undefined) {
        const rel = shiftSpans(fn, -start);
        miss.entry.rel[miss.prevStatic ? 1 : 0] = rel;
        miss.entry.abs = { at: start, prevStatic: miss.prevStatic, fn };
        misses.delete(start);
        functions.push(new Lowered(rel, start, miss.entry, miss.prevStatic));
      } else {
        // An ERROR region or a macro-defined function: lowered every time.
        functions.push(new Lowered(shiftSpans(fn, -fn.span.start), fn.span.start, undefined, false, fn));
      }
    }
    // Misses that lower to nothing (no body, no name) are remembered as such too.
    for (const { entry, prevStatic } of misses.values()) entry.rel[prevStatic ? 1 : 0] = null;
    this.entries = next;
    const named = functions.filter((f) => f.name !== '').sort((a, b) => a.span.start - b.span.start);
    let ir: FileIR | undefined;
    const threadFunctions = fresh.threadFunctions;
    return {
      functions: named,
      threadFunctions,
      get ir(): FileIR {
        return (ir ??= { functions: named.map((f) => f.fn), threadFunctions });
      },
    };
  }

  /**
   * The top-level nodes, preprocessor blocks flattened: the Extractor lowers
   * their children exactly as top-level ones, so each definition inside is
   * cached too. Read once per tree (every node read is a call into the binding).
   */
  private topLevel(root: SyntaxNode, text: string): readonly SyntaxNode[] {
    if (this.top && this.top.root === root && this.top.text === text) return this.top.kids;
    const kids: SyntaxNode[] = [];
    const flatten = (n: SyntaxNode): void => {
      for (let i = 0; i < n.childCount; i++) {
        const k = n.child(i)!;
        if (CONTAINERS.has(k.type)) flatten(k);
        else kids.push(k);
      }
    };
    flatten(root);
    this.top = { root, text, kids };
    return kids;
  }
}

/** One lowered function: its IR relative to its start, and in document offsets when read. */
export interface LoweredFunction {
  readonly name: string;
  /** In document offsets. */
  readonly span: Span;
  /** The IR relative to the function's start: the same object while its text (and the \`static\` before it) stays. */
  readonly rel: FunctionIR;
  /** The IR in document offsets, built when first read: the same object while the function does not move. */
  readonly fn: FunctionIR;
}

export interface LoweredFile {
  readonly functions: readonly LoweredFunction[];
  readonly threadFunctions: ReadonlySet<string>;
  /** The functions' IR in document offsets (built when read: an edit moves every function below it). */
  readonly ir: FileIR;
}

class Lowered implements LoweredFunction {
  readonly name: string;
  readonly span: Span;

  constructor(
    readonly rel: FunctionIR,
    private readonly at: number,
    private readonly entry: Cached | undefined,
    private readonly prevStatic: boolean,
    private abs?: FunctionIR,
  ) {
    this.name = rel.name;
    this.span = { start: rel.span.start + at, end: rel.span.end + at };
  }

  get fn(): FunctionIR {
    if (this.abs) return this.abs;
    const last = this.entry?.abs;
    if (last && last.at === this.at && last.prevStatic === this.prevStatic) return (this.abs = last.fn);
    this.abs = shiftSpans(this.rel, this.at);
    if (this.entry) this.entry.abs = { at: this.at, prevStatic: this.prevStatic, fn: this.abs };
    return this.abs;
  }
}

/** Nodes whose children the Extractor lowers as if they were top level. */
const CONTAINERS = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_else', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** The start of the top-level node a function's span lies in. */
function topLevelStart(kids: readonly SyntaxNode[], span: Span): number | undefined {
  let lo = 0;
  let hi = kids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = kids[mid];
    if (span.start < k.startIndex) hi = mid - 1;
    else if (span.start >= k.endIndex) lo = mid + 1;
    else return k.type === 'function_definition' ? k.startIndex : undefined;
  }
  return undefined;
}

/** A stand-in for the root that holds only `kids` (the Extractor reads children by index). */
function containerOf(root: SyntaxNode, kids: readonly SyntaxNode[]): SyntaxNode {
  return {
    type: root.type,
    isNamed: root.isNamed,
    isMissing: false,
    hasError: root.hasError,
    startIndex: root.startIndex,
    endIndex: root.endIndex,
    startPosition: root.startPosition,
    endPosition: root.endPosition,
    childCount: kids.length,
    namedChildCount: kids.filter((k) => k.isNamed).length,
    child: (i: number) => kids[i] ?? null,
    namedChild: (i: number) => kids.filter((k) => k.isNamed)[i] ?? null,
    namedChildren: kids.filter((k) => k.isNamed),
    childForFieldName: () => null,
    parent: null,
  };
}
