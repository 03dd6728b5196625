// Where an edited text differs from the text before: the language server's
// incremental steps (line index, atomic-section chunks) read only that region.

/** Where a new text differs from an old one: [start, oldEnd) of the old became [start, newEnd). */
export interface TextRegion {
  readonly start: number;
  readonly oldEnd: number;
  readonly newEnd: number;
}

/**
 * The one region where `b` differs from `a` (everything between their common
 * prefix and common suffix), compared a block at a time (string comparison is
 * native, a character loop is not).
 */
export function changedRegion(a: string, b: string): TextRegion {
  const min = Math.min(a.length, b.length);
  const BLOCK = 1024;
  let p = 0;
  while (p + BLOCK <= min && a.slice(p, p + BLOCK) === b.slice(p, p + BLOCK)) p += BLOCK;
  while (p < min && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // The suffix may not overlap the prefix in either text.
  const room = min - p;
  let s = 0;
  while (s + BLOCK <= room && a.slice(a.length - s - BLOCK, a.length - s) === b.slice(b.length - s - BLOCK, b.length - s)) s += BLOCK;
  while (s < room && a.charCodeAt(a.length - s - 1) === b.charCodeAt(b.length - s - 1)) s++;
  return { start: p, oldEnd: a.length - s, newEnd: b.length - s };
}
