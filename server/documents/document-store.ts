// The open C documents: text, syntax tree and one memoised analysis per
// (uri, version, configuration). Every content change is applied to the
// text on its own, against the text before it; the tree gets them as one
// tree.edit() covering all of them when the next analysis reparses it, so a
// burst of changes costs one edit and one incremental parse.
// A newer version supersedes an analysis still running (it stops at its next
// checkpoint), and callers never see results for a version that is gone.
//
// No LSP types beyond the document model: features/ turn results into LSP.

import type { TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { LineDocument } from './line-document';
import type { CParser, Point, SyntaxNode, SyntaxTree, TextEdit } from '../syntax/backend';
import { FunctionCache, type ExternalSummaries, type IncrementalAnalysis } from '../analysis/incremental';
import { isStackOverflow, TOO_DEEP } from '../analysis/too-deep';
import type { DocumentConfig } from './config';

/** The analysis of one document version, or why there is none. */
export interface DocumentAnalysis {
  readonly uri: string;
  readonly version: number;
  readonly document: TextDocument;
  readonly config: DocumentConfig;
  /** Absent when the file is not analysed (`skipped` says why). */
  readonly result?: IncrementalAnalysis;
  /** The workspace index's view of the rest of the tree, when it was used. */
  readonly external?: ExternalSummaries;
  readonly skipped?: string;
  /** Whether the tree has syntax errors (ERROR or MISSING nodes). */
  readonly hasSyntaxErrors: boolean;
}

/** Thrown (and caught inside) when a newer version or a close makes work stale. */
export class StaleError extends Error {
  constructor() {
    super('superseded');
  }
}

interface Entry {
  document: LineDocument;
  tree?: SyntaxTree;
  /** The parser that made `tree`; another backend means a fresh parse. */
  parser?: CParser;
  /** The text `tree` was parsed from. */
  treeText?: string;
  /**
   * The edits since `tree` was parsed, as one: `treeText` from `start` to
   * `oldEnd` became the current text from `start` to `newEnd`. Applied to the
   * tree once, just before the next parse: each tree.edit() of node-tree-sitter
   * visits every node object still alive, so a burst of thousands of changes
   * edited one by one cost seconds.
   */
  pending?: { start: number; oldEnd: number; newEnd: number };
  /** Where the edits since the last parse lie, in the current text's offsets (a span covering all of them). */
  edited?: { from: number; to: number };
  cache: FunctionCache;
  memo?: { version: number; generation: number; external: number; promise: Promise<DocumentAnalysis | undefined> };
  closed: boolean;
}

export interface StoreEnvironment {
  /** The configuration (settings, context, parser) for a document. */
  config(uri: string): Promise<DocumentConfig>;
  /**
   * The workspace index's summaries of the rest of the tree for a document
   * analysed with `config`, when an index covers it (and has something).
   */
  external?(uri: string, config: DocumentConfig): ExternalSummaries | undefined;
}

export class DocumentStore {
  private readonly entries = new Map<string, Entry>();
  /** Bumped when settings change: every memo becomes stale. */
  private generation = 0;

  constructor(private readonly env: StoreEnvironment) {}

  open(uri: string, languageId: string, version: number, text: string): void {
    this.close(uri);
    this.entries.set(uri, { document: new LineDocument(uri, languageId, version, text), cache: new FunctionCache(), closed: false });
  }

  /** Applies the changes of one didChange, each against the text before it. */
  change(uri: string, version: number, changes: readonly TextDocumentContentChangeEvent[]): void {
    const e = this.entries.get(uri);
    if (!e) return;
    for (const change of changes) {
      const replaced = e.document.apply(change);
      if (!e.tree) continue;
      if (!replaced) {
        // A full-text change: nothing of the old tree lines up any more.
        this.dropTree(e);
        continue;
      }
      const { start, end: oldEnd } = replaced;
      const newEnd = start + change.text.length;
      // Composed with the edits before it (this one in the current text's offsets).
      const p = e.pending;
      e.pending = p
        ? { start: Math.min(p.start, start), oldEnd: Math.max(p.oldEnd, oldEnd + p.oldEnd - p.newEnd), newEnd: Math.max(p.newEnd, oldEnd) + newEnd - oldEnd }
        : { start, oldEnd, newEnd };
      // Grow the edited span: text after this change moves by its length difference.
      const was = e.edited;
      const shift = (o: number): number => (o >= oldEnd ? o + newEnd - oldEnd : Math.min(o, newEnd));
      e.edited = was ? { from: Math.min(shift(was.from), start), to: Math.max(shift(was.to), newEnd) } : { from: start, to: newEnd };
    }
    e.document.version = version;
  }

  close(uri: string): void {
    const e = this.entries.get(uri);
    if (!e) return;
    e.closed = true;
    e.tree?.dispose();
    e.tree = undefined;
    e.cache.clear();
    this.entries.delete(uri);
  }

  get(uri: string): TextDocument | undefined {
    return this.entries.get(uri)?.document;
  }

  uris(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The workspace index changed: analyse again on next request, keeping the
   * function caches (a function whose callees' and callers' summaries did not
   * change comes from the cache).
   */
  reanalyse(): void {
    this.externalGeneration++;
  }

  private externalGeneration = 0;

  /** Settings changed: re-analyse everything from scratch on next request. */
  invalidate(): void {
    this.generation++;
    for (const e of this.entries.values()) {
      e.memo = undefined;
      e.cache.clear();
    }
  }

  /**
   * The analysis of the document's current version (memoised), or undefined
   * when the document is closed or has moved on before it finished.
   */
  analysis(uri: string): Promise<DocumentAnalysis | undefined> {
    const e = this.entries.get(uri);
    if (!e) return Promise.resolve(undefined);
    const version = e.document.version;
    if (e.memo && e.memo.version === version && e.memo.generation === this.generation && e.memo.external === this.externalGeneration) return e.memo.promise;
    const generation = this.generation;
    const external = this.externalGeneration;
    const promise = this.run(e, version, generation).catch((err: unknown) => {
      if (err instanceof StaleError) return undefined;
      throw err;
    });
    e.memo = { version, generation, external, promise };
    return promise;
  }

  /** The analysis if it is for `version` exactly (code actions are tied to one). */
  async analysisAt(uri: string, version: number | undefined): Promise<DocumentAnalysis | undefined> {
    const a = await this.analysis(uri);
    if (!a || (version !== undefined && a.version !== version)) return undefined;
    return a;
  }

  private async run(e: Entry, version: number, generation: number): Promise<DocumentAnalysis> {
    const check = (): void => {
      if (e.closed || e.document.version !== version || this.generation !== generation) throw new StaleError();
    };
    const config = await this.env.config(e.document.uri);
    // Let pending notifications (more edits of an edit storm) arrive first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    check();
    const document = e.document;
    const text = document.getText();
    const base = { uri: document.uri, version, document, config };
    if (text.length > config.settings.maxFileSize) {
      this.dropTree(e);
      return { ...base, skipped: `larger than gfp-lens.maxFileSize (${text.length} > ${config.settings.maxFileSize} characters)`, hasSyntaxErrors: false };
    }
    if (text.includes('\u0000')) {
      this.dropTree(e);
      return { ...base, skipped: 'binary content (NUL characters)', hasSyntaxErrors: false };
    }
    const tree = this.parse(e, config.parser, text);
    const root = tree.rootNode;
    const hasSyntaxErrors = root.hasError;
    const external = this.env.external?.(e.document.uri, config);
    // (A call that may sleep, of a function in another file, is worth reading under an atomic section.)
    if (!config.context.lowering(text, undefined, external?.context.blocking).test(text)) {
      return { ...base, result: { ir: { functions: [], threadFunctions: new Set() }, functions: [], sites: [], findings: [], analysed: 0 }, hasSyntaxErrors };
    }
    let result: IncrementalAnalysis;
    try {
      result = await e.cache.analyze(
        config.context,
        config.contextKey,
        root,
        text,
        async () => {
          await new Promise<void>((resolve) => setImmediate(resolve));
          check();
        },
        external,
      );
    } catch (err) {
      if (!isStackOverflow(err)) throw err;
      // Nothing the cache holds from this try is trustworthy.
      e.cache.clear();
      check();
      return { ...base, skipped: TOO_DEEP, hasSyntaxErrors };
    }
    check();
    return { ...base, result, hasSyntaxErrors, ...(external ? { external } : {}) };
  }

  private parse(e: Entry, parser: CParser, text: string): SyntaxTree {
    if (e.tree && e.parser === parser && !e.pending) return e.tree;
    const old = e.tree && e.parser === parser ? e.tree : undefined;
    if (e.tree && !old) this.dropTree(e);
    if (old && e.pending && e.treeText !== undefined) old.edit(treeEdit(e.document, e.treeText, text, e.pending));
    const edited = e.edited;
    e.edited = undefined;
    // The error regions the edit touches in the old tree are marked before the
    // parse, so that one parse reads them afresh; a second parse is needed
    // only when the edit made an error where there was none.
    const marked = old && edited ? mark(old, errorRegions(old, edited)) : [];
    let tree = parser.parse(text, old);
    let changed = old ? tree.changedRanges(old) : [];
    if (old && edited) {
      const errors = errorRegions(tree, edited);
      if (errors.some((r) => !marked.some((m) => m.startIndex <= r.startIndex && r.oldEndIndex <= m.oldEndIndex))) {
        // The error regions parsed again change the structure too (changed
        // ranges are only defined between a tree and the one parsed from it).
        mark(tree, errors);
        const first = tree;
        tree = parser.parse(text, first);
        changed = [...changed, ...tree.changedRanges(first)];
        first.dispose();
      }
    }
    // Where the structure changed: the function cache reads the top level only there (and where the text changed).
    if (old && e.treeText !== undefined) e.cache.reparsed(e.treeText, text, changed);
    old?.dispose();
    e.tree = tree;
    e.treeText = text;
    e.parser = parser;
    e.pending = undefined;
    return tree;
  }

  private dropTree(e: Entry): void {
    e.tree?.dispose();
    e.tree = undefined;
    e.treeText = undefined;
    e.edited = undefined;
    e.pending = undefined;
  }

  /** Test hook: the current tree of a document (parsed up to its last analysis). */
  treeOf(uri: string): SyntaxTree | undefined {
    return this.entries.get(uri)?.tree;
  }
}

/**
 * tree-sitter 0.22 (both backends) may reuse subtrees inside or next to an
 * error region when it reparses incrementally, and then recovers from the
 * error differently than a fresh parse of the same text would (tree-sitter
 * issues #1645, #4001): the function around an error can end elsewhere, and
 * with it the sites' contexts. The analysis of a text must not depend on the
 * edits that led to it (verify:incremental), so every top-level node that
 * holds an error next to an edit is read afresh: marked as changed (an edit
 * that replaces it with itself) in the old tree before the parse, and, where
 * the edit made a new error, in the new tree, which is then parsed once more,
 * reusing only the clean top-level nodes around it. Most kernel files have
 * some ERROR node (macros tree-sitter-c cannot read), so a fresh parse on
 * every error would undo the incremental parse for them; this re-reads the
 * erroneous definitions only. Marks `regions` (errorRegions()) and returns them.
 */
function mark(tree: SyntaxTree, regions: TextEdit[]): TextEdit[] {
  for (const m of regions) tree.edit(m);
  return regions;
}

/**
 * The top-level nodes with an error that the edited span touches, and one on
 * each side of them, as edits that replace each with itself. An error region
 * elsewhere was parsed as a fresh parse would the last time and is reused
 * whole (re-reading every error region of a kernel file on each keystroke
 * cost 17 ms on fs/nfs/nfs4proc.c, 47 ms on kernel/bpf/verifier.c).
 */
function errorRegions(tree: SyntaxTree, edited: { from: number; to: number }): TextEdit[] {
  const root = tree.rootNode;
  if (!root.hasError) return [];
  const span = topLevelSpan(root, edited.from, edited.to);
  if (!span) return [];
  // Read every range first: the caller's edits move no node, but they change the tree under the nodes read.
  const marks: TextEdit[] = [];
  for (let i = Math.max(0, span.first - 1); i <= Math.min(root.childCount - 1, span.last + 1); i++) {
    const c = root.child(i)!;
    if (!c.hasError) continue;
    const end = c.endPosition;
    marks.push({ startIndex: c.startIndex, oldEndIndex: c.endIndex, newEndIndex: c.endIndex, startPosition: c.startPosition, oldEndPosition: end, newEndPosition: end });
  }
  return marks;
}

/**
 * The first and last top-level nodes that [from, to] touches (a node ending
 * at `from` or starting at `to` counts), found by binary search: on the
 * native backend every child read is a call into the binding, and a kernel
 * file has a thousand top-level nodes.
 */
function topLevelSpan(root: SyntaxNode, from: number, to: number): { first: number; last: number } | undefined {
  const count = root.childCount;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (root.child(mid)!.endIndex < from) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= count || root.child(lo)!.startIndex > to) return undefined;
  let last = lo;
  while (last + 1 < count && root.child(last + 1)!.startIndex <= to) last++;
  return { first: lo, last };
}

/**
 * The edit of a tree parsed from `before` that makes it `after`'s (the text of
 * `document`), with tree-sitter's points (rows count '\n' only, columns
 * UTF-16). The text before the edit is the same in both, so the start point is
 * found once, through the document's line index where its lines are
 * tree-sitter's (no '\r' in the text), and the two ends from it.
 */
function treeEdit(document: LineDocument, before: string, after: string, p: { start: number; oldEnd: number; newEnd: number }): TextEdit {
  let startPosition: Point;
  if (after.includes('\r')) startPosition = advance({ row: 0, column: 0 }, after, 0, p.start);
  else {
    const at = document.positionAt(p.start);
    startPosition = { row: at.line, column: at.character };
  }
  return { startIndex: p.start, oldEndIndex: p.oldEnd, newEndIndex: p.newEnd, startPosition, oldEndPosition: advance(startPosition, before, p.start, p.oldEnd), newEndPosition: advance(startPosition, after, p.start, p.newEnd) };
}

/** The point of offset `end` of `text`, from the point `from` of offset `start`. */
function advance(from: Point, text: string, start: number, end: number): Point {
  let row = from.row;
  let lineStart = start - from.column;
  for (let i = text.indexOf('\n', start); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: end - lineStart };
}
