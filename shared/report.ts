// `gfp-lens report`: the GFP_NOFS/GFP_NOIO census of a tree. This file holds
// the plain data (what each worker sends back per file, and the JSON document
// made of them), the grouping by subsystem, file or function, and the
// Markdown rendering. Pure: the CLI collects the inputs (server/cli/census.ts
// per file, server/cli/report.ts for the run) and the VS Code client renders
// the same document in a webview (shared/report-html.ts).
//
// Every category comes from the analysis `check` runs, never from a second
// opinion: when the analysis improves (cross-file summaries), the report does.

/**
 * The categories of an explicit GFP_NOFS/GFP_NOIO site, in precedence order:
 * a site belongs to the first that applies.
 */
export const CATEGORIES = ['under-atomic', 'redundant', 'convertible', 'unexplained', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];
export type CategoryCounts = Record<Category, number>;

export const CATEGORY_INFO: Readonly<Record<Category, { readonly label: string; readonly meaning: string }>> = {
  'under-atomic': {
    label: 'under atomic',
    meaning: 'an atomic section (spinlock, RCU, preempt or IRQ off) is held on every or some paths: the fix is a non-blocking mask or allocating before the lock, not GFP_KERNEL',
  },
  redundant: {
    label: 'redundant',
    meaning: 'every path is already inside an equal or stronger scope, opened in the function or entered by a callee (gfp/redundant-nofs): write GFP_KERNEL',
  },
  convertible: {
    label: 'convertible',
    meaning: 'a transaction start from the model, else a sleeping lock, dominates the site: "Replace GFP_NOFS with scope at transaction start" applies there',
  },
  unexplained: {
    label: 'unexplained',
    meaning: 'no path has a scope and no anchor dominates the site (gfp/nofs-outside-scope): nothing records why the mask is needed',
  },
  other: {
    label: 'other',
    meaning: 'the rest: a scope on some paths only, a callee that enters one conditionally (ext4_journal_start()), or a context the analysis could not follow',
  },
};

export const GROUPINGS = ['subsystem', 'file', 'function'] as const;
export type GroupBy = (typeof GROUPINGS)[number];

// ---- per file (what a worker thread sends back) ------------------------------------

/** One allocation call whose gfp argument writes GFP_NOFS or GFP_NOIO, and takes effect. */
export interface CensusSite {
  /** 1-based position of the allocator's name. */
  readonly line: number;
  readonly column: number;
  readonly function: string;
  readonly callee: string;
  readonly written: 'GFP_NOFS' | 'GFP_NOIO';
  /** The gfp argument as written, whitespace collapsed. */
  readonly mask: string;
  readonly category: Category;
  /** Why, in a few words (the scope, lock or anchor that decided it). */
  readonly why: string;
  /** For `convertible`: where the refactor would open the scope. */
  readonly anchor?: { readonly kind: 'transaction' | 'lock'; readonly callee: string; readonly line: number };
  /**
   * With the workspace index (inside a kernel tree): the call sites of the
   * site's function across the tree, by whether each is inside a scope that
   * excludes what the mask excludes (on every path, on some, on none, unknown).
   */
  readonly callers?: { readonly count: number; readonly inScope: number; readonly varies: number; readonly outside: number; readonly unknown: number };
}

/** One memalloc_*_save() call and the allocation sites whose scope it opened. */
export interface CensusScope {
  readonly line: number;
  readonly column: number;
  readonly function: string;
  readonly api: string;
  readonly flags: readonly string[];
  /** Allocation sites (any mask) inside this scope on at least one path. */
  readonly covers: number;
  /** Of those, the ones inside it on every path. */
  readonly coversAlways: number;
  /** The cookie leaves the function (a struct field, the return value): the scope continues in callers. */
  readonly escapes: boolean;
}

export interface FileCensus {
  readonly sites: readonly CensusSite[];
  readonly scopes: readonly CensusScope[];
  /** Scopes entered by calls (xfs_trans_alloc()), by callee: the allocation sites they cover in this file. */
  readonly entered: ReadonlyArray<{ readonly callee: string; readonly covers: number }>;
}

// ---- the document ----------------------------------------------------------------

export interface ReportSite extends CensusSite {
  /** The path as printed by `check` (as given on the command line, or relative to `base`). */
  readonly file: string;
  readonly subsystem: string;
  readonly group: string;
}

export interface ReportScope extends CensusScope {
  readonly file: string;
  readonly group: string;
}

export interface ReportGroup {
  readonly name: string;
  /** Explicit GFP_NOFS/GFP_NOIO sites. */
  readonly sites: number;
  readonly nofs: number;
  readonly noio: number;
  readonly counts: CategoryCounts;
  /** memalloc_*_save() calls. */
  readonly saves: number;
}

