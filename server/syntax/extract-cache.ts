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
import type { IndexRange, SyntaxNode } from './backend';
import { changedRegion } from './text-region';
import { extractFile, threadFunctionsOf } from './extract';
import { newLoweringMemo, type LoweringFilter, type LoweringMemo } from '../analysis/context';

interface Cached {
  /** The IR relative to the definition's start, per value of the `static` before it; null: lowers to nothing. */
  readonly rel: [FunctionIR | null | undefined, FunctionIR | null | undefined];
  /** The IR at `at`, as last handed out (reused while the definition does not move). */
  abs?: { readonly at: number; readonly prevStatic: boolean; readonly fn: FunctionIR };
  readonly memo: LoweringMemo;
}

/**
 * A top-level node (preprocessor blocks flattened), as plain data: the list
 * outlives the tree, so the next version re-reads only the nodes an edit
 * touched. `node` is the current tree's node, when this version read it.
 */
interface Item {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  node?: SyntaxNode;
  /** A definition's cache entry (its text is `text.slice(start, end)`). */
  entry?: Cached;
}

/** What the document store says about the tree it hands over next: reparsed from the one of `from`, differing in `changed` (and in the edited text). */
interface Reparse {
  readonly from: string;
  readonly to: string;
  readonly changed: readonly IndexRange[];
}

export class ExtractCache {
  /** The top-level items of the last tree lowered, with its text and root. */
  private top: { readonly root: SyntaxNode; readonly text: string; readonly items: readonly Item[] } | undefined;
  private reparse: Reparse | undefined;
  private threads: { readonly text: string; readonly names: ReadonlySet<string> } | undefined;

  clear(): void {
    this.top = undefined;
    this.reparse = undefined;
    this.threads = undefined;
  }

  /**
   * The analysis of this version is done: the list keeps no nodes (every node
   * alive is one more for the binding to move on the next edit of the tree).
   */
  release(): void {
    for (const x of this.top?.items ?? []) x.node = undefined;
  }

  /**
   * The next tree will be `to`'s, reparsed from the tree of `from` (edited),
   * its structure differing only in `changed`: the top-level nodes elsewhere
   * are read from the last list instead of the tree.
   */
  reparsed(from: string, to: string, changed: readonly IndexRange[]): void {
    this.reparse = { from, to, changed };
  }

  extract(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter): LoweredFile {
    const plan = this.planned(root, text, interesting);
    return this.finish(plan, plan.batches.map((batch) => this.extractBatch(root, text, interesting, batch)));
  }

  /**
   * extract(), awaiting \`pause\` between batches of about BATCH_CHARS of
   * text. Every syntax node the lowering reads costs the native binding a
   * cache entry that is freed only once its JS object is collected and the
   * event loop runs the finalizer: lowered in one go, a file of 50,000
   * functions (1.8 million nodes) held about 500 MB of them at once, and the
   * process kept that memory afterwards.
   */
  async extractPaused(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter, pause: () => Promise<void>): Promise<LoweredFile> {
    const plan = this.planned(root, text, interesting);
    const fresh: FileIR[] = [];
    for (let i = 0; i < plan.batches.length; i++) {
      if (i > 0) await pause();
      fresh.push(this.extractBatch(root, text, interesting, plan.batches[i]));
    }
    return this.finish(plan, fresh);
  }

  private planned(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter): Plan {
    try {
      return this.plan(root, text, interesting, this.topLevel(root, text));
    } catch (err) {
      if (!(err instanceof NotInTree)) throw err;
      // The list kept from the last version disagrees with the tree (a change
      // tree-sitter did not report): read the top level whole.
      return this.plan(root, text, interesting, this.topLevel(root, text, true));
    }
  }

  private extractBatch(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter, batch: readonly SyntaxNode[]): FileIR {
    // Found in the text once per version, not once per summary round.
    if (this.threads?.text !== text) this.threads = { text, names: threadFunctionsOf(text) };
    return extractFile(containerOf(root, batch), text, { interesting, threadFunctions: this.threads.names });
  }

