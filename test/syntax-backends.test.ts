// Both parser backends must give the same facts: the same node types, offsets
// and UTF-16 positions for the same text, also after incremental reparses, and
// WASM trees must really be freed. Samples are written here (no kernel tree).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CParser, Point, SyntaxNode, SyntaxTree, TextEdit } from '../server/syntax/backend';
import type { TextRange } from '../server/syntax/ranges';
import { backendInfo, createParser, describeBackend, grammarVersion } from '../server/syntax/parser';
import { loadNative } from '../server/syntax/native-backend';
import { loadWasm } from '../server/syntax/wasm-backend';

// Kernel style: macros at top level, a macro-typed declaration, GFP flags,
// memalloc scope, #ifdef/#else inside a function body, a non-ASCII comment (é and
// ü are one UTF-16 unit each, U+1F600 is two) before code on the same line.
const KERNEL_SAMPLE = `// SPDX-License-Identifier: GPL-2.0
/* café ü — naïve 😀 */ #include <linux/slab.h>
#include <linux/sched/mm.h>

#define FOO_GFP (GFP_KERNEL | __GFP_ZERO)
#define foo_for_each(f) list_for_each_entry(f, &foo_list, list)

struct foo {
	struct list_head list;
	spinlock_t lock;
	void *buf;
	char name[16];
};

static DEFINE_SPINLOCK(foo_lock);
static LIST_HEAD(foo_list);

static struct foo *foo_alloc(size_t size, gfp_t gfp)
{
	struct foo *f;
	unsigned int noio_flags;

	f = kzalloc(sizeof(*f), gfp);
	if (!f)
		return NULL;
#ifdef CONFIG_FOO_NOIO
	noio_flags = memalloc_noio_save();
	f->buf = kmalloc(size, GFP_KERNEL);
	memalloc_noio_restore(noio_flags);
#else
	f->buf = kvmalloc(size, FOO_GFP);
#endif
	if (!f->buf) {
		kfree(f);
		return ERR_PTR(-ENOMEM);
	}
	/* ü: ÿ */ spin_lock(&foo_lock);
	list_add(&f->list, &foo_list);
	spin_unlock(&foo_lock);
	strscpy(f->name, "😀é", sizeof(f->name));
	return f;
}

static void foo_free_all(void)
{
	struct foo *f, *tmp;

	spin_lock(&foo_lock);
	list_for_each_entry_safe(f, tmp, &foo_list, list) {
		list_del(&f->list);
		kvfree(f->buf);
		kfree(f);
	}
	spin_unlock(&foo_lock);
}
`;

// Constructs that tree-sitter-c does not understand on kernel code, so the
// samples also cover ERROR and MISSING nodes: an __init function, an unbraced
// for_each body, SYSCALL_DEFINE, an #ifdef that opens a brace twice.
const KERNEL_ERRORS = `static int __init foo_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		per_cpu(foo_count, cpu) = 0;
	return 0;
}
module_init(foo_init);

SYSCALL_DEFINE2(foo, int, fd, unsigned long, flags)
{
	void *p = kmalloc(64, GFP_KERNEL);
#ifdef CONFIG_FOO
	if (flags & FOO_A) {
#else
	if (flags & FOO_B) {
#endif
		kfree(p);
	}
	return 0;
}

static int bar(struct foo __user *arg)
{
	return copy_from_user(&x, arg, sizeof(x)) ? -EFAULT : 0
}
`;

