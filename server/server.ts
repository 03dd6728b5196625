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
  ErrorCodes,
  LSPErrorCodes,
  MessageType,
  ShowMessageNotification,
  ResponseError,
  TextDocumentSyncKind,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
  type WorkDoneProgressEnd,
} from 'vscode-languageserver';
import { SETTINGS_SECTION } from '../shared/settings';
import { formatVersion } from '../shared/model/version';
import { ConfigProvider } from './documents/config';
import { DocumentStore, type DocumentAnalysis } from './documents/document-store';
import type { DocumentConfig } from './documents/config';
import type { ExternalSummaries } from './analysis/incremental';
import type { IndexEvents } from './index-service';
import { codeActions, FIX_ALL_KIND } from './features/code-actions';
import { toDiagnostics } from './features/diagnostics';
import { hover } from './features/hover';
import { inlayHints } from './features/inlay-hints';
import { backendInfo } from './syntax/parser';
import { IndexService } from './index-service';
import { fileURLToPath } from 'node:url';

const LANGUAGES = new Set(['c', 'cpp', 'objective-c']);

/**
 * `gfp-lens/status`: what a document was analysed with, sent after each
 * analysis that is published, only to clients that ask for it with
 * `initializationOptions: { statusNotification: true }` (the VS Code
 * extension's status bar item); other clients never see it.
 */
export const STATUS_NOTIFICATION = 'gfp-lens/status';

export interface StatusParams {
  readonly uri: string;
  /** The modelled kernel version, "6.12". */
  readonly kernelVersion: string;
  /** Where that version came from: "Makefile of /src/linux (6.12.117)", "settings", "default (no kernel tree found)". */
  readonly versionSource: string;
  /** Where the GFP mask definitions came from: the tree's gfp_types.h path, or "built-in table for 6.12". */
  readonly maskSource: string;
  /** The parser backend in use: "native" or "wasm". */
  readonly backend: string;
}

export function statusOf(a: DocumentAnalysis): StatusParams {
  const version = formatVersion(a.config.context.version);
  const m = /^kernel \S+ \((.*)\)$/.exec(a.config.kernel);
  return {
    uri: a.uri,
    kernelVersion: version,
    versionSource: a.config.settings.kernelVersion === 'auto' ? m?.[1] ?? a.config.kernel : 'settings (gfp-lens.kernelVersion)',
    maskSource: a.config.context.gfp.source.detail,
    backend: backendInfo(a.config.parser)?.backend ?? a.config.parser.backend,
  };
}

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
  let statusNotification = false;
  let watchedFiles = false;
  let folders: string[] = [];
  const lastStatus = new Map<string, string>();
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
  const indexes = new IndexServices(connection, () => reanalyseOpen());
  const store = new DocumentStore({
    config: (uri) => configs.config(uri),
    external: (uri, config) => (config.index ? indexes.external(uri, config) : undefined),
  });
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
  /** Set by `shutdown`: LSP says later requests fail with InvalidRequest (the documents are gone by then). */
  let shutDown = false;
  const refused = (): ResponseError<void> => new ResponseError(ErrorCodes.InvalidRequest, 'the server is shutting down');

  /** Tells a client that asked for it what `a` was analysed with, when that changed. */
  const sendStatus = (a: DocumentAnalysis): void => {
    if (!statusNotification) return;
    const status = statusOf(a);
    const key = JSON.stringify(status);
    if (lastStatus.get(a.uri) === key) return;
    lastStatus.set(a.uri, key);
    void connection.sendNotification(STATUS_NOTIFICATION, status);
  };

  const publish = (uri: string): void => {
    if (pullDiagnostics) {
      if (statusNotification) void current(uri).then((a) => a && sendStatus(a));
      return;
    }
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
          sendStatus(a);
        });
      }
    });
  };

  /** The index has new summaries: analyse the open documents again (their function caches stay). */
  const reanalyseOpen = (): void => {
    store.reanalyse();
    for (const uri of store.uris()) publish(uri);
    if (pullDiagnostics && diagnosticRefresh) void connection.languages.diagnostics.refresh();
    if (inlayRefresh) void connection.languages.inlayHint.refresh();
  };

  const reanalyseAll = (): void => {
    configs.reset();
    lastStatus.clear();
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
    const init = params.initializationOptions as { statusNotification?: unknown } | null | undefined;
    statusNotification = typeof init === 'object' && init !== null && init.statusNotification === true;
    indexes.progressSupport = caps.window?.workDoneProgress === true;
    watchedFiles = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    folders = (params.workspaceFolders ?? []).map((f) => f.uri);
    if (folders.length === 0 && params.rootUri) folders = [params.rootUri];
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        inlayHintProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite, FIX_ALL_KIND], resolveProvider: false },
        ...(pullDiagnostics ? { diagnosticProvider: { identifier: 'gfp-lens', interFileDependencies: true, workspaceDiagnostics: false } } : {}),
      },
      serverInfo: { name: options.name, version: options.version },
    };
  });

  /** Starts the index each open document's configuration names (none when the settings turn it off). */
  const startIndexesOfOpenDocuments = (): void => {
    for (const uri of store.uris()) void configs.config(uri).then((config) => config.index && indexes.start(config), () => undefined);
  };

  connection.onInitialized(() => {
    if (dynamicConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
    // Files changed on disk by something else than this editor (git, a build) refresh the index.
    if (watchedFiles) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.{c,h}' }] });
    // The index of each workspace folder's kernel tree starts now, in the
    // background; documents opened in another tree start theirs on opening.
    indexes.ready = true;
    for (const folder of folders) {
      if (!folder.startsWith('file:')) continue;
      void safe(`index of ${folder}`, undefined, async () => {
        const config = await configs.config(`${folder.replace(/\/+$/, '')}/Makefile`);
        if (config.index) indexes.start(config);
      });
    }
    // Documents opened before now start theirs too.
    startIndexesOfOpenDocuments();
  });

  connection.onDidChangeConfiguration(() => {
    indexes.disposeAll();
    reanalyseAll();
    // The settings may name another index configuration: start what open documents need.
    startIndexesOfOpenDocuments();
  });

  connection.onDidSaveTextDocument(({ textDocument: t }) => indexes.fileChanged(t.uri));
  connection.onDidChangeWatchedFiles(({ changes }) => {
    for (const c of changes) if (c.type !== FileChangeType.Changed || !store.get(c.uri)) indexes.fileChanged(c.uri);
  });

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
    lastStatus.delete(t.uri);
    if (!pullDiagnostics) void connection.sendDiagnostics({ uri: t.uri, diagnostics: [] });
  });

  connection.languages.diagnostics.on(async (params, token) => {
    if (shutDown) return new ResponseError(ErrorCodes.InvalidRequest, 'the server is shutting down', { retriggerRequest: false });
    const a = await current(params.textDocument.uri);
    // A cancelled pull is asked again by the client when it still wants it.
    if (token.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled', { retriggerRequest: true });
    return { kind: DocumentDiagnosticReportKind.Full, items: a ? toDiagnostics(a) : [] };
  });

  connection.onHover(async (params, token) => {
    if (shutDown) return refused();
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return null;
    return safe('hover', null, async () => hover(a, a.document.offsetAt(params.position)));
  });

  connection.languages.inlayHint.on(async (params, token) => {
    if (shutDown) return refused();
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return [];
    return safe('inlay hints', [], async () => inlayHints(a, params.range));
  });

  connection.onCodeAction(async (params, token) => {
    if (shutDown) return refused();
    const a = await current(params.textDocument.uri);
    if (token.isCancellationRequested) return cancelled();
    if (!a) return [];
    return safe('code actions', [], async () => codeActions(a, params.range, params.context.only, params.context.diagnostics, { documentChanges }));
  });

  connection.onShutdown(() => {
    shutDown = true;
    indexes.disposeAll();
    for (const uri of store.uris()) store.close(uri);
    configs.dispose();
  });

  connection.listen();
}

