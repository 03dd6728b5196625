// The workspace index: for every C file of a tree, the functions it defines
// (the name table) and the summaries of those that change their callers'
// state, computed to a fixed point across the whole tree and kept on disk,
// keyed by each file's content, so that a restart re-reads only the files
// that changed. Memory holds summaries and names, never syntax trees.
//
// How the fixed point is reached (`refresh`): the files that changed since
// the cache was written are analysed with the summaries of all the others;
// every later round re-analyses, in the files that call a function whose
// summary changed in the round before, the functions that mention it, until
// none changes. A file analysed whole in the first round and not touched
// after saw the final summaries of everything it calls, so its findings are
// final; the others are checked again once the rounds are over.

import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeCalls, mayCallAny, nameHash } from './call-names';
import { decodeDefinitions } from './definitions';
import type { CallerContext, CallerCounts, Verdict } from '../../shared/evaluate';
import type { CallSiteFact, NameDefinitions } from './summary-index';
import type { FunctionSummary } from './summary';

/** What the index keeps of one file, as analysing it yields it (a worker's result, in part). */
export interface FileFacts {
  readonly mtimeMs: number;
  readonly size: number;
  /**
   * Set when the file was read so soon after it was written that another
   * content may yet carry the same time and size (racyStat): the next refresh
   * compares its content (the hash) before it trusts these facts.
   */
  readonly racy?: boolean;
  /** sha1 of the content: a file touched but not changed is not re-analysed on a later start. */
  readonly hash: string;
  /** The functions it defines, encoded (definitions.ts encodeDefinitions): half a million of them in a kernel tree. */
  readonly definitions: string;
  /** Summaries of its functions that change their callers' state (see check-file.ts). */
  readonly summaries: readonly FunctionSummary[];
  /** The hashes of the names it calls (call-names.ts): which files a changed summary concerns. */
  readonly calls: string;
  /** Its functions with a GFP_NOFS/GFP_NOIO and no scope for it of their own (space-separated): their callers are followed. */
  readonly targets: string;
  /** Its calls of the followed functions of the tree, with their contexts. */
  readonly callSites: readonly CallSiteFact[];
  /** Set when only these functions were analysed (a later round): the facts of the others stand. */
  readonly analysed?: readonly string[];
}

/** Bumped whenever the cache's layout or the meaning of a summary changes. */
const CACHE_FORMAT = 6;

/**
 * How long after a file's modification time a second write may still leave
 * the same time: file systems keep times in ticks (a jiffy on ext4 and xfs,
 * a second on some, two on FAT), and a network file system's clock may be a
 * little off. A file stat'ed within this window of its time is "racy" (git's
 * word for it): its time and size alone do not identify what was read.
 */
export const RACY_WINDOW_MS = 3000;

/** Whether a file whose time is `mtimeMs`, stat'ed at `statAt` (Date.now() just before), may change again without a new time. */
export function racyStat(mtimeMs: number, statAt: number): boolean {
  return statAt - mtimeMs < RACY_WINDOW_MS;
}

/**
 * [path relative to root, mtimeMs, size, hash, body, racy (1 or 0)]: the body is the JSON of
 * [definitions, summaries (without their file), calls, targets, call sites
 * (definition files relative)], decoded only when something asks for it (a
 * restart that finds nothing changed needs only the times, sizes and hashes).
 */
type CachedFile = [string, number, number, string, string, 0 | 1];
type CachedBody = [string, FunctionSummary[], string, string, CallSiteFact[]];

interface CacheDocument {
  readonly format: number;
  readonly key: string;
  readonly root: string;
  readonly files: ReadonlyArray<CachedFile>;
  /** Names frozen as unknown (MAX_CHANGES_PER_SUMMARY). */
  readonly frozen: readonly string[];
  /** Names whose summaries changed in the last round run, whose callers are still to be analysed again. */
  readonly pending: readonly string[];
  /** Written anew whenever the facts change (see WorkspaceIndex.stamp). */
  readonly stamp: string;
}

/** A file's time and size, and whether it was stat'ed within the racy window of its time (racyStat). */
export interface FileStat {
  readonly mtimeMs: number;
  readonly size: number;
  readonly racy: boolean;
}

/** The file's FileStat now (throws if it cannot be stat'ed). */
export function statNow(file: string): FileStat {
  const statAt = Date.now();
  const st = fs.statSync(file);
  return { mtimeMs: st.mtimeMs, size: st.size, racy: racyStat(st.mtimeMs, statAt) };
}

