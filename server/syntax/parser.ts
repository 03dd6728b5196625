// Picks a parser backend. 'auto' prefers native tree-sitter (faster to parse:
// 7.4 vs 5.9 MB/s wall on fs/, bench/parse-only.js, no JIT warm-up) except
// inside Electron, where native addons have a history of ABI and V8-memory-cage
// crashes that cannot be tested here, and falls back to WASM wherever the
// native prebuild does not load.
//
// The backends give the same trees: native tree-sitter 0.22.4 and
// web-tree-sitter 0.22.6 embed the same tree-sitter core generation, and all
// 2306 fs/ files of Linux 6.12 parse to identical trees on both, whole and
// with included ranges, including the 1307 with ERROR or MISSING nodes (with
// web-tree-sitter 0.25.10, error recovery differed on 25 of them). They share
// the core's bugs too: `parent` is wrong for zero-width (MISSING) nodes on both.
// Keep the two bindings on the same core generation (a test checks it).

import type { BackendChoice, BackendName, CParser } from './backend';
import { createNativeParser, loadNative } from './native-backend';
import { createWasmParser, loadWasm, packageVersion } from './wasm-backend';

export interface BackendInfo {
  readonly backend: BackendName;
  /** Binding package and version, e.g. "tree-sitter 0.22.4". */
  readonly binding: string;
  /** Grammar package and version, e.g. "tree-sitter-c 0.23.6". */
  readonly grammar: string;
  /** Runtime facts that matter for support: node ABI (native) or language ABI (wasm). */
  readonly runtime: string;
  /** Why this backend: the choice made and, for 'auto', what decided it. */
  readonly reason: string;
}

const infos = new WeakMap<CParser, BackendInfo>();

/**
 * Creates a parser for `choice`. 'native' and 'wasm' throw if that backend cannot
 * load (with the loader's message); 'auto' throws only if neither loads.
 */
export async function createParser(choice: BackendChoice): Promise<CParser> {
  switch (choice) {
    case 'native':
      return withInfo(createNativeParser(), 'native', 'requested');
    case 'wasm':
      return withInfo(await createWasmParser(), 'wasm', 'requested');
    case 'auto': {
      if (process.versions.electron) {
        return withInfo(
          await createWasmParser(),
          'wasm',
          `auto: Electron ${process.versions.electron} (VS Code desktop), where native addons are a crash risk`,
        );
      }
      let nativeError: string;
      try {
        return withInfo(createNativeParser(), 'native', 'auto: native loads and this is not Electron');
      } catch (err) {
        nativeError = err instanceof Error ? err.message : String(err);
      }
      let wasm: CParser;
      try {
        wasm = await createWasmParser();
      } catch (err) {
        const wasmError = err instanceof Error ? err.message : String(err);
        throw new Error(`no parser backend loads: ${nativeError}; ${wasmError}`);
      }
      return withInfo(wasm, 'wasm', `auto: ${nativeError}`);
    }
    default: {
      const never: never = choice;
      throw new Error(`unknown parser backend ${String(never)}`);
    }
  }
}

/** What `parser` is and why it was chosen, or undefined for a parser not made by createParser. */
export function backendInfo(parser: CParser): BackendInfo | undefined {
  return infos.get(parser);
}

/**
 * One line for hovers, logs and `--version`, e.g.
 * "native tree-sitter 0.22.4 + tree-sitter-c 0.23.6 (node v20.20.2, abi 115; requested)".
 */
export function describeBackend(parser: CParser): string {
  const info = infos.get(parser);
  if (!info) return `${parser.backend} tree-sitter`;
  return `${info.backend} ${info.binding} + ${info.grammar} (${info.runtime}; ${info.reason})`;
}

/** The tree-sitter-c version actually installed, read from its package.json at run time. */
export function grammarVersion(): string {
  return packageVersion(require.resolve('tree-sitter-c/package.json'), 'tree-sitter-c');
}

async function withInfo(parser: CParser, backend: BackendName, reason: string): Promise<CParser> {
  let binding: string;
  let runtime: string;
  if (backend === 'native') {
    binding = `tree-sitter ${loadNative().bindingVersion}`;
    runtime = `node ${process.version}, abi ${process.versions.modules}`;
  } else {
    // Already loaded by createWasmParser, so this only reads the cached result.
    const wasm = await loadWasm();
    binding = `web-tree-sitter ${wasm.bindingVersion}`;
    runtime = `language ABI ${wasm.languageAbi}, node ${process.version}`;
  }
  infos.set(parser, { backend, binding, grammar: `tree-sitter-c ${grammarVersion()}`, runtime, reason });
  return parser;
}
