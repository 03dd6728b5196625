// Invariant: syntaxes/gfp.tmLanguage.json, injected into source.c as VS Code
// does it (package.json contributes.grammars injectTo), scopes GFP flags and
// masks, memalloc scope calls and PF_MEMALLOC flags in code, and nothing
// inside comments or strings. Tokenised with vscode-textmate + vscode-oniguruma
// (the engine VS Code uses) over a small source.c base grammar that scopes
// comments and strings the way the real C grammar names them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const ROOT = path.join(__dirname, '..', '..');
const INJECTION = path.join(ROOT, 'syntaxes', 'gfp.tmLanguage.json');

/** The comment and string rules of VS Code's C grammar (scope names as there), and nothing else. */
const BASE_C = {
  scopeName: 'source.c',
  patterns: [
    { name: 'comment.block.c', begin: '/\\*', end: '\\*/' },
    { name: 'comment.line.double-slash.c', begin: '//', end: '$' },
    { name: 'string.quoted.double.c', begin: '"', end: '"', patterns: [{ name: 'constant.character.escape.c', match: '\\\\.' }] },
    { name: 'meta.function-call.c', match: '\\b([a-z_][a-z0-9_]*)\\s*(?=\\()', captures: { 1: { name: 'entity.name.function.c' } } },
  ],
};

async function registry(): Promise<textmate.Registry> {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { grammars: Array<{ scopeName: string; path: string; injectTo: string[] }> } };
  const contributed = pkg.contributes.grammars.find((g) => path.resolve(ROOT, g.path) === INJECTION);
  assert.ok(contributed, 'package.json contributes the injection grammar');
  assert.deepEqual(contributed.injectTo, ['source.c']);
  return new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => {
      if (scope === 'source.c') return textmate.parseRawGrammar(JSON.stringify(BASE_C), 'c.json');
      if (scope === contributed.scopeName) return textmate.parseRawGrammar(fs.readFileSync(INJECTION, 'utf8'), INJECTION);
      return null;
    },
    // What VS Code does with injectTo: the injection grammar applies to source.c.
    getInjections: (scope) => (scope === 'source.c' ? [contributed.scopeName] : undefined),
  });
}

/** Every token as [text, innermost scope], line by line. */
async function tokenize(source: string): Promise<Array<[string, string[]]>> {
  const grammar = await (await registry()).loadGrammar('source.c');
  assert.ok(grammar);
  let state = textmate.INITIAL;
  const out: Array<[string, string[]]> = [];
  for (const line of source.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) out.push([line.slice(t.startIndex, t.endIndex), t.scopes]);
    state = r.ruleStack;
  }
  return out;
}

const SAMPLE = [
  'static int f(struct inode *inode)',
  '{',
  '\tunsigned int flags = memalloc_nofs_save();',
  '\tvoid *p = kmalloc(32, GFP_NOFS | __GFP_NOFAIL);',
  '\t/* GFP_KERNEL in a comment, memalloc_noio_save() too */',
  '\tpr_info("GFP_ATOMIC in a string\\n"); // __GFP_ZERO after a line comment',
  '\tif (current->flags & PF_MEMALLOC_NOFS)',
  '\t\tp = kzalloc(8, GFP_KERNEL_ACCOUNT);',
  '\tmemalloc_nofs_restore(flags);',
  '\tmy_memalloc_nofs_save_helper(GFP_USER);',
  '}',
].join('\n');

test('grammar: GFP flags, masks, memalloc scope calls and PF_MEMALLOC flags get their scopes in code', async () => {
  const tokens = await tokenize(SAMPLE);
  const scopesOf = (text: string, nth = 0): string[] => {
    const hits = tokens.filter(([t]) => t === text);
    assert.ok(hits.length > nth, `no token '${text}' (tokens: ${tokens.map(([t]) => t).join('|')})`);
    return hits[nth][1];
  };
  assert.equal(scopesOf('GFP_NOFS').at(-1), 'constant.other.gfp-mask.c.gfp-lens');
  assert.equal(scopesOf('__GFP_NOFAIL').at(-1), 'constant.other.gfp-flag.c.gfp-lens');
  assert.equal(scopesOf('GFP_KERNEL_ACCOUNT').at(-1), 'constant.other.gfp-mask.c.gfp-lens');
  assert.equal(scopesOf('memalloc_nofs_save').at(-1), 'support.function.memalloc-scope.c.gfp-lens');
  assert.equal(scopesOf('memalloc_nofs_restore').at(-1), 'support.function.memalloc-scope.c.gfp-lens');
  assert.equal(scopesOf('PF_MEMALLOC_NOFS').at(-1), 'constant.other.pf-memalloc.c.gfp-lens');
  // The base grammar still applies around the injection (kmalloc is a call, not replaced).
  assert.equal(scopesOf('kmalloc').at(-1), 'entity.name.function.c');
  for (const [, scopes] of tokens) assert.equal(scopes[0], 'source.c');
});

test('grammar: nothing is scoped inside comments or strings, nor inside longer identifiers', async () => {
  const tokens = await tokenize(SAMPLE);
  const ours = tokens.filter(([, s]) => s.some((x) => x.endsWith('.gfp-lens')));
  for (const [text, scopes] of ours) {
    assert.ok(!scopes.some((x) => x.startsWith('comment') || x.startsWith('string')), `'${text}' scoped inside ${scopes.join(' ')}`);
  }
  assert.deepEqual(
    ours.map(([t]) => t),
    ['memalloc_nofs_save', 'GFP_NOFS', '__GFP_NOFAIL', 'PF_MEMALLOC_NOFS', 'GFP_KERNEL_ACCOUNT', 'memalloc_nofs_restore', 'GFP_USER'],
  );
  // In the comment and the string the names stay plain comment/string text.
  const inComment = tokens.find(([t]) => t.includes('GFP_KERNEL in a comment'));
  assert.ok(inComment && inComment[1].includes('comment.block.c'));
  const inString = tokens.find(([t]) => t.includes('GFP_ATOMIC'));
  assert.ok(inString && inString[1].includes('string.quoted.double.c') && !inString[1].some((x) => x.endsWith('.gfp-lens')));
});
