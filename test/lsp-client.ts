// A minimal LSP client for tests: starts the real server (`node
// out/server/main.js --stdio`) as a child process and speaks JSON-RPC over its
// stdio with vscode-jsonrpc, the library the server itself uses.

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-languageserver/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';

export const SERVER_MAIN = path.join(__dirname, '..', 'server', 'main.js');

export interface ClientOptions {
  /** The `gfp-lens` settings section answered to workspace/configuration. */
  settings?: Record<string, unknown>;
  /** Declare pull-diagnostics support. */
  pull?: boolean;
  /** Sent as `initializationOptions`. */
  initializationOptions?: unknown;
  /** Declare work-done progress support (`window.workDoneProgress`) and record `$/progress`. */
  progress?: boolean;
  /** Extra environment of the server process (e.g. GFP_LENS_CACHE). */
  env?: Record<string, string>;
}

export class TestClient {
  readonly conn: MessageConnection;
  readonly child: ChildProcess;
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly stderr: string[] = [];
  readonly warnings: string[] = [];
  /** Every `gfp-lens/status` notification received, in order. */
  readonly statuses: Array<Record<string, unknown>> = [];
  /** Every `$/progress` value received, in order, with its token. */
  readonly progress: Array<{ token: string | number; value: { kind: string; message?: string; title?: string; percentage?: number } }> = [];
  settings: Record<string, unknown>;
  private waiters: Array<() => void> = [];

  constructor(options: ClientOptions = {}) {
    this.settings = options.settings ?? {};
    this.child = spawn(process.execPath, [SERVER_MAIN, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.conn = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      this.wake();
    });
    this.conn.onNotification('window/showMessage', (p: { message: string }) => this.warnings.push(p.message));
    this.conn.onNotification('gfp-lens/status', (p: Record<string, unknown>) => {
      this.statuses.push(p);
      this.wake();
    });
    this.conn.onNotification('window/logMessage', (p: { message: string }) => this.stderr.push(p.message));
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => this.settings));
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('workspace/inlayHint/refresh', () => null);
    this.conn.onRequest('workspace/diagnostic/refresh', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onNotification('$/progress', (p: TestClient['progress'][number]) => {
      this.progress.push(p);
      this.wake();
    });
    this.conn.listen();
    this.pull = options.pull === true;
    this.workDoneProgress = options.progress === true;
    this.initializationOptions = options.initializationOptions;
  }

  private readonly initializationOptions: unknown;

  private readonly pull: boolean;

  private readonly workDoneProgress: boolean;

  /** Waits until `done()` holds, re-checking on every notification. */
  async waitFor(what: string, done: () => boolean, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async initialize(rootUri: string | null = null): Promise<{ capabilities: Record<string, unknown> }> {
    const result = await this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      ...(this.initializationOptions !== undefined ? { initializationOptions: this.initializationOptions } : {}),
      capabilities: {
        workspace: { configuration: true, workspaceEdit: { documentChanges: true }, didChangeConfiguration: { dynamicRegistration: true } },
        ...(this.workDoneProgress ? { window: { workDoneProgress: true } } : {}),
        textDocument: {
          hover: { contentFormat: ['markdown'] },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor', 'source'] } } },
          inlayHint: {},
          ...(this.pull ? { diagnostic: { dynamicRegistration: false } } : {}),
        },
      },
    });
    await this.conn.sendNotification('initialized', {});
    return result as { capabilities: Record<string, unknown> };
  }

  open(uri: string, text: string, version = 1): Promise<void> {
    this.diagnostics.delete(uri);
    return this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
  }

  /** Waits until diagnostics for `uri` (at `version`, when given) arrive; polls the notifications, no fixed sleep. */
  async waitDiagnostics(uri: string, version?: number, timeoutMs = 20000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.diagnostics.get(uri);
      if (got && (version === undefined || got.version === version)) return got.diagnostics;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no diagnostics for ${uri}${version !== undefined ? ` version ${version}` : ''} within ${timeoutMs} ms; stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async shutdown(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    await this.conn.sendRequest('shutdown');
    await this.conn.sendNotification('exit');
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    this.conn.dispose();
    if (this.child.exitCode === null) this.child.kill();
    return code;
  }
}

/** Applies LSP text edits (all against `text`) the way a client does. */
export function applyEdits(text: string, edits: ReadonlyArray<{ range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }>): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const off = (p: { line: number; character: number }): number => (p.line < starts.length ? starts[p.line] + p.character : text.length);
  const sorted = edits.map((e, i) => ({ s: off(e.range.start), e: off(e.range.end), t: e.newText, i })).sort((a, b) => a.s - b.s || a.i - b.i);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    out += text.slice(at, e.s) + e.t;
    at = e.e;
  }
  return out + text.slice(at);
}
