// CParser over web-tree-sitter (WASM): one artifact for every platform, and the
// safe choice inside Electron (VS Code desktop).
//
// web-tree-sitter 0.25's Node already satisfies `SyntaxNode` (getters for the
// flags and counts, methods for child/namedChild/childForFieldName), so nodes
// are handed out unwrapped; wrapping each visit would add an allocation per node.
// Positions are UTF-16 code units, as in the native binding.
//
// Memory: every tree lives in WASM linear memory until `delete()`d, and linear
// memory never shrinks (capped at 2 GB). So each tree is wrapped and deleted in
// dispose(), and a deleted tree is poisoned so that its leftover nodes throw
// instead of reading freed memory (see poison()).

import type * as WebTreeSitter from 'web-tree-sitter';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CParser, SyntaxNode, SyntaxTree, TextEdit } from './backend';

type WebModule = typeof WebTreeSitter;

export interface WasmModules {
  readonly Parser: WebModule['Parser'];
  readonly language: WebTreeSitter.Language;
  /** web-tree-sitter package version. */
  readonly bindingVersion: string;
  /** Language ABI of the loaded grammar (14 for tree-sitter-c 0.23.6). */
  readonly languageAbi: number;
  /** Bytes of WASM linear memory now (it only grows); undefined if unknown. */
  heapBytes(): number | undefined;
}

let loading: Promise<WasmModules> | undefined;

/**
 * Initialises the WASM runtime and loads the tree-sitter-c grammar, once per
 * process (web-tree-sitter keeps one module instance per process anyway).
 * A failure is not cached, so a later call can retry.
 */
export function loadWasm(): Promise<WasmModules> {
  if (!loading) {
    loading = doLoadWasm();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

async function doLoadWasm(): Promise<WasmModules> {
  // Resolved by package name: web-tree-sitter >= 0.25 has an exports map and no
  // `main`, so a path to its folder does not resolve.
  const web = require('web-tree-sitter') as WebModule;
  // Emscripten keeps the object passed to init() as its Module and stores the
  // current heap views on it (HEAP8 is replaced whenever memory grows), which is
  // the only public way to see how big linear memory has become.
  const moduleObject: { HEAP8?: Int8Array } = {};
  await web.Parser.init(moduleObject as unknown as Parameters<WebModule['Parser']['init']>[0]);
  const wasmPath = require.resolve('tree-sitter-c/tree-sitter-c.wasm');
  let language: WebTreeSitter.Language;
  try {
    language = await web.Language.load(wasmPath);
  } catch (err) {
    throw new Error(`web-tree-sitter could not load ${wasmPath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Fail here, with the versions in the message, rather than on the first parse.
  const probe = new web.Parser();
  try {
    probe.setLanguage(language);
  } finally {
    probe.delete();
  }
  return {
    Parser: web.Parser,
    language,
    bindingVersion: packageVersion(require.resolve('web-tree-sitter'), 'web-tree-sitter'),
    languageAbi: language.abiVersion,
    // Undefined if someone else initialised web-tree-sitter first with their
    // own module object.
    heapBytes: () => moduleObject.HEAP8?.buffer.byteLength,
  };
}

class WasmTree implements SyntaxTree {
  raw: WebTreeSitter.Tree | null;

  constructor(raw: WebTreeSitter.Tree) {
    this.raw = raw;
  }

  get rootNode(): SyntaxNode {
    return this.live().rootNode;
  }

  edit(edit: TextEdit): void {
    // web-tree-sitter's Edit has the same field names; marshalEdit copies them.
    this.live().edit(edit);
  }

  dispose(): void {
    const raw = this.raw;
    if (!raw) return;
    this.raw = null;
    raw.delete();
    poison(raw);
  }

  live(): WebTreeSitter.Tree {
    if (!this.raw) throw new Error('syntax tree used after dispose()');
    return this.raw;
  }
}

/**
 * Every web-tree-sitter Node method reads `node.tree[0]`, the tree's WASM address
 * (delete() sets it to 0, and the node would then read freed memory). Replacing
 * that slot with a throwing getter makes any later use of a leftover node fail
 * loudly, at no cost to live trees. Fields copied into the node when it was made
 * (startIndex, startPosition) stay readable, harmlessly.
 * Relies on web-tree-sitter 0.25's internal layout; a test checks it.
 */
function poison(raw: WebTreeSitter.Tree): void {
  Object.defineProperty(raw, 0, {
    get(): never {
      throw new Error('syntax node used after its tree was disposed');
    },
    configurable: true,
  });
}

class WasmParser implements CParser {
  readonly backend = 'wasm' as const;
  private raw: WebTreeSitter.Parser | null;

  constructor(mods: WasmModules) {
    this.raw = new mods.Parser();
    this.raw.setLanguage(mods.language);
  }

  parse(text: string, old?: SyntaxTree): SyntaxTree {
    if (!this.raw) throw new Error('parser used after dispose()');
    let oldRaw: WebTreeSitter.Tree | null = null;
    if (old !== undefined) {
      if (!(old instanceof WasmTree)) throw new Error('old tree comes from another backend');
      oldRaw = old.live();
    }
    // No chunking concern: for a string the binding hands tree-sitter slices of
    // at most 10K bytes per read callback, whatever the input size.
    const tree = this.raw.parse(text, oldRaw);
    if (!tree) throw new Error('web-tree-sitter returned no tree');
    return new WasmTree(tree);
  }

  dispose(): void {
    const raw = this.raw;
    if (!raw) return;
    this.raw = null;
    raw.delete();
  }
}

/** A WASM parser; the first call in a process compiles the runtime (~tens of ms). */
export async function createWasmParser(): Promise<CParser> {
  return new WasmParser(await loadWasm());
}

/**
 * The version in the package.json above `entry`: package.json files hidden by an
 * exports map (web-tree-sitter's) cannot be required, so find it on disk.
 */
export function packageVersion(entry: string, name: string): string {
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
