// A worker of `gfp-lens check`, a thread (WASM backend) or a child process
// (native backend; check.ts says why): one parser and one analysis context,
// files in, plain results out. One file per message, so the event loop turns
// between files and native trees are finalised (kernel-c-parsing.md: a
// synchronous loop over files never frees them).
//
// A worker lives through every round of the workspace index and the check
// after it (check.ts WorkerPool): between rounds it is sent only what changed
// (the summaries of the files whose summaries changed, the name table's
// changed entries, the caller contexts and the round's recheck), and keeps
// its summary index, instead of being started again with every summary.

import { parentPort, workerData } from 'node:worker_threads';
import { parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../analysis/context';
import type { BackendChoice, CParser } from '../syntax/backend';
import { createParser } from '../syntax/parser';
import { isStackOverflow, TOO_DEEP } from '../analysis/too-deep';
import { checkFile, type CheckFileOptions, type FileResult } from './check-file';
import { contextOf, SummaryIndex, type NameDefinitions, type SummaryContext } from '../analysis/summary-index';
import type { FunctionSummary } from '../analysis/summary';
import type { CallerInput, Recheck } from '../analysis/workspace-index';
import type { AllocatorDef } from '../../shared/model/allocators';
import type { TransactionDef } from '../../shared/model/transactions';

/** What a worker analyses with, besides its fixed setup. */
export interface AnalysisState {
  readonly options: CheckFileOptions;
  /** Summaries of every file's effectful functions, from the rounds so far. */
  readonly summaries?: readonly FunctionSummary[];
  /** In a later round: only files matching this pattern (calls of changed functions) are analysed again. */
  readonly recheck?: Recheck;
  /** Where the names that have summaries are defined across the tree (the workspace index's name table). */
  readonly nameTable?: ReadonlyArray<[string, NameDefinitions]>;
  /** The functions whose callers the index follows, and the contexts found at their calls. */
  readonly callers?: CallerInput;
  /** The index has settled: lower only what findings need, not what summaries do (summaryContext). */
  readonly findingsOnly?: boolean;
}

/** The change of a worker's AnalysisState between two runs of the pool. */
export interface StateUpdate {
  /** Start from nothing (a worker started before the state it is sent). */
  readonly reset?: boolean;
  readonly options?: CheckFileOptions;
  /** Files whose summaries are replaced (an empty list: it has none now). */
  readonly summaries?: ReadonlyArray<readonly [string, readonly FunctionSummary[]]>;
  /** Names whose definitions changed (null: no longer in the table). */
  readonly nameTable?: ReadonlyArray<readonly [string, NameDefinitions | null]>;
  /** null: none. */
  readonly callers?: CallerInput | null;
  readonly recheck?: Recheck | null;
  readonly findingsOnly?: boolean;
}

export interface WorkerInit {
  readonly backend: BackendChoice;
  readonly version: string;
  readonly treeMasks?: { readonly masks: ReadonlyArray<[string, string]>; readonly path: string };
  /** The language server's index: the allocators and transactions its settings add to the model. */
  readonly extra?: { readonly allocators: readonly AllocatorDef[]; readonly transactions: readonly TransactionDef[] };
  /** The state to start with. */
  readonly state: StateUpdate;
}

export type WorkerRequest = { readonly id: number; readonly file: string } | { readonly state: StateUpdate };
export type WorkerReply = { readonly ready?: string; readonly fatal?: string; readonly id?: number; readonly result?: FileResult };

/** The pool's end of the channel: the thread's parent port, or the IPC channel of a child process (whose first message is the init). */
interface Channel {
  readonly init: WorkerInit;
  post(reply: WorkerReply): void;
  onRequest(handler: (request: WorkerRequest) => void): void;
}

function channel(): Promise<Channel> {
  if (parentPort) {
    const port = parentPort;
    return Promise.resolve({ init: workerData as WorkerInit, post: (r) => port.postMessage(r), onRequest: (h) => port.on('message', h) });
  }
  // Without the pool (it was killed, or is gone) there is nothing to do.
  process.on('disconnect', () => process.exit(0));
  return new Promise((resolve) => {
    process.once('message', (first: { init: WorkerInit }) => {
      resolve({ init: first.init, post: (r) => process.send!(r), onRequest: (h) => process.on('message', h) });
    });
  });
}

/** A worker's current state, updated in place. */
class WorkerState {
  index = new SummaryIndex();
  readonly nameTable = new Map<string, NameDefinitions>();
  options: CheckFileOptions = { maxBytes: 4 * 1024 * 1024, sites: false };
  recheck: Recheck | undefined;
  findingsOnly = false;
  context: SummaryContext;

  constructor(private readonly ctx: AnalysisContext) {
    this.context = contextOf(ctx, this.index);
  }

  apply(u: StateUpdate): void {
    if (u.reset) {
      this.index = new SummaryIndex();
      this.nameTable.clear();
      this.recheck = undefined;
      this.findingsOnly = false;
    }
    if (u.options) this.options = u.options;
    for (const [file, list] of u.summaries ?? []) {
      if (list.length > 0) this.index.setFile(file, list);
      else this.index.removeFile(file);
    }
    for (const [name, defs] of u.nameTable ?? []) {
      if (defs) this.nameTable.set(name, defs);
      else this.nameTable.delete(name);
    }
    this.index.setNameTable(this.nameTable);
    if (u.callers !== undefined) this.index.setCallerContexts(u.callers?.targets ?? [], u.callers?.contexts ?? []);
    if (u.recheck !== undefined) this.recheck = u.recheck ?? undefined;
    if (u.findingsOnly !== undefined) this.findingsOnly = u.findingsOnly;
    // The lowering patterns depend on every summary: rebuilt once per update, not per file.
    this.context = contextOf(this.ctx, this.index, this.findingsOnly);
  }
}

async function main(): Promise<void> {
  const port = await channel();
  const init = port.init;
  const ctx = new AnalysisContext(parseVersion(init.version), {
    ...(init.treeMasks ? { treeMasks: { masks: new Map(init.treeMasks.masks), path: init.treeMasks.path } } : {}),
    ...(init.extra ? { extraAllocators: init.extra.allocators, extraTransactions: init.extra.transactions } : {}),
  });
  let parser: CParser;
  try {
    parser = await createParser(init.backend);
  } catch (e) {
    port.post({ fatal: (e as Error).message });
    return;
  }
  const state = new WorkerState(ctx);
  state.apply(init.state);
  port.onRequest((req) => {
    if ('state' in req) {
      state.apply(req.state);
      return;
    }
    let result: FileResult;
    const started = Date.now();
    try {
      result = checkFile(ctx, parser, req.file, state.options, state.context, state.recheck);
      if (process.env.GFP_LENS_DEBUG && Date.now() - started > 500) process.stderr.write(`gfp-lens: slow file ${req.file}: ${Date.now() - started} ms\n`);
    } catch (e) {
      // The analysis must never throw on weird code; if it does, say where, and go on.
      result = isStackOverflow(e) ? { findings: [], skipped: TOO_DEEP, bytes: 0 } : { findings: [], error: `internal error: ${(e as Error).stack ?? e}`, bytes: 0 };
    }
    port.post({ id: req.id, result });
  });
  port.post({ ready: parser.backend });
}

void main();