/** Where indexes are cached: $GFP_LENS_CACHE, else $XDG_CACHE_HOME/gfp-lens, else ~/.cache/gfp-lens; never inside the tree. */
function cacheDirectory(): string {
  if (process.env.GFP_LENS_CACHE) return process.env.GFP_LENS_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'gfp-lens');
}

/** sha1 of a text, or of a file's bytes (the same for a file that is valid UTF-8, which every indexed file is). */
export function sha1(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

export interface RefreshStats {
  /** Files the cache already held unchanged. */
  readonly reused: number;
  /** Files analysed in each round. */
  readonly rounds: readonly number[];
  /** False when the summaries were still changing after the last round allowed. */
  readonly settled: boolean;
  /** How many changed summaries still wait for their callers to be analysed again (0 when settled). */
  readonly pending: number;
  /** Why the cache was not used, when it was not. */
  readonly cacheNote?: string;
  /** Files that changed again after this refresh read them (another process writing the tree): the cache is not written. */
  readonly moved?: number;
}

/**
 * What a later round analyses again: the functions that mention `names`, and
 * those that mention `ifAtomic` in a file that enters an atomic section (a
 * summary that changed only in whether the function may sleep concerns no
 * other caller).
 */
export interface Recheck {
  readonly names: readonly string[];
  readonly ifAtomic: readonly string[];
}

/** Analyses files for the index: one result per file, undefined for a file not analysed (unreadable, skipped, not matching `recheck`). */
export type AnalyseFiles = (
  files: readonly string[],
  summaries: readonly FunctionSummary[],
  nameTable: ReadonlyArray<[string, NameDefinitions]>,
  recheck: Recheck | undefined,
  callers: CallerInput,
) => Promise<ReadonlyArray<FileFacts | undefined>>;

/** What an analysis needs of the caller contexts: the followed functions' names, and the contexts found so far. */
export interface CallerInput {
  readonly targets: readonly string[];
  readonly contexts: ReadonlyArray<[string, CallerContext]>;
}

/**
 * Rounds one refresh runs at the most. Each lifts effects one call level; a
 * kernel tree's wrappers go many levels deep. The rounds after the first few
 * analyse a few hundred files of a whole tree, or fewer (the whole 6.12 tree
 * settles after 17, fs/ alone after 18, fs/btrfs after 9), so a cold index
 * settles in one refresh; a refresh that reaches this many stops with the rest pending:
 * the changed summaries are kept, with the names whose callers are still to
 * be analysed, and the next refresh goes on from there. Until then the
 * callers of the pending functions see them as they were a round before
 * (deeper effects not yet lifted), and the run says so.
 */
export const MAX_INDEX_ROUNDS = 24;

/**
 * How often one function's summary may change while the index settles before
 * it is frozen as unknown. Summaries are not monotone (a callee that may enter
 * a scope can merge two of a caller's outcomes into one), so through a call
 * cycle two summaries can take turns forever (bcachefs' btree_trans helpers
 * do); an unknown summary applies no effect at its calls, as if the callee
 * were not indexed, which ends the cycle and claims nothing.
 */
export const MAX_CHANGES_PER_SUMMARY = 3;

/** How many static helpers up the caller contexts are followed (a helper of a helper of ...). */
const MAX_HELPER_DEPTH = 3;

/** A call's context, or (where the call has no scope of its own) its static caller's. */
function through(here: Verdict, outer: CallerContext | undefined, pick: (c: CallerContext) => CallerCounts): keyof CallerCounts {
  if (here !== 'no' || outer === undefined || outer.count === 0) return here;
  const c = pick(outer);
  if (c.unknown > 0) return 'unknown';
  if (c.yes === outer.count) return 'yes';
  if (c.yes + c.varies > 0) return 'varies';
  return 'no';
}

export class WorkspaceIndex {
  readonly root: string;
  /** Identifies everything the summaries depend on besides the files: tool, kernel version, masks, settings. */
  readonly key: string;
  readonly cacheFile: string;
  private readonly files = new Map<string, FileFacts>();
  /** Files' paths relative to the root, as the cache was read: path.relative() of 60,000 paths cost each save 0.4 s. */
  private readonly relative = new Map<string, string>();
  /** Functions whose summaries did not settle: they apply no effect (MAX_CHANGES_PER_SUMMARY). */
  private readonly frozen = new Set<string>();
  /** See CacheDocument.pending. */
  private pending: string[] = [];
  /** Each file's call hashes, decoded on first use. */
  private readonly decodedCalls = new Map<string, Uint32Array>();
  private cacheNote: string | undefined;
  /** Bumped whenever a file's facts are set or removed: what is derived from all of them is kept until it moves (memo). */
  private version = 0;
  private readonly memos = new Map<string, { version: number; frozen: number; value: unknown }>();
  /** Whether the facts differ from the cache file's (see `changed`). */
  private modified = false;
  /** Only files' times changed (a file touched, its content the same): the cache is written again under the same stamp. */
  private retimed = false;
  private savedStamp: string | undefined;
  /** The files whose facts the running refresh set. */
  private readonly readNow = new Set<string>();
  /** How many of the files the last refresh read changed again before it ended: then the cache is not written. */
  private movedDuringRefresh = 0;

  constructor(root: string, key: string, cacheDir = cacheDirectory()) {
    this.root = path.resolve(root);
    this.key = key;
    this.cacheFile = path.join(cacheDir, 'index', `${sha1(this.root).slice(0, 16)}-${sha1(key).slice(0, 12)}.json`);
  }

  get size(): number {
    return this.files.size;
  }

  /**
   * Reads the cache. A missing, unreadable, truncated, damaged (checksum) or
   * foreign cache (another format, key or root) is ignored and the index
   * starts empty: it is rebuilt, never trusted.
   */
  load(): void {
    let doc: CacheDocument;
    let body: string;
    let sum: string;
    try {
      const text = fs.readFileSync(this.cacheFile, 'utf8');
      // The first line is the sha1 of the rest: the files' bodies are decoded
      // later, one by one, so damage must be found now, not half-way through a refresh.
      const nl = text.indexOf('\n');
      sum = text.slice(0, Math.max(0, nl));
      body = text.slice(nl + 1);
      doc = JSON.parse(body) as CacheDocument;
    } catch (e) {
      this.cacheNote = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no index cache yet' : `index cache unreadable (${(e as Error).message}); rebuilding`;
      return;
    }
    if (!doc || doc.format !== CACHE_FORMAT || doc.key !== this.key || doc.root !== this.root || !Array.isArray(doc.files) || !Array.isArray(doc.frozen) || !Array.isArray(doc.pending)) {
      this.cacheNote = 'index cache from another version or configuration; rebuilding';
      return;
    }
    // Damage that leaves valid JSON (a flipped bit, an edit) would otherwise be
    // read as facts: a summary that enters the wrong scope gives wrong findings.
    if (sha1(body) !== sum) {
      this.cacheNote = 'index cache damaged (its checksum does not match); rebuilding';
      return;
    }
    // One string per file for its path, however many call sites name it.
    const absolute = new Map<string, string>();
    const abs = (rel: string): string => {
      let a = absolute.get(rel);
      if (a === undefined) {
        absolute.set(rel, (a = path.join(this.root, rel)));
        this.relative.set(a, rel);
      }
      return a;
    };
    try {
      for (const [rel, mtimeMs, size, hash, facts, racy] of doc.files) {
        if (typeof rel !== 'string' || typeof mtimeMs !== 'number' || typeof size !== 'number' || typeof hash !== 'string' || typeof facts !== 'string' || (racy !== 0 && racy !== 1)) throw new Error('a file without its facts');
        const file = abs(rel);
        this.files.set(file, new StoredFacts(file, mtimeMs, size, hash, racy === 1, facts, abs));
      }
      this.version++;
      for (const name of doc.frozen) this.frozen.add(name);
      this.pending = doc.pending.filter((n) => typeof n === 'string');
      if (typeof doc.stamp !== 'string') throw new Error('no stamp');
      this.savedStamp = doc.stamp;
    } catch (e) {
      this.files.clear();
      this.version++;
      this.savedStamp = undefined;
      this.frozen.clear();
      this.pending = [];
      this.cacheNote = `index cache damaged (${(e as Error).message}); rebuilding`;
    }
  }

  /**
   * Whether the facts changed since they were loaded or saved: a refresh that
   * found nothing to do leaves the cache as it is, and need not write it.
   */
  get changed(): boolean {
    return this.modified || this.retimed;
  }

  /**
   * Identifies the facts as last loaded or saved: a cache written with other
   * facts has another stamp. While `changed` is false the facts in memory are
   * the stamped ones, so whatever was computed from them under this stamp (a
   * file's findings, given the same content) still holds. A file touched but
   * not changed keeps the stamp: its content, and so its facts, are the same.
   */
  get stamp(): string | undefined {
    return this.modified ? undefined : this.savedStamp;
  }

  /**
   * Writes the cache atomically (a temporary file renamed over it), so a
   * reader never sees half of one. Not if files changed while the last
   * refresh read them (false): the next refresh reads them again, and a
   * later save writes a cache of one state of the tree.
   */
  save(): boolean {
    if (this.movedDuringRefresh > 0) return false;
    const files: CachedFile[] = [];
    for (const [abs, f] of this.files) {
      // A body never decoded is written back as it was read.
      const body =
        f instanceof StoredFacts && f.encoded !== undefined
          ? f.encoded
          : JSON.stringify([f.definitions, f.summaries.map((s) => ({ ...s, file: '' })), f.calls, f.targets, f.callSites.map((c): CallSiteFact => [c[0], this.relativeTo(c[1]), c[2], c[3], c[4], c[5], c[6]])] satisfies CachedBody);
      files.push([this.relativeTo(abs), f.mtimeMs, f.size, f.hash, body, f.racy ? 1 : 0]);
    }
    if (this.modified || this.savedStamp === undefined) this.savedStamp = randomUUID();
    const doc: CacheDocument = { format: CACHE_FORMAT, key: this.key, root: this.root, files, frozen: [...this.frozen], pending: this.pending, stamp: this.savedStamp };
    fs.mkdirSync(path.dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.tmp`;
    const text = JSON.stringify(doc);
    fs.writeFileSync(tmp, `${sha1(text)}\n${text}`);
    fs.renameSync(tmp, this.cacheFile);
    this.modified = false;
    this.retimed = false;
    return true;
  }

  /** A file's path relative to the root (how the cache names it). */
  private relativeTo(file: string): string {
    let rel = this.relative.get(file);
    if (rel === undefined) this.relative.set(file, (rel = path.relative(this.root, file)));
    return rel;
  }

  /**
   * What `compute` derives from every file's facts (and the frozen names),
   * computed again only when they changed: a round asks for the same tables
   * several times, and over a whole tree each costs a pass over 60,000 files.
   */
  private memo<T>(name: string, compute: () => T): T {
    const m = this.memos.get(name);
    if (m && m.version === this.version && m.frozen === this.frozen.size) return m.value as T;
    const value = compute();
    this.memos.set(name, { version: this.version, frozen: this.frozen.size, value });
    return value;
  }

  /** Every summary of the tree, as callers see them (a frozen one as unknown). */
  summaries(): FunctionSummary[] {
    return [...this.memo('summaries', () => this.computeSummaries())];
  }

  private computeSummaries(): FunctionSummary[] {
    const out: FunctionSummary[] = [];
    for (const f of this.files.values()) {
      for (const s of f.summaries) out.push(this.frozen.has(s.name) ? { name: s.name, file: s.file, isStatic: s.isStatic, outcomes: [], unknown: true } : s);
    }
    return out;
  }

  /** Where each name that has a summary is defined, over the whole tree. */
  nameTable(): Array<[string, NameDefinitions]> {
    return [...this.memo('nameTable', () => this.computeNameTable())];
  }

  private computeNameTable(): Array<[string, NameDefinitions]> {
    // Matched as encoded (definitions.ts: `g:name`, `s:name`), so that the
    // half a million definitions of a kernel tree are not decoded each time.
    const wanted = new Set<string>();
    const want = (name: string) => wanted.add(`g:${name}`).add(`s:${name}`);
    for (const name of this.targetNames()) want(name);
    for (const f of this.files.values()) for (const s of f.summaries) want(s.name);
    const table = new Map<string, { globals: string[]; headerStatics: string[] }>();
    for (const [file, f] of this.files) {
      if (f.definitions === '') continue;
      const header = file.endsWith('.h');
      for (const token of f.definitions.split(' ')) {
        if (!wanted.has(token)) continue;
        const isStatic = token.charCodeAt(0) === 115; // 's'
        if (isStatic && !header) continue;
        const name = token.slice(2);
        let entry = table.get(name);
        if (!entry) table.set(name, (entry = { globals: [], headerStatics: [] }));
        (isStatic ? entry.headerStatics : entry.globals).push(file);
      }
    }
    return [...table];
  }

  /**
   * Brings the index up to date with `files` (every C file of the tree, as
   * absolute paths) and returns the facts of each file analysed on the way.
   * `known` holds files' FileStat taken just before (the checker stats every
   * checked file once for its results cache; a second stat of 60,000 files
   * cost a warm start a quarter of a second); the others are stat'ed here.
   */
  async refresh(files: readonly string[], analyse: AnalyseFiles, maxRounds = MAX_INDEX_ROUNDS, known?: ReadonlyMap<string, FileStat | undefined>): Promise<RefreshStats> {
    this.readNow.clear();
    const stats = await this.rounds(files, analyse, maxRounds, known);
    // Facts of a file read while it was being rewritten, and those computed
    // from its summaries, are of a content that is gone: used now, they show
    // the tree as it was a moment ago, but kept they would outlive it (a
    // later round may never reach every file they touched).
    this.movedDuringRefresh = [...this.readNow].filter((file) => {
      const f = this.files.get(file);
      if (!f) return false;
      try {
        const st = fs.statSync(file);
        return st.mtimeMs !== f.mtimeMs || st.size !== f.size;
      } catch {
        return true;
      }
    }).length;
    this.readNow.clear();
    return this.movedDuringRefresh > 0 ? { ...stats, moved: this.movedDuringRefresh } : stats;
  }

  private async rounds(files: readonly string[], analyse: AnalyseFiles, maxRounds: number, known: ReadonlyMap<string, FileStat | undefined> | undefined): Promise<RefreshStats> {
    const present = new Set(files);
    // What the last refresh left pending goes on now.
    const changed = new Set<string>(this.pending);
    this.pending = [];
    let summarisedBefore = this.summarisedNames();
    // A file that is gone takes its definitions and summaries with it.
    for (const [file, f] of this.files) {
      if (present.has(file)) continue;
      for (const s of f.summaries) changed.add(s.name);
      for (const d of decodeDefinitions(f.definitions)) changed.add(d.name);
      this.files.delete(file);
      this.version++;
      this.decodedCalls.delete(file);
      this.modified = true;
    }
    const stale = files.filter((file) => {
      const f = this.files.get(file);
      if (!f) return true;
      try {
        const st = known?.has(file) ? known.get(file) : statNow(file);
        if (!st) return true;
        if (st.mtimeMs === f.mtimeMs && st.size === f.size && !f.racy) return false;
        // Touched but the same size, or read too soon after a write for its
        // time to vouch for it: the content decides (a checkout, a build that
        // rewrites a header unchanged). The same content keeps its facts,
        // with the new time, and is not analysed again.
        if (st.size !== f.size || sha1(fs.readFileSync(file)) !== f.hash) return true;
        const racy = st.racy;
        if (st.mtimeMs !== f.mtimeMs || racy !== Boolean(f.racy)) {
          this.files.set(file, f instanceof StoredFacts ? f.at(st.mtimeMs, racy) : { ...f, mtimeMs: st.mtimeMs, racy });
          this.retimed = true;
        }
        return false;
      } catch {
        return true;
      }
    });
    const reused = files.length - stale.length;
    // What the last refresh left pending is taken up now: the cache's state moves on.
    // (Files that are stale only because they yield no facts, such as files over the
    // size limit, change nothing: the facts change where a round sets or drops some.)
    if (changed.size > 0) this.modified = true;
    const rounds: number[] = [];
    let dirty: readonly string[] = stale;
    let recheck: Recheck | undefined;
    const changes = new Map<string, number>();
    const stats = (settled: boolean): RefreshStats => ({ reused, rounds, settled, pending: this.pending.length, ...(this.cacheNote ? { cacheNote: this.cacheNote } : {}) });
    for (let round = 0; ; round++) {
      // Round 0 runs even with nothing stale: files that went away may have
      // taken summaries that callers saw.
      if (dirty.length === 0 && (round > 0 || changed.size === 0)) break;
      if (round === maxRounds) {
        this.pending = recheck ? [...recheck.names, ...recheck.ifAtomic] : [];
        if (this.pending.length > 0) this.modified = true;
        return stats(false);
      }
      const roundStart = Date.now();
      const targetsBefore = new Set(this.targetNames());
      const facts = [...(await analyse(dirty, this.summaries(), this.nameTable(), recheck, this.callerInput()))];
      if (recheck) await this.wholeWhereChanged(dirty, facts, analyse);
      const namesChanged = new Set<string>(round === 0 ? changed : []);
      // Names whose summaries changed in more than whether they may sleep.
      const effectChanged = new Set<string>(namesChanged);
      const definitionsChanged = new Set<string>();
      const effectBefore = this.effectNames();
      let analysed = 0;
      facts.forEach((fact, i) => {
        let got = fact;
        const file = dirty[i];
        if (!got) {
          // Unreadable or skipped now: forget it (and what it defined).
          const before = this.files.get(file);
          if (before && round === 0) {
            for (const s of before.summaries) namesChanged.add(s.name);
            this.files.delete(file);
            this.version++;
            this.modified = true;
          }
          return;
        }
        analysed++;
        const before = this.files.get(file);
        if (got.analysed && before) got = mergeFacts(before, got, new Set(got.analysed));
        for (const name of changedSummaries(before?.summaries ?? [], got.summaries)) namesChanged.add(name);
        for (const name of changedSummaries(withoutMayBlock(before?.summaries ?? []), withoutMayBlock(got.summaries))) effectChanged.add(name);
        // A new or vanished definition changes how calls of that name resolve.
        for (const name of changedDefinitions(before?.definitions ?? '', got.definitions)) {
          namesChanged.add(name);
          definitionsChanged.add(name);
        }
        this.files.set(file, got);
        this.readNow.add(file);
        this.version++;
        this.modified = true;
        this.decodedCalls.delete(file);
      });
      rounds.push(analysed);
      // A new or vanished definition changes how calls resolve: for callers outside
      // an atomic section that matters only if the name has an effect beyond sleeping.
      const effectNow = this.effectNames();
      for (const n of definitionsChanged) if (effectNow.has(n) || effectBefore.has(n)) effectChanged.add(n);
      const blockingOnly = new Set([...namesChanged].filter((n) => !effectChanged.has(n)));
      const summarisedNow = this.summarisedNames();
      // Only names with a summary (now, or before this round) change what a
      // caller sees, and a frozen one shows callers the same unknown summary.
      const relevant: string[] = [];
      // A function that starts or stops being followed: its callers must
      // report (or stop reporting) their calls of it.
      const targetsNow = new Set(this.targetNames());
      const targetChanges = new Set<string>();
      for (const name of targetsBefore) if (!targetsNow.has(name)) targetChanges.add(name);
      for (const name of targetsNow) if (!targetsBefore.has(name)) targetChanges.add(name);
      relevant.push(...targetChanges);
      for (const name of namesChanged) {
        if (!summarisedNow.has(name) && !summarisedBefore.has(name)) continue;
        if (this.frozen.has(name) || targetChanges.has(name)) continue;
        const count = (changes.get(name) ?? 0) + (round > 0 ? 1 : 0);
        changes.set(name, count);
        if (count > MAX_CHANGES_PER_SUMMARY) {
          this.frozen.add(name);
          this.modified = true;
        }
        relevant.push(name);
      }
      if (process.env.GFP_LENS_DEBUG) process.stderr.write(`gfp-lens: index round ${round}: ${dirty.length} read, ${analysed} analysed in ${Date.now() - roundStart} ms, ${relevant.length} summaries changed: ${relevant.slice(0, 12).join(' ')}\n`);
      if (relevant.length === 0) break;
      const ifAtomic = (n: string) => blockingOnly.has(n) && !targetChanges.has(n);
      recheck = { names: relevant.filter((n) => !ifAtomic(n)), ifAtomic: relevant.filter(ifAtomic) };
      // The callers of what changed: the files whose call filter may hold one
      // of the names; the analyser reads those and keeps the exact callers.
      dirty = this.callersOf(files, relevant);
      summarisedBefore = summarisedNow;
    }
    return stats(true);
  }

  /**
   * A later round analyses only some functions of a file and keeps the facts
   * of the others, taken from the content read before: if the file changed
   * in between (another process writing it while the index is built), the
   * two do not belong together. Such a file is analysed again whole, with the
   * same summaries. One that keeps changing keeps its earlier facts, whole
   * and labelled with their own content's hash: the next refresh sees that
   * the content moved on and analyses it again.
   */
  private async wholeWhereChanged(files: readonly string[], facts: Array<FileFacts | undefined>, analyse: AnalyseFiles): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const torn = facts.flatMap((f, i) => (f?.analysed && f.hash !== this.files.get(files[i])?.hash ? [i] : []));
      if (torn.length === 0) return;
      if (process.env.GFP_LENS_DEBUG) process.stderr.write(`gfp-lens: changed since the round before, analysed again whole: ${torn.map((i) => path.basename(files[i])).join(' ')}\n`);
      const again = attempt < 2 ? await analyse(torn.map((i) => files[i]), this.summaries(), this.nameTable(), undefined, this.callerInput()) : [];
      torn.forEach((i, k) => (facts[i] = again[k]));
    }
  }

  /** Of `files`, those that may call one of `names` (call-names.ts: a hash collision may add one, no caller is missed). */
  callersOf(files: readonly string[], names: readonly string[]): string[] {
    const wanted = new Set(names.map(nameHash));
    return files.filter((file) => mayCallAny(this.callsOf(file), wanted));
  }

  /** The names whose callers a refresh that stopped early has still to analyse again. */
  get pendingNames(): readonly string[] {
    return this.pending;
  }

  private callsOf(file: string): Uint32Array {
    let calls = this.decodedCalls.get(file);
    if (!calls) {
      const f = this.files.get(file);
      calls = f ? decodeCalls(f.calls) : new Uint32Array(0);
      this.decodedCalls.set(file, calls);
    }
    return calls;
  }

  /**
   * The functions whose callers the index follows, as `file#name`: those with
   * a GFP_NOFS/GFP_NOIO and no scope for it of their own, and, top-down, the
   * static helpers that call one of them outside any scope of their own (a
   * static function's callers are all in its file, so theirs decide).
   */
  targetKeys(): Set<string> {
    return new Set(this.memo('targetKeys', () => this.computeTargetKeys()));
  }

  private computeTargetKeys(): Set<string> {
    const keys = new Set<string>();
    for (const [file, f] of this.files) for (const name of f.targets === '' ? [] : f.targets.split(' ')) keys.add(`${file}#${name}`);
    for (let depth = 0; depth < MAX_HELPER_DEPTH; depth++) {
      let grew = false;
      for (const [file, f] of this.files) {
        for (const [callee, to, caller, isStatic, fs] of f.callSites) {
          const key = `${file}#${caller}`;
          if (isStatic && fs === 'no' && keys.has(`${to}#${callee}`) && !keys.has(key)) {
            keys.add(key);
            grew = true;
          }
        }
      }
      if (!grew) break;
    }
    return keys;
  }

  targetNames(): string[] {
    return [...this.memo('targetNames', () => [...new Set([...this.memo('targetKeys', () => this.computeTargetKeys())].map((k) => k.slice(k.lastIndexOf('#') + 1)))])];
  }

  /** The contexts at the calls of every followed function (see CallerContext), keyed `file#name`. */
  callerContexts(): Map<string, CallerContext> {
    return new Map(this.memo('callerContexts', () => this.computeCallerContexts()));
  }

  private computeCallerContexts(): Map<string, CallerContext> {
    const keys = this.memo('targetKeys', () => this.computeTargetKeys());
    const sites = new Map<string, Array<{ file: string; fact: CallSiteFact }>>();
    for (const [file, f] of this.files) {
      for (const fact of f.callSites) {
        const key = `${fact[1]}#${fact[0]}`;
        if (!keys.has(key)) continue;
        let list = sites.get(key);
        if (!list) sites.set(key, (list = []));
        list.push({ file, fact });
      }
    }
    const done = new Map<string, CallerContext>();
    const visiting = new Set<string>();
    const contextOf = (key: string): CallerContext => {
      const known = done.get(key);
      if (known) return known;
      visiting.add(key);
      const counts = () => ({ yes: 0, no: 0, varies: 0, unknown: 0 });
      const fs = counts();
      const io = counts();
      const atomic = counts();
      const list = sites.get(key) ?? [];
      for (const { file, fact } of list) {
        const [, , caller, isStatic, fsHere, ioHere, atomicHere] = fact;
        const callerKey = `${file}#${caller}`;
        // A static caller with no scope of its own here is in its callers' scope.
        const outer = isStatic && keys.has(callerKey) && !visiting.has(callerKey) ? contextOf(callerKey) : undefined;
        fs[through(fsHere, outer, (c) => c.fs)]++;
        io[through(ioHere, outer, (c) => c.io)]++;
        atomic[through(atomicHere, outer, (c) => c.atomic)]++;
      }
      visiting.delete(key);
      const context = { count: list.length, fs, io, atomic };
      done.set(key, context);
      return context;
    };
    for (const key of keys) contextOf(key);
    return done;
  }

  callerInput(): CallerInput {
    return { targets: this.targetNames(), contexts: [...this.callerContexts()] };
  }

  /** Names with a summary that changes more than whether the function may sleep. */
  private effectNames(): Set<string> {
    return this.memo('effectNames', () => this.computeEffectNames());
  }

  private computeEffectNames(): Set<string> {
    const names = new Set<string>();
    for (const f of this.files.values()) for (const s of f.summaries) if (s.outcomes.length > 0 || s.nofail !== undefined) names.add(s.name);
    return names;
  }

  private summarisedNames(): Set<string> {
    return this.memo('summarisedNames', () => this.computeSummarisedNames());
  }

  private computeSummarisedNames(): Set<string> {
    const names = new Set<string>();
    for (const f of this.files.values()) for (const s of f.summaries) names.add(s.name);
    return names;
  }

  get note(): string | undefined {
    return this.cacheNote;
  }
}

/**
 * A file's facts as the cache holds them: the times, size and hash at once,
 * the rest decoded on first use (a restart that finds nothing changed never
 * decodes the summaries and call sites of a whole tree).
 */
class StoredFacts implements FileFacts {
  private decoded: { definitions: string; summaries: FunctionSummary[]; calls: string; targets: string; callSites: CallSiteFact[] } | undefined;

  constructor(
    private readonly file: string,
    readonly mtimeMs: number,
    readonly size: number,
    readonly hash: string,
    readonly racy: boolean,
    /** The body as read (CachedBody), until decoded (then save() encodes it again: one copy in memory, not two). */
    public encoded: string | undefined,
    private readonly absolute: (rel: string) => string,
    decoded?: StoredFacts['decoded'],
  ) {
    this.decoded = decoded;
  }

  /** The same facts, with a new time (a file touched but not changed). */
  at(mtimeMs: number, racy: boolean): StoredFacts {
    return new StoredFacts(this.file, mtimeMs, this.size, this.hash, racy, this.encoded, this.absolute, this.decoded);
  }

  get definitions(): string {
    return this.decode().definitions;
  }

  get summaries(): readonly FunctionSummary[] {
    return this.decode().summaries;
  }

  get calls(): string {
    return this.decode().calls;
  }

  get targets(): string {
    return this.decode().targets;
  }

  get callSites(): readonly CallSiteFact[] {
    return this.decode().callSites;
  }

  private decode(): NonNullable<StoredFacts['decoded']> {
    if (this.decoded) return this.decoded;
    // The cache's checksum held when it was loaded: what fails here was written wrong, not damaged since.
    const [definitions, summaries, calls, targets, callSites] = JSON.parse(this.encoded!) as CachedBody;
    if (typeof calls !== 'string' || calls.length % 4 !== 0) throw new Error('index cache: a file without its calls');
    if (typeof targets !== 'string' || !Array.isArray(callSites) || !Array.isArray(summaries)) throw new Error('index cache: a file without its callers');
    for (const s of summaries) (s as { file: string }).file = this.file;
    for (const c of callSites) c[1] = this.absolute(c[1]);
    this.decoded = { definitions: checkedDefinitions(definitions), summaries, calls, targets, callSites };
    this.encoded = undefined;
    return this.decoded;
  }
}

/** Names whose summary differs between two lists of one file. */
function changedSummaries(before: readonly FunctionSummary[], after: readonly FunctionSummary[]): string[] {
  const key = (s: FunctionSummary) => JSON.stringify({ ...s, file: '' });
  const was = new Map<string, string[]>();
  for (const s of before) was.set(s.name, [...(was.get(s.name) ?? []), key(s)]);
  const now = new Map<string, string[]>();
  for (const s of after) now.set(s.name, [...(now.get(s.name) ?? []), key(s)]);
  const out: string[] = [];
  for (const name of new Set([...was.keys(), ...now.keys()])) {
    if ((was.get(name) ?? []).join('\n') !== (now.get(name) ?? []).join('\n')) out.push(name);
  }
  return out;
}

/** The summaries as callers outside an atomic section see them: without whether they may sleep. */
function withoutMayBlock(summaries: readonly FunctionSummary[]): FunctionSummary[] {
  return summaries.map(({ mayBlock: _dropped, ...rest }) => rest).filter((x) => x.outcomes.length > 0 || x.nofail !== undefined);
}

/** A file's facts after a later round analysed only some of its functions: theirs replaced, the others' kept. */
function mergeFacts(before: FileFacts, got: FileFacts, analysed: ReadonlySet<string>): FileFacts {
  const targets = new Set(before.targets === '' ? [] : before.targets.split(' ').filter((n) => !analysed.has(n)));
  for (const t of got.targets === '' ? [] : got.targets.split(' ')) targets.add(t);
  return {
    mtimeMs: got.mtimeMs,
    size: got.size,
    hash: got.hash,
    ...(got.racy ? { racy: true } : {}),
    definitions: got.definitions,
    calls: got.calls,
    summaries: [...before.summaries.filter((s) => !analysed.has(s.name)), ...got.summaries],
    targets: [...targets].join(' '),
    callSites: [...before.callSites.filter((c) => !analysed.has(c[2])), ...got.callSites],
  };
}

function changedDefinitions(before: string, after: string): string[] {
  if (before === after) return [];
  const was = new Set(before === '' ? [] : before.split(' '));
  const now = new Set(after === '' ? [] : after.split(' '));
  const out = new Set<string>();
  for (const k of was) if (!now.has(k)) out.add(k.slice(2));
  for (const k of now) if (!was.has(k)) out.add(k.slice(2));
  return [...out];
}

function checkedDefinitions(text: unknown): string {
  if (typeof text !== 'string' || (text !== '' && !/^[sg]:/.test(text))) throw new Error('definitions are not a list of names');
  return text;
}
