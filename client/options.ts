// The client's pure parts (no `vscode` import, so node tests can load them):
// which documents the server gets, the status notification's shape and how
// the status bar item words it.

/** The server, relative to the extension's root (the .vsix ships out/). */
export const SERVER_MODULE = 'out/server/main.js';

/** Sent by the server to clients that ask (initializationOptions.statusNotification). */
export const STATUS_NOTIFICATION = 'gfp-lens/status';

/** More crashes than this within CRASH_WINDOW_MS and the server stays down. */
export const CRASH_LIMIT = 4;
export const CRASH_WINDOW_MS = 3 * 60 * 1000;

export interface ServerStatus {
  readonly uri: string;
  readonly kernelVersion: string;
  readonly versionSource: string;
  readonly maskSource: string;
  readonly backend: string;
}

export interface DocumentFilter {
  readonly scheme: string;
  readonly language: string;
  readonly pattern?: string;
}

/** C files on disk; `.h` files opened as C++ only when the setting says so. */
export function clientDocumentSelector(includeCppHeaders: boolean): DocumentFilter[] {
  const selector: DocumentFilter[] = [{ scheme: 'file', language: 'c' }];
  if (includeCppHeaders) selector.push({ scheme: 'file', language: 'cpp', pattern: '**/*.h' });
  return selector;
}

export type ServerState = 'starting' | 'analysing' | 'ready' | 'stopped';

/** The status bar item's text and Markdown tooltip. */
export function statusText(s: ServerStatus | undefined, state: ServerState): { text: string; tooltip: string } {
  if (state === 'stopped') return { text: '$(error) GFP', tooltip: 'GFP Lens: the language server is not running. Click for "Restart".' };
  if (state === 'starting') return { text: '$(sync~spin) GFP', tooltip: 'GFP Lens: starting the language server' };
  if (!s) return { text: '$(sync~spin) GFP', tooltip: 'GFP Lens: analysing this file' };
  const tree = !s.maskSource.startsWith('built-in');
  return {
    text: `GFP ${s.kernelVersion}${tree ? ' (tree)' : ''}`,
    tooltip: [
      `**GFP Lens** — kernel ${s.kernelVersion}`,
      '',
      `- version from: ${s.versionSource}`,
      `- masks from: ${s.maskSource}`,
      `- parser: ${s.backend} tree-sitter`,
      '',
      'Click to change the kernel version or explain a mask.',
    ].join('\n'),
  };
}
