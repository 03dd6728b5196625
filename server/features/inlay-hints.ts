// Inlay hints (rules.md §6): after a gfp argument whose effective mask differs
// from the written one, `⟶ NOFS` (or `⟶ NOFS|NOIO?` when paths disagree); after
// allocators with an implicit mask, that mask in effect (`⟶ GFP_NOFS`).
// Sites whose context is unknown get no hint: a hint is a statement of fact.

import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver';
import { isExact } from '../../shared/model/known-bits';
import type { SiteResult } from '../analysis/analyze-file';
import type { DocumentAnalysis } from '../documents/document-store';

/** The hint text for a site, or undefined when there is nothing to say. */
export function hintLabel(site: SiteResult): string | undefined {
  const e = site.evaluation;
  if (site.input.contextUnknown || e.variants.length === 0 || site.input.states.some((s) => s.unknown)) return undefined;
  if (!site.input.gfp) {
    const names = e.variants.map((v) => v.canonical);
    return `⟶ ${names.join('|')}${names.length > 1 ? '?' : ''}`;
  }
  if (!isExact(e.requested)) return undefined;
  const differs = e.variants.some((v) => !isExact(v.context.effective) || v.context.effective.set !== e.requested.set);
  if (!differs) return undefined;
  const short = (c: string): string => c.replace(/^GFP_/, '');
  const names = e.variants.map((v) => short(v.canonical));
  return `⟶ ${names.join('|')}${names.length > 1 ? '?' : ''}`;
}

export function inlayHints(a: DocumentAnalysis, range: Range): InlayHint[] {
  if (!a.result || !a.config.settings.inlayHints.enabled) return [];
  const doc = a.document;
  const from = doc.offsetAt(range.start);
  const to = doc.offsetAt(range.end);
  const out: InlayHint[] = [];
  for (const site of a.result.sites) {
    const at = site.input.gfp ? site.input.gfp.span.end : site.call.span.end;
    if (at < from || at > to) continue;
    const label = hintLabel(site);
    if (!label) continue;
    out.push({ position: doc.positionAt(at), label, kind: InlayHintKind.Parameter, paddingLeft: true, tooltip: `effective allocation context of ${site.call.callee}() here (gfp-lens)` });
  }
  return out;
}
