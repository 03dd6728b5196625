// verify:incremental — the server's incremental path equals a fresh analysis.
//
// Random edit sequences (typing, deletions, replacements, undo, pasting a
// whole function from elsewhere, edits inside macros and #ifdef blocks,
// didChange events of several changes) go through DocumentStore.change() and
// analysis(), the path the language server takes: each change becomes one
// tree.edit(), the next analysis reparses from the edited tree and reuses the
// per-function cache (server/analysis/incremental.ts). After every step the
// tree (node types, ranges, MISSING flags), every allocation site's context
// and every finding must equal what a new DocumentStore gives for the same
// text. On a mismatch the step is replayed from a fresh open of the text
// before it, to tell a one-step reproduction from one that needs the history.
//
// usage: node out/test/verify/incremental.js [--seed N] [--files N] [--steps N]
//          [--backend native|wasm|both] [--only REL] [--kernel DIR]
// (npm run verify:incremental -- --seed 42)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_SETTINGS } from '../../shared/settings';
import { parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../../server/analysis/context';
import type { BackendName, CParser, SyntaxNode } from '../../server/syntax/backend';
import { createParser } from '../../server/syntax/parser';
import { DocumentStore, type DocumentAnalysis } from '../../server/documents/document-store';
import type { DocumentConfig } from '../../server/documents/config';
import { cFiles, flags, kernelTree, Random } from './lib-server';

export interface SourceFile {
  readonly name: string;
  readonly text: string;
}

type Change = { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string };

/** What one step did: the didChange events, each a list of changes applied in order. */
export interface Step {
  readonly kind: string;
  readonly events: Change[][];
}

export interface Mismatch {
  readonly file: string;
  readonly seed: number;
  readonly step: number;
  readonly kind: string;
  /** tree, sites, findings, syntax-errors or skipped. */
  readonly what: string;
  readonly detail: string;
  /** Whether opening the text before the step fresh and applying the step alone shows it too. */
  readonly oneStep: boolean;
  /** A JSON file with the text before the step and the step's events. */
  readonly reproduction: string;
}

export interface IncrementalReport {
  readonly files: number;
  readonly steps: number;
  /** Content changes applied (each one tree.edit()). */
  readonly edits: number;
  readonly events: number;
  readonly analyses: number;
  readonly kinds: Record<string, number>;
  readonly mismatches: Mismatch[];
}

// ---- the edits -------------------------------------------------------------

/** Tokens typed or inserted: what moves the analysis (masks, scopes, locks, braces). */
const PIECES = [
  'GFP_NOFS', 'GFP_KERNEL', 'GFP_ATOMIC', 'GFP_NOIO', ' | __GFP_NOFAIL', '__GFP_NORETRY', ' ', '\n', '\t', '{', '}', ';', '(', ')', ',',
  'kmalloc(sizeof(*p), GFP_NOFS);', 'p = kzalloc(n, GFP_KERNEL);', 'unsigned int nofs_flag = memalloc_nofs_save();', 'memalloc_nofs_restore(nofs_flag);',
  'memalloc_noio_restore(noio_flag);', 'spin_lock(&lock);', 'spin_unlock(&lock);', 'mutex_lock(&m);', 'rcu_read_lock();', 'rcu_read_unlock();',
  'return -ENOMEM;', 'goto out;', 'out:', 'if (!p) ', 'else ', 'while (n--) ', '/*', '*/', '"', "'", '#', '\\', '//', 'x', 'ret', 'é',
];
/** Words swapped for each other in place (a replacement that changes meaning, not syntax). */
const SWAPS: Record<string, readonly string[]> = {
  GFP_KERNEL: ['GFP_NOFS', 'GFP_ATOMIC', 'GFP_NOIO', 'GFP_NOWAIT'],
  GFP_NOFS: ['GFP_KERNEL', 'GFP_NOIO', 'GFP_NOFS | __GFP_NOFAIL'],
  GFP_ATOMIC: ['GFP_KERNEL', 'GFP_NOWAIT'],
  GFP_NOIO: ['GFP_NOFS', 'GFP_KERNEL'],
  GFP_NOWAIT: ['GFP_KERNEL'],
  spin_lock: ['spin_unlock', 'mutex_lock'],
  spin_unlock: ['spin_lock'],
  spin_lock_irqsave: ['spin_unlock_irqrestore'],
  mutex_lock: ['spin_lock', 'mutex_unlock'],
  memalloc_nofs_save: ['memalloc_noio_save', 'memalloc_noreclaim_save'],
  memalloc_nofs_restore: ['memalloc_noio_restore', 'kfree'],
  kmalloc: ['kvmalloc', 'vmalloc_noprof', 'kzalloc', 'alloc_page'],
  kzalloc: ['kmalloc', 'kcalloc'],
  return: ['goto out;', 'break;'],
};
const SWAP_RE = new RegExp(`\\b(?:${Object.keys(SWAPS).join('|')})\\b`, 'g');

/** A function definition at the top level (kernel style: the brace alone on its line). */
const FUNCTION_RE = /^[A-Za-z_][^\n;]*\)\n\{\n[\s\S]*?\n\}\n/gm;

