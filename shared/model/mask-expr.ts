// Parses the C text of a GFP mask expression (`GFP_NOFS | __GFP_NOFAIL`,
// `(gfp & ~__GFP_FS)`, `(__force gfp_t)0x20`) and evaluates it to known bits.
//
// Identifiers the resolver does not know (a parameter `gfp`, a field
// `mapping->gfp_mask`, a call) make the bits they contribute unknown; they are
// reported so that callers can say what the mask depends on. Text that is not
// a mask expression at all is a syntax error.

import { UNKNOWN_BITS, andBits, exactly, notBits, orBits, xorBits, type KnownBits } from './known-bits';

export type MaskAst =
  | { kind: 'name'; name: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'opaque'; text: string }
  | { kind: 'not'; operand: MaskAst }
  | { kind: 'binary'; op: '|' | '&' | '^'; left: MaskAst; right: MaskAst };

export class MaskSyntaxError extends Error {}

interface Token {
  kind: 'ident' | 'number' | 'op' | 'lparen' | 'rparen' | 'other';
  text: string;
  pos: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)|([A-Za-z_][A-Za-z0-9_]*)|(\(|\))|([|&^~])|(->|\.|\[|\]|,|[^\s]))/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) break;
    if (m[0].trim() === '') {
      pos = re.lastIndex;
      continue;
    }
    const start = re.lastIndex - m[0].trimStart().length;
    if (m[1] !== undefined) tokens.push({ kind: 'number', text: m[1], pos: start });
    else if (m[2] !== undefined) tokens.push({ kind: 'ident', text: m[2], pos: start });
    else if (m[3] !== undefined) tokens.push({ kind: m[3] === '(' ? 'lparen' : 'rparen', text: m[3], pos: start });
    else if (m[4] !== undefined) tokens.push({ kind: 'op', text: m[4], pos: start });
    else tokens.push({ kind: 'other', text: m[5] ?? m[0], pos: start });
    pos = re.lastIndex;
  }
  return tokens;
}

const CAST_WORDS = new Set(['__force', 'gfp_t', 'unsigned', 'int', 'long', 'const', '__bitwise']);

/**
 * Parses mask text. Postfix expressions (calls, field accesses, subscripts)
 * become opaque atoms: they are legal in a gfp argument but say nothing the
 * model can evaluate.
 */
export function parseMask(text: string): MaskAst {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const fail = (what: string): never => {
    const t = peek();
    throw new MaskSyntaxError(t ? `${what} at '${text.slice(t.pos)}'` : `${what} at the end of '${text}'`);
  };

  const parseBinary = (level: number): MaskAst => {
    const ops: Array<'|' | '^' | '&'> = ['|', '^', '&'];
    if (level === ops.length) return parseUnary();
    let left = parseBinary(level + 1);
    while (peek()?.kind === 'op' && peek()!.text === ops[level]) {
      i++;
      const right = parseBinary(level + 1);
      left = { kind: 'binary', op: ops[level], left, right };
    }
    return left;
  };

  const isCast = (): boolean => {
    // '(' followed only by cast words and ')' : (__force gfp_t), (gfp_t)
    let j = i + 1;
    let words = 0;
    while (tokens[j]?.kind === 'ident' && CAST_WORDS.has(tokens[j].text)) {
      j++;
      words++;
    }
    return words > 0 && tokens[j]?.kind === 'rparen';
  };

  const parseUnary = (): MaskAst => {
    const t = peek();
    if (!t) return fail('expected a mask');
    if (t.kind === 'op' && t.text === '~') {
      i++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (t.kind === 'lparen') {
      if (isCast()) {
        while (peek()?.kind !== 'rparen') i++;
        i++;
        return parseUnary();
      }
      i++;
      const inner = parseBinary(0);
      if (peek()?.kind !== 'rparen') fail("expected ')'");
      i++;
      return inner;
    }
    if (t.kind === 'number') {
      i++;
      const digits = t.text.replace(/[uUlL]+$/, '');
      return { kind: 'number', value: Number(digits), text: t.text };
    }
    if (t.kind === 'ident') {
      const start = t.pos;
      i++;
      // A postfix chain turns the atom into something the model cannot see into.
      let opaque = false;
      for (;;) {
        const n = peek();
        if (n?.kind === 'other' && (n.text === '->' || n.text === '.')) {
          i++;
          if (peek()?.kind !== 'ident') fail('expected a field name');
          i++;
          opaque = true;
        } else if (n?.kind === 'lparen' || (n?.kind === 'other' && n.text === '[')) {
          skipBalanced();
          opaque = true;
        } else break;
      }
      if (!opaque) return { kind: 'name', name: t.text };
      const end = i < tokens.length ? tokens[i].pos : text.length;
      return { kind: 'opaque', text: text.slice(start, end).trim() };
    }
    return fail('expected a mask');
  };

  const skipBalanced = (): void => {
    const open = peek()!.text;
    const close = open === '(' ? ')' : ']';
    let depth = 0;
    do {
      const t = peek();
      if (!t) fail(`unbalanced '${open}'`);
      if (t!.text === open) depth++;
      else if (t!.text === close) depth--;
      i++;
    } while (depth > 0);
  };

  const ast = parseBinary(0);
  if (i !== tokens.length) fail('unexpected text');
  return ast;
}

export interface MaskValue {
  readonly bits: KnownBits;
  /** Names and expressions whose value the resolver did not know. */
  readonly unknown: readonly string[];
}

export interface MaskResolver {
  /** Known value of a flag or mask name, or undefined when the name is not a GFP name. */
  name(name: string): bigint | undefined;
  /** Logical bits for a hex or decimal literal. */
  number(value: number): KnownBits;
}

export function evaluateMask(ast: MaskAst, resolver: MaskResolver): MaskValue {
  const unknown: string[] = [];
  const walk = (node: MaskAst): KnownBits => {
    switch (node.kind) {
      case 'name': {
        const value = resolver.name(node.name);
        if (value === undefined) {
          unknown.push(node.name);
          return UNKNOWN_BITS;
        }
        return exactly(value);
      }
      case 'number':
        return resolver.number(node.value);
      case 'opaque':
        unknown.push(node.text);
        return UNKNOWN_BITS;
      case 'not':
        return notBits(walk(node.operand));
      case 'binary': {
        const l = walk(node.left);
        const r = walk(node.right);
        return node.op === '|' ? orBits(l, r) : node.op === '&' ? andBits(l, r) : xorBits(l, r);
      }
    }
  };
  return { bits: walk(ast), unknown };
}

/** Every name an expression mentions (for "unknown flag" errors and for removed-flag findings). */
export function namesIn(ast: MaskAst): string[] {
  switch (ast.kind) {
    case 'name':
      return [ast.name];
    case 'not':
      return namesIn(ast.operand);
    case 'binary':
      return [...namesIn(ast.left), ...namesIn(ast.right)];
    default:
      return [];
  }
}
