// The language server's workspace index: one per kernel tree and analysis
// configuration (IndexConfig.id), built in the background after the client is
// initialised, with the checker's worker threads (the server's own thread
// keeps answering requests), cached on disk with the checker's cache (the
// same key: either goes on from what the other left). Open documents are
// analysed by the server itself, against the summaries the index holds of the
// rest of the tree (ExternalSummaries): the index never blocks a request, and
// a document gains the cross-file context once the index has it.
//
// After a save (or a change on disk the client reports), the index refreshes:
// files whose size, time or content changed are analysed again, then the
// callers of every summary that changed (WorkspaceIndex.refresh). Only
// summaries are kept, never trees (workers parse and drop).

import * as os from 'node:os';
import * as path from 'node:path';
import { WorkspaceIndex, MAX_INDEX_ROUNDS, type RefreshStats } from './analysis/workspace-index';
import { summaryContext } from './analysis/summary-index';
import type { ExternalSummaries } from './analysis/incremental';
import type { AnalysisContext } from './analysis/context';
import { collectFiles, WorkerPool } from './cli/check';
import type { WorkerInit } from './cli/worker';
import type { IndexConfig } from './documents/config';

/** What the service tells the server as it goes (work-done progress, logs, re-checks). */
export interface IndexEvents {
  /** A build or refresh started (`title`), made progress, or ended (`message` says how). */
  progress(event: { readonly kind: 'begin' | 'report' | 'end'; readonly message: string; readonly percentage?: number }): void;
  /** The summaries or caller contexts changed: documents of this tree are worth analysing again. */
  changed(): void;
  log(message: string): void;
}

/** A refresh after a save waits this long for more saves (a `git checkout` touches many files). */
const REFRESH_DELAY_MS = 300;
/** Builds in a row that go on with summaries still settling, before waiting for the next change. */
const MAX_CONTINUATIONS = 3;
/** A file the workers spend longer on is reported and left out, as by `gfp-lens check`. */
const FILE_TIMEOUT_MS = 60_000;

export class IndexService {
  private readonly index: WorkspaceIndex;
  private external: { context: ExternalSummaries['context']; generation: number } | undefined;
  private generation = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private loaded = false;
  private continuations = 0;
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  /** The last build's outcome, for the status command and tests. */
  lastStats: RefreshStats | undefined;

  constructor(
    readonly config: IndexConfig,
    private readonly ctx: AnalysisContext,
    private readonly events: IndexEvents,
    private readonly jobs = defaultJobs(),
    cacheDir?: string,
  ) {
    this.index = cacheDir === undefined ? new WorkspaceIndex(config.root, config.key) : new WorkspaceIndex(config.root, config.key, cacheDir);
    this.include = config.include.map(globToRegExp);
    this.exclude = config.exclude.map(globToRegExp);
  }

