// The parser behind a small interface with two implementations: native
// `tree-sitter` (N-API prebuilds) and `web-tree-sitter` (WASM), both loading the
// same tree-sitter-c grammar version. Code outside server/syntax/ never sees
// tree-sitter; code inside it sees only these types, so both backends give the
// same facts by construction.

import type { TextRange } from './ranges';

export type BackendName = 'native' | 'wasm';
export type BackendChoice = BackendName | 'auto';

export interface Point {
  readonly row: number;
  /** UTF-16 code units from the start of the line when parsing JS strings. */
  readonly column: number;
}

/** The subset of a tree-sitter node that both bindings offer with the same meaning. */
export interface SyntaxNode {
  readonly type: string;
  readonly isNamed: boolean;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly childCount: number;
  readonly namedChildCount: number;
  child(index: number): SyntaxNode | null;
  namedChild(index: number): SyntaxNode | null;
  /** All named children in one call: far cheaper than namedChild(i) per child in the native binding. */
  readonly namedChildren: ReadonlyArray<SyntaxNode | null>;
  childForFieldName(field: string): SyntaxNode | null;
  readonly parent: SyntaxNode | null;
}

/** A span of text, in the same units as SyntaxNode's indices. */
export interface IndexRange {
  readonly startIndex: number;
  readonly endIndex: number;
}

export interface TextEdit {
  readonly startIndex: number;
  readonly oldEndIndex: number;
  readonly newEndIndex: number;
  readonly startPosition: Point;
  readonly oldEndPosition: Point;
  readonly newEndPosition: Point;
}

export interface SyntaxTree {
  readonly rootNode: SyntaxNode;
  /** Records an edit so that the next parse can reuse the unchanged parts. */
  edit(edit: TextEdit): void;
  /**
   * Where this tree's structure differs from `old`'s (the tree it was reparsed
   * from, edited): tree-sitter's changed ranges. Text changed inside a token
   * that keeps its kind and place is not among them; callers add the edits.
   */
  changedRanges(old: SyntaxTree): IndexRange[];
  /** Frees the tree now (WASM trees leak otherwise; native ones are freed by GC). */
  dispose(): void;
}

export interface CParser {
  readonly backend: BackendName;
  /**
   * Parses `text`; with `old` (already edited), reparses incrementally. With
   * `ranges`, only those parts of the text are parsed (positions stay those
   * of the whole text); the whole-tree checker uses it to skip functions that
   * cannot matter (ranges.ts).
   */
  parse(text: string, old?: SyntaxTree, ranges?: readonly TextRange[]): SyntaxTree;
  dispose(): void;
}
