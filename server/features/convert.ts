// Offsets (UTF-16 code units, as the analysis gives them) to LSP ranges and
// back. Both sides count UTF-16 code units, so no re-encoding is needed.

import type { Position, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Span } from '../../shared/evaluate';

export function rangeOf(doc: TextDocument, span: Span): Range {
  return { start: doc.positionAt(span.start), end: doc.positionAt(span.end) };
}

export function offsetOf(doc: TextDocument, pos: Position): number {
  return doc.offsetAt(pos);
}

/** 1-based line of an offset, for Markdown text ("line 12"). */
export function lineNo(doc: TextDocument, offset: number): number {
  return doc.positionAt(offset).line + 1;
}

/** The C identifier under (or just before) an offset, with its span. */
export function wordAt(text: string, offset: number): { word: string; span: Span } | undefined {
  const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  let s = offset;
  let e = offset;
  while (s > 0 && isWord(text.charCodeAt(s - 1))) s--;
  while (e < text.length && isWord(text.charCodeAt(e))) e++;
  if (s === e) return undefined;
  return { word: text.slice(s, e), span: { start: s, end: e } };
}

export function contains(span: Span, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}
