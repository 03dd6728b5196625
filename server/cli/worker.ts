// A worker of `gfp-lens check`, a thread (WASM backend) or a child process
// (native backend; check.ts says why): one parser and one analysis context,
// files in, plain results out. One file per message, so the event loop turns
// between files and native trees are finalised (kernel-c-parsing.md: a
// synchronous loop over files never frees them).

import { parentPort, workerData } from 'node:worker_threads';
import { parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../analysis/context';
import type { BackendChoice, CParser } from '../syntax/backend';
import { createParser } from '../syntax/parser';
import { isStackOverflow, TOO_DEEP } from '../analysis/too-deep';
import { checkFile, type CheckFileOptions, type FileResult } from './check-file';
import { summaryContext, type NameDefinitions } from '../analysis/summary-index';
import type { FunctionSummary } from '../analysis/summary';
import type { CallerInput, Recheck } from '../analysis/workspace-index';
import type { AllocatorDef } from '../../shared/model/allocators';
import type { TransactionDef } from '../../shared/model/transactions';

export interface WorkerInit {
  readonly backend: BackendChoice;
  readonly version: string;
  readonly treeMasks?: { readonly masks: ReadonlyArray<[string, string]>; readonly path: string };
  /** The language server's index: the allocators and transactions its settings add to the model. */
  readonly extra?: { readonly allocators: readonly AllocatorDef[]; readonly transactions: readonly TransactionDef[] };
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

export type WorkerRequest = { readonly id: number; readonly file: string };
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
  const summaries = summaryContext(ctx, init.summaries ?? [], init.nameTable, init.callers, init.findingsOnly === true);
  port.onRequest((req) => {
    let result: FileResult;
    const started = Date.now();
    try {
      result = checkFile(ctx, parser, req.file, init.options, summaries, init.recheck);
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