  /** What to lower: the cache's hits, and the nodes the Extractor reads now, in batches (see extractPaused). */
  private plan(root: SyntaxNode, text: string, interesting: TextFilter | LoweringFilter, items: readonly Item[]): Plan {
    const test = 'testMemo' in interesting ? (t: string, memo: LoweringMemo) => interesting.testMemo(t, memo) : (t: string) => interesting.test(t);
    const functions: LoweredFunction[] = [];
    /**
     * What the Extractor lowers now: ERROR regions, macro-defined functions,
     * definitions not in the cache, each with the node it reads before or after
     * it (a batch never splits those).
     */
    const batches: SyntaxNode[][] = [];
    let batch: SyntaxNode[] = [];
    let size = 0;
    const keep = (...nodes: SyntaxNode[]): void => {
      if (size >= BATCH_CHARS) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
      for (const n of nodes) {
        batch.push(n);
        size += n.endIndex - n.startIndex;
      }
    };
    /** Definitions to lower now, by start: their cache entry and the `static` before them. */
    const misses = new Map<number, { entry: Cached; prevStatic: boolean }>();
    const staticAt = /\s*static\b/y;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.type !== 'function_definition') {
        if (item.type === 'ERROR') keep(this.nodeOf(root, item));
        else if (item.type === 'expression_statement' && items[i + 1]?.type === 'compound_statement') {
          // SYSCALL_DEFINE3(name, ...) { ... }: the Extractor reads the pair.
          keep(this.nodeOf(root, item), this.nodeOf(root, items[i + 1]));
          i++;
        }
        continue;
      }
      const start = item.start;
      const entry = (item.entry ??= { rel: [undefined, undefined], memo: newLoweringMemo() });
      if (!test(text.slice(start, item.end), entry.memo)) continue;
      const prev = items[i - 1];
      let prevStatic = false;
      if (prev) {
        staticAt.lastIndex = prev.start;
        prevStatic = staticAt.test(text) && staticAt.lastIndex <= prev.end;
      }
      const rel = entry.rel[prevStatic ? 1 : 0];
      if (rel === null) continue;
      if (rel !== undefined) {
        functions.push(new Lowered(rel, start, entry, prevStatic));
        continue;
      }
      // The Extractor reads the node before a definition only for its text (a
      // \`static\` lost to type recovery): a stand-in with that text will do.
      if (prev) keep(standIn(prev), this.nodeOf(root, item));
      else keep(this.nodeOf(root, item));
      misses.set(start, { entry, prevStatic });
    }
    if (batch.length > 0 || batches.length === 0) batches.push(batch);
    return { functions, batches, misses };
  }

  /** The lowered file from the plan's hits and what its batches lowered. */
  private finish(plan: Plan, lowered: readonly FileIR[]): LoweredFile {
    const { functions, misses } = plan;
    // (Each batch's set: the text's thread functions and those its lowered calls start.)
    const threadFunctions = new Set<string>();
    for (const fresh of lowered) for (const name of fresh.threadFunctions) threadFunctions.add(name);
    for (const fn of lowered.flatMap((x) => x.functions)) {
      // (A function of an ERROR region or a macro never starts where a definition does.)
      const miss = misses.get(fn.span.start);
      if (miss) {
        const rel = shiftSpans(fn, -fn.span.start);
        miss.entry.rel[miss.prevStatic ? 1 : 0] = rel;
        // The IR in document offsets is not kept: it is built again when read
        // (hovers, code actions read one function's), and keeping it for every
        // definition doubled the IR a large document holds.
        miss.entry.abs = undefined;
        misses.delete(fn.span.start);
        functions.push(new Lowered(rel, fn.span.start, miss.entry, miss.prevStatic));
      } else {
        // An ERROR region or a macro-defined function: lowered every time.
        functions.push(new Lowered(shiftSpans(fn, -fn.span.start), fn.span.start, undefined, false, fn));
      }
    }
    // Misses that lower to nothing (no body, no name) are remembered as such too.
    for (const { entry, prevStatic } of misses.values()) entry.rel[prevStatic ? 1 : 0] = null;
    const named = functions.filter((f) => f.name !== '').sort((a, b) => a.span.start - b.span.start);
    let ir: FileIR | undefined;
    return {
      functions: named,
      threadFunctions,
      get ir(): FileIR {
        return (ir ??= { functions: named.map((f) => f.fn), threadFunctions });
      },
    };
  }

  /**
   * The top-level items of `root`. After an edit, the last list is kept
   * outside a window that covers the edited text and every range whose
   * structure changed (the document store says which, from tree-sitter); only
   * the window is read from the tree. Definitions outside it keep their cache
   * entries, so their text is not even compared.
   */
  private topLevel(root: SyntaxNode, text: string, whole = false): readonly Item[] {
    const last = this.top;
    if (!whole && last && last.root === root && last.text === text) return last.items;
    const reparse = this.reparse;
    this.reparse = undefined;
    let items: Item[] | undefined;
    if (!whole && last && reparse && reparse.from === last.text && reparse.to === text) items = this.window(root, text, last, reparse.changed);
    if (!items) {
      // Everything from the tree; definitions whose text is unchanged keep their entries.
      const byText = new Map<string, Cached>();
      if (last) for (const x of last.items) if (x.entry) byText.set(last.text.slice(x.start, x.end), x.entry);
      items = [];
      flattenInto(root, items, 0, Infinity);
      for (const x of items) if (x.type === 'function_definition') x.entry = byText.get(text.slice(x.start, x.end));
    }
    this.top = { root, text, items };
    return items;
  }

  private window(root: SyntaxNode, text: string, last: { readonly text: string; readonly items: readonly Item[] }, changed: readonly IndexRange[]): Item[] | undefined {
    const region = changedRegion(last.text, text);
    const delta = region.newEnd - region.oldEnd;
    // Old items in new offsets; those that touch the edited text are dirty.
    const moved = (o: number): number => (o >= region.oldEnd ? o + delta : o <= region.start ? o : region.newEnd);
    let lo = region.start;
    let hi = region.newEnd;
    for (const r of changed) {
      lo = Math.min(lo, r.startIndex);
      hi = Math.max(hi, r.endIndex);
    }
    // Widen to every old item that overlaps or touches [lo, hi] (items are disjoint and in order).
    for (;;) {
      let grew = false;
      for (const x of last.items) {
        const s = moved(x.start);
        const e = moved(x.end);
        const dirty = (x.end >= region.start && x.start <= region.oldEnd) || (e >= lo && s <= hi);
        if (!dirty) continue;
        if (s < lo) (lo = s), (grew = true);
        if (e > hi) (hi = e), (grew = true);
      }
      if (!grew) break;
    }
    const fresh: Item[] = [];
    hi = flattenInto(root, fresh, lo, hi);
    const before = last.items.filter((x) => x.end <= lo && x.end <= region.start);
    // A node read in the window that starts before it means a change tree-sitter did not report: read the tree whole.
    if (fresh.length > 0 && fresh[0].start < (before.length > 0 ? before[before.length - 1].end : 0)) return undefined;
    const after: Item[] = [];
    for (const x of last.items) {
      if (x.start < region.oldEnd || x.start + delta < hi) continue;
      after.push({ type: x.type, start: x.start + delta, end: x.end + delta, entry: x.entry });
    }
    // The dirty items' entries serve a definition of the same text in the window (an undo, a no-op edit).
    const byText = new Map<string, Cached>();
    for (const x of last.items) if (x.entry && !before.includes(x) && x.start < region.oldEnd + 1 && x.end >= lo) byText.set(last.text.slice(x.start, x.end), x.entry);
    for (const x of fresh) if (x.type === 'function_definition') x.entry = byText.get(text.slice(x.start, x.end));
    return [...before.map((x) => ({ type: x.type, start: x.start, end: x.end, entry: x.entry })), ...fresh, ...after];
  }

  /** The current tree's node of an item (read again when the item came from the last list). */
  private nodeOf(root: SyntaxNode, item: Item): SyntaxNode {
    if (item.node) return item.node;
    let n = root;
    for (;;) {
      const i = firstEndingAfter(n, item.start);
      const c = i < n.childCount ? n.child(i) : null;
      if (!c) break;
      if (c.startIndex === item.start && c.endIndex === item.end && c.type === item.type) return c;
      if (!CONTAINERS.has(c.type) || c.startIndex > item.start || c.endIndex < item.end) break;
      n = c;
    }
    throw new NotInTree();
  }
}

