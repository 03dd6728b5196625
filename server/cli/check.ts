// `gfp-lens check`: collect files, split them over workers, and gather
// results in a stable order. A per-file time limit turns a hang into a
// reported file instead of a stuck CI job.
//
// Workers are threads with the WASM backend and child processes with the
// native one: terminating a thread while it is inside node-tree-sitter (a
// parse, or any node accessor) aborts the whole process ("terminate called
// after throwing an instance of 'Napi::Error'", exit 134), so the time limit
// could only be enforced on native by killing a process. A process also
// confines a crash inside the native parser to the file it was on.

import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckFileOptions, FileResult } from './check-file';
import type { AnalysisState, StateUpdate, WorkerInit, WorkerReply, WorkerRequest } from './worker';
import type { FunctionSummary } from '../analysis/summary';
import type { NameDefinitions } from '../analysis/summary-index';
import type { CallerInput, Recheck } from '../analysis/workspace-index';

export interface CollectResult {
  /** Files to check: absolute path and the path to print (as the user gave it). */
  readonly files: Array<{ readonly abs: string; readonly display: string }>;
  /** Paths that do not exist or cannot be read. */
  readonly errors: string[];
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.pc']);

/** Expands paths into the .c and .h files below them, sorted, without duplicates. */
export function collectFiles(paths: readonly string[]): CollectResult {
  const files: Array<{ abs: string; display: string }> = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  const add = (abs: string, display: string) => {
    if (seen.has(abs)) return;
    seen.add(abs);
    files.push({ abs, display });
  };
  const walk = (abs: string, display: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      errors.push(`${display}: ${(e as Error).message}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childAbs = path.join(abs, e.name);
      const childDisplay = display === '.' ? e.name : path.join(display, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(childAbs, childDisplay);
      } else if (e.isFile() && /\.[ch]$/.test(e.name)) {
        add(childAbs, childDisplay);
      }
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch (e) {
      errors.push(`${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
      continue;
    }
    if (stat.isDirectory()) walk(abs, p.replace(/\/+$/, '') || '.');
    else add(abs, p);
  }
  return { files, errors };
}

/** `--shard i/n` (1-based): every n-th file starting at the i-th, over the sorted list. */
export function shard<T>(items: readonly T[], index: number, count: number): T[] {
  return items.filter((_, k) => k % count === index - 1);
}

export interface PoolOptions {
  readonly jobs: number;
  readonly init: Omit<WorkerInit, 'state'>;
  /** Per-file time limit in milliseconds. */
  readonly fileTimeoutMs: number;
}

export interface PoolResult {
  readonly results: Array<FileResult | undefined>;
  readonly backend: string;
}

/** Files kept in flight per worker, so that a worker never waits for the main thread. */
const IN_FLIGHT = 4;

/** A worker, thread or process. */
interface WorkerHandle {
  post(request: WorkerRequest): void;
  /** Stops it; it reports no failure after this. */
  terminate(): void;
}

interface WorkerEvents {
  message(reply: WorkerReply): void;
  /** It died (an uncaught exception, a crash, a signal) on whatever file it was on. */
  failure(message: string): void;
}

/** Starts a worker for `init`: a child process for the native backend (see the top of this file), else a thread. */
export function startWorker(init: WorkerInit, events: WorkerEvents): WorkerHandle {
  const workerFile = path.join(__dirname, 'worker.js');
  if (init.backend === 'wasm') {
    const worker = new Worker(workerFile, { workerData: init });
    let stopped = false;
    worker.on('message', (reply: WorkerReply) => events.message(reply));
    worker.on('error', (e) => {
      if (!stopped) events.failure(e.message);
    });
    return {
      post: (request) => worker.postMessage(request),
      terminate: () => {
        stopped = true;
        void worker.terminate();
      },
    };
  }
  // 'advanced' serialisation: the same structured clone as between threads (bigint masks included).
  const child: ChildProcess = fork(workerFile, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  let stopped = false;
  child.on('message', (reply: WorkerReply) => events.message(reply));
  child.on('exit', (code, signal) => {
    if (!stopped) events.failure(`worker process ${signal ? `killed by ${signal}` : `exited with status ${code}`}`);
  });
  child.on('error', (e) => {
    if (!stopped) {
      stopped = true;
      events.failure(e.message);
    }
  });
  child.send({ init });
  return {
    post: (request) => child.send(request),
    terminate: () => {
      stopped = true;
      child.kill('SIGKILL');
    },
  };
}

/** Runs the files through `jobs` workers once, with one state; results come back in input order. */
export async function runPool(files: readonly string[], options: PoolOptions & { readonly state: AnalysisState; readonly onProgress?: (done: number, total: number) => void }): Promise<PoolResult> {
  const pool = new WorkerPool(options);
  try {
    return await pool.run(files, options.state, options.onProgress);
  } finally {
    pool.close();
  }
}

/**
 * Workers (threads, or processes for native) that live through several runs (the rounds of the workspace
 * index, then the check): each run is given the whole AnalysisState, and the
 * workers are sent only what changed since the run before (StateUpdate), so a
 * round costs no worker start and no copy of every summary per worker.
 */
export class WorkerPool {
  private readonly options: PoolOptions;
  private readonly workers = new Set<PoolWorker>();
  /** What the workers were last sent, to send only changes. */
  private readonly sentSummaries = new Map<string, readonly FunctionSummary[]>();
  private readonly sentNames = new Map<string, { key: string; defs: NameDefinitions }>();
  private sentCallers: CallerInput | undefined;
  private sentRecheck: Recheck | undefined;
  private sentFindingsOnly = false;
  private sentOptions: CheckFileOptions | undefined;
  /** Bumped at every state change: a worker that started on an older one is reset when it is ready. */
  private generation = 0;
  private backend = '';
  private closed = false;

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** Analyses `files` with `state`; results in input order. */
  run(files: readonly string[], state: AnalysisState, onProgress?: (done: number, total: number) => void): Promise<PoolResult> {
    if (this.closed) throw new Error('the worker pool is closed');
    const update = this.update(state);
    if (update) {
      this.generation++;
      for (const w of this.workers) if (w.ready) w.worker.post({ state: update });
    }
    const results: Array<FileResult | undefined> = new Array(files.length);
    if (files.length === 0) return Promise.resolve({ results, backend: this.backend });
    // Files to hand out: the input order, plus any that a replaced worker still held.
    const queue: number[] = files.map((_, i) => i);
    let done = 0;
    return new Promise((resolve, reject) => {
      let finished = false;
      const finish = (fatal?: string) => {
        if (finished) return;
        finished = true;
        for (const w of this.workers) {
          clearTimeout(w.timer);
          w.feed = undefined;
        }
        if (fatal) reject(new Error(fatal));
        else resolve({ results, backend: this.backend });
      };
      const complete = (id: number, result: FileResult) => {
        if (results[id] !== undefined) return;
        results[id] = result;
        done++;
        onProgress?.(done, files.length);
        if (done === files.length) finish();
      };
      const feed = (w: PoolWorker): void => {
        while (w.pending.length < IN_FLIGHT && queue.length > 0) {
          const id = queue.shift()!;
          w.pending.push(id);
          w.worker.post({ id, file: files[id] });
        }
        clearTimeout(w.timer);
        if (w.pending.length === 0) return;
        w.timer = setTimeout(() => {
          // The file at the head took too long: report it, replace the worker,
          // and give the files it still held to the others.
          const slow = w.pending.shift()!;
          queue.unshift(...w.pending);
          w.pending.length = 0;
          this.drop(w);
          complete(slow, { findings: [], error: `analysis took longer than ${this.options.fileTimeoutMs / 1000}s; skipped`, bytes: 0 });
          if (!finished) this.start(hooks);
        }, this.options.fileTimeoutMs);
      };
      const hooks: RunHooks = {
        ready: (w) => feed(w),
        result: (w, id, result) => {
          if (id !== w.pending[0]) return;
          w.pending.shift();
          complete(id, result);
          if (!finished) feed(w);
        },
        died: (w, message) => {
          clearTimeout(w.timer);
          // The worker died on the file it was on; the others go back to the queue.
          const head = w.pending.shift();
          queue.unshift(...w.pending);
          w.pending.length = 0;
          this.drop(w);
          if (head !== undefined) complete(head, { findings: [], error: `internal error: ${message}`, bytes: 0 });
          if (!finished && queue.length > 0) this.start(hooks);
        },
        fatal: (message) => finish(message),
      };
      const wanted = Math.max(1, Math.min(this.options.jobs, files.length));
      for (const w of this.workers) {
        w.feed = hooks;
        if (w.ready) feed(w);
      }
      for (let i = this.workers.size; i < wanted; i++) this.start(hooks);
    });
  }

  /** Stops the workers; the pool cannot run again. */
  close(): void {
    this.closed = true;
    for (const w of this.workers) w.worker.terminate();
    this.workers.clear();
  }

  private drop(w: PoolWorker): void {
    clearTimeout(w.timer);
    this.workers.delete(w);
    w.worker.terminate();
  }

  private start(hooks: RunHooks): void {
    const generation = this.generation;
    const w: PoolWorker = {
      worker: startWorker({ ...this.options.init, state: this.fullState() } satisfies WorkerInit, {
        message: (msg) => {
          if (msg.fatal) {
            w.feed?.fatal(msg.fatal);
            return;
          }
          if (msg.ready) {
            this.backend = msg.ready;
            w.ready = true;
            // The state changed while it started: it gets the current one whole.
            if (generation !== this.generation) w.worker.post({ state: this.fullState() });
            w.feed?.ready(w);
            return;
          }
          if (msg.id !== undefined && msg.result) w.feed?.result(w, msg.id, msg.result);
        },
        failure: (message) => {
          if (!this.workers.has(w)) return;
          if (w.feed) w.feed.died(w, message);
          else this.drop(w);
        },
      }),
      ready: false,
      pending: [],
      timer: undefined,
      feed: hooks,
    };
    this.workers.add(w);
  }

  /** Everything the workers have been sent, as one update from nothing. */
  private fullState(): StateUpdate {
    return {
      reset: true,
      ...(this.sentOptions ? { options: this.sentOptions } : {}),
      summaries: [...this.sentSummaries],
      nameTable: [...this.sentNames].map(([name, { defs }]) => [name, defs] as const),
      callers: this.sentCallers ?? null,
      recheck: this.sentRecheck ?? null,
      findingsOnly: this.sentFindingsOnly,
    };
  }

  /** What changed between the state last sent and `state` (undefined: nothing), remembering `state` as sent. */
  private update(state: AnalysisState): StateUpdate | undefined {
    const u: { -readonly [K in keyof StateUpdate]: StateUpdate[K] } = {};
    if (this.sentOptions === undefined || JSON.stringify(this.sentOptions) !== JSON.stringify(state.options)) u.options = this.sentOptions = state.options;
    // Summaries, per file: a file's list is the same objects from round to
    // round unless its summaries changed (WorkspaceIndex keeps them), so
    // identity tells the changed ones apart without comparing contents.
    const byFile = new Map<string, FunctionSummary[]>();
    for (const s of state.summaries ?? []) {
      let list = byFile.get(s.file);
      if (!list) byFile.set(s.file, (list = []));
      list.push(s);
    }
    const changed: Array<readonly [string, readonly FunctionSummary[]]> = [];
    for (const [file, list] of byFile) {
      const before = this.sentSummaries.get(file);
      if (before && before.length === list.length && before.every((s, i) => s === list[i] || JSON.stringify(s) === JSON.stringify(list[i]))) continue;
      this.sentSummaries.set(file, list);
      changed.push([file, list]);
    }
    for (const file of this.sentSummaries.keys()) {
      if (byFile.has(file)) continue;
      this.sentSummaries.delete(file);
      changed.push([file, []]);
    }
    if (changed.length > 0) u.summaries = changed;
    const names: Array<readonly [string, NameDefinitions | null]> = [];
    const seen = new Set<string>();
    for (const [name, defs] of state.nameTable ?? []) {
      seen.add(name);
      const key = `${defs.globals.join('\n')}\t${defs.headerStatics.join('\n')}`;
      if (this.sentNames.get(name)?.key === key) continue;
      this.sentNames.set(name, { key, defs });
      names.push([name, defs]);
    }
    for (const name of this.sentNames.keys()) {
      if (seen.has(name)) continue;
      this.sentNames.delete(name);
      names.push([name, null]);
    }
    if (names.length > 0) u.nameTable = names;
    if (this.sentCallers !== state.callers) u.callers = (this.sentCallers = state.callers) ?? null;
    if (this.sentRecheck !== state.recheck) u.recheck = (this.sentRecheck = state.recheck) ?? null;
    if (this.sentFindingsOnly !== (state.findingsOnly === true)) u.findingsOnly = this.sentFindingsOnly = state.findingsOnly === true;
    return Object.keys(u).length > 0 ? u : undefined;
  }
}

interface PoolWorker {
  readonly worker: WorkerHandle;
  ready: boolean;
  /** The files it holds, in order: it answers them one by one, the first is the one it is on. */
  readonly pending: number[];
  timer: NodeJS.Timeout | undefined;
  /** The run it works for (undefined between runs). */
  feed: RunHooks | undefined;
}

interface RunHooks {
  ready(w: PoolWorker): void;
  result(w: PoolWorker, id: number, result: FileResult): void;
  died(w: PoolWorker, message: string): void;
  fatal(message: string): void;
}
