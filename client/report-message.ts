// What a click in the report's webview may open: the message the page posts
// ({command: 'open', file, line, column}) checked against the files the report
// lists, resolved in the workspace folder. Pure (no vscode import), so it is
// tested without VS Code; a message naming anything else is ignored.

import * as path from 'node:path';

export interface OpenTarget {
  readonly file: string;
  /** 0-based, as VS Code positions are. */
  readonly line: number;
  readonly character: number;
}

export function openTarget(message: unknown, known: ReadonlySet<string>, root: string): OpenTarget | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { command?: unknown; file?: unknown; line?: unknown; column?: unknown };
  if (m.command !== 'open' || typeof m.file !== 'string' || !known.has(m.file)) return undefined;
  if (typeof m.line !== 'number' || !Number.isInteger(m.line) || m.line < 1) return undefined;
  const column = typeof m.column === 'number' && Number.isInteger(m.column) && m.column >= 1 ? m.column : 1;
  return { file: path.resolve(root, m.file), line: m.line - 1, character: column - 1 };
}
