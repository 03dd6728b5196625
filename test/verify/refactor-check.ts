// The refactor-safety property, shared by the fixture test
// (test/code-actions.test.ts) and `npm run verify:refactor` (refactor.ts,
// over fs/, drivers/md and mm of the kernel tree): every code action the
// server offers on a document, applied on its own through its LSP
// WorkspaceEdit and the result re-analysed from scratch, must
//   (a) add no ERROR or MISSING node;
//   (b) keep each allocation site's effective masks, or tighten them: the
//       sites a fix targets may only lose context bits (__GFP_IO, __GFP_FS,
//       __GFP_DIRECT_RECLAIM); every other site keeps exactly its masks, or
//       fewer bits; and whether a site is under an atomic section stays the
//       same (no action takes or drops a lock);
//   (c) add no scope/* finding.

import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { B } from '../../shared/model/gfp-flags';
import { isExact } from '../../shared/model/known-bits';
import type { SiteResult } from '../../server/analysis/analyze-file';
import { analyzeSource } from '../../server/analysis/summary-index';
import type { SyntaxNode } from '../../server/syntax/backend';
import { DocumentStore, type DocumentAnalysis } from '../../server/documents/document-store';
import type { DocumentConfig } from '../../server/documents/config';
import { codeActions, FIX_ALL_KIND } from '../../server/features/code-actions';
import { rangeOf } from '../../server/features/convert';

/** A document analysis as the server makes it (document store, per-function cache), without a connection. */
export async function analyseDocument(text: string, config: DocumentConfig, uri = 'file:///fixture.c'): Promise<DocumentAnalysis> {
  const store = new DocumentStore({ config: async () => config });
  store.open(uri, 'c', 1, text);
  const a = await store.analysis(uri);
  store.close(uri);
  if (!a) throw new Error(`no analysis of ${uri}`);
  return a;
}

/** An action as a client would see it: title, kind, and the edits of its WorkspaceEdit for this document. */
export interface OfferedAction {
  readonly title: string;
  readonly kind: string;
  readonly edits: readonly TextEdit[];
  /** The action's title without its counts and names: "Use GFP_KERNEL", "Replace GFP_NOFS with scope at lock". */
  readonly family: string;
}

