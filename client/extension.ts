// The VS Code extension: starts the language server (out/server/main.js, from
// the extension's own files) with vscode-languageclient over node IPC, and
// hosts the editor UI: a status bar item (kernel version, mask source, parser
// backend of the active C file), the restart, explain and report commands
// (report-view.ts), and an output channel whose trace level is `gfp-lens.trace.server`.
//
// Hovers, diagnostics, inlay hints and quick fixes all come from the server;
// the client adds no provider of its own and no middleware, so it never
// competes with clangd or the Microsoft C/C++ extension (completion,
// definition, formatting stay theirs). Nothing here runs a program from the
// workspace or from settings: the server is always this extension's
// out/server/main.js, run by VS Code's own Node/Electron.
//
// Parser backend: the server's `auto` picks WASM when process.versions.electron
// is set. A server forked by TransportKind.ipc runs under VS Code desktop's
// Electron binary (ELECTRON_RUN_AS_NODE), which still reports
// process.versions.electron, so desktop VS Code gets WASM; code-server (plain
// Node) gets native tree-sitter where its prebuild loads.

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { ExplainError, explain } from '../shared/explain';
import { builtinModel } from '../shared/model/gfp-model';
import { checkSupported, formatVersion, knownVersions, NEWEST_VERIFIED_VERSION, parseVersion } from '../shared/model/version';
import { explanationMarkdown } from './explain-view';
import { REPORT_COMMAND, showReport } from './report-view';
import { clientDocumentSelector, CRASH_LIMIT, CRASH_WINDOW_MS, SERVER_MODULE, STATUS_NOTIFICATION, statusText, type ServerStatus } from './options';

const CLIENT_ID = 'gfp-lens';
const CLIENT_NAME = 'GFP Lens';

/** What activate() returns: used by the integration tests in a real VS Code. */
export interface GfpLensApi {
  readonly client: () => LanguageClient | undefined;
  readonly statusItem: vscode.StatusBarItem;
  readonly status: (uri: string) => ServerStatus | undefined;
  readonly restarts: () => number;
}

let client: LanguageClient | undefined;

const EXPLAIN_SCHEME = 'gfp-lens-explain';
const explanations = new Map<string, string>();
let explainCount = 0;

/** Restarts after a crash, up to CRASH_LIMIT in CRASH_WINDOW_MS; tells the user once. */
class RestartingErrorHandler implements ErrorHandler {
  private crashes: number[] = [];
  private told = false;
  restarts = 0;
  constructor(private readonly out: vscode.OutputChannel) {}

