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
import type { FileResult } from './check-file';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker';

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
  readonly init: WorkerInit;
  /** Per-file time limit in milliseconds. */
  readonly fileTimeoutMs: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PoolResult {
  readonly results: Array<FileResult | undefined>;
  readonly backend: string;
}

/** Files kept in flight per worker, so that a worker never waits for the main thread. */
const IN_FLIGHT = 4;

/** A worker of the pool, thread or process. */
interface PoolWorker {
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
export function startWorker(init: WorkerInit, events: WorkerEvents): PoolWorker {
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

/** Runs the files through `jobs` workers; results come back in input order. */
export function runPool(files: readonly string[], options: PoolOptions): Promise<PoolResult> {
  const results: Array<FileResult | undefined> = new Array(files.length);
  // Files to hand out: the input order, plus any that a replaced worker still held.
  const queue: number[] = files.map((_, i) => i);
  let done = 0;
  let backend = '';
  let fatal: string | undefined;
  return new Promise((resolve, reject) => {
    if (files.length === 0) {
      resolve({ results, backend });
      return;
    }
    const workers = new Set<PoolWorker>();
    let settled = false;
    const finish = () => {
      if (settled || !(done === files.length || fatal)) return;
      settled = true;
      for (const w of workers) w.terminate();
      if (fatal) reject(new Error(fatal));
      else resolve({ results, backend });
    };
    const complete = (id: number, result: FileResult) => {
      if (results[id] !== undefined) return;
      results[id] = result;
      done++;
      options.onProgress?.(done, files.length);
    };
    const start = (): void => {
      // In order: the worker answers them one by one, the first is the one it is on.
      const pending: number[] = [];
      let timer: NodeJS.Timeout | undefined;
      const retire = (): void => {
        clearTimeout(timer);
        workers.delete(worker);
        worker.terminate();
      };
      const arm = (): void => {
        clearTimeout(timer);
        if (pending.length === 0) return;
        timer = setTimeout(() => {
          // The file at the head took too long: report it, replace the worker,
          // and give the files it still held to the others.
          const slow = pending.shift()!;
          complete(slow, { findings: [], error: `analysis took longer than ${options.fileTimeoutMs / 1000}s; skipped`, bytes: 0 });
          queue.unshift(...pending);
          pending.length = 0;
          retire();
          if (done === files.length) finish();
          else start();
        }, options.fileTimeoutMs);
      };
      const topUp = (): void => {
        while (pending.length < IN_FLIGHT && queue.length > 0) {
          const id = queue.shift()!;
          pending.push(id);
          worker.post({ id, file: files[id] });
        }
        if (pending.length === 0) retire();
      };
      const worker: PoolWorker = startWorker(options.init, {
        message: (msg) => {
          if (msg.fatal) {
            fatal = msg.fatal;
            finish();
            return;
          }
          if (msg.ready) {
            backend = msg.ready;
            topUp();
            arm();
            return;
          }
          if (msg.id !== undefined && msg.id === pending[0] && msg.result) {
            pending.shift();
            complete(msg.id, msg.result);
            if (done === files.length) {
              clearTimeout(timer);
              finish();
              return;
            }
            topUp();
            arm();
          }
        },
        failure: (message) => {
          clearTimeout(timer);
          // The worker died on the file it was on; the others go back to the queue.
          const head = pending.shift();
          if (head !== undefined) complete(head, { findings: [], error: `internal error: ${message}`, bytes: 0 });
          queue.unshift(...pending);
          pending.length = 0;
          workers.delete(worker);
          if (done === files.length) finish();
          else if (queue.length > 0) start();
        },
      });
      workers.add(worker);
    };
    const count = Math.max(1, Math.min(options.jobs, files.length));
    for (let i = 0; i < count; i++) start();
  });
}