export function functionsOf(text: string): string[] {
  return [...text.matchAll(FUNCTION_RE)].map((m) => m[0]).filter((f) => f.length < 6000);
}

/** Never split a surrogate pair or a CR LF: clients send whole characters. */
function safe(text: string, o: number): number {
  o = Math.max(0, Math.min(text.length, o));
  if (o > 0 && o < text.length && (/[\uDC00-\uDFFF]/.test(text[o]) || (text[o] === '\n' && text[o - 1] === '\r'))) return o - 1;
  return o;
}

function positionAt(text: string, o: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < o; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: o - lineStart };
}

/** Applies one change (offsets) to `text`, returning the LSP change and the new text. */
function change(text: string, start: number, end: number, insert: string): [Change, string] {
  const s = safe(text, start);
  const e = Math.max(s, safe(text, end));
  return [{ range: { start: positionAt(text, s), end: positionAt(text, e) }, text: insert }, text.slice(0, s) + insert + text.slice(e)];
}

function applyChange(text: string, c: Change): string {
  const doc = TextDocument.create('x', 'c', 0, text);
  return TextDocument.applyEdits(doc, [{ range: c.range, newText: c.text }]);
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** Offsets inside `#define` lines (with their continuations) and inside #if/#ifdef ... #endif blocks. */
function regions(text: string, kind: 'macro' | 'ifdef'): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (kind === 'macro') {
    for (const m of text.matchAll(/^[ \t]*#[ \t]*define\b(?:[^\n]*\\\n)*[^\n]*/gm)) out.push([m.index!, m.index! + m[0].length]);
  } else {
    const stack: number[] = [];
    for (const m of text.matchAll(/^[ \t]*#[ \t]*(if|ifdef|ifndef|endif)\b[^\n]*/gm)) {
      if (m[1] === 'endif') {
        const open = stack.pop();
        if (open !== undefined) out.push([open, m.index!]);
      } else stack.push(m.index! + m[0].length);
    }
  }
  return out.filter(([a, b]) => b > a);
}

/** The edit generator: one step (one or more didChange events) against the current text. */
export class Editor {
  text: string;
  /** Inverse events of past steps' events, for undo. */
  private readonly undo: Change[][] = [];

  constructor(text: string, private readonly random: Random, private readonly library: readonly string[]) {
    this.text = text;
  }

  /** Builds an event of changes from `make` (each against the text after the previous) and records its inverse. */
  private event(make: Array<(text: string) => [number, number, string] | undefined>): Change[] {
    const changes: Change[] = [];
    const inverse: Change[] = [];
    for (const m of make) {
      const got = m(this.text);
      if (!got) continue;
      const s = safe(this.text, got[0]);
      const e = Math.max(s, safe(this.text, got[1]));
      const removed = this.text.slice(s, e);
      const [c, next] = change(this.text, s, e, got[2]);
      changes.push(c);
      // Undo replaces what was inserted by what was removed, last change first.
      inverse.unshift({ range: { start: c.range.start, end: positionAt(next, s + got[2].length) }, text: removed });
      this.text = next;
    }
    if (changes.length > 0) {
      this.undo.push(inverse);
      if (this.undo.length > 50) this.undo.shift();
    }
    return changes;
  }

  private randomOffset(text: string): number {
    return this.random.int(text.length + 1);
  }

  private insertAt(o: (t: string) => number, what: () => string): (t: string) => [number, number, string] {
    return (t) => {
      const at = o(t);
      return [at, at, what()];
    };
  }

  private smallEdit(inRegion?: 'macro' | 'ifdef'): (t: string) => [number, number, string] | undefined {
    return (t) => {
      let lo = 0;
      let hi = t.length;
      if (inRegion) {
        const rs = regions(t, inRegion);
        if (rs.length === 0) return undefined;
        [lo, hi] = this.random.pick(rs);
      }
      const s = lo + this.random.int(hi - lo + 1);
      const r = this.random.next();
      if (r < 0.4) return [s, s, this.random.pick(PIECES)];
      if (r < 0.7) return [s, Math.min(hi, s + 1 + this.random.int(20)), ''];
      return [s, Math.min(hi, s + 1 + this.random.int(12)), this.random.pick(PIECES)];
    };
  }

  /** The next step. */
  step(): Step {
    const r = this.random.next();
    const events: Change[][] = [];
    let kind: string;
    const push = (e: Change[]): void => {
      if (e.length > 0) events.push(e);
    };
    if (r < 0.2) {
      kind = 'type';
      // Typing a token character by character: one event per keystroke.
      const piece = this.random.pick(PIECES.filter((p) => p.length > 3));
      let at = this.randomOffset(this.text);
      at = safe(this.text, at);
      for (const ch of piece) {
        const here = at;
        push(this.event([(_t) => [here, here, ch]]));
        at += ch.length;
      }
    } else if (r < 0.32) {
      kind = 'delete';
      push(this.event([(t) => {
        const s = this.randomOffset(t);
        return [s, s + 1 + this.random.int(this.random.chance(0.2) ? 400 : 30), ''];
      }]));
    } else if (r < 0.4) {
      kind = 'delete-line';
      push(this.event([(t) => {
        const starts = lineStarts(t);
        const i = this.random.int(starts.length);
        return [starts[i], starts[i + 1 + this.random.int(3)] ?? t.length, ''];
      }]));
    } else if (r < 0.52) {
      kind = 'replace';
      push(this.event([(t) => {
        const words = [...t.matchAll(SWAP_RE)];
        if (words.length === 0) return undefined;
        const m = this.random.pick(words);
        return [m.index!, m.index! + m[0].length, this.random.pick(SWAPS[m[0]])];
      }]));
    } else if (r < 0.62) {
      kind = 'undo';
      const inverse = this.undo.pop();
      if (inverse) {
        for (const c of inverse) this.text = applyChange(this.text, c);
        events.push(inverse);
      }
    } else if (r < 0.68) {
      kind = 'paste-function';
      push(this.event([this.insertAt((t) => {
        // At a line start, at the top level or anywhere (a paste inside a body, too).
        const starts = lineStarts(t);
        return starts[this.random.int(starts.length)];
      }, () => `${this.random.pick(this.library)}\n`)]));
    } else if (r < 0.76) {
      kind = 'macro';
      push(this.event([this.smallEdit('macro')]));
    } else if (r < 0.86) {
      kind = 'ifdef';
      if (this.random.chance(0.4)) {
        // Wrap some lines in a new conditional block (two changes, one event).
        const starts = lineStarts(this.text);
        const a = this.random.int(starts.length);
        const b = Math.min(starts.length - 1, a + 1 + this.random.int(15));
        const open = starts[a];
        const close = starts[b];
        const cond = this.random.pick(['#ifdef CONFIG_DEMO\n', '#if 0\n', '#ifndef CONFIG_DEMO\n', '#if IS_ENABLED(CONFIG_X)\n']);
        push(this.event([(_t) => [close, close, '#endif\n'], (_t) => [open, open, cond]]));
      } else push(this.event([this.smallEdit('ifdef')]));
    } else {
      kind = 'multi';
      // One didChange with several changes, each against the text after the previous.
      const n = 2 + this.random.int(4);
      push(this.event(Array.from({ length: n }, () => this.smallEdit())));
    }
    return { kind, events };
  }
}

// ---- comparing ---------------------------------------------------------------

/** The tree as lines: type, byte range, start point and MISSING flag of every node. */
export function dumpTree(root: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (n: SyntaxNode, depth: number): void => {
    const sp = n.startPosition;
    out.push(`${depth} ${n.type}@${n.startIndex}-${n.endIndex}:${sp.row}.${sp.column}${n.isMissing ? '!' : ''}`);
    const count = n.childCount;
    for (let i = 0; i < count; i++) walk(n.child(i)!, depth + 1);
  };
  walk(root, 0);
  return out;
}

const bigints = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/** What must be equal: per-site contexts (inputs and evaluations) and findings, as canonical JSON lines. */
export function analysisLines(a: DocumentAnalysis): { sites: string[]; findings: string[]; syntax: string; skipped: string } {
  const r = a.result;
  return {
    sites: (r?.sites ?? []).map((s) => JSON.stringify({ function: s.function, input: { ...s.input, allocator: s.input.allocator.names[0] }, evaluation: s.evaluation }, bigints)),
    findings: (r?.findings ?? []).map((f) => JSON.stringify(f, bigints)),
    syntax: String(a.hasSyntaxErrors),
    skipped: a.skipped ?? '',
  };
}

function firstDifference(a: readonly string[], b: readonly string[]): string {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `at #${i} of ${a.length}/${b.length}:\n      incremental: ${(a[i] ?? '(none)').slice(0, 600)}\n      fresh:       ${(b[i] ?? '(none)').slice(0, 600)}`;
  }
  return '';
}

export function makeConfig(parser: CParser): DocumentConfig {
  return { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: '6.12', parser, kernel: 'kernel 6.12 (verify)' };
}

/** Compares the store's current analysis of `uri` with a fresh store's; the first difference, or undefined. */
export async function compareWithFresh(store: DocumentStore, uri: string, config: DocumentConfig, withTree = true): Promise<{ what: string; detail: string } | undefined> {
  const a = await store.analysis(uri);
  if (!a) return { what: 'analysis', detail: 'no analysis for the current version' };
  const fresh = new DocumentStore({ config: async () => config });
  try {
    fresh.open(uri, 'c', a.version, a.document.getText());
    const b = (await fresh.analysis(uri))!;
    const x = analysisLines(a);
    const y = analysisLines(b);
    if (x.skipped !== y.skipped) return { what: 'skipped', detail: `${x.skipped} / ${y.skipped}` };
    if (withTree) {
      const t1 = store.treeOf(uri);
      const t2 = fresh.treeOf(uri);
      if (t1 && t2) {
        const d1 = dumpTree(t1.rootNode);
        const d2 = dumpTree(t2.rootNode);
        if (d1.join('\n') !== d2.join('\n')) return { what: 'tree', detail: firstDifference(d1, d2) };
      } else if (!t1 !== !t2) return { what: 'tree', detail: `tree ${t1 ? 'kept' : 'absent'} incrementally, ${t2 ? 'present' : 'absent'} fresh` };
    }
    if (x.syntax !== y.syntax) return { what: 'syntax-errors', detail: `${x.syntax} / ${y.syntax}` };
    if (x.sites.join('\n') !== y.sites.join('\n')) return { what: 'sites', detail: firstDifference(x.sites, y.sites) };
    if (x.findings.join('\n') !== y.findings.join('\n')) return { what: 'findings', detail: firstDifference(x.findings, y.findings) };
    return undefined;
  } finally {
    fresh.close(uri);
  }
}

/** Stable per-file seed: the same (seed, file) gives the same sequence, whatever else is sampled. */
export function fileSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h ^ name.charCodeAt(i), 16777619) + 1) >>> 0;
  return h || 1;
}

