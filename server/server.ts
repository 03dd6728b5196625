// The language server's wiring: documents in, features out. Only this file and
// features/ know LSP; the analysis below returns plain data. Diagnostics are
// pushed (Neovim 0.7 and eglot rely on it) unless the client pulls them
// (textDocument/diagnostic), in which case they are served on request only.
// Every request waits for the one memoised analysis of the document's current
// version; a request for a version that has moved on gets an empty answer.

import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  DocumentDiagnosticReportKind,
  LSPErrorCodes,
  MessageType,
  ShowMessageNotification,
  ResponseError,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { SETTINGS_SECTION } from '../shared/settings';
import { ConfigProvider } from './documents/config';
import { DocumentStore, type DocumentAnalysis } from './documents/document-store';
import { codeActions, FIX_ALL_KIND } from './features/code-actions';
import { toDiagnostics } from './features/diagnostics';
import { hover } from './features/hover';
import { inlayHints } from './features/inlay-hints';

const LANGUAGES = new Set(['c', 'cpp', 'objective-c']);

export interface ServerOptions {
  readonly name: string;
  readonly version: string;
}

export function startServer(connection: Connection, options: ServerOptions): void {
  let pullDiagnostics = false;
  let configurationSupport = false;
  let dynamicConfiguration = false;
  let documentChanges = false;
  let inlayRefresh = false;
  let diagnosticRefresh = false;
  const reported = new Set<string>();

  const configs = new ConfigProvider({
    read: async (uri) => {
      if (!configurationSupport) return undefined;
      const [section] = await connection.workspace.getConfiguration([{ scopeUri: uri, section: SETTINGS_SECTION }]);
      return section;
    },
    report: (problems) => {
      for (const p of problems) {
        if (reported.has(p)) continue;
        reported.add(p);
        // A notification, not a request: nothing for the user to answer.
        void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `gfp-lens: ${p}` });
      }
    },
  });
  const store = new DocumentStore({ config: (uri) => configs.config(uri) });
  /** Documents whose diagnostics are due, coalesced so a burst of edits publishes once. */
  const due = new Set<string>();
  let flushScheduled = false;

  const safe = async <T>(what: string, fallback: T, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      connection.console.error(`gfp-lens: ${what} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      return fallback;
    }
  };

  /**
   * The analysis of the document's current version. If the version moves on
   * while waiting, wait for the newer one (a request is answered for the text
   * the client has now), up to a few times during an edit storm.
   */
  const current = (uri: string): Promise<DocumentAnalysis | undefined> => safe(`analysis of ${uri}`, undefined, async () => {
    for (let i = 0; i < 8; i++) {
      const a = await store.analysis(uri);
      if (a || !store.get(uri)) return a;
    }
    return undefined;
  });
  const cancelled = (): ResponseError<void> => new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');

  const publish = (uri: string): void => {
    if (pullDiagnostics) return;
    due.add(uri);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const uris = [...due];
      due.clear();
      for (const u of uris) {
        void current(u).then((a) => {
          // Never publish for a version that is gone: a newer one will publish.
          const doc = store.get(u);
          if (!a || !doc || doc.version !== a.version) return;
          void connection.sendDiagnostics({ uri: u, version: a.version, diagnostics: toDiagnostics(a) });
        });
      }
    });
  };

  const reanalyseAll = (): void => {
    configs.reset();
    store.invalidate();
    for (const uri of store.uris()) publish(uri);
    if (pullDiagnostics && diagnosticRefresh) void connection.languages.diagnostics.refresh();
    if (inlayRefresh) void connection.languages.inlayHint.refresh();
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const caps = params.capabilities;
    pullDiagnostics = caps.textDocument?.diagnostic !== undefined;
    configurationSupport = caps.workspace?.configuration === true;
    dynamicConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    documentChanges = caps.workspace?.workspaceEdit?.documentChanges === true;
    inlayRefresh = caps.workspace?.inlayHint?.refreshSupport === true;
    diagnosticRefresh = caps.workspace?.diagnostics?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        inlayHintProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite, FIX_ALL_KIND], resolveProvider: false },
        ...(pullDiagnostics ? { diagnosticProvider: { identifier: 'gfp-lens', interFileDependencies: false, workspaceDiagnostics: false } } : {}),
      },
      serverInfo: { name: options.name, version: options.version },
    };
  });

  connection.onInitialized(() => {
    if (dynamicConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
  });

  connection.onDidChangeConfiguration(() => reanalyseAll());

  connection.onDidOpenTextDocument(({ textDocument: t }) => {
    if (!LANGUAGES.has(t.languageId) && !/\.[ch]$/.test(t.uri)) return;
    store.open(t.uri, t.languageId, t.version, t.text);
    publish(t.uri);
  });

  connection.onDidChangeTextDocument(({ textDocument: t, contentChanges }) => {
    if (!store.get(t.uri)) return;
    store.change(t.uri, t.version ?? (store.get(t.uri)!.version + 1), contentChanges);
    publish(t.uri);
  });

  connection.onDidCloseTextDocument(({ textDocument: t }) => {
    if (!store.get(t.uri)) return;
    store.close(t.uri);
    configs.forget(t.uri);
    if (!pullDiagnostics) void connection.sendDiagnostics({ uri: t.uri, diagnostics: [] });
  });

  connection.languages.diagnostics.on(async (params) => {
    const a = await current(params.textDocument.uri);
    return { kind: DocumentDiagnosticReportKind.Full, items: a ? toDiagnostics(a) : [] };
  });

  connection.onHover(async (params, token) => {
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return null;
    return safe('hover', null, async () => hover(a, a.document.offsetAt(params.position)));
  });

  connection.languages.inlayHint.on(async (params, token) => {
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return [];
    return safe('inlay hints', [], async () => inlayHints(a, params.range));
  });

  connection.onCodeAction(async (params, token) => {
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return [];
    return safe('code actions', [], async () => codeActions(a, params.range, params.context.only, params.context.diagnostics, { documentChanges }));
  });

  connection.onShutdown(() => {
    for (const uri of store.uris()) store.close(uri);
    configs.dispose();
  });

  connection.listen();
}