/** Deterministic PRNG (mulberry32) so a failing edit sequence can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~200 KB of varied kernel-style functions, identical for every run. */
function generatedFile(targetLength: number): string {
  const parts: string[] = ['// generated\n#include <linux/slab.h>\n\n'];
  let length = parts[0]!.length;
  for (let i = 0; length < targetLength; i++) {
    const flag = ['GFP_KERNEL', 'GFP_NOFS', 'GFP_ATOMIC', 'GFP_NOIO | __GFP_NOWARN'][i % 4];
    const part =
      `/* fn ${i}${i % 7 === 0 ? ' — ünïcödé 😀' : ''} */\n` +
      `static int gen_${i}(struct gen_ctx *ctx, size_t n)\n{\n` +
      `\tvoid *p;\n\tunsigned int flags;\n\n` +
      (i % 3 === 0 ? `#ifdef CONFIG_GEN_${i}\n\tflags = memalloc_nofs_save();\n#endif\n` : '') +
      `\tp = kmalloc_array(n, sizeof(u64), ${flag});\n` +
      `\tif (!p)\n\t\treturn -ENOMEM;\n` +
      (i % 5 === 0 ? `\tfor_each_online_cpu(n) {\n\t\tctx->per[n] = p;\n\t}\n` : '') +
      (i % 3 === 0 ? `#ifdef CONFIG_GEN_${i}\n\tmemalloc_nofs_restore(flags);\n#endif\n` : '') +
      `\tctx->buf[${i % 16}] = p;\n\treturn 0;\n}\n\n` +
      (i % 11 === 0 ? `#define GEN_${i}(x) ((x) * ${i})\nEXPORT_SYMBOL_GPL(gen_${i});\n\n` : '');
    parts.push(part);
    length += part.length;
  }
  return parts.join('');
}

const BIG_SAMPLE = generatedFile(200 * 1024);

function pointText(p: Point): string {
  return `${p.row}:${p.column}`;
}

/**
 * One line per node, depth-first, with everything the backends must agree on.
 * Also checks parent links and field lookups along the way, since those are
 * separate code paths in each binding.
 */
function walk(root: SyntaxNode): string[] {
  const out: string[] = [];
  const visit = (node: SyntaxNode, depth: number, extra = ''): void => {
    const declarator = node.childForFieldName('declarator');
    out.push(
      `${' '.repeat(depth)}${node.type} named=${node.isNamed} missing=${node.isMissing} error=${node.hasError} ` +
        `[${node.startIndex},${node.endIndex}) ${pointText(node.startPosition)}-${pointText(node.endPosition)} ` +
        `children=${node.childCount}/${node.namedChildCount}` +
        (declarator ? ` declarator=${declarator.type}@${declarator.startIndex}` : '') +
        extra,
    );
    const count = node.childCount;
    const children: SyntaxNode[] = [];
    for (let i = 0; i < count; i++) {
      const child = node.child(i)!;
      children.push(child);
      // The tree-sitter 0.22 core (in native tree-sitter 0.22.4 and in
      // web-tree-sitter 0.22.6 alike) gives a wrong `parent` for zero-width
      // nodes (a MISSING ";" right after an expression gets that expression as
      // parent), see native-backend.ts. So zero-width nodes are not checked
      // against the structural parent, but their `parent` goes into the walk:
      // the backends must at least agree on it.
      if (child.startIndex === child.endIndex) {
        const parent = child.parent;
        visit(child, depth + 1, ` parent=${parent ? `${parent.type}@${parent.startIndex}` : 'null'}`);
        continue;
      }
      const parent = child.parent;
      if (!parent || parent.startIndex !== node.startIndex || parent.type !== node.type) {
        throw new Error(`parent of ${child.type}@${child.startIndex} is not ${node.type}@${node.startIndex}`);
      }
      visit(child, depth + 1);
    }
    // namedChild(i) must list the named subset of child(i), in order.
    const named: string[] = [];
    for (const child of children) {
      if (child.isNamed) named.push(`${child.type}@${child.startIndex}`);
    }
    if (named.length !== node.namedChildCount) {
      throw new Error(`${node.type}@${node.startIndex}: ${named.length} named children, namedChildCount ${node.namedChildCount}`);
    }
    for (let i = 0; i < named.length; i++) {
      const child = node.namedChild(i)!;
      if (named[i] !== `${child.type}@${child.startIndex}`) {
        throw new Error(`namedChild(${i}) of ${node.type}@${node.startIndex} is ${child.type}@${child.startIndex}`);
      }
    }
  };
  visit(root, 0);
  return out;
}

/** Compares walks and, on failure, shows the first differing line with context. */
function assertSameWalk(actual: string[], expected: string[], what: string): void {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return;
  const context = (lines: string[]): string => lines.slice(Math.max(0, i - 3), i + 3).join('\n');
  assert.fail(`${what}: first difference at node ${i}\n--- actual\n${context(actual)}\n--- expected\n${context(expected)}`);
}

