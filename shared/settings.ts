// The editor settings: names, types, defaults and descriptions in one table,
// and the validation that turns whatever a client sends into a complete,
// typed Settings object plus a list of problems to report. Pure: the server
// reads the raw values (workspace/configuration, per resource) and calls
// validateSettings(); a bad value never breaks analysis, it falls back to the
// default and is reported once.

import { FINDING_RULES, isFindingCode, type FindingCode, type Severity } from './findings';
import type { AllocatorDef, Backend, GfpArg } from './model/allocators';
import type { TransactionDef, TransactionScope } from './model/transactions';
import { checkSupported, parseVersion } from './model/version';

export type SeveritySetting = Severity | 'off';

export interface Settings {
  /** 'auto' (the kernel tree around the file, else the newest verified) or 'X.Y'. */
  readonly kernelVersion: string;
  readonly parserBackend: 'auto' | 'native' | 'wasm';
  readonly inlayHints: { readonly enabled: boolean };
  readonly severity: Readonly<Partial<Record<FindingCode, SeveritySetting>>>;
  readonly extraAllocators: readonly AllocatorDef[];
  readonly extraTransactions: readonly TransactionDef[];
  /** Files larger than this (UTF-16 code units ≈ bytes for C) are not analysed. */
  readonly maxFileSize: number;
  /** The workspace index of the kernel tree around open files (cross-file summaries and caller contexts). */
  readonly index: {
    readonly enabled: boolean;
    /** Globs relative to the tree's root; empty = every .c and .h. */
    readonly include: readonly string[];
    readonly exclude: readonly string[];
  };
}

export interface SettingSpec {
  /** The full name as clients see it: `gfp-lens.kernelVersion`. */
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'number' | 'object' | 'array';
  readonly enum?: readonly string[];
  readonly default: unknown;
  readonly description: string;
  /** Longer Markdown text for editors that render it (VS Code's settings UI). */
  readonly markdownDescription?: string;
  /**
   * VS Code's scope: `resource` settings may differ per folder/file (a
   * workspace with several kernel trees); `window` ones apply to the whole
   * window (one server process). Defaults to `resource`.
   */
  readonly scope?: 'resource' | 'window';
}

const SECTION = 'gfp-lens';

export const SETTINGS_SECTION = SECTION;

export const DEFAULT_SETTINGS: Settings = {
  kernelVersion: 'auto',
  parserBackend: 'auto',
  inlayHints: { enabled: true },
  severity: {},
  extraAllocators: [],
  extraTransactions: [],
  maxFileSize: 4 * 1024 * 1024,
  index: { enabled: true, include: [], exclude: [] },
};