export interface RunOptions {
  readonly files: readonly SourceFile[];
  readonly seed: number;
  readonly steps: number;
  readonly backend: BackendName;
  /** Functions pasted by 'paste-function' steps (from every file when absent). */
  readonly library?: readonly string[];
  /** Compare trees too (a node walk costs about as much as the analysis). */
  readonly trees?: boolean;
  readonly log?: (line: string) => void;
  /** Where reproductions are written (a temporary directory by default). */
  readonly reproDir?: string;
  /** Stop a file's sequence at its first mismatch (the rest would follow from it). */
  readonly maxMismatchesPerFile?: number;
}

export async function runIncremental(options: RunOptions): Promise<IncrementalReport> {
  const parser = await createParser(options.backend);
  const config = makeConfig(parser);
  const library = options.library ?? options.files.flatMap((f) => functionsOf(f.text));
  const kinds: Record<string, number> = {};
  const mismatches: Mismatch[] = [];
  let edits = 0;
  let events = 0;
  let analyses = 0;
  let steps = 0;
  const reproDir = options.reproDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-incremental-'));
  try {
    for (const file of options.files) {
      const seed = fileSeed(options.seed, file.name);
      const editor = new Editor(file.text, new Random(seed), library.length > 0 ? library : ['static int demo(void)\n{\n\treturn 0;\n}\n']);
      const store = new DocumentStore({ config: async () => config });
      const uri = `file:///verify/${file.name}`;
      let version = 1;
      store.open(uri, 'c', version, file.text);
      await store.analysis(uri);
      let found = 0;
      for (let step = 1; step <= options.steps; step++) {
        const before = editor.text;
        const s = editor.step();
        kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
        steps++;
        for (const e of s.events) {
          store.change(uri, ++version, e);
          edits += e.length;
          events++;
        }
        // Now and then let edits pile up on the tree across steps, as typing does between analyses.
        if (step < options.steps && s.kind !== 'type' && step % 7 === 3) continue;
        analyses++;
        const doc = store.get(uri)!;
        if (doc.getText() !== editor.text) throw new Error(`${file.name} step ${step}: the document store's text differs from the editor's (a bug in this script)`);
        const diff = await compareWithFresh(store, uri, config, options.trees !== false);
        if (!diff) continue;
        // Replay the step alone from a fresh open of the text before it.
        const replay = new DocumentStore({ config: async () => config });
        replay.open(uri, 'c', 1, before);
        await replay.analysis(uri);
        let v = 1;
        for (const e of s.events) replay.change(uri, ++v, e);
        const oneStep = (await compareWithFresh(replay, uri, config, options.trees !== false)) !== undefined;
        replay.close(uri);
        const reproduction = path.join(reproDir, `${file.name.replace(/\W/g, '_')}-${options.seed}-${step}.json`);
        fs.writeFileSync(reproduction, JSON.stringify({ file: file.name, seed: options.seed, step, kind: s.kind, backend: options.backend, before, events: s.events }, null, 1));
        const m: Mismatch = { file: file.name, seed: options.seed, step, kind: s.kind, what: diff.what, detail: diff.detail, oneStep, reproduction };
        mismatches.push(m);
        options.log?.(`MISMATCH ${file.name} seed ${options.seed} step ${step} (${s.kind}, ${options.backend}): ${diff.what} ${oneStep ? '(one step from a fresh open)' : '(needs the history)'}\n    ${diff.detail}\n    reproduction: ${reproduction}`);
        if (++found >= (options.maxMismatchesPerFile ?? 1)) break;
        // Carry on from a clean state: the rest of the sequence must not inherit the mismatch.
        store.close(uri);
        store.open(uri, 'c', ++version, editor.text);
        await store.analysis(uri);
      }
      store.close(uri);
    }
  } finally {
    parser.dispose();
  }
  return { files: options.files.length, steps, edits, events, analyses, kinds, mismatches };
}

