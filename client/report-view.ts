// "GFP Lens: Show Allocation Context Report": builds `gfp-lens report` for the
// first workspace folder and shows it in a webview. The report is computed by
// this extension's own CLI (out/server/cli/main.js, with its worker threads),
// run by VS Code's own Node/Electron (process.execPath with
// ELECTRON_RUN_AS_NODE=1): never a program from the workspace or a setting.
// It reads the C files of the folder, as the language server does, and
// writes nothing. The page is shared/report-html.ts in webview mode: a
// nonce-only Content-Security-Policy, and a click on a site posts
// {command: 'open', file, line, column}, which opens the file at that line if
// the file is one the report lists.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReportDocument } from '../shared/report';
import { renderHtml } from '../shared/report-html';
import { openTarget } from './report-message';

export const REPORT_COMMAND = 'gfp-lens.showReport';
/** The CLI inside the extension (package.json's `bin`). */
export const CLI_MODULE = path.join('out', 'server', 'cli', 'main.js');

/** What the command returns (the integration tests read it). */
export interface ReportSummary {
  readonly folder: string;
  readonly files: number;
  readonly sites: number;
  readonly counts: ReportDocument['totals']['counts'];
  /** The webview panel showing it. */
  readonly panel: { readonly viewType: string; readonly title: string; readonly visible: boolean; readonly htmlLength: number };
}

let panel: vscode.WebviewPanel | undefined;
/** The panel's message listener, for the report it shows. */
let listener: vscode.Disposable | undefined;
let building: Promise<ReportSummary | undefined> | undefined;

export function showReport(context: vscode.ExtensionContext, out: vscode.OutputChannel): Promise<ReportSummary | undefined> {
  building ??= build(context, out).finally(() => {
    building = undefined;
  });
  return building;
}

async function build(context: vscode.ExtensionContext, out: vscode.OutputChannel): Promise<ReportSummary | undefined> {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  if (!folder) {
    void vscode.window.showErrorMessage('GFP Lens: the report needs a folder on disk open in the workspace.');
    return undefined;
  }
  const root = folder.uri.fsPath;
  const doc = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `GFP Lens: allocation context report of ${folder.name}`, cancellable: true },
    (progress, token) => runReport(context, folder, progress, token, out),
  );
  if (!doc) return undefined;
  const p = ensurePanel(root, doc);
  return {
    folder: root,
    files: doc.files,
    sites: doc.totals.sites,
    counts: doc.totals.counts,
    panel: { viewType: p.viewType, title: p.title, visible: p.visible, htmlLength: p.webview.html.length },
  };
}

function runReport(
  context: vscode.ExtensionContext,
  folder: vscode.WorkspaceFolder,
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  token: vscode.CancellationToken,
  out: vscode.OutputChannel,
): Promise<ReportDocument | undefined> {
  const args = [context.asAbsolutePath(CLI_MODULE), 'report', '--format', 'json'];
  const version = vscode.workspace.getConfiguration('gfp-lens', folder.uri).get<string>('kernelVersion', 'auto');
  if (/^\d+\.\d+$/.test(version)) args.push('--kernel-version', version);
  // Leave a core to the editor.
  args.push('--jobs', String(Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) - 1)), '.');
  out.appendLine(`[gfp-lens] report: ${process.execPath} ${args.join(' ')} (in ${folder.uri.fsPath})`);
  progress.report({ message: 'listing files…' });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: folder.uri.fsPath,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', GFP_LENS_PROGRESS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    // Progress lines: "gfp-lens: indexing ROOT (round N): done/total files", then "gfp-lens: checking: done/total files".
    let phase = '';
    let last = 0;
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => {
      const text = b.toString('utf8');
      stderr += text;
      const all = [...text.matchAll(/gfp-lens: ([^\r\n]*?): (\d+)\/(\d+) files/g)];
      const m = all[all.length - 1];
      if (!m) return;
      const label = m[1].replace(folder.uri.fsPath, folder.name);
      // The bar follows the first phase; later phases (the check after the index rounds) only change the message.
      if (phase === '') phase = m[1];
      const pct = (100 * Number(m[2])) / Math.max(1, Number(m[3]));
      const increment = m[1] === phase ? Math.max(0, pct - last) : 0;
      if (m[1] === phase) last = Math.max(last, pct);
      progress.report({ message: `${label}: ${m[2]}/${m[3]} files`, increment });
    });
    const cancel = token.onCancellationRequested(() => child.kill());
    child.on('error', (e) => {
      cancel.dispose();
      out.appendLine(`[gfp-lens] report: ${e.message}`);
      void vscode.window.showErrorMessage(`GFP Lens: the report did not run: ${e.message}`);
      resolve(undefined);
    });
    child.on('close', (code) => {
      cancel.dispose();
      // Progress lines end in \r; what stays of each line is after its last \r.
      const notes = stderr.split('\n').map((l) => l.slice(l.lastIndexOf('\r') + 1).replace(/\x1b\[K/g, '')).join('\n').trim();
      if (notes) out.appendLine(notes.split('\n').map((l) => `[gfp-lens] report: ${l}`).join('\n'));
      if (token.isCancellationRequested) return resolve(undefined);
      const text = Buffer.concat(chunks).toString('utf8');
      // Exit 2 with a document: some files could not be read (said on stderr); the rest is reported.
      if ((code === 0 || code === 2) && text.startsWith('{')) {
        try {
          return resolve(JSON.parse(text) as ReportDocument);
        } catch {
          // fall through to the error
        }
      }
      void vscode.window.showErrorMessage('GFP Lens: the report failed; see the "GFP Lens" output channel.');
      resolve(undefined);
    });
  });
}

function ensurePanel(root: string, doc: ReportDocument): vscode.WebviewPanel {
  if (!panel) {
    panel = vscode.window.createWebviewPanel('gfp-lens.report', 'GFP Lens: Allocation Context Report', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [],
    });
    panel.onDidDispose(() => {
      panel = undefined;
      listener?.dispose();
      listener = undefined;
    });
  }
  const p = panel;
  // Only files the report lists can be opened from it.
  const known = new Set([...doc.sites.map((s) => s.file), ...doc.scopes.map((s) => s.file)]);
  listener?.dispose();
  listener = p.webview.onDidReceiveMessage((m: unknown) => {
    const target = openTarget(m, known, root);
    if (!target) return;
    const at = new vscode.Position(target.line, target.character);
    void vscode.window.showTextDocument(vscode.Uri.file(target.file), {
      selection: new vscode.Range(at, at),
      viewColumn: p.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One,
    });
  });
  p.webview.html = renderHtml(doc, { webview: { nonce: crypto.randomBytes(16).toString('base64'), cspSource: p.webview.cspSource } });
  p.reveal();
  return p;
}