export interface ReportDocument {
  readonly tool: { readonly name: 'gfp-lens'; readonly version: string };
  readonly kernel: { readonly version: string; readonly source: string };
  /** Files analysed. */
  readonly files: number;
  /** Absolute directory that relative `file` paths are relative to. */
  readonly base: string;
  readonly by: GroupBy;
  /** In precedence order. */
  readonly categories: readonly Category[];
  readonly totals: Omit<ReportGroup, 'name'> & { readonly findings: number };
  /** Sorted by sites, most first. */
  readonly groups: readonly ReportGroup[];
  readonly sites: readonly ReportSite[];
  /** Sorted by covered sites, most first. */
  readonly scopes: readonly ReportScope[];
  /** Callees that enter a scope, by the allocation sites they cover. */
  readonly enteredBy: ReadonlyArray<{ readonly callee: string; readonly covers: number }>;
  /** Every finding of the run (as `check` reports them), counted per code and severity. */
  readonly findings: ReadonlyArray<{ readonly code: string; readonly severity: string; readonly count: number }>;
}

/** One analysed file, as the CLI hands it to buildReport(). */
export interface ReportFileInput {
  /** As printed by `check`. */
  readonly display: string;
  /** Relative to the kernel tree's root (or to the directory given), for subsystems. */
  readonly rel: string;
  readonly findings: ReadonlyArray<{ readonly code: string; readonly severity: string }>;
  readonly census?: FileCensus;
}

export function emptyCounts(): CategoryCounts {
  return { 'under-atomic': 0, redundant: 0, convertible: 0, unexplained: 0, other: 0 };
}

/**
 * The kernel's subsystem of a path relative to the tree's root: the top-level
 * directory, and under fs/ and drivers/ the next level too (fs/xfs,
 * drivers/md); files directly in fs/ or drivers/ belong to fs or drivers, and
 * files at the root to "(top level)".
 */