export const SETTING_SPECS: readonly SettingSpec[] = [
  {
    name: `${SECTION}.kernelVersion`, type: 'string', default: 'auto',
    description: 'Kernel version to model: "auto" reads the Makefile of the kernel tree around the file (else 6.12), or "X.Y" (4.12 to 7.0).',
    markdownDescription: 'Kernel version whose GFP flags, allocators and `current_gfp_context()` rules are modelled.\n\n- `auto`: read `VERSION`/`PATCHLEVEL` from the top-level `Makefile` of the kernel tree around the file, and the composite masks from its `include/linux/gfp_types.h` (or `gfp.h` before 6.0); outside a tree, 6.12.\n- `X.Y` (4.12 to 7.0): that version\'s built-in tables, whatever the tree says.',
  },
  {
    name: `${SECTION}.parserBackend`, type: 'string', enum: ['auto', 'native', 'wasm'], default: 'auto', scope: 'window',
    description: 'tree-sitter backend: native (faster) or wasm (safest inside Electron); auto picks native where it loads, outside Electron.',
    markdownDescription: 'tree-sitter backend of the language server. `native` is faster; `wasm` is the safe choice inside VS Code desktop\'s Electron host. `auto` uses `wasm` under Electron and `native` elsewhere (code-server, Neovim, the CLI) when it loads. Both backends ship with the extension; nothing is built or run from the workspace.',
  },
  {
    name: `${SECTION}.inlayHints.enabled`, type: 'boolean', default: true,
    description: 'Show the effective mask after gfp arguments whose effective context differs from the written mask.',
    markdownDescription: 'Show the effective mask after a gfp argument when the context in force changes it, e.g. `GFP_KERNEL` inside `memalloc_nofs_save()` shows `⇒ GFP_NOFS`.',
  },
  {
    name: `${SECTION}.severity`, type: 'object', default: {},
    description: 'Severity per finding code, e.g. {"gfp/nofs-outside-scope": "hint"}; "off" hides the code. Values: error, warning, information, hint, off.',
    markdownDescription: 'Severity per finding code, e.g. `{"gfp/nofs-outside-scope": "hint"}`; `"off"` hides that code. Values: `error`, `warning`, `information`, `hint`, `off`. The codes and what each means are listed in `docs/rules.md`, shipped with the extension.',
  },
  {
    name: `${SECTION}.extraAllocators`, type: 'array', default: [],
    description: 'Allocators the model does not know: [{"names": ["my_alloc"], "gfp": {"kind": "arg", "index": 1}, "backend": "slab"}]; gfp kinds: arg, optional (with default), implicit (with mask).',
    markdownDescription: 'Allocators the model does not know, e.g. a driver\'s wrapper around `kmalloc()`:\n\n```json\n[{"names": ["my_alloc"], "gfp": {"kind": "arg", "index": 1}, "backend": "slab"}]\n```\n\n`gfp.kind`: `arg` (the mask is argument `index`, from 0), `optional` (with `default`), or `implicit` (with `mask`, for allocators that take no gfp argument).',
  },
  {
    name: `${SECTION}.extraTransactions`, type: 'array', default: [],
    description: 'Transaction or lock-tied scope pairs: [{"fs": "myfs", "start": ["myfs_trans_begin"], "end": ["myfs_trans_end"], "scope": "none"}]; scope: nofs, nofs-conditional or none (whether the start enters a NOFS scope).',
    markdownDescription: 'Transaction (or lock-tied scope) pairs of a filesystem the model does not know:\n\n```json\n[{"fs": "myfs", "start": ["myfs_trans_begin"], "end": ["myfs_trans_end"], "scope": "none"}]\n```\n\n`scope`: `nofs` if the start enters a `memalloc_nofs_save()` scope (like `xfs_trans_alloc`), `nofs-conditional`, or `none` (allocations inside need their own scope or `GFP_NOFS`).',
  },
  {
    name: `${SECTION}.maxFileSize`, type: 'number', default: DEFAULT_SETTINGS.maxFileSize,
    description: 'Files larger than this many characters are not analysed (one information diagnostic says so).',
  },
  {
    name: `${SECTION}.index.enabled`, type: 'boolean', default: true, scope: 'window',
    description: 'Index the kernel tree around open files in the background (all .c and .h files), so that calls into other files and the contexts of a function\'s callers are known.',
    markdownDescription: 'Index the kernel tree around open files in the background (every `.c` and `.h`, with worker threads), so that calls of functions in other files (`xfs_trans_alloc()`, `ext4_journal_start()`, lock wrappers) and the contexts at a function\'s call sites are known. Progress shows in the status bar; the index is cached on disk (`~/.cache/gfp-lens/index`) and a restart re-reads only changed files.',
  },
  {
    name: `${SECTION}.index.include`, type: 'array', default: [], scope: 'window',
    description: 'Globs (relative to the kernel tree\'s root, e.g. "fs/**") of the files to index; empty means every .c and .h file.',
    markdownDescription: 'Globs relative to the kernel tree\'s root of the files to index, e.g. `["fs/**", "include/**", "mm/**"]`; empty means every `.c` and `.h`. `*` matches within a path component, `**` across components.',
  },
  {
    name: `${SECTION}.index.exclude`, type: 'array', default: [], scope: 'window',
    description: 'Globs (relative to the kernel tree\'s root, e.g. "drivers/gpu/**") of files to leave out of the index.',
  },
];

/**
 * Settings only the VS Code extension reads (the language server never sees
 * them): they are contributed by package.json next to SETTING_SPECS, and the
 * manifest test checks both lists against it.
 */
export const CLIENT_SETTING_SPECS: readonly SettingSpec[] = [
  {
    name: `${SECTION}.includeCppHeaders`, type: 'boolean', default: false, scope: 'window',
    description: 'Also analyse .h files that VS Code opens as C++ (language "cpp"). Off by default so that C++ projects are left alone; the server restarts when it changes.',
    markdownDescription: 'Also analyse `.h` files that VS Code opens as C++ (language `cpp`, e.g. when the C/C++ extension or `files.associations` says so). Off by default so that C++ projects are left alone; the language server restarts when this changes.',
  },
  {
    name: `${SECTION}.trace.server`, type: 'string', enum: ['off', 'messages', 'verbose'], default: 'off', scope: 'window',
    description: 'Traces the messages between VS Code and the gfp-lens language server in the "GFP Lens" output channel (for bug reports).',
  },
];

