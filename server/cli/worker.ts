// A worker thread of `gfp-lens check`: one parser and one analysis context,
// files in, plain results out. One file per message, so the event loop turns
// between files and native trees are finalised (kernel-c-parsing.md: a
// synchronous loop over files never frees them).

import { parentPort, workerData } from 'node:worker_threads';
import { parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../analysis/context';
import type { BackendChoice, CParser } from '../syntax/backend';
import { createParser } from '../syntax/parser';
import { isStackOverflow, TOO_DEEP } from '../analysis/too-deep';
import { checkFile, type CheckFileOptions } from './check-file';
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

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const ctx = new AnalysisContext(parseVersion(init.version), {
    ...(init.treeMasks ? { treeMasks: { masks: new Map(init.treeMasks.masks), path: init.treeMasks.path } } : {}),
    ...(init.extra ? { extraAllocators: init.extra.allocators, extraTransactions: init.extra.transactions } : {}),
  });
  let parser: CParser;
  try {
    parser = await createParser(init.backend);
  } catch (e) {
    parentPort!.postMessage({ fatal: (e as Error).message });
    return;
  }
  const summaries = summaryContext(ctx, init.summaries ?? [], init.nameTable, init.callers, init.findingsOnly === true);
  parentPort!.on('message', (req: WorkerRequest) => {
    let result;
    const started = Date.now();
    try {
      result = checkFile(ctx, parser, req.file, init.options, summaries, init.recheck);
      if (process.env.GFP_LENS_DEBUG && Date.now() - started > 500) process.stderr.write(`gfp-lens: slow file ${req.file}: ${Date.now() - started} ms\n`);
    } catch (e) {
      // The analysis must never throw on weird code; if it does, say where, and go on.
      result = isStackOverflow(e) ? { findings: [], skipped: TOO_DEEP, bytes: 0 } : { findings: [], error: `internal error: ${(e as Error).stack ?? e}`, bytes: 0 };
    }
    parentPort!.postMessage({ id: req.id, result });
  });
  parentPort!.postMessage({ ready: parser.backend });
}

void main();