/** A top-level item kept from the last version is not in the current tree. */
class NotInTree extends Error {}

/** About this much text is lowered between two pauses of extractPaused(). */
const BATCH_CHARS = 64 * 1024;

interface Plan {
  /** The definitions found in the cache. */
  readonly functions: LoweredFunction[];
  /** The nodes to lower, in batches (one at least, maybe empty). */
  readonly batches: readonly (readonly SyntaxNode[])[];
  /** Definitions to lower now, by start: their cache entry and the \`static\` before them. */
  readonly misses: Map<number, { entry: Cached; prevStatic: boolean }>;
}

/**
 * Appends the flattened top-level items of `n` that overlap [lo, hi) (ending
 * after lo, starting before hi) and returns hi, grown to the end of every
 * item read: a node that now reaches further (a brace that swallowed what
 * follows) takes the items it covers into the window.
 */
function flattenInto(n: SyntaxNode, out: Item[], lo: number, hi: number): number {
  const count = n.childCount;
  for (let i = lo > 0 ? firstEndingAfter(n, lo) : 0; i < count; i++) {
    const k = n.child(i)!;
    if (k.startIndex >= hi) break;
    if (CONTAINERS.has(k.type)) hi = flattenInto(k, out, lo, hi);
    else {
      out.push({ type: k.type, start: k.startIndex, end: k.endIndex, node: k });
      if (k.endIndex > hi) hi = k.endIndex;
    }
  }
  return hi;
}

