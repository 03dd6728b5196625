// CParser over native node-tree-sitter (N-API prebuilds, no compiler needed).
//
// The binding's node objects already satisfy `SyntaxNode` (same property names,
// getters rather than methods for the flags), so nodes are handed out as they are:
// wrapping every visited node would cost an allocation per visit for nothing.
// Only trees and the parser are wrapped, once per parse, to check which backend
// an old tree came from and to refuse use after dispose.
//
// Positions: the binding feeds the string to tree-sitter as UTF-16 and divides
// byte counts by 2, so `startIndex`/`column` are UTF-16 code units, the same unit
// as JS string indices, LSP positions and web-tree-sitter.
//
// Known runtime bug (tree-sitter core 0.22, in both backends since WASM uses
// web-tree-sitter 0.22.6 too; fixed in 0.25): `parent` of a zero-width node,
// i.e. a MISSING token, can be the preceding sibling instead of the real
// parent (`foo(1) }` gives MISSING ";" the argument_list as parent). Nodes with
// a width are unaffected. Don't walk up from MISSING nodes.
//
// Cost: every node property is an N-API call (~1 us); a child(i) walk reading
// type and range takes ~120 ms on a 280 KB file, more than the parse itself
// (~32 ms). The lowering therefore reads `namedChildren` in bulk, and
// patchNodeTypeGetter() below makes `type` a plain property read.

import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type TreeSitter from 'tree-sitter';
import type { CParser, IndexRange, SyntaxNode, SyntaxTree, TextEdit } from './backend';
import type { TextRange } from './ranges';

export interface NativeModules {
  readonly Parser: typeof TreeSitter;
  readonly language: TreeSitter.Language;
  /** tree-sitter (the binding) package version. */
  readonly bindingVersion: string;
}

let loaded: NativeModules | undefined;

/**
 * Loads `tree-sitter` and `tree-sitter-c` and checks that the grammar can be set
 * on a parser (an ABI-15 grammar, e.g. tree-sitter-c 0.24, loads but fails only
 * there). Throws an Error whose message says what failed; callers fall back to
 * WASM on it. Cached after the first success.
 */
export function loadNative(): NativeModules {
  if (loaded) return loaded;
  let Parser: typeof TreeSitter;
  let language: TreeSitter.Language;
  try {
    // Plain require inside a function: a missing or broken prebuild must be a
    // catchable error here, not a failure when this module is imported.
    Parser = require('tree-sitter') as typeof TreeSitter;
  } catch (err) {
    throw new Error(`native tree-sitter did not load (${errorText(err)}) on ${platformText()}`);
  }
  try {
    language = require('tree-sitter-c') as TreeSitter.Language;
  } catch (err) {
    throw new Error(`native tree-sitter-c grammar did not load (${errorText(err)}) on ${platformText()}`);
  }
  try {
    new Parser().setLanguage(language);
  } catch (err) {
    throw new Error(`native tree-sitter rejected the tree-sitter-c grammar (${errorText(err)})`);
  }
  // tree-sitter's package.json is not hidden behind an exports map, so it can be
  // required directly.
  const bindingVersion = (require('tree-sitter/package.json') as { version: string }).version;
  patchNodeTypeGetter(Parser);
  loaded = { Parser, language, bindingVersion };
  return loaded;
}

/**
 * node-tree-sitter 0.22.4 makes one subclass per named node type and means to
 * put the type name on its prototype (`nodeSubclass.prototype.type = typeName`
 * in index.js), but the base class defines `type` as a getter without a setter,
 * so that assignment is silently dropped and every `.type` read calls into the
 * addon (about 1 us; the lowering reads it for every node). This getter asks
 * the addon once per subclass and then stores the name on the subclass's
 * prototype, where later reads are plain property loads. Anonymous tokens and
 * ERROR nodes share the base class and keep asking the addon.
 */
function patchNodeTypeGetter(Parser: typeof TreeSitter): void {
  const SyntaxNodeClass = (Parser as unknown as { SyntaxNode?: { prototype: object } }).SyntaxNode;
  if (!SyntaxNodeClass) return;
  const base = Object.getOwnPropertyDescriptor(SyntaxNodeClass.prototype, 'type');
  if (!base?.get || (base.get as { gfpLensPatched?: boolean }).gfpLensPatched) return;
  const nativeType = base.get;
  const getter = function (this: { constructor: { prototype: object } }): string {
    const type = nativeType.call(this) as string;
    const proto = this.constructor.prototype;
    if (proto !== SyntaxNodeClass.prototype) Object.defineProperty(proto, 'type', { value: type, configurable: true });
    return type;
  };
  (getter as { gfpLensPatched?: boolean }).gfpLensPatched = true;
  Object.defineProperty(SyntaxNodeClass.prototype, 'type', { get: getter, configurable: true, enumerable: base.enumerable ?? false });
}

