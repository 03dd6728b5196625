// An open document's text, edited line by line.
//
// vscode-languageserver-textdocument's TextDocument.update builds each new
// text as substring + change + substring (a V8 cons string) and then reads it
// with charCodeAt, which flattens it: one copy of the whole text per change.
// verify:lifecycle's burst of 5,000 one-character changes to fs/ext4/inode.c
// (188 KB) cost 1.34 s that way, with requests waiting behind it; 40 ms here.
// A change splices the lines it touches, and the whole text is joined when
// something reads it, once per version (an analysis, once after a burst).
//
// Text, offsets, positions and line count are exactly TextDocument's (1.0.x),
// quirks included: the line breaks of a change are found in the inserted text
// alone, so a "\r" inserted before a "\n" ends a line of its own (a fresh
// TextDocument of the same text would see one CRLF). test/line-document.test.ts
// compares the two on random edits.

import type { Position, Range, TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';

/** What a range change replaced: its offsets and positions in the text before it. */
export interface Replaced {
  readonly start: number;
  readonly end: number;
  readonly startPosition: Position;
  readonly endPosition: Position;
}

export class LineDocument implements TextDocument {
  /**
   * The whole text; after a change, the text read last with the change
   * spliced in, or undefined until something reads it (see apply).
   */
  private text: string | undefined;
  /** Whether `text` was handed to a reader since it was last spliced (which flattens it). */
  private textRead = true;
  /**
   * The text line by line, each line with its line break. Made at the first
   * range change: most open documents are never edited, and a string per
   * line costs several times the text's own memory.
   */
  private lines: string[] | undefined;
  /**
   * Where each line starts. With `lines`, the entries from `valid` on are
   * stale (a change moves the lines after it) and are brought up to date only
   * as far as a reader needs: typing at one place costs nothing per change,
   * edits all over a file cost part of a pass each.
   */
  private starts: number[] | undefined;
  private valid = 1;
  private length: number;

  constructor(readonly uri: string, readonly languageId: string, public version: number, text: string) {
    this.text = text;
    this.length = text.length;
  }

  get lineCount(): number {
    return this.lines ? this.lines.length : this.lineStarts().length;
  }

  getText(range?: Range): string {
    this.text ??= this.lines!.join('');
    this.textRead = true;
    return range ? this.text.substring(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }

  offsetAt(position: Position): number {
    const at = this.clamp(position);
    return this.lineStarts(at.line)[at.line] + at.character;
  }

  positionAt(offset: number): Position {
    offset = Math.max(Math.min(offset, this.length), 0);
    const starts = this.lineStarts();
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (starts[mid] > offset) high = mid;
      else low = mid + 1;
    }
    const line = low - 1;
    return { line, character: this.beforeEOL(line, offset - starts[line]) };
  }

  /**
   * Applies one content change. Returns what a range change replaced (for
   * tree.edit), undefined for a whole-text change. The version is the caller's
   * to set.
   */
  apply(change: TextDocumentContentChangeEvent): Replaced | undefined {
    if (!('range' in change) || !change.range) {
      this.text = change.text;
      this.textRead = true;
      this.length = change.text.length;
      this.lines = undefined;
      this.starts = undefined;
      return undefined;
    }
    let { start, end } = change.range;
    if (start.line > end.line || (start.line === end.line && start.character > end.character)) [start, end] = [end, start];
    const from = this.clamp(start);
    const to = this.clamp(end);
    const starts = this.lineStarts(to.line);
    const replaced: Replaced = { start: starts[from.line] + from.character, end: starts[to.line] + to.character, startPosition: from, endPosition: to };
    if (!this.lines) {
      this.lines = starts.map((s, i) => this.text!.substring(s, i + 1 < starts.length ? starts[i + 1] : this.length));
      this.valid = starts.length;
    }
    const lines = this.lines;
    // Line breaks are found in the inserted text alone (as TextDocument does);
    // its first and last pieces join what the change leaves of its first and last lines.
    const pieces = splitLines(change.text);
    pieces[0] = lines[from.line].substring(0, from.character) + pieces[0];
    pieces[pieces.length - 1] += lines[to.line].substring(to.character);
    const count = to.line - from.line + 1;
    if (pieces.length < 10_000) lines.splice(from.line, count, ...pieces);
    else this.lines = lines.slice(0, from.line).concat(pieces, lines.slice(from.line + count)); // (too many arguments for splice)
    this.length += change.text.length - (replaced.end - replaced.start);
    this.valid = Math.min(this.valid, from.line + 1);
    // One change between two reads (typing, with an analysis after each key)
    // is spliced into the text read last: V8 makes that a cons string, which
    // the next reader flattens with one copy, far cheaper than joining the
    // lines again (1 ms a keystroke on a 300 KB file). A second change before
    // any read would flatten it here, once per change: an edit storm leaves
    // the text to the lines, joined once at the end.
    if (this.text !== undefined && this.textRead) {
      this.text = this.text.substring(0, replaced.start) + change.text + this.text.substring(replaced.end);
      this.textRead = false;
    } else this.text = undefined;
    return replaced;
  }

  /** Where each line starts, up to date at least to line `last` (all of them without it). */
  private lineStarts(last?: number): number[] {
    if (!this.lines) return (this.starts ??= [0].concat(breaks(this.text!)));
    const starts = this.starts!;
    const lines = this.lines;
    const upTo = last === undefined ? lines.length - 1 : last;
    for (let i = this.valid; i <= upTo; i++) starts[i] = starts[i - 1] + lines[i - 1].length;
    this.valid = Math.max(this.valid, upTo + 1);
    // Lines a change removed leave stale entries behind the last line.
    if (last === undefined) starts.length = lines.length;
    return starts;
  }

  /** A position clamped into the text as TextDocument.offsetAt clamps it (never between a line's end and its line break). */
  private clamp(p: Position): Position {
    const count = this.lineCount;
    if (p.line >= count) return { line: count - 1, character: this.lineLength(count - 1) };
    if (p.line < 0) return { line: 0, character: 0 };
    return { line: p.line, character: this.beforeEOL(p.line, Math.min(Math.max(p.character, 0), this.lineLength(p.line))) };
  }

  private lineLength(line: number): number {
    if (this.lines) return this.lines[line].length;
    const starts = this.lineStarts();
    return (line + 1 < starts.length ? starts[line + 1] : this.length) - starts[line];
  }

  /** Moves a column of a line back over the line's line break. */
  private beforeEOL(line: number, character: number): number {
    const text = this.lines ? this.lines[line] : this.text!;
    const at = this.lines ? 0 : this.lineStarts()[line];
    while (character > 0 && isEOL(text.charCodeAt(at + character - 1))) character--;
    return character;
  }
}

/** The offsets just after each line break (\n, \r\n or a lone \r), as TextDocument finds them. */
function breaks(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (!isEOL(ch)) continue;
    if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
    out.push(i + 1);
  }
  return out;
}

/** Text cut after each line break; the last piece may be empty. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (const to of breaks(text)) {
    out.push(text.substring(from, to));
    from = to;
  }
  out.push(text.substring(from));
  return out;
}

function isEOL(ch: number): boolean {
  return ch === 13 || ch === 10;
}
