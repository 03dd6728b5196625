// Output formats of `gfp-lens check`: gcc-style text, JSON and SARIF 2.1.0.

import { FINDING_RULES, type Severity } from '../../shared/findings';
import type { FileFinding, FileSite } from './check-file';
import type { FileCensus } from '../../shared/report';

export interface CheckedFile {
  readonly display: string;
  readonly findings: readonly FileFinding[];
  readonly sites?: readonly FileSite[];
  /** With `gfp-lens report`: the file's census. */
  readonly census?: FileCensus;
}

export interface RunInfo {
  readonly toolVersion: string;
  readonly kernelVersion: string;
  readonly kernelSource: string;
  readonly files: number;
}

export function formatText(files: readonly CheckedFile[]): string {
  const out: string[] = [];
  for (const f of files) {
    for (const d of f.findings) {
      out.push(`${f.display}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`);
      for (const r of d.related) out.push(`${f.display}:${r.line}:${r.column}: note: ${r.message}`);
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

export function summaryLine(files: readonly CheckedFile[], checked: number, skipped: number): string {
  const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const f of files) for (const d of f.findings) counts[d.severity]++;
  const parts = (Object.keys(counts) as Severity[]).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}${counts[s] === 1 || s === 'information' ? '' : 's'}`);
  return `gfp-lens: ${checked} file${checked === 1 ? '' : 's'} checked${skipped > 0 ? `, ${skipped} skipped` : ''}: ${parts.length > 0 ? parts.join(', ') : 'no findings'}`;
}

export function formatJson(files: readonly CheckedFile[], info: RunInfo, withSites: boolean): string {
  const findings = files.flatMap((f) =>
    f.findings.map((d) => ({
      file: f.display,
      line: d.line,
      column: d.column,
      endLine: d.endLine,
      endColumn: d.endColumn,
      severity: d.severity,
      code: d.code,
      message: d.message,
      ...(d.related.length > 0 ? { related: d.related } : {}),
    })),
  );
  const doc: Record<string, unknown> = {
    tool: { name: 'gfp-lens', version: info.toolVersion },
    kernel: { version: info.kernelVersion, source: info.kernelSource },
    files: info.files,
    findings,
  };
  if (withSites) doc.sites = files.flatMap((f) => (f.sites ?? []).map((s) => ({ file: f.display, ...s })));
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const SARIF_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function formatSarif(files: readonly CheckedFile[], info: RunInfo): string {
  const rules = FINDING_RULES.map((r) => ({
    id: r.code,
    name: r.code.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
    shortDescription: { text: r.title },
    fullDescription: { text: r.help },
    // The rule pages ship in docs/rules.md; SARIF viewers show this text inline.
    help: { text: `${r.help} (docs/rules.md, section ${r.code})` },
    defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
  }));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const results = files.flatMap((f) =>
    f.findings.map((d) => ({
      ruleId: d.code,
      ruleIndex: ruleIndex.get(d.code),
      level: SARIF_LEVEL[d.severity],
      message: { text: d.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: toUri(f.display) },
            region: { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn },
          },
        },
      ],
      ...(d.related.length > 0
        ? {
            relatedLocations: d.related.map((r, id) => ({
              id,
              message: { text: r.message },
              physicalLocation: { artifactLocation: { uri: toUri(f.display) }, region: { startLine: r.line, startColumn: r.column } },
            })),
          }
        : {}),
    })),
  );
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'gfp-lens', version: info.toolVersion, rules } },
        properties: { kernelVersion: info.kernelVersion, kernelSource: info.kernelSource },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function toUri(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}
