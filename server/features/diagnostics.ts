// Findings -> LSP diagnostics: source "gfp-lens", the code with a link to its
// section of docs/rules.md (as installed beside the server), related
// locations, the Unnecessary tag on redundant GFP_NOFS, and the severity the
// user's settings choose ("off" drops the finding).

import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { FindingData } from '../../shared/evaluate';
import { ruleDocAnchor, type Severity } from '../../shared/findings';
import { effectiveSeverity } from '../../shared/settings';
import type { DocumentAnalysis } from '../documents/document-store';
import { rangeOf } from './convert';

export const SOURCE = 'gfp-lens';

/** docs/rules.md of this installation: out/server/features/ -> ../../../docs. */
const RULES_DOC = pathToFileURL(path.resolve(__dirname, '..', '..', '..', 'docs', 'rules.md')).toString();

const SEVERITY: Readonly<Record<Severity, DiagnosticSeverity>> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function ruleHref(code: FindingData['code']): string {
  return `${RULES_DOC}#${ruleDocAnchor(code)}`;
}

export function toDiagnostics(a: DocumentAnalysis): Diagnostic[] {
  const doc = a.document;
  if (a.skipped) {
    return [{
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Information,
      source: SOURCE,
      message: `gfp-lens does not analyse this file: ${a.skipped}.`,
    }];
  }
  const out: Diagnostic[] = [];
  for (const f of a.result?.findings ?? []) {
    const severity = effectiveSeverity(a.config.settings, f.code, f.severity);
    if (severity === 'off') continue;
    const d: Diagnostic = {
      range: rangeOf(doc, f.span),
      severity: SEVERITY[severity],
      source: SOURCE,
      code: f.code,
      codeDescription: { href: ruleHref(f.code) },
      message: f.message,
    };
    if (f.related.length > 0) {
      d.relatedInformation = f.related.map((r) => ({ location: { uri: a.uri, range: rangeOf(doc, r.span) }, message: r.message }));
    }
    if (f.code === 'gfp/redundant-nofs') d.tags = [DiagnosticTag.Unnecessary];
    out.push(d);
  }
  return out;
}