/**
 * Native trees are freed only by their finalizers, when V8 collects the
 * binding's objects, and V8 does not know their size (about 25 bytes per
 * source byte): in a language server whose JS heap stays small, the trees of
 * thousands of edits waited for a collection that came late (10,000 edits of
 * fs/ext4/inode.c grew the server by 200 MB). So what dispose() drops is
 * counted, and past COLLECT_AFTER_BYTES a major collection is asked for,
 * asynchronously (V8 runs it in a later task, not inside the caller).
 */
const TREE_BYTES_PER_CHAR = 25;
const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;
let dropped = 0;
let collect: ((options: { type: 'major'; execution: 'async' }) => unknown) | null | undefined;

function treeDropped(chars: number): void {
  dropped += chars * TREE_BYTES_PER_CHAR;
  if (dropped < COLLECT_AFTER_BYTES) return;
  dropped = 0;
  if (collect === undefined) {
    try {
      // The standard way to reach gc() in a process not started with --expose-gc.
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as typeof collect;
    } catch {
      collect = null;
    }
  }
  if (collect) void collect({ type: 'major', execution: 'async' });
}

class NativeTree implements SyntaxTree {
  /** Null once disposed; the binding object stays alive while nodes refer to it. */
  raw: TreeSitter.Tree | null;

  constructor(
    raw: TreeSitter.Tree,
    /** The length of the text it was parsed from: what it holds, roughly. */
    private readonly chars: number,
  ) {
    this.raw = raw;
  }

  get rootNode(): SyntaxNode {
    return this.live().rootNode;
  }

  changedRanges(old: SyntaxTree): IndexRange[] {
    if (!(old instanceof NativeTree)) throw new Error('old tree comes from another backend');
    // The binding's receiver is the old tree: ts_tree_get_changed_ranges(old, new).
    return old.live().getChangedRanges(this.live()).map((r) => ({ startIndex: r.startIndex, endIndex: r.endIndex }));
  }

  edit(edit: TextEdit): void {
    // Same field names as node-tree-sitter's Edit; passed straight through.
    this.live().edit(edit);
  }

  /**
   * node-tree-sitter 0.22 has no `delete()`: the C tree is freed by the
   * wrapper's finalizer once neither this tree nor any of its nodes is reachable.
   * Finalizers run on the event loop, so batch loops must yield (see
   * bench/parse-only.js). Dropping the reference here is all that can be done
   * synchronously; it also makes later use throw as it would under WASM, so
   * use-after-dispose bugs show up in native test runs too.
   */
  dispose(): void {
    if (this.raw) treeDropped(this.chars);
    this.raw = null;
  }

  live(): TreeSitter.Tree {
    if (!this.raw) throw new Error('syntax tree used after dispose()');
    return this.raw;
  }
}

class NativeParser implements CParser {
  readonly backend = 'native' as const;
  private raw: TreeSitter | null;

  constructor(mods: NativeModules) {
    this.raw = new mods.Parser();
    this.raw.setLanguage(mods.language);
  }

  parse(text: string, old?: SyntaxTree, ranges?: readonly TextRange[]): SyntaxTree {
    if (!this.raw) throw new Error('parser used after dispose()');
    let oldRaw: TreeSitter.Tree | null = null;
    if (old !== undefined) {
      if (!(old instanceof NativeTree)) throw new Error('old tree comes from another backend');
      oldRaw = old.live();
    }
    // Default bufferSize (32K UTF-16 units) is fine for big inputs in 0.22.4: the
    // binding keeps the unread rest of each chunk and continues from it.
    // Measured: identical trees and parse time with bufferSize = text.length + 1
    // on a 280 KB kernel file and with surrogate pairs straddling the 32K
    // boundary, so no option is passed.
    const tree = ranges ? this.raw.parse(text, oldRaw, { includedRanges: [...ranges] } as TreeSitter.Options) : this.raw.parse(text, oldRaw);
    // Only a timeout or cancellation (neither is used) makes parse return nothing.
    if (!tree) throw new Error('native tree-sitter returned no tree');
    return new NativeTree(tree, text.length);
  }

  /** No `delete()` in the binding either; the finalizer frees the C parser. */
  dispose(): void {
    this.raw = null;
  }
}

/** A native parser; throws (see loadNative) where the binding cannot load. */
export function createNativeParser(): CParser {
  return new NativeParser(loadNative());
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Loader errors can span lines (require stacks); the first line says enough.
  return text.split('\n')[0] ?? text;
}

function platformText(): string {
  return `${process.platform}-${process.arch}, node ${process.version}, abi ${process.versions.modules}`;
}
