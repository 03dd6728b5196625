// Which parts of a file are worth parsing for a whole-tree check.
//
// Parsing is the single largest cost of `gfp-lens check`, and most of a file
// is functions that mention no allocator, GFP name or scope. Kernel style ends
// every function body with a line that is exactly `}`, so such lines split a
// file into consecutive chunks that each end with (at most) one top-level
// definition, with whatever declarations precede it. Only chunks whose text
// matches the interesting pattern are parsed, through tree-sitter's included
// ranges, so positions stay those of the whole file.
//
// The chunks cover the whole file with no gap, so a match can never fall
// outside them; an unusual layout (a `}` line inside a macro, `{` on the
// header line) only makes a chunk longer or splits a function, which leaves an
// ERROR region that the analysis treats as unknown, exactly as a broken parse
// of the whole file would.

import type { Point } from './backend';

export interface TextRange {
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
}

/**
 * The ranges to parse, or undefined when parsing the whole file is as cheap
 * (the selected chunks are most of the file).
 */
export function interestingRanges(text: string, interesting: RegExp, maxFraction = 0.7): TextRange[] | undefined {
  const ranges: TextRange[] = [];
  let chunkStart = 0;
  let chunkRow = 0;
  let row = 0;
  let lineStart = 0;
  let selected = 0;
  const close = (end: number, endRow: number, endColumn: number): void => {
    if (end > chunkStart && interesting.test(text.slice(chunkStart, end))) {
      const last = ranges[ranges.length - 1];
      if (last && last.endIndex === chunkStart) {
        ranges[ranges.length - 1] = { ...last, endIndex: end, endPosition: { row: endRow, column: endColumn } };
      } else {
        ranges.push({ startIndex: chunkStart, endIndex: end, startPosition: { row: chunkRow, column: 0 }, endPosition: { row: endRow, column: endColumn } });
      }
      selected += end - chunkStart;
    }
  };
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (lineEnd - lineStart === 1 && text.charCodeAt(lineStart) === 125 /* } */) {
      // The chunk ends after this line's newline.
      const end = Math.min(lineEnd + 1, text.length);
      close(end, end === lineEnd + 1 ? row + 1 : row, end === lineEnd + 1 ? 0 : 1);
      chunkStart = end;
      chunkRow = row + 1;
    }
    if (lineEnd >= text.length) break;
    lineStart = lineEnd + 1;
    row++;
  }
  if (chunkStart < text.length) close(text.length, row, text.length - lineStart);
  if (selected > maxFraction * text.length) return undefined;
  return ranges;
}
