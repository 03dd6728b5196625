// CParser over web-tree-sitter (WASM): one artifact for every platform, and the
// safe choice inside Electron (VS Code desktop).
//
// Pinned to web-tree-sitter 0.22.6, not a newer one, because it embeds the same
// tree-sitter core generation (0.22) as the native binding (tree-sitter 0.22.4):
// error recovery differs between core versions, and with 0.25.10 25 of the
// 2306 fs/ files of Linux 6.12 got different trees (all with ERROR nodes).
// With 0.22.6 every fs/ file gives the same tree on both backends, whole and
// with included ranges, so both give the same findings. Measured on fs/: parse
// and node-access speed are the same as 0.25.10's (6.1 MB/s parse-only).
//
// 0.22 API, unlike 0.25: the module's export is the Parser class itself, with
// the grammar loader at Parser.Language.load; the ABI is `language.version`;
// parse() throws instead of returning null.
//
// web-tree-sitter 0.22.6's Node already satisfies `SyntaxNode`: isNamed,
// isMissing, hasError, counts and positions are prototype getters (as in 0.25),
// child/namedChild/childForFieldName are methods and namedChildren is a getter,
// so nodes are handed out unwrapped; wrapping each visit would add an allocation
// per node. The assignment in WasmTree.rootNode checks this at compile time.
// Positions are UTF-16 code units, as in the native binding.
//
// Memory: every tree lives in WASM linear memory until `delete()`d, and linear
// memory never shrinks (capped at 2 GB). So each tree is wrapped and deleted in
// dispose(), and a deleted tree is poisoned so that its leftover nodes throw
// instead of reading freed memory (see poison()).

import type WebTreeSitter from 'web-tree-sitter';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CParser, IndexRange, SyntaxNode, SyntaxTree, TextEdit } from './backend';
import type { TextRange } from './ranges';

/** The module's export: the Parser class, with `Language` hanging off it. */
type ParserClass = typeof WebTreeSitter;
type Language = Awaited<ReturnType<ParserClass['Language']['load']>>;

export interface WasmModules {
  readonly Parser: ParserClass;
  readonly language: Language;
  /** web-tree-sitter package version. */
  readonly bindingVersion: string;
  /** Language ABI of the loaded grammar (14 for tree-sitter-c 0.23.6). */
  readonly languageAbi: number;
  /** Bytes of WASM linear memory now (it only grows); undefined if unknown. */
  heapBytes(): number | undefined;
}

let loading: Promise<WasmModules> | undefined;
/** The Parser class as first required; see doLoadWasm for why it is kept. */
let parserClass: ParserClass | undefined;

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

/** The emscripten Module as far as used here: HEAP8 is replaced whenever memory grows. */
interface EmscriptenModule {
  HEAP8?: Int8Array;
}

async function doLoadWasm(): Promise<WasmModules> {
  // web-tree-sitter 0.22's init() runs `module.exports = Module` under node, so
  // after it `require('web-tree-sitter')` returns the emscripten Module instead
  // of the Parser class. Required once and kept, so that a retry after a failed
  // load still gets the class.
  const Parser = (parserClass ??= require('web-tree-sitter') as ParserClass);
  // init() copies its argument into a new Module object, so HEAP8 never shows up
  // on the object passed in; but emscripten calls each preRun callback with the
  // real Module, whose HEAP8 view is replaced whenever memory grows. That is the
  // only public way to see how big linear memory has become. If someone else
  // initialised web-tree-sitter first, preRun never runs and heapBytes() is
  // undefined.
  let emModule: EmscriptenModule | undefined;
  await Parser.init({
    preRun: [
      (m: EmscriptenModule): void => {
        emModule = m;
      },
    ],
  });
  const wasmPath = require.resolve('tree-sitter-c/tree-sitter-c.wasm');
  let language: Language;
  try {
    language = await Parser.Language.load(wasmPath);
  } catch (err) {
    throw new Error(`web-tree-sitter could not load ${wasmPath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Fail here, with the versions in the message, rather than on the first parse.
  const probe = new Parser();
  try {
    probe.setLanguage(language);
  } finally {
    probe.delete();
  }
  return {
    Parser,
    language,
    bindingVersion: packageVersion(require.resolve('web-tree-sitter'), 'web-tree-sitter'),
    languageAbi: language.version,
    heapBytes: () => emModule?.HEAP8?.buffer.byteLength,
  };
}

class WasmTree implements SyntaxTree {
  raw: WebTreeSitter.Tree | null;

  constructor(raw: WebTreeSitter.Tree) {
    this.raw = raw;
  }

  get rootNode(): SyntaxNode {
    // Typed assignment: fails to compile if web-tree-sitter's node type stops
    // satisfying SyntaxNode (e.g. a flag becoming a method).
    const root: SyntaxNode = this.live().rootNode;
    return root;
  }

  changedRanges(old: SyntaxTree): IndexRange[] {
    if (!(old instanceof WasmTree)) throw new Error('old tree comes from another backend');
    // The binding's receiver is the old tree: ts_tree_get_changed_ranges(old, new).
    return old.live().getChangedRanges(this.live()).map((r) => ({ startIndex: r.startIndex, endIndex: r.endIndex }));
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
 * Relies on web-tree-sitter's internal layout (the same in 0.22 and 0.25); a
 * test checks it.
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
  private raw: WebTreeSitter | null;

  constructor(mods: WasmModules) {
    this.raw = new mods.Parser();
    this.raw.setLanguage(mods.language);
  }

  parse(text: string, old?: SyntaxTree, ranges?: readonly TextRange[]): SyntaxTree {
    if (!this.raw) throw new Error('parser used after dispose()');
    let oldRaw: WebTreeSitter.Tree | undefined;
    if (old !== undefined) {
      if (!(old instanceof WasmTree)) throw new Error('old tree comes from another backend');
      oldRaw = old.live();
    }
    // No chunking concern: for a string the binding copies at most 10K bytes
    // into WASM memory per read callback, whatever the input size. parse()
    // throws rather than returning null when tree-sitter gives no tree.
    // Included ranges are in UTF-16 units, like every index here; the binding
    // converts them to the runtime's bytes (as the native one does). Without
    // `ranges` no options object is passed, so the parser's ranges from a
    // previous call are reset to the whole text.
    const tree = ranges ? this.raw.parse(text, oldRaw, { includedRanges: [...ranges] }) : this.raw.parse(text, oldRaw);
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
 * exports map (as web-tree-sitter >= 0.25 has) cannot be required, so find it
 * on disk.
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