const SEVERITIES: readonly SeveritySetting[] = ['error', 'warning', 'information', 'hint', 'off'];
const BACKENDS: readonly Backend[] = ['slab', 'kvmalloc', 'vmalloc', 'page', 'mempool', 'percpu', 'bio', 'skb', 'string', 'devres', 'dma', 'idr', 'xarray', 'radix-tree', 'bitmap', 'scatterlist', 'jbd2', 'other'];
const SCOPES: readonly TransactionScope[] = ['nofs', 'nofs-conditional', 'none'];
const IDENT = /^[A-Za-z_]\w*$/;

export interface ValidatedSettings {
  readonly settings: Settings;
  /** One sentence per rejected value, naming the setting. */
  readonly problems: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && IDENT.test(x));

/**
 * Validates the `gfp-lens` section as a client sends it (nested objects;
 * dotted keys such as `inlayHints.enabled` are accepted too). Missing values
 * take their defaults; invalid ones take their defaults and add a problem.
 */
export function validateSettings(raw: unknown): ValidatedSettings {
  const problems: string[] = [];
  const src: Record<string, unknown> = isObject(raw) ? { ...raw } : {};
  if (raw !== undefined && raw !== null && !isObject(raw)) problems.push(`${SECTION}: expected an object of settings`);
  // Flatten dotted keys that some clients send as they are written.
  if (isObject(src['inlayHints']) && 'enabled' in src['inlayHints']) src['inlayHints.enabled'] = src['inlayHints'].enabled;
  if (isObject(src['index'])) for (const k of ['enabled', 'include', 'exclude']) if (k in src['index']) src[`index.${k}`] = src['index'][k];
  const get = (key: string): unknown => src[key];
  const bad = (key: string, why: string): void => {
    problems.push(`${SECTION}.${key}: ${why}; using the default`);
  };

  let kernelVersion = DEFAULT_SETTINGS.kernelVersion;
  const kv = get('kernelVersion');
  if (kv !== undefined && kv !== null) {
    if (kv === 'auto') kernelVersion = 'auto';
    else if (typeof kv === 'string') {
      try {
        checkSupported(parseVersion(kv));
        kernelVersion = kv.trim();
      } catch (e) {
        bad('kernelVersion', e instanceof Error ? e.message : 'not a version');
      }
    } else bad('kernelVersion', 'expected "auto" or "X.Y"');
  }

  let parserBackend = DEFAULT_SETTINGS.parserBackend;
  const pb = get('parserBackend');
  if (pb !== undefined && pb !== null) {
    if (pb === 'auto' || pb === 'native' || pb === 'wasm') parserBackend = pb;
    else bad('parserBackend', 'expected auto, native or wasm');
  }

  let inlay = DEFAULT_SETTINGS.inlayHints.enabled;
  const ih = get('inlayHints.enabled');
  if (ih !== undefined && ih !== null) {
    if (typeof ih === 'boolean') inlay = ih;
    else bad('inlayHints.enabled', 'expected true or false');
  }

  const severity: Partial<Record<FindingCode, SeveritySetting>> = {};
  const sv = get('severity');
  if (sv !== undefined && sv !== null) {
    if (!isObject(sv)) bad('severity', 'expected an object mapping finding codes to severities');
    else {
      for (const [code, value] of Object.entries(sv)) {
        if (!isFindingCode(code)) problems.push(`${SECTION}.severity: unknown finding code '${code}' (known: ${FINDING_RULES.map((r) => r.code).join(', ')})`);
        else if (typeof value !== 'string' || !SEVERITIES.includes(value as SeveritySetting)) problems.push(`${SECTION}.severity.${code}: expected one of ${SEVERITIES.join(', ')}`);
        else severity[code] = value as SeveritySetting;
      }
    }
  }

  const extraAllocators: AllocatorDef[] = [];
  const ea = get('extraAllocators');
  if (ea !== undefined && ea !== null) {
    if (!Array.isArray(ea)) bad('extraAllocators', 'expected an array');
    else ea.forEach((row, i) => {
      const r = allocatorRow(row);
      if (typeof r === 'string') problems.push(`${SECTION}.extraAllocators[${i}]: ${r}; ignored`);
      else extraAllocators.push(r);
    });
  }

  const extraTransactions: TransactionDef[] = [];
  const et = get('extraTransactions');
  if (et !== undefined && et !== null) {
    if (!Array.isArray(et)) bad('extraTransactions', 'expected an array');
    else et.forEach((row, i) => {
      const r = transactionRow(row);
      if (typeof r === 'string') problems.push(`${SECTION}.extraTransactions[${i}]: ${r}; ignored`);
      else extraTransactions.push(r);
    });
  }

  let maxFileSize = DEFAULT_SETTINGS.maxFileSize;
  const mf = get('maxFileSize');
  if (mf !== undefined && mf !== null) {
    if (typeof mf === 'number' && Number.isFinite(mf) && mf > 0) maxFileSize = Math.floor(mf);
    else bad('maxFileSize', 'expected a positive number');
  }

  let indexEnabled = DEFAULT_SETTINGS.index.enabled;
  const ie = get('index.enabled');
  if (ie !== undefined && ie !== null) {
    if (typeof ie === 'boolean') indexEnabled = ie;
    else bad('index.enabled', 'expected true or false');
  }
  const globs = (key: 'index.include' | 'index.exclude'): string[] => {
    const v = get(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) {
      bad(key, 'expected an array of glob strings such as "fs/**"');
      return [];
    }
    return v as string[];
  };
  const index = { enabled: indexEnabled, include: globs('index.include'), exclude: globs('index.exclude') };

  return {
    settings: { kernelVersion, parserBackend, inlayHints: { enabled: inlay }, severity, extraAllocators, extraTransactions, maxFileSize, index },
    problems,
  };
}

