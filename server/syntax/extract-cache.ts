// Incremental lowering for the language server. Lowering a function walks all
// its nodes (about as costly as parsing it), and an edit changes one function:
// the IR of every top-level function definition is cached, relative to its
// start, by its text, its first line, the lowering pattern and whether the
// node before it says `static`; only the others are lowered again, through
// the same Extractor on a container holding just those top-level nodes.
// Definitions inside preprocessor blocks are cached the same way; ERROR
// regions and macro-defined functions are lowered every time.

import type { TextFilter } from './ranges';
import { shiftSpans } from './shift-spans';
import type { FileIR, FunctionIR, Span } from './ir';
import type { SyntaxNode } from './backend';
import { extractFile } from './extract';

interface Cached {
  readonly fn: FunctionIR;
}

export class ExtractCache {
  private entries = new Map<string, Cached>();

  clear(): void {
    this.entries.clear();
  }

  extract(root: SyntaxNode, text: string, interesting: TextFilter, lineOf: (offset: number) => number): FileIR {
    // Preprocessor blocks are flattened: the Extractor lowers their children
    // exactly as top-level ones, so each definition inside is cached too.
    const kids: SyntaxNode[] = [];
    const flatten = (n: SyntaxNode): void => {
      for (let i = 0; i < n.childCount; i++) {
        const k = n.child(i)!;
        if (CONTAINERS.has(k.type)) flatten(k);
        else kids.push(k);
      }
    };
    flatten(root);
    const next = new Map<string, Cached>();
    const fromCache = new Map<number, FunctionIR>();
    const keep: SyntaxNode[] = [];
    const keysByStart = new Map<number, string>();
    const staticAt = /\s*static\b/y;
    for (let i = 0; i < kids.length; i++) {
      const kid = kids[i];
      if (kid.type !== 'function_definition') {
        keep.push(kid);
        continue;
      }
      const prev = kids[i - 1];
      let prevStatic = false;
      if (prev) {
        staticAt.lastIndex = prev.startIndex;
        prevStatic = staticAt.test(text) && staticAt.lastIndex <= prev.endIndex;
      }
      const body = text.slice(kid.startIndex, kid.endIndex);
      const key = `${interesting.source}\u0000${lineOf(kid.startIndex)}\u0000${prevStatic ? 1 : 0}\u0000${body}`;
      const hit = next.get(key) ?? this.entries.get(key);
      if (hit) {
        next.set(key, hit);
        fromCache.set(kid.startIndex, hit.fn);
        continue;
      }
      // The node before matters only for `static` after type recovery.
      if (prevStatic && keep[keep.length - 1] !== prev) keep.push(prev);
      keep.push(kid);
      keysByStart.set(kid.startIndex, key);
    }
    const container = containerOf(root, keep);
    const fresh = extractFile(container, text, { interesting });
    const functions: FunctionIR[] = [];
    for (const fn of fresh.functions) {
      // A definition lowered only as the `static` context of a miss is already cached.
      const start = topLevelStart(kids, fn.span);
      if (start !== undefined && fromCache.has(start)) continue;
      functions.push(fn);
      const key = start !== undefined ? keysByStart.get(start) : undefined;
      if (key !== undefined && start !== undefined) next.set(key, { fn: shiftIR(fn, -start) });
    }
    for (const [start, fn] of fromCache) functions.push(shiftIR(fn, start));
    // Misses that lower to nothing (not interesting) are remembered as such too.
    for (const key of keysByStart.values()) if (!next.has(key)) next.set(key, { fn: EMPTY_FN });
    this.entries = next;
    functions.sort((a, b) => a.span.start - b.span.start);
    return { functions: functions.filter((f) => f !== EMPTY_FN && f.name !== ''), threadFunctions: fresh.threadFunctions };
  }
}

/** Nodes whose children the Extractor lowers as if they were top level. */
const CONTAINERS = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_else', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** Marks a definition the pattern does not select: nothing to lower. */
const EMPTY_FN: FunctionIR = { name: '', nameSpan: { start: 0, end: 0 }, span: { start: 0, end: 0 }, body: { kind: 'block', id: 0, body: [], span: { start: 0, end: 0 } }, params: [], locals: new Set(), isStatic: false, annotations: [] };

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

/** The IR moved by `delta` (every span); shared objects stay shared. */
function shiftIR(fn: FunctionIR, delta: number): FunctionIR {
  return fn === EMPTY_FN ? fn : shiftSpans(fn, delta);
}