  /** Builds (or brings up to date) the index in the background; a call while one runs queues one more. */
  refresh(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.build();
        } while (this.again && !this.disposed);
      } catch (e) {
        this.events.log(`gfp-lens: index of ${this.config.root} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        this.events.progress({ kind: 'end', message: 'index failed (see the log)' });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** A file of the tree changed on disk (saved, created, deleted): refresh soon, once for a burst. */
  fileChanged(file: string): void {
    if (this.disposed || !this.covers(file)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  /** Whether `file` (absolute) is in the tree and in the index's globs. */
  covers(file: string): boolean {
    const rel = path.relative(this.config.root, file);
    if (rel.startsWith('..') || path.isAbsolute(rel) || !/\.[ch]$/.test(rel)) return false;
    return this.selected(rel);
  }

  /** The index's view of the rest of the tree for `file`, once it has one. */
  externalFor(file: string): ExternalSummaries | undefined {
    if (!this.external || !this.covers(file)) return undefined;
    return { file, context: this.external.context, generation: this.external.generation };
  }

  get building(): boolean {
    return this.running !== undefined;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private selected(rel: string): boolean {
    const posix = rel.split(path.sep).join('/');
    if (this.include.length > 0 && !this.include.some((r) => r.test(posix))) return false;
    return !this.exclude.some((r) => r.test(posix));
  }

  private async build(): Promise<void> {
    const started = Date.now();
    const first = !this.loaded;
    if (first) {
      this.index.load();
      this.loaded = true;
    }
    const files = collectFiles([this.config.root]).files.map((f) => f.abs).filter((f) => this.selected(path.relative(this.config.root, f)));
    const title = `indexing ${path.basename(this.config.root)}`;
    this.events.progress({ kind: 'begin', message: `${title}: ${files.length} files` });
    const init: Omit<WorkerInit, 'state'> = {
      // WASM: identical trees, and the analysis walks nodes faster in JavaScript (README, Benchmarks).
      backend: 'wasm',
      version: this.config.version,
      ...(this.config.treeMasks ? { treeMasks: this.config.treeMasks } : {}),
      ...(this.config.extra ? { extra: this.config.extra } : {}),
    };
    // One pool for the build's rounds: the workers keep their summaries between rounds.
    const pool = new WorkerPool({ jobs: this.jobs, fileTimeoutMs: FILE_TIMEOUT_MS, init });
    let round = 0;
    let stats: RefreshStats;
    try {
      stats = await this.index.refresh(files, async (list, summaries, nameTable, recheck, callers) => {
        round++;
        if (this.disposed) return list.map(() => undefined);
        const state = { summaries, nameTable, callers, ...(recheck !== undefined ? { recheck } : {}), options: { maxBytes: 4 * 1024 * 1024, sites: false, index: true } };
        const { results } = await pool.run(list, state, (done, total) => {
          // At most a few reports a second: each is a message to the client.
          if (done !== total && done % 200 !== 0) return;
          this.events.progress({ kind: 'report', message: `${title} (round ${round} of at most ${MAX_INDEX_ROUNDS}): ${done}/${total} files`, percentage: Math.floor((100 * done) / Math.max(1, total)) });
        });
        return results.map((r) => (r && !r.unchanged && r.facts ? r.facts : undefined));
      });
    } finally {
      pool.close();
    }
    if (this.disposed) return;
    this.lastStats = stats;
    try {
      if (this.index.changed && !this.index.save()) this.events.log(`gfp-lens: ${stats.moved} files changed while they were indexed; the index cache is written after the next refresh`);
    } catch (e) {
      this.events.log(`gfp-lens: could not write the index cache ${this.index.cacheFile}: ${(e as Error).message}`);
    }
    const analysed = stats.rounds.reduce((a, b) => a + b, 0);
    if (first || analysed > 0) {
      // The documents see the tree through one summary context per generation.
      // Not findingsOnly, unlike the checker's last pass: a function that only
      // calls one with an effect has no finding, but its hovers show the effect.
      this.external = {
        context: summaryContext(this.ctx, this.index.summaries(), this.index.nameTable(), this.index.callerInput()),
        generation: ++this.generation,
      };
      this.events.changed();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const pending = stats.settled ? '' : `; ${stats.pending} summaries still settling`;
    this.events.progress({ kind: 'end', message: `${title}: ${files.length} files, ${stats.reused} from the cache, ${analysed} analysed in ${seconds}s${pending}` });
    this.events.log(
      `gfp-lens: index of ${this.config.root}: ${this.index.size} files, ${stats.reused} from the cache${stats.cacheNote ? ` (${stats.cacheNote})` : ''}, rounds analysed ${stats.rounds.join('+') || 0} files, ${seconds}s${pending}`,
    );
    // What was still settling goes on in another build (the index keeps it
    // pending), a bounded number of times: a summary that keeps changing is
    // frozen by the index after a few changes, and past that the next save goes on.
    if (stats.settled) this.continuations = 0;
    else if (!this.disposed && this.continuations++ < MAX_CONTINUATIONS) this.again = true;
  }
}

/** Workers for the background index: all cores but one, so the editor and this server stay responsive. */
function defaultJobs(): number {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return Math.max(1, cores - 1);
}

/**
 * A glob over paths relative to the tree's root, with `/` separators: `*` and
 * `?` within one component, `**` across components (`fs/**` is everything
 * below fs/, `**\/*.h` every header). A glob with no `/` matches the name in
 * any directory, as .gitignore does.
 */
export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, '').replace(/\/+$/, '/**');
  if (!g.includes('/')) g = `**/${g}`;
  let out = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*' && g[i + 1] === '*') {
      // `**/` may also match nothing; a trailing `**` matches the rest.
      if (g[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
