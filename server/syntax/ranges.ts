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
// A `}` line ends a chunk only where the braces since the chunk's start
// balance (comments, strings and character literals skipped): a misindented
// `}` inside a function (arch/s390/kvm/interrupt.c has one) must not cut the
// function in two, or the parser would glue its first half to whatever
// selected chunk comes next. Where braces never balance (#ifdef branches that
// each open a brace), the chunk just runs on: longer, never wrong.

import type { Point } from './backend';
import type { TextRegion } from './text-region';

/**
 * What decides that a piece of text is worth parsing and lowering: a RegExp,
 * or a combination of several (see analysis/context.ts). `source` names it,
 * for caches keyed by it.
 */
export interface TextFilter {
  test(text: string): boolean;
  readonly source: string;
}

/** Text that either filter accepts. */
export function eitherFilter(a: TextFilter, b: TextFilter): TextFilter {
  return { test: (t) => a.test(t) || b.test(t), source: `(?:${a.source})|(?:${b.source})` };
}

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
export function interestingRanges(text: string, interesting: TextFilter, maxFraction = 0.7): TextRange[] | undefined {
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
  const depth = new BraceDepth(text);
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (lineEnd - lineStart === 1 && text.charCodeAt(lineStart) === 125 /* } */ && depth.at(lineEnd) === 0) {
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

/**
 * The chunks interestingRanges() splits a text into, as their end offsets
 * (the last is the text's length), and which of them are the old text's:
 * with `old` (the previous text's ends and the region where the texts
 * differ), the chunks before the region are kept, the scan resumes at the
 * last of them, and it stops at the first chunk end past the region where the
 * old scan had one too: from there on the text and the scan's state (depth 0
 * after a `}` line) are the same, so the old ends follow, moved.
 */
export interface ChunkEnds {
  readonly ends: number[];
  /** ends[0..kept) are old ends[0..kept). */
  readonly kept: number;
  /** ends[from..] are old ends[oldFrom..] moved by the edit (from === ends.length when none). */
  readonly from: number;
  readonly oldFrom: number;
}

export function chunkEnds(text: string, old?: { readonly ends: readonly number[]; readonly region: TextRegion }): ChunkEnds {
  const ends: number[] = [];
  let kept = 0;
  // A chunk end strictly before the region follows a `}` line and its newline, all unchanged.
  if (old) while (kept < old.ends.length && old.ends[kept] < old.region.start) ends.push(old.ends[kept++]);
  const resume = kept > 0 ? ends[kept - 1] : 0;
  const depth = new BraceDepth(text, resume > 0 ? resume - 1 : 0);
  const delta = old ? old.region.newEnd - old.region.oldEnd : 0;
  let j = kept;
  let lineStart = resume;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (lineEnd - lineStart === 1 && text.charCodeAt(lineStart) === 125 /* } */ && depth.at(lineEnd) === 0) {
      const end = Math.min(lineEnd + 1, text.length);
      ends.push(end);
      if (old && end - 1 >= old.region.newEnd) {
        // Past the region: an old chunk end at the same place means the rest is the old scan's.
        while (j < old.ends.length && old.ends[j] + delta < end) j++;
        if (j < old.ends.length && old.ends[j] + delta === end) {
          const from = ends.length;
          for (let k = j + 1; k < old.ends.length; k++) ends.push(old.ends[k] + delta);
          return { ends, kept, from, oldFrom: j + 1 };
        }
      }
    }
    if (lineEnd >= text.length) break;
    lineStart = lineEnd + 1;
  }
  if ((ends.length === 0 ? 0 : ends[ends.length - 1]) < text.length) ends.push(text.length);
  return { ends, kept, from: ends.length, oldFrom: old ? old.ends.length : 0 };
}

/**
 * Brace depth of C text at increasing offsets, skipping comments, string and
 * character literals. Queries must come in increasing offset order.
 */
class BraceDepth {
  private readonly text: string;
  private pos: number;
  private depth = 0;
  private static readonly NEXT = /[{}"'/]/g;

  /** `from`: where to start reading, at depth 0 (0, or the newline of a `}` line that ended a chunk). */
  constructor(text: string, from = 0) {
    this.text = text;
    this.pos = from;
  }

  /**
   * The depth after everything before `offset`, or NaN when `offset` lies
   * inside a comment or literal (a `}` line in commented-out code ends nothing).
   */
  at(offset: number): number {
    const t = this.text;
    const re = BraceDepth.NEXT;
    for (;;) {
      if (this.pos > offset) return Number.NaN;
      re.lastIndex = this.pos;
      const m = re.exec(t);
      if (!m || m.index >= offset) {
        this.pos = offset;
        return this.depth;
      }
      const i = m.index;
      const c = t.charCodeAt(i);
      this.pos = i + 1;
      if (c === 123 /* { */) this.depth++;
      else if (c === 125 /* } */) this.depth--;
      else if (c === 47 /* / */) {
        const next = t.charCodeAt(i + 1);
        if (next === 42 /* * */) {
          const end = t.indexOf('*/', i + 2);
          this.pos = end < 0 ? t.length : end + 2;
        } else if (next === 47) {
          const end = t.indexOf('\n', i + 2);
          this.pos = end < 0 ? t.length : end;
        }
      } else {
        // A string or character literal: up to the unescaped closing quote, or the line's end.
        let j = i + 1;
        while (j < t.length && t.charCodeAt(j) !== c && t.charCodeAt(j) !== 10) j += t.charCodeAt(j) === 92 ? 2 : 1;
        this.pos = j + 1;
      }
    }
  }
}
