// Code actions (rules.md §7) as LSP. Each action's WorkspaceEdit names the
// document version it was computed for, so a client applies it only to that
// text. The plain edits come from the findings' own fix data and from
// refactor.ts; this file only selects and converts them.

import { CodeActionKind, type CodeAction, type Diagnostic, type Range, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import type { FindingData, FixData } from '../../shared/evaluate';
import type { FunctionAnalysis } from '../analysis/incremental';
import type { DocumentAnalysis } from '../documents/document-store';
import { rangeOf } from './convert';
import { SOURCE } from './diagnostics';
import { flagsSaveRestore, nofsScopeRefactor, restoreOnPath, writesNofs } from './refactor';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.gfp-lens`;

/** A plain action: what code-actions offers, before LSP conversion (tests apply these). */
export interface PlainAction {
  readonly kind: string;
  readonly fix: FixData;
  readonly finding?: FindingData;
}

function intersects(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function functionAt(a: DocumentAnalysis, offset: number): FunctionAnalysis | undefined {
  return a.result?.functions.find((f) => f.span.start <= offset && offset < f.span.end);
}

/** Every action for the offsets [from, to]; `only` filters by kind prefix (LSP semantics). */
export function plainActions(a: DocumentAnalysis, from: number, to: number, only?: readonly string[]): PlainAction[] {
  const result = a.result;
  if (!result) return [];
  const wants = (kind: string): boolean => !only || only.length === 0 || only.some((o) => kind === o || kind.startsWith(`${o}.`));
  const text = a.document.getText();
  const ctx = a.config.context;
  const out: PlainAction[] = [];
  const range = { start: from, end: to };

  if (wants(CodeActionKind.QuickFix)) {
    for (const f of result.findings) {
      if (!intersects(f.span, range)) continue;
      for (const fix of f.fixes) out.push({ kind: CodeActionKind.QuickFix, fix, finding: f });
      const fa = functionAt(a, f.span.start);
      if (!fa) continue;
      if (f.code === 'scope/unbalanced') {
        const fix = restoreOnPath(ctx, fa, f.span, text);
        if (fix) out.push({ kind: CodeActionKind.QuickFix, fix, finding: f });
      }
      if (f.code === 'scope/direct-pf-write') {
        const fix = flagsSaveRestore(ctx, fa, f.span, text);
        if (fix) out.push({ kind: CodeActionKind.QuickFix, fix, finding: f });
      }
    }
  }

  // The headline refactor, from any GFP_NOFS site in the range that no finding already fixes.
  const refactorKind = CodeActionKind.RefactorRewrite;
  if (wants(refactorKind) || wants(CodeActionKind.QuickFix)) {
    for (const site of result.sites) {
      if (!intersects(site.call.span, range) || !writesNofs(site)) continue;
      if (site.evaluation.findings.some((f) => f.code === 'gfp/redundant-nofs')) continue; // its own fix says it
      const fa = functionAt(a, site.call.span.start);
      if (!fa) continue;
      const r = nofsScopeRefactor(ctx, fa, site, text);
      if (!r) continue;
      const finding = site.evaluation.findings.find((f) => f.code === 'gfp/nofs-outside-scope');
      // Offered as a quick fix of gfp/nofs-outside-scope where there is one, else as a rewrite.
      const kind = finding ? CodeActionKind.QuickFix : refactorKind;
      if (wants(kind)) out.push({ kind, fix: r.fix, ...(finding ? { finding } : {}) });
    }
  }

  if (wants(FIX_ALL_KIND)) {
    const edits = result.findings.filter((f) => f.code === 'gfp/redundant-nofs').flatMap((f) => f.fixes.filter((x) => x.preferred).slice(0, 1).flatMap((x) => x.edits));
    if (edits.length > 0) {
      out.push({ kind: FIX_ALL_KIND, fix: { title: `Use GFP_KERNEL where the scope already excludes FS/IO (${edits.length} site${edits.length === 1 ? '' : 's'})`, edits } });
    }
  }
  return dedupeByTitle(out);
}

function dedupeByTitle(actions: PlainAction[]): PlainAction[] {
  const seen = new Set<string>();
  return actions.filter((x) => {
    const key = `${x.kind}\u0000${x.fix.title}\u0000${JSON.stringify(x.fix.edits)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface ClientEditSupport {
  /** The client takes `documentChanges` (versioned edits). */
  readonly documentChanges: boolean;
}

export function codeActions(a: DocumentAnalysis, range: Range, only: readonly string[] | undefined, diagnostics: readonly Diagnostic[], support: ClientEditSupport): CodeAction[] {
  const doc = a.document;
  const from = doc.offsetAt(range.start);
  const to = doc.offsetAt(range.end);
  return plainActions(a, from, to, only).map((p) => {
    const edits: TextEdit[] = p.fix.edits.map((e) => ({ range: rangeOf(doc, e.span), newText: e.text }));
    const edit: WorkspaceEdit = support.documentChanges
      ? { documentChanges: [{ textDocument: { uri: a.uri, version: a.version }, edits }] }
      : { changes: { [a.uri]: edits } };
    const action: CodeAction = { title: p.fix.title, kind: p.kind, edit };
    if (p.fix.preferred) action.isPreferred = true;
    if (p.finding) {
      const f = p.finding;
      const match = diagnostics.filter((d) => d.source === SOURCE && d.code === f.code && doc.offsetAt(d.range.start) === f.span.start);
      if (match.length > 0) action.diagnostics = match;
    }
    return action;
  });
}
