// `gfp-lens report`: turns an analysed run (analysePaths() with the census
// option, so every worker sent its file's census back) into the report
// document, and renders it as Markdown, JSON or HTML. The I/O around the pure
// parts in shared/report.ts and shared/report-html.ts: where the tree's root
// is (for subsystems), and how links to sites are written.

import * as path from 'node:path';
import { buildReport, renderMarkdown, type GroupBy, type ReportDocument, type ReportFileInput } from '../../shared/report';
import { renderHtml } from '../../shared/report-html';
import { findKernelTree } from '../kernel-tree';
import type { CheckedFile, RunInfo } from './formats';

export const REPORT_FORMATS = ['md', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const posix = (p: string): string => p.split(path.sep).join('/');

/**
 * Each file's path relative to the root its subsystem is read from: the
 * kernel tree around the first path (its top-level Makefile), else the
 * directory given on the command line that holds the file.
 */
export function relativePaths(files: readonly CheckedFile[], positional: readonly string[], cwd = process.cwd()): Map<string, string> {
  const tree = positional.length > 0 ? findKernelTree(path.resolve(cwd, positional[0])) : undefined;
  const roots = positional.map((p) => path.resolve(cwd, p));
  const out = new Map<string, string>();
  for (const f of files) {
    const abs = path.resolve(cwd, f.display);
    let rel: string | undefined;
    if (tree) {
      const r = path.relative(tree.root, abs);
      if (!r.startsWith('..') && !path.isAbsolute(r)) rel = r;
    }
    if (rel === undefined) {
      // The longest given directory that holds the file.
      const root = roots.filter((r) => abs.startsWith(r + path.sep)).sort((a, b) => b.length - a.length)[0];
      rel = root ? path.relative(root, abs) : f.display;
    }
    out.set(f.display, posix(rel));
  }
  return out;
}

export function reportDocument(files: readonly CheckedFile[], info: RunInfo, positional: readonly string[], by: GroupBy, cwd = process.cwd()): ReportDocument {
  const rel = relativePaths(files, positional, cwd);
  const inputs: ReportFileInput[] = files.map((f) => ({
    display: f.display,
    rel: rel.get(f.display) ?? f.display,
    findings: f.findings,
    ...(f.census ? { census: f.census } : {}),
  }));
  return buildReport(inputs, { toolVersion: info.toolVersion, kernelVersion: info.kernelVersion, kernelSource: info.kernelSource, base: posix(cwd), by });
}

/** A vscode://file link (VS Code opens the file at the line), with the path's characters escaped. */
export function vscodeLink(abs: string, line: number, column?: number): string {
  return `vscode://file${posix(abs).split('/').map(encodeURIComponent).join('/')}:${line}${column !== undefined ? `:${column}` : ''}`;
}

/**
 * The report in `format`. Markdown links are relative to the output file's
 * directory (or the current one), with #Lline as code hosts read it; HTML
 * links are vscode://file URLs, which open the file at the line in VS Code.
 */
export function renderReport(doc: ReportDocument, format: ReportFormat, outFile?: string, cwd = process.cwd()): string {
  const abs = (file: string): string => path.resolve(cwd, file);
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  if (format === 'md') {
    const from = outFile ? path.dirname(path.resolve(cwd, outFile)) : cwd;
    return renderMarkdown(doc, { link: (file, line) => `${posix(path.relative(from, abs(file))).split('/').map(encodeURIComponent).join('/')}#L${line}` });
  }
  return renderHtml(doc, { link: (file, line, column) => vscodeLink(abs(file), line, column) });
}
