// Which functions a file defines, found in its text without parsing it: the
// name table of the workspace index. Name resolution needs every definition,
// not only the ones the analysis lowers: a static helper that mentions no
// allocator still shadows a global function of the same name for the calls of
// its own file, and two global definitions of one name (an arch variant, a
// __weak default and its override) make the name ambiguous.
//
// Kernel style (Documentation/process/coding-style.rst §6) puts the opening
// brace of a function body alone at the start of a line, after the declarator.
// That line is what this looks for; a file in another style yields fewer
// definitions, which can only make resolution find less, and the definitions
// the analysis lowers are known to the index anyway.

export interface Definition {
  readonly name: string;
  readonly isStatic: boolean;
}

/** How far above the brace a declarator may start (return type, attributes, parameters). */
const MAX_HEADER_LINES = 16;

/** Macros that take arguments in a declarator before the name: `static __printf(2, 3) int foo(...)`. */
const ATTRIBUTE_CALL = /^(?:__attribute__|__section|__aligned|__printf|__scanf|__acquires|__releases|__must_hold|__cond_acquires|__diag_ignore\w*|__no_sanitize\w*|__alloc_size|__malloc|__assume_aligned|__counted_by|__nocfi|__used|__weak)$/;

export function scanDefinitions(text: string): Definition[] {
  const out: Definition[] = [];
  let at = text.startsWith('{\n') ? 0 : text.indexOf('\n{\n');
  while (at >= 0) {
    const braceLine = at === 0 && text.startsWith('{\n') ? 0 : at + 1;
    const def = declaratorAbove(text, braceLine);
    if (def) out.push(def);
    at = text.indexOf('\n{\n', braceLine + 1);
  }
  return out;
}

/** The function declared by the lines just above the body's `{` line, if they declare one. */
function declaratorAbove(text: string, braceLine: number): Definition | undefined {
  const lines: string[] = [];
  let end = braceLine - 1; // the newline before the brace
  // xfs leaves a blank line between the parameters and the brace now and then.
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  for (let n = 0; n < MAX_HEADER_LINES && end > 0; n++) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    // A comment that opens and closes on the line (xfs documents each
    // parameter so) is not the end of an earlier block comment.
    const line = text.slice(start, end).replace(/\/\*.*?\*\//g, ' ');
    const trimmed = line.trim();
    // A blank line, a preprocessor line, the end of a comment or of a previous
    // declaration or body: the declarator starts below it.
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//') || trimmed.endsWith('*/') || trimmed.endsWith(';') || trimmed.endsWith('}')) break;
    lines.unshift(line);
    end = start - 1;
  }
  if (lines.length === 0) return undefined;
  const header = lines.join(' ');
  if (!/^[A-Za-z_]/.test(header) || !header.includes('(')) return undefined;
  const name = declaredName(header);
  if (!name) return undefined;
  return { name, isStatic: /\b(?:static|STATIC)\b/.test(header.slice(0, header.indexOf(name))) };
}

/**
 * The identifier before the parameter list: the first `(` at depth 0 that
 * follows an identifier other than an attribute macro, with nothing but the
 * declarator's parameters after its match.
 */
function declaredName(header: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '=' && depth === 0) return undefined; // an initialiser, not a body
    if (c === '(') {
      if (depth === 0) {
        const m = /([A-Za-z_]\w*)\s*$/.exec(header.slice(0, i));
        if (m && !ATTRIBUTE_CALL.test(m[1])) {
          // A name in capitals is a macro that defines the function
          // (SYSCALL_DEFINE3, DEFINE_...): not a name callers use.
          return /^[A-Z0-9_]+$/.test(m[1]) ? undefined : m[1];
        }
      }
      depth++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/** A file's definitions as one string ("s:name" for static, "g:name" for global, space-separated): compact in memory and on disk. */
export function encodeDefinitions(defs: readonly Definition[]): string {
  return defs.map((d) => `${d.isStatic ? 's' : 'g'}:${d.name}`).join(' ');
}

export function decodeDefinitions(text: string): Definition[] {
  if (text === '') return [];
  return text.split(' ').map((t) => ({ name: t.slice(2), isStatic: t[0] === 's' }));
}