function allocatorRow(row: unknown): AllocatorDef | string {
  if (!isObject(row)) return 'expected an object';
  if (!isNames(row.names)) return '"names" must be a non-empty array of C identifiers';
  const backend = row.backend ?? 'other';
  if (typeof backend !== 'string' || !BACKENDS.includes(backend as Backend)) return `"backend" must be one of ${BACKENDS.join(', ')}`;
  const g = row.gfp;
  if (!isObject(g)) return '"gfp" must be an object such as {"kind": "arg", "index": 1}';
  const index = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 16;
  let gfp: GfpArg;
  if (g.kind === 'arg' && index(g.index)) gfp = { kind: 'arg', index: g.index };
  else if (g.kind === 'optional' && index(g.index)) gfp = { kind: 'optional', index: g.index, default: typeof g.default === 'string' ? g.default : 'GFP_KERNEL' };
  else if (g.kind === 'implicit' && typeof g.mask === 'string' && /^[\w\s|()~]+$/.test(g.mask)) gfp = { kind: 'implicit', mask: g.mask };
  else return '"gfp" must be {"kind": "arg"|"optional", "index": N} or {"kind": "implicit", "mask": "GFP_..."}';
  if (row.adds !== undefined && (typeof row.adds !== 'string' || !/^[\w\s|]+$/.test(row.adds))) return '"adds" must be a mask such as "__GFP_ZERO"';
  for (const k of ['orderArg', 'sizeArg'] as const) if (row[k] !== undefined && !index(row[k])) return `"${k}" must be an argument index`;
  return {
    names: row.names,
    gfp,
    backend: backend as Backend,
    ...(typeof row.adds === 'string' ? { adds: row.adds } : {}),
    ...(index(row.orderArg) ? { orderArg: row.orderArg } : {}),
    ...(index(row.sizeArg) ? { sizeArg: row.sizeArg } : {}),
    cite: typeof row.cite === 'string' ? row.cite : 'user settings (gfp-lens.extraAllocators)',
  };
}

function transactionRow(row: unknown): TransactionDef | string {
  if (!isObject(row)) return 'expected an object';
  if (typeof row.fs !== 'string' || row.fs === '') return '"fs" must name the filesystem or subsystem';
  if (!isNames(row.start)) return '"start" must be a non-empty array of C identifiers';
  if (!isNames(row.end)) return '"end" must be a non-empty array of C identifiers';
  const scope = row.scope ?? 'none';
  if (typeof scope !== 'string' || !SCOPES.includes(scope as TransactionScope)) return `"scope" must be one of ${SCOPES.join(', ')}`;
  return {
    fs: row.fs,
    start: row.start,
    end: row.end,
    scope: scope as TransactionScope,
    ...(typeof row.cookie === 'string' ? { cookie: row.cookie } : {}),
    note: typeof row.note === 'string' ? row.note : `${row.fs} transaction declared in settings.`,
    cite: typeof row.cite === 'string' ? row.cite : 'user settings (gfp-lens.extraTransactions)',
  };
}

/** The severity a finding is shown with: the user's override, or the finding's own. */
export function effectiveSeverity(settings: Settings, code: FindingCode, own: Severity): SeveritySetting {
  return settings.severity[code] ?? own;
}