/** "Replace GFP_NOFS with scope at transaction start: gfs2_trans_begin() (converts 2 sites)" -> "Replace GFP_NOFS with scope at transaction start". */
export function actionFamily(title: string): string {
  return title.replace(/\(.*$/, '').replace(/:.*$/, '').trim();
}

/**
 * Every code action the server offers on the document, as a client asking
 * for each finding's range, each allocation site's range and the file's
 * `source.fixAll.gfp-lens` would collect them (deduplicated by title, kind
 * and edits). Throws when an action's edit is not a versioned edit of this
 * document.
 */
export function offeredActions(a: DocumentAnalysis): OfferedAction[] {
  const result = a.result;
  if (!result) return [];
  const doc = a.document;
  const requests: Array<{ range: Range; only?: string[] }> = [];
  for (const f of result.findings) requests.push({ range: rangeOf(doc, f.span) });
  for (const s of result.sites) requests.push({ range: rangeOf(doc, s.call.span) });
  requests.push({ range: rangeOf(doc, { start: 0, end: doc.getText().length }), only: [CodeActionKind.SourceFixAll] });
  const seen = new Set<string>();
  const out: OfferedAction[] = [];
  for (const r of requests) {
    for (const action of codeActions(a, r.range, r.only, [], { documentChanges: true })) {
      const edits = editsOf(a, action);
      const key = `${action.kind}\u0000${action.title}\u0000${JSON.stringify(edits)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ title: action.title, kind: action.kind ?? '', edits, family: actionFamily(action.title) });
    }
  }
  return out;
}

function editsOf(a: DocumentAnalysis, action: CodeAction): TextEdit[] {
  const changes = action.edit?.documentChanges;
  if (!changes || changes.length !== 1 || !('textDocument' in changes[0])) throw new Error(`"${action.title}": not one versioned text document edit`);
  const change = changes[0];
  if (change.textDocument.uri !== a.uri || change.textDocument.version !== a.version) throw new Error(`"${action.title}": edit for ${change.textDocument.uri} v${change.textDocument.version}, not v${a.version}`);
  return change.edits as TextEdit[];
}

/** The text after the action's edits, as a client applies a WorkspaceEdit (all edits against the original text). */
export function applyAction(text: string, action: OfferedAction): string {
  const doc = TextDocument.create('file:///x.c', 'c', 1, text);
  const spans = action.edits.map((e) => ({ start: doc.offsetAt(e.range.start), end: doc.offsetAt(e.range.end) })).sort((x, y) => x.start - y.start);
  for (let i = 1; i < spans.length; i++) if (spans[i].start < spans[i - 1].end) throw new Error(`"${action.title}": edits overlap`);
  return TextDocument.applyEdits(doc, action.edits as TextEdit[]);
}

/** ERROR and MISSING nodes of a tree. */
export function errorNodes(root: SyntaxNode): number {
  let n = 0;
  const walk = (x: SyntaxNode): void => {
    if (x.type === 'ERROR' || x.isMissing) n++;
    if (!x.hasError && !x.isMissing) return;
    for (let i = 0; i < x.childCount; i++) walk(x.child(i)!);
  };
  walk(root);
  return n;
}

export interface FreshAnalysis {
  readonly sites: readonly SiteResult[];
  readonly codes: Map<string, number>;
  readonly errors: number;
}

/** The text analysed afresh the way the checker does (whole-file parse for the error count; the file's own summaries). */
export function analyseFresh(text: string, config: Pick<DocumentConfig, 'context' | 'parser'>, file = 'f.c'): FreshAnalysis {
  const tree = config.parser.parse(text);
  let errors: number;
  try {
    errors = errorNodes(tree.rootNode);
  } finally {
    tree.dispose();
  }
  const a = analyzeSource(config.context, config.parser, text, file);
  const codes = new Map<string, number>();
  for (const f of a?.findings ?? []) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
  return { sites: a?.sites ?? [], codes, errors };
}

/** Sites keyed by function, callee and ordinal: the edits add or remove no allocation call. */
function keyed(sites: readonly SiteResult[]): Map<string, SiteResult> {
  const count = new Map<string, number>();
  const out = new Map<string, SiteResult>();
  for (const s of sites) {
    const k = `${s.function}/${s.call.callee}`;
    const i = count.get(k) ?? 0;
    count.set(k, i + 1);
    out.set(`${k}#${i}`, s);
  }
  return out;
}

const CONTEXT_BITS = B.IO | B.FS | B.DIRECT_RECLAIM;

/** The effective masks of a site's paths, when every one is known exactly. */
function masks(s: SiteResult): bigint[] | undefined {
  if (s.input.contextUnknown || s.input.states.some((x) => x.unknown) || s.evaluation.variants.length === 0) return undefined;
  if (!s.evaluation.variants.every((v) => isExact(v.context.effective))) return undefined;
  return s.evaluation.variants.map((v) => v.context.effective.set);
}

/** Applies one action to `text` and returns every way the result breaks the property (empty: it holds). */
export function checkAction(text: string, config: Pick<DocumentConfig, 'context' | 'parser'>, action: OfferedAction, before: FreshAnalysis): string[] {
  const problems: string[] = [];
  const title = `"${action.title}"`;
  let changed: string;
  try {
    changed = applyAction(text, action);
  } catch (e) {
    return [(e as Error).message];
  }
  const after = analyseFresh(changed, config);
  if (after.errors > before.errors) problems.push(`${title}: ${after.errors - before.errors} new syntax error node(s)`);
  for (const [code, n] of after.codes) {
    if (code.startsWith('scope/') && n > (before.codes.get(code) ?? 0)) problems.push(`${title}: ${code} ${before.codes.get(code) ?? 0} -> ${n}`);
  }
  const old = keyed(before.sites);
  const now = keyed(after.sites);
  if (old.size !== now.size) problems.push(`${title}: ${old.size} sites before, ${now.size} after`);
  const doc = TextDocument.create('file:///x.c', 'c', 1, text);
  const touched = new Set(action.edits.map((e) => doc.offsetAt(e.range.start)));
  // The scope refactor and GFP_NOFS -> GFP_KERNEL under a scope change the
  // requested mask, never the effective one; other fixes aimed at a site
  // (GFP_NOWAIT, GFP_ATOMIC, dropping __GFP_NORETRY) may change its modifiers.
  const keepsModifiers = action.kind === CodeActionKind.RefactorRewrite || action.family.startsWith('Replace GFP_NOFS') || action.family.startsWith('Use GFP_KERNEL');
  for (const [k, s] of old) {
    const n = now.get(k);
    if (!n) {
      problems.push(`${title}: site ${k} is gone`);
      continue;
    }
    // No action takes or drops a lock: whether the site is under an atomic section stays as it was.
    if (s.evaluation.atomic !== 'unknown' && n.evaluation.atomic !== s.evaluation.atomic) problems.push(`${title}: site ${k} atomic ${s.evaluation.atomic} -> ${n.evaluation.atomic}`);
    const m0 = masks(s);
    const m1 = masks(n);
    if (m0 === undefined) continue;
    if (m1 === undefined) {
      problems.push(`${title}: site ${k} became unknown`);
      continue;
    }
    const target = s.input.gfp !== undefined && touched.has(s.input.gfp.span.start) && !keepsModifiers;
    for (const x of m1) {
      const ok = target ? m0.some((y) => (x & CONTEXT_BITS & ~y) === 0n) : m0.some((y) => (x & ~y) === 0n);
      if (!ok) problems.push(`${title}: site ${k} loosened: ${m1.map((v) => v.toString(16))} vs ${m0.map((v) => v.toString(16))}`);
    }
  }
  return problems;
}

export interface DocumentCheck {
  readonly actions: readonly OfferedAction[];
  /** One line per broken property, each starting with the action's title. */
  readonly problems: readonly string[];
}

/** Every offered action of one document, each checked on its own. */
export async function checkDocument(text: string, config: DocumentConfig, uri?: string): Promise<DocumentCheck> {
  const a = await analyseDocument(text, config, uri);
  const actions = offeredActions(a);
  if (actions.length === 0) return { actions, problems: [] };
  const before = analyseFresh(text, config);
  const problems: string[] = [];
  for (const action of actions) problems.push(...checkAction(text, config, action, before));
  return { actions, problems };
}

export { FIX_ALL_KIND };