/** Types and ranges only: enough to catch a wrong reuse, at a third of walk()'s cost. */
function shape(root: SyntaxNode): string[] {
  const out: string[] = [];
  const visit = (node: SyntaxNode): void => {
    const count = node.childCount;
    out.push(`${node.type} ${node.startIndex} ${node.endIndex} ${count}`);
    for (let i = 0; i < count; i++) visit(node.child(i)!);
  };
  visit(root);
  return out;
}

function parseShape(parser: CParser, text: string): string[] {
  const tree = parser.parse(text);
  try {
    return shape(tree.rootNode);
  } finally {
    tree.dispose();
  }
}

function parseWalk(parser: CParser, text: string): string[] {
  const tree = parser.parse(text);
  try {
    return walk(tree.rootNode);
  } finally {
    tree.dispose();
  }
}

/** Row and UTF-16 column of `index` in `text`, the unit both bindings and LSP use. */
function pointAt(text: string, index: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: index - lineStart };
}

async function bothParsers(): Promise<CParser[]> {
  return [await createParser('native'), await createParser('wasm')];
}

test('both backends load and say which they are', async () => {
  const version = (require('tree-sitter-c/package.json') as { version: string }).version;
  assert.equal(grammarVersion(), version);
  // Both bindings must embed the same tree-sitter core generation (0.22), or
  // error recovery, hence trees and findings, differ on files with parse errors
  // (web-tree-sitter 0.25.10 differed from native 0.22.4 on 25 of 2306 fs/ files).
  const generation = (v: string): string => v.split('.').slice(0, 2).join('.');
  const wasmVersion = (await loadWasm()).bindingVersion;
  assert.equal(wasmVersion, '0.22.6');
  assert.equal(generation(wasmVersion), generation(loadNative().bindingVersion));
  for (const parser of await bothParsers()) {
    const text = describeBackend(parser);
    assert.match(text, new RegExp(`^${parser.backend} `));
    assert.ok(text.includes(`tree-sitter-c ${version}`), text);
    assert.equal(backendInfo(parser)?.backend, parser.backend);
    parser.dispose();
  }
});

test("'auto' picks native in plain node and WASM under Electron", async () => {
  const plain = await createParser('auto');
  assert.equal(plain.backend, 'native');
  assert.match(describeBackend(plain), /not Electron/);
  plain.dispose();
  // process.versions is configurable, so Electron can be simulated.
  Object.defineProperty(process.versions, 'electron', { value: '30.0.0', configurable: true, enumerable: true });
  try {
    const desktop = await createParser('auto');
    assert.equal(desktop.backend, 'wasm');
    assert.match(describeBackend(desktop), /Electron 30\.0\.0/);
    desktop.dispose();
  } finally {
    delete (process.versions as Record<string, string | undefined>).electron;
  }
});

test('backends give identical trees for kernel-style samples', async () => {
  const [native, wasm] = await bothParsers();
  for (const [name, text] of [
    ['kernel sample', KERNEL_SAMPLE],
    ['kernel errors', KERNEL_ERRORS],
    ['200 KB generated', BIG_SAMPLE],
  ] as const) {
    const a = parseWalk(native!, text);
    const b = parseWalk(wasm!, text);
    assert.ok(a.length > 50, `${name}: ${a.length} nodes`);
    assertSameWalk(b, a, `${name}: wasm vs native`);
  }
  native!.dispose();
  wasm!.dispose();
});