export function subsystemOf(rel: string): string {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length <= 1) return '(top level)';
  if ((parts[0] === 'fs' || parts[0] === 'drivers') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

export interface ReportMeta {
  readonly toolVersion: string;
  readonly kernelVersion: string;
  readonly kernelSource: string;
  readonly base: string;
  readonly by: GroupBy;
}

export function buildReport(files: readonly ReportFileInput[], meta: ReportMeta): ReportDocument {
  const groups = new Map<string, { sites: number; nofs: number; noio: number; counts: CategoryCounts; saves: number }>();
  const groupOf = (name: string) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { sites: 0, nofs: 0, noio: 0, counts: emptyCounts(), saves: 0 }));
    return g;
  };
  const keyOf = (f: ReportFileInput, subsystem: string, fn: string): string =>
    meta.by === 'subsystem' ? subsystem : meta.by === 'file' ? f.display : `${f.display}: ${fn}()`;
  const sites: ReportSite[] = [];
  const scopes: ReportScope[] = [];
  const entered = new Map<string, number>();
  const findings = new Map<string, { code: string; severity: string; count: number }>();
  for (const f of files) {
    for (const d of f.findings) {
      // One row per code and severity: some codes have two (gfp/vmalloc-nonblocking: error or information).
      const key = `${d.code} ${d.severity}`;
      const e = findings.get(key) ?? { code: d.code, severity: d.severity, count: 0 };
      e.count++;
      findings.set(key, e);
    }
    if (!f.census) continue;
    const subsystem = subsystemOf(f.rel);
    for (const s of f.census.sites) {
      const group = keyOf(f, subsystem, s.function);
      const g = groupOf(group);
      g.sites++;
      if (s.written === 'GFP_NOIO') g.noio++;
      else g.nofs++;
      g.counts[s.category]++;
      sites.push({ file: f.display, ...s, subsystem, group });
    }
    for (const s of f.census.scopes) {
      const group = keyOf(f, subsystem, s.function);
      groupOf(group).saves++;
      scopes.push({ file: f.display, ...s, group });
    }
    for (const e of f.census.entered) entered.set(e.callee, (entered.get(e.callee) ?? 0) + e.covers);
  }
  const list = [...groups].map(([name, g]): ReportGroup => ({ name, ...g }));
  list.sort((a, b) => b.sites - a.sites || b.saves - a.saves || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const counts = emptyCounts();
  for (const s of sites) counts[s.category]++;
  scopes.sort((a, b) => b.covers - a.covers || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  const findingList = [...findings.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
  return {
    tool: { name: 'gfp-lens', version: meta.toolVersion },
    kernel: { version: meta.kernelVersion, source: meta.kernelSource },
    files: files.length,
    base: meta.base,
    by: meta.by,
    categories: CATEGORIES,
    totals: {
      sites: sites.length,
      nofs: sites.filter((s) => s.written === 'GFP_NOFS').length,
      noio: sites.filter((s) => s.written === 'GFP_NOIO').length,
      counts,
      saves: scopes.length,
      findings: findingList.reduce((n, f) => n + f.count, 0),
    },
    groups: list,
    sites,
    scopes,
    enteredBy: [...entered].map(([callee, covers]) => ({ callee, covers })).sort((a, b) => b.covers - a.covers || (a.callee < b.callee ? -1 : 1)),
    findings: findingList,
  };
}

// ---- Markdown --------------------------------------------------------------------

export interface MarkdownOptions {
  /** The link target of a site (a relative path with #Lline), or undefined for plain text. */
  readonly link?: (file: string, line: number) => string | undefined;
  /** At most this many rows in the scope-usage table (default 50). */
  readonly maxScopes?: number;
}

const mdCode = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const pct = (n: number, total: number): string => (total === 0 ? '0%' : `${((100 * n) / total).toFixed(n * 1000 < total ? 1 : 0)}%`);

export function byLabel(by: GroupBy): string {
  return by === 'subsystem' ? 'subsystem' : by === 'file' ? 'file' : 'function';
}

export function renderMarkdown(doc: ReportDocument, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const t = doc.totals;
  const where = (file: string, line: number): string => {
    const target = options.link?.(file, line);
    return target ? `[${file}:${line}](${target.replace(/[()\s]/g, encodeURIComponent)})` : `${file}:${line}`;
  };
  out.push('# GFP_NOFS / GFP_NOIO census', '');
  out.push(`gfp-lens ${doc.tool.version}, kernel ${doc.kernel.version} (${doc.kernel.source}); ${doc.files} file${doc.files === 1 ? '' : 's'} analysed.`, '');
  out.push(`**${t.sites}** explicit \`GFP_NOFS\`/\`GFP_NOIO\` sites (${t.nofs} NOFS, ${t.noio} NOIO) and **${t.saves}** \`memalloc_*_save()\` calls.`, '');
  out.push('## Categories', '');
  out.push('A site belongs to the first category that applies, in this order.', '');
  out.push('| category | sites | share | meaning |', '|---|---:|---:|---|');
  for (const c of CATEGORIES) out.push(`| ${CATEGORY_INFO[c].label} | ${t.counts[c]} | ${pct(t.counts[c], t.sites)} | ${mdCell(CATEGORY_INFO[c].meaning)} |`);
  out.push(`| **total** | **${t.sites}** | | |`, '');

  out.push(`## By ${byLabel(doc.by)}`, '');
  out.push(`| ${byLabel(doc.by)} | NOFS | NOIO | ${CATEGORIES.map((c) => CATEGORY_INFO[c].label).join(' | ')} | total | saves |`);
  out.push(`|---|${'---:|'.repeat(CATEGORIES.length + 4)}`);
  for (const g of doc.groups) {
    out.push(`| ${mdCell(g.name)} | ${g.nofs} | ${g.noio} | ${CATEGORIES.map((c) => g.counts[c]).join(' | ')} | ${g.sites} | ${g.saves} |`);
  }
  out.push(`| **total** | ${t.nofs} | ${t.noio} | ${CATEGORIES.map((c) => t.counts[c]).join(' | ')} | ${t.sites} | ${t.saves} |`, '');

  out.push('## Scope usage', '');
  const covered = doc.scopes.reduce((n, s) => n + s.covers, 0);
  out.push(`${doc.scopes.length} \`memalloc_*_save()\` call${doc.scopes.length === 1 ? '' : 's'} open scopes over ${covered} allocation site${covered === 1 ? '' : 's'} in their own functions ("always": on every path). A cookie that escapes (stored in a struct, returned) keeps the scope open in the callers.`, '');
  if (doc.scopes.length > 0) {
    const max = options.maxScopes ?? 50;
    out.push('| save | function | scope | covers | always | cookie escapes |', '|---|---|---|---:|---:|---|');
    for (const s of doc.scopes.slice(0, max)) out.push(`| ${where(s.file, s.line)} | ${mdCode(`${s.function}()`)} | ${mdCode(`${s.api}()`)} | ${s.covers} | ${s.coversAlways} | ${s.escapes ? 'yes' : ''} |`);
    if (doc.scopes.length > max) out.push('', `… and ${doc.scopes.length - max} more (all are in the JSON output).`);
    out.push('');
  }
  if (doc.enteredBy.length > 0) {
    out.push('Scopes entered by callees (transaction starts, lock wrappers), by the allocation sites they cover in their callers:', '');
    out.push('| callee | sites covered |', '|---|---:|');
    for (const e of doc.enteredBy.slice(0, 20)) out.push(`| ${mdCode(`${e.callee}()`)} | ${e.covers} |`);
    out.push('');
  }

  out.push('## Findings per code', '');
  if (doc.findings.length === 0) out.push('No findings.', '');
  else {
    out.push('| code | severity | count |', '|---|---|---:|');
    for (const f of doc.findings) out.push(`| ${mdCode(f.code)} | ${f.severity} | ${f.count} |`);
    out.push(`| **total** | | ${t.findings} |`, '');
  }

  out.push('## Sites', '');
  for (const c of CATEGORIES) {
    const list = doc.sites.filter((s) => s.category === c);
    out.push(`### ${CATEGORY_INFO[c].label} (${list.length})`, '');
    if (list.length === 0) {
      out.push('None.', '');
      continue;
    }
    for (const s of list) out.push(`- ${where(s.file, s.line)} ${mdCode(`${s.function}()`)}: ${mdCode(`${s.callee}()`)} with ${mdCode(s.mask)} — ${s.why}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