  error(err: Error): ErrorHandlerResult {
    // Write errors (EPIPE) while the server is going down: closed() says it once.
    this.out.appendLine(`[gfp-lens] connection error: ${err.message}`);
    return { action: ErrorAction.Continue, handled: true };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    if (this.crashes.length > CRASH_LIMIT) {
      const message = `GFP Lens: the language server stopped ${this.crashes.length} times in ${CRASH_WINDOW_MS / 60000} minutes and will not be restarted. Its log is in the "GFP Lens" output channel; "GFP Lens: Restart Server" starts it again.`;
      return { action: CloseAction.DoNotRestart, message };
    }
    this.restarts++;
    this.out.appendLine(`[gfp-lens] the language server stopped unexpectedly; restarting it (${this.restarts})`);
    if (!this.told) {
      this.told = true;
      void vscode.window.showWarningMessage('GFP Lens: the language server stopped unexpectedly and was restarted. Its log is in the "GFP Lens" output channel.');
    }
    return { action: CloseAction.Restart, handled: true };
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<GfpLensApi> {
  const out = vscode.window.createOutputChannel(CLIENT_NAME);
  context.subscriptions.push(out);
  const errorHandler = new RestartingErrorHandler(out);
  const statuses = new Map<string, ServerStatus>();

  const item = vscode.window.createStatusBarItem('gfp-lens.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'GFP Lens';
  item.command = 'gfp-lens.statusMenu';
  context.subscriptions.push(item);

  const updateItem = (): void => {
    const editor = vscode.window.activeTextEditor;
    const isC = editor !== undefined && (editor.document.languageId === 'c' || (editor.document.languageId === 'cpp' && /\.h$/.test(editor.document.fileName)));
    if (!isC) {
      item.hide();
      return;
    }
    const s = statuses.get(editor.document.uri.toString());
    const running = client?.state === State.Running;
    const t = statusText(s, running ? (s ? 'ready' : 'analysing') : client?.state === State.Starting ? 'starting' : 'stopped');
    item.text = t.text;
    item.tooltip = new vscode.MarkdownString(t.tooltip);
    item.show();
  };
  context.subscriptions.push(vscode.window.onDidChangeActiveTextEditor(updateItem));

  const serverModule = context.asAbsolutePath(SERVER_MODULE);
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=127.0.0.1:6009'] } },
  };

  const makeClient = (): LanguageClient => {
    const includeCpp = vscode.workspace.getConfiguration('gfp-lens').get<boolean>('includeCppHeaders', false);
    const clientOptions: LanguageClientOptions = {
      documentSelector: clientDocumentSelector(includeCpp),
      outputChannel: out,
      traceOutputChannel: out,
      errorHandler,
      initializationOptions: { statusNotification: true },
      synchronize: { configurationSection: 'gfp-lens' },
    };
    const c = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    c.onDidChangeState(() => updateItem());
    return c;
  };

  const start = async (): Promise<void> => {
    client = makeClient();
    const c = client;
    context.subscriptions.push(c.onNotification(STATUS_NOTIFICATION, (s: ServerStatus) => {
      statuses.set(s.uri, s);
      updateItem();
    }));
    try {
      await c.start();
    } catch (err) {
      out.appendLine(`[gfp-lens] the language server did not start: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showErrorMessage('GFP Lens: the language server did not start; see the "GFP Lens" output channel.');
    }
    updateItem();
  };

  const restart = async (): Promise<void> => {
    const old = client;
    client = undefined;
    statuses.clear();
    if (old) {
      try {
        await old.stop(5000);
      } catch (err) {
        out.appendLine(`[gfp-lens] stopping the server: ${err instanceof Error ? err.message : String(err)}`);
      }
      await old.dispose().catch(() => undefined);
    }
    await start();
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('gfp-lens.restartServer', async () => {
      out.appendLine('[gfp-lens] restarting the language server (command)');
      await restart();
    }),
    vscode.commands.registerCommand('gfp-lens.explainMask', (mask?: string) => explainMask(mask, statuses)),
    vscode.commands.registerCommand('gfp-lens.statusMenu', () => statusMenu(statuses)),
    vscode.commands.registerCommand('gfp-lens.showReport', () => showReport(context, out)),
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, { provideTextDocumentContent: (uri) => explanations.get(uri.toString()) ?? '' }),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.uri.scheme === EXPLAIN_SCHEME) explanations.delete(d.uri.toString());
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('gfp-lens.includeCppHeaders')) {
        out.appendLine('[gfp-lens] gfp-lens.includeCppHeaders changed; restarting the language server');
        void restart();
      }
    }),
    { dispose: () => void client?.stop() },
  );

  await start();
  return {
    client: () => client,
    statusItem: item,
    status: (uri) => statuses.get(uri),
    restarts: () => errorHandler.restarts,
  };
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}

/** The kernel version to explain against: the active file's, else the setting's, else 6.12. */
function explainVersion(statuses: ReadonlyMap<string, ServerStatus>): string {
  const uri = vscode.window.activeTextEditor?.document.uri;
  const s = uri ? statuses.get(uri.toString()) : undefined;
  if (s) return s.kernelVersion;
  const setting = vscode.workspace.getConfiguration('gfp-lens', uri).get<string>('kernelVersion', 'auto');
  if (setting !== 'auto') {
    try {
      return formatVersion(checkSupported(parseVersion(setting)));
    } catch {
      // The server reports a bad setting; explain against the default.
    }
  }
  return formatVersion(NEWEST_VERIFIED_VERSION);
}

async function explainMask(given: string | undefined, statuses: ReadonlyMap<string, ServerStatus>): Promise<string | undefined> {
  const version = explainVersion(statuses);
  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection).trim() : '';
  const input = given ?? (await vscode.window.showInputBox({
    title: `GFP Lens: Explain GFP Mask (kernel ${version})`,
    prompt: 'A mask expression (GFP_NOFS | __GFP_NOFAIL) or a hex value as in a trace (gfp_mask=0xcc0)',
    value: selected.length > 0 && selected.length < 200 ? selected : '',
    ignoreFocusOut: true,
  }));
  if (input === undefined || input.trim() === '') return undefined;
  let markdown: string;
  try {
    markdown = explanationMarkdown(explain(builtinModel(parseVersion(version)), input));
  } catch (err) {
    if (err instanceof ExplainError || err instanceof Error) {
      void vscode.window.showErrorMessage(`GFP Lens: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  // A read-only virtual document (never an unsaved buffer that asks to be saved).
  const uri = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${input.trim().replace(/[^\w|x]+/g, '_').slice(0, 60)}.md`, query: String(++explainCount) });
  explanations.set(uri.toString(), markdown);
  const doc = await vscode.workspace.openTextDocument(uri);
  // Rendered where the built-in Markdown preview exists, as text otherwise.
  try {
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
  } catch {
    await vscode.window.showTextDocument(doc, { preview: true });
  }
  return markdown;
}

async function statusMenu(statuses: ReadonlyMap<string, ServerStatus>): Promise<void> {
  const uri = vscode.window.activeTextEditor?.document.uri;
  const s = uri ? statuses.get(uri.toString()) : undefined;
  const current = vscode.workspace.getConfiguration('gfp-lens', uri).get<string>('kernelVersion', 'auto');
  const picked = await vscode.window.showQuickPick(
    [
      { label: '$(versions) Change kernel version…', description: `now: ${current}${s ? ` → ${s.kernelVersion}` : ''}`, id: 'version' },
      { label: '$(question) Explain a GFP mask…', id: 'explain' },
      { label: '$(graph) Show the allocation context report', description: 'GFP_NOFS/GFP_NOIO census of the workspace', id: 'report' },
      { label: '$(debug-restart) Restart the language server', id: 'restart' },
      { label: '$(output) Show the log', id: 'log' },
    ],
    { title: 'GFP Lens' },
  );
  if (!picked) return;
  if (picked.id === 'explain') await vscode.commands.executeCommand('gfp-lens.explainMask');
  else if (picked.id === 'report') await vscode.commands.executeCommand(REPORT_COMMAND);
  else if (picked.id === 'restart') await vscode.commands.executeCommand('gfp-lens.restartServer');
  else if (picked.id === 'log') client?.outputChannel.show(true);
  else {
    const versions = knownVersions().map(formatVersion).reverse();
    const v = await vscode.window.showQuickPick(
      [{ label: 'auto', description: 'the Makefile of the kernel tree around the file' }, ...versions.map((x) => ({ label: x, description: x === current ? 'current' : '' }))],
      { title: 'GFP Lens: kernel version to model', placeHolder: current },
    );
    if (!v) return;
    const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
    await vscode.workspace
      .getConfiguration('gfp-lens', uri)
      .update('kernelVersion', v.label, folder ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Global);
  }
}