/** Replays a reproduction file: the text before the step, then the step's events; prints the comparison. */
export async function replay(file: string, backend?: BackendName): Promise<{ what: string; detail: string } | undefined> {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { before: string; events: Change[][]; backend: BackendName };
  const parser = await createParser(backend ?? r.backend);
  const config = makeConfig(parser);
  const store = new DocumentStore({ config: async () => config });
  store.open('file:///replay.c', 'c', 1, r.before);
  await store.analysis('file:///replay.c');
  let v = 1;
  for (const e of r.events) store.change('file:///replay.c', ++v, e);
  const got = await compareWithFresh(store, 'file:///replay.c', config);
  parser.dispose();
  return got;
}

// ---- the kernel run ------------------------------------------------------------

const ALLOCATES = /\b(?:k[mz]alloc|kvmalloc|kcalloc|vmalloc|alloc_pages?|kmem_cache_alloc)\s*\(/;

/** A seeded sample of .c files with allocations from fs/, kernel/, mm/ and drivers/ (2–80 KB: the steps stay affordable). */
export function sampleKernelFiles(kernel: string, count: number, seed: number): SourceFile[] {
  const random = new Random(seed);
  const pool: string[] = [];
  for (const dir of ['fs', 'kernel', 'mm', 'drivers']) pool.push(...cFiles(path.join(kernel, dir)));
  const chosen: SourceFile[] = [];
  const per = Math.ceil(count / 4);
  const byDir = new Map<string, number>();
  for (let tries = 0; chosen.length < count && tries < 20000; tries++) {
    const f = random.pick(pool);
    const rel = path.relative(kernel, f);
    const top = rel.split(path.sep)[0];
    if ((byDir.get(top) ?? 0) >= per || chosen.some((c) => c.name === rel)) continue;
    const size = fs.statSync(f).size;
    if (size < 2000 || size > 80000) continue;
    const text = fs.readFileSync(f, 'utf8');
    if (!ALLOCATES.test(text)) continue;
    chosen.push({ name: rel, text });
    byDir.set(top, (byDir.get(top) ?? 0) + 1);
  }
  return chosen;
}

async function main(): Promise<number> {
  const f = flags(process.argv.slice(2));
  if (f.has('replay')) {
    const got = await replay(f.get('replay')!, f.get('backend') as BackendName | undefined);
    process.stdout.write(got ? `still differs: ${got.what}\n  ${got.detail}\n` : 'equal\n');
    return got ? 1 : 0;
  }
  const seed = f.has('seed') ? Number(f.get('seed')) : Math.floor(Math.random() * 2 ** 31);
  const count = Number(f.get('files') ?? 24);
  const stepsPerFile = Number(f.get('steps') ?? 120);
  const backends: BackendName[] = f.get('backend') === 'wasm' ? ['wasm'] : f.get('backend') === 'both' ? ['native', 'wasm'] : ['native'];
  const kernel = f.get('kernel') ?? kernelTree();
  let files = sampleKernelFiles(kernel, count, seed);
  if (f.has('only')) files = files.filter((x) => x.name === f.get('only')).concat(files.some((x) => x.name === f.get('only')) ? [] : [{ name: f.get('only')!, text: fs.readFileSync(path.join(kernel, f.get('only')!), 'utf8') }]);
  process.stdout.write(`verify:incremental seed ${seed}, ${files.length} files of ${kernel}, ${stepsPerFile} steps each, backend ${backends.join('+')}\n`);
  for (const x of files) process.stdout.write(`  ${x.name} (${x.text.length} chars)\n`);
  const library = files.flatMap((x) => functionsOf(x.text));
  let failed = 0;
  for (const backend of backends) {
    const t0 = process.cpuUsage();
    const w0 = Date.now();
    const report = await runIncremental({ files, seed, steps: stepsPerFile, backend, library, log: (l) => process.stdout.write(`${l}\n`) });
    const cpu = process.cpuUsage(t0);
    process.stdout.write(
      `${backend}: ${report.edits} edits in ${report.events} didChange events over ${report.steps} steps, ${report.analyses} analyses compared with a fresh one; ` +
        `${report.mismatches.length} mismatches; ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU, ${((Date.now() - w0) / 1000).toFixed(0)} s wall\n` +
        `  steps by kind: ${Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}\n`,
    );
    failed += report.mismatches.length;
  }
  return failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