/**
 * The workspace indexes of the server, one per kernel tree and analysis
 * configuration, started on first need once the client is initialised, with
 * their work-done progress (`$/progress`) when the client supports it.
 */
class IndexServices {
  private readonly services = new Map<string, IndexService>();
  /** Set at `initialized`: no index starts before (the client may not take progress yet). */
  ready = false;
  progressSupport = false;

  constructor(
    private readonly connection: Connection,
    private readonly changed: () => void,
  ) {}

  /** The index's view of the rest of the tree for a document, starting the index if none covers it yet. */
  external(uri: string, config: DocumentConfig): ExternalSummaries | undefined {
    const file = filePath(uri);
    if (!file || !config.index) return undefined;
    return this.start(config)?.externalFor(file);
  }

  start(config: DocumentConfig): IndexService | undefined {
    const c = config.index;
    if (!c || !this.ready) return undefined;
    let service = this.services.get(c.id);
    if (!service) {
      service = new IndexService(c, config.context, this.events(c.root));
      this.services.set(c.id, service);
      void service.refresh();
    }
    return service;
  }

  fileChanged(uri: string): void {
    const file = filePath(uri);
    if (file) for (const s of this.services.values()) s.fileChanged(file);
  }

  disposeAll(): void {
    for (const s of this.services.values()) s.dispose();
    this.services.clear();
  }

  private events(root: string): IndexEvents {
    let token: string | undefined;
    let created: Promise<boolean> | undefined;
    const send = (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void => {
      if (!created || token === undefined) return;
      const t = token;
      void created.then((ok) => {
        if (ok) void this.connection.sendProgress(WorkDoneProgress.type, t, value);
      });
    };
    return {
      progress: (e) => {
        if (!this.progressSupport) return;
        if (e.kind === 'begin') {
          token = `gfp-lens-index-${root}-${Date.now()}`;
          created = this.connection.sendRequest(WorkDoneProgressCreateRequest.type, { token }).then(
            () => true,
            () => false,
          );
          send({ kind: 'begin', title: 'gfp-lens', message: e.message, percentage: 0, cancellable: false });
        } else if (e.kind === 'report') send({ kind: 'report', message: e.message, ...(e.percentage !== undefined ? { percentage: e.percentage } : {}) });
        else {
          send({ kind: 'end', message: e.message });
          token = undefined;
        }
      },
      changed: this.changed,
      log: (message) => this.connection.console.log(message),
    };
  }
}

function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