/**
 * The index of the first child of `n` that ends after `index`, by bisection
 * (children are in order). Not the binding's firstChildForIndex/nextSibling:
 * those walk through parents, which tree-sitter 0.22 gets wrong next to a
 * zero-width (MISSING) node.
 */
function firstEndingAfter(n: SyntaxNode, index: number): number {
  let lo = 0;
  let hi = n.childCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (n.child(mid)!.endIndex > index) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A stand-in for the node before a definition: only its text is read. */
function standIn(item: Item): SyntaxNode {
  return { ...LEAF, type: 'previous_node', startIndex: item.start, endIndex: item.end };
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
    get namedChildCount() {
      return kids.filter((k) => k.isNamed).length;
    },
    child: (i: number) => kids[i] ?? null,
    namedChild: (i: number) => kids.filter((k) => k.isNamed)[i] ?? null,
    get namedChildren() {
      return kids.filter((k) => k.isNamed);
    },
    childForFieldName: () => null,
    parent: null,
  };
}

/** The members of a node with no children, for stand-ins. */
const LEAF: SyntaxNode = {
  type: '',
  isNamed: true,
  isMissing: false,
  hasError: false,
  startIndex: 0,
  endIndex: 0,
  startPosition: { row: 0, column: 0 },
  endPosition: { row: 0, column: 0 },
  childCount: 0,
  namedChildCount: 0,
  child: () => null,
  namedChild: () => null,
  namedChildren: [],
  childForFieldName: () => null,
  parent: null,
};