test('backends give identical trees for ranged parses, and honour the ranges', async () => {
  const [native, wasm] = await bothParsers();
  const text = KERNEL_SAMPLE + KERNEL_ERRORS;
  // foo_alloc (with its #ifdef) and the SYSCALL_DEFINE2 body (with ERROR nodes).
  const range = (from: string, to: string): TextRange => {
    const startIndex = text.indexOf(from);
    const endIndex = text.indexOf(to, startIndex) + to.length;
    assert.ok(startIndex > 0 && endIndex > startIndex, `${from}..${to}`);
    return { startIndex, endIndex, startPosition: pointAt(text, startIndex), endPosition: pointAt(text, endIndex) };
  };
  const ranges = [range('static struct foo *foo_alloc', '\treturn f;\n}\n'), range('SYSCALL_DEFINE2', '\treturn 0;\n}\n')];
  const walks = [native!, wasm!].map((parser) => {
    const tree = parser.parse(text, undefined, ranges);
    try {
      const root = tree.rootNode;
      // Nothing outside the ranges was parsed.
      assert.equal(root.startIndex, ranges[0]!.startIndex, `${parser.backend}: root start`);
      assert.equal(root.endIndex, ranges[1]!.endIndex, `${parser.backend}: root end`);
      for (let i = 0; i < root.childCount; i++) {
        const child = root.child(i)!;
        assert.ok(
          ranges.some((r) => r.startIndex <= child.startIndex && child.endIndex <= r.endIndex),
          `${parser.backend}: ${child.type}@${child.startIndex} outside the ranges`,
        );
      }
      return walk(root);
    } finally {
      tree.dispose();
    }
  });
  assertSameWalk(walks[1]!, walks[0]!, 'ranged: wasm vs native');
  // A later parse without ranges parses the whole text again.
  for (const parser of [native!, wasm!]) {
    const tree = parser.parse(text);
    assert.equal(tree.rootNode.startIndex, 0, parser.backend);
    assert.equal(tree.rootNode.endIndex, text.length, parser.backend);
    tree.dispose();
  }
  native!.dispose();
  wasm!.dispose();
});

test('the error sample really contains ERROR and MISSING nodes', async () => {
  for (const parser of await bothParsers()) {
    const tree = parser.parse(KERNEL_ERRORS);
    const lines = walk(tree.rootNode);
    assert.ok(tree.rootNode.hasError);
    assert.ok(lines.some((l) => l.trimStart().startsWith('ERROR ')), `${parser.backend}: no ERROR node`);
    assert.ok(lines.some((l) => l.includes('missing=true')), `${parser.backend}: no MISSING node`);
    tree.dispose();
    parser.dispose();
  }
});

test('columns are UTF-16 code units after non-ASCII text', async () => {
  for (const parser of await bothParsers()) {
    const tree = parser.parse(KERNEL_SAMPLE);
    const root = tree.rootNode;
    // The #include after the comment on line 1, and the call after `/* ü: ÿ */`.
    for (const needle of ['#include <linux/slab.h>', 'spin_lock(&foo_lock);\n\tlist_add', '"😀é"']) {
      const index = KERNEL_SAMPLE.indexOf(needle);
      assert.ok(index > 0, needle);
      const expected = pointAt(KERNEL_SAMPLE, index);
      const node = findFirstAt(root, index);
      assert.ok(node, `${parser.backend}: no node starts at ${index}`);
      assert.deepEqual({ ...node.startPosition }, expected, `${parser.backend}: ${needle}`);
    }
    // The string literal ends after 😀 (2 units) + é (1) + 2 quotes.
    const str = KERNEL_SAMPLE.indexOf('"😀é"');
    const literal = findFirstAt(root, str)!;
    assert.equal(literal.type, 'string_literal');
    assert.equal(literal.endIndex - literal.startIndex, 5);
    assert.equal(root.endIndex, KERNEL_SAMPLE.length);
    tree.dispose();
    parser.dispose();
  }
});

function findFirstAt(node: SyntaxNode, index: number): SyntaxNode | null {
  if (node.startIndex === index) return node;
  for (let i = 0; i < node.childCount; i++) {
    const child = node.child(i)!;
    if (child.startIndex <= index && index < child.endIndex) return findFirstAt(child, index);
  }
  return null;
}

// Fragments that both keep the code parseable and break it (braces, #ifdef,
// comment openers, non-ASCII, surrogate pairs), so reuse and error recovery
// are both exercised.
const FRAGMENTS = [
  'x', 'foo', ' ', '\n', '\t', ';', '(', ')', '{', '}', '*', ',', '->', '0x1f',
  'kmalloc(n, GFP_KERNEL)', 'if (p)\n\t\t', 'return -ENOMEM;', '\n#ifdef CONFIG_X\n', '\n#endif\n',
  '/* é */', '"😀"', '//', '/*', '*/', 'static int ', '__user ', 'é', '😀',
];

function randomEdit(text: string, rand: () => number): { text: string; edit: TextEdit } {
  const start = Math.floor(rand() * (text.length + 1));
  const deleteLength = rand() < 0.4 ? 0 : Math.min(text.length - start, Math.floor(rand() * 12));
  let insert = rand() < 0.3 ? '' : FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!;
  let oldEnd = start + deleteLength;
  // Never cut a surrogate pair in half: editors don't, and both bindings would
  // then see different garbage.
  const isLow = (i: number): boolean => i > 0 && i < text.length && /[\uDC00-\uDFFF]/.test(text[i]!);
  const from = isLow(start) ? start - 1 : start;
  if (isLow(oldEnd)) oldEnd++;
  if (deleteLength === 0 && insert === '') insert = 'y';
  const next = text.slice(0, from) + insert + text.slice(oldEnd);
  return {
    text: next,
    edit: {
      startIndex: from,
      oldEndIndex: oldEnd,
      newEndIndex: from + insert.length,
      startPosition: pointAt(text, from),
      oldEndPosition: pointAt(text, oldEnd),
      newEndPosition: pointAt(next, from + insert.length),
    },
  };
}

for (const backend of ['native', 'wasm'] as const) {
  test(`${backend}: incremental reparse after random edits equals a fresh parse`, async () => {
    const parser = await createParser(backend);
    const rand = prng(0x5eed1234);
    let text = KERNEL_SAMPLE + KERNEL_ERRORS;
    let tree: SyntaxTree = parser.parse(text);
    try {
      for (let step = 0; step < 300; step++) {
        const { text: next, edit } = randomEdit(text, rand);
        tree.edit(edit);
        const reparsed = parser.parse(next, tree);
        tree.dispose();
        tree = reparsed;
        text = next;
        // The full walk reads ~10 properties per node, each a native call in the
        // native binding (~1 us), so it runs every 10th edit; the cheaper
        // shape check runs after every edit.
        const what = `${backend} after edit ${step} ${JSON.stringify(edit)}`;
        if (step % 10 === 9 || step === 299) {
          assertSameWalk(walk(tree.rootNode), parseWalk(parser, text), what);
        } else {
          assertSameWalk(shape(tree.rootNode), parseShape(parser, text), what);
        }
      }
    } finally {
      tree.dispose();
      parser.dispose();
    }
  });
}

test('an old tree from the other backend is refused', async () => {
  const [native, wasm] = await bothParsers();
  const tree = native!.parse('int x;');
  assert.throws(() => wasm!.parse('int y;', tree), /another backend/);
  tree.dispose();
  native!.dispose();
  wasm!.dispose();
});

for (const backend of ['native', 'wasm'] as const) {
  test(`${backend}: dispose is idempotent and use after dispose throws`, async () => {
    const parser = await createParser(backend);
    const tree = parser.parse(KERNEL_SAMPLE);
    const fn = tree.rootNode.namedChild(5)!;
    tree.dispose();
    tree.dispose();
    assert.throws(() => tree.rootNode, /after dispose/);
    assert.throws(() => parser.parse('int y;', tree), /after dispose/);
    if (backend === 'wasm') {
      // A node kept past dispose must not read freed WASM memory.
      assert.throws(() => fn.type, /disposed/);
      assert.throws(() => fn.child(0), /disposed/);
    }
    parser.dispose();
    parser.dispose();
    assert.throws(() => parser.parse('int x;'), /after dispose/);
  });
}

test('wasm: disposed trees are freed (linear memory stops growing)', async () => {
  const wasm = await loadWasm();
  const parser = await createParser('wasm');
  // Warm up so that the parser's own buffers and one tree's worth of space exist.
  for (let i = 0; i < 2; i++) parser.parse(BIG_SAMPLE).dispose();
  const before = wasm.heapBytes();
  assert.ok(before !== undefined, 'heap size not visible');
  for (let i = 0; i < 15; i++) parser.parse(BIG_SAMPLE).dispose();
  const after = wasm.heapBytes()!;
  // One undisposed 200 KB tree takes ~5 MB, so 15 leaked trees would add ~75 MB.
  assert.ok(after - before <= 8 * 1024 * 1024, `grew ${after - before} bytes over 15 parses`);
  // And the check itself can see leaks: keeping trees alive does grow it.
  const kept = Array.from({ length: 5 }, () => parser.parse(BIG_SAMPLE));
  assert.ok(wasm.heapBytes()! > after, 'keeping 5 trees did not grow linear memory');
  for (const tree of kept) tree.dispose();
  parser.dispose();
});
