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

import { createHash } from 'node:crypto';
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
const CACHE_FORMAT = 5;

type CachedFile = [string, number, number, string, string, FunctionSummary[], string, string, CallSiteFact[]];

interface CacheDocument {
  readonly format: number;
  readonly key: string;
  readonly root: string;
  /** [path relative to root, mtimeMs, size, hash, definitions, summaries, calls, targets, call sites (definition files relative)] */
  readonly files: ReadonlyArray<CachedFile>;
  /** Names frozen as unknown (MAX_CHANGES_PER_SUMMARY). */
  readonly frozen: readonly string[];
  /** Names whose summaries changed in the last round run, whose callers are still to be analysed again. */
  readonly pending: readonly string[];
}

/** Where indexes are cached: $GFP_LENS_CACHE, else $XDG_CACHE_HOME/gfp-lens, else ~/.cache/gfp-lens; never inside the tree. */
function cacheDirectory(): string {
  if (process.env.GFP_LENS_CACHE) return process.env.GFP_LENS_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'gfp-lens');
}

export function sha1(text: string): string {
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
 * kernel tree's wrappers go many levels deep, and a round costs a parse of
 * every caller, so a cold index stops after this many with the rest pending:
 * the changed summaries are kept, with the names whose callers are still to
 * be analysed, and the next refresh goes on from there. Until then the
 * callers of the pending functions see them as they were a round before
 * (deeper effects not yet lifted), and the run says so.
 */
export const MAX_INDEX_ROUNDS = 6;

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
  /** Functions whose summaries did not settle: they apply no effect (MAX_CHANGES_PER_SUMMARY). */
  private readonly frozen = new Set<string>();
  /** See CacheDocument.pending. */
  private pending: string[] = [];
  /** Each file's call hashes, decoded on first use. */
  private readonly decodedCalls = new Map<string, Uint32Array>();
  private cacheNote: string | undefined;

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
    let header: { format?: unknown; check?: unknown };
    let body: string;
    try {
      // The layout (see save()): a header line with the format and the body's checksum, then the body.
      const raw = fs.readFileSync(this.cacheFile, 'utf8');
      const nl = raw.indexOf('\n');
      header = JSON.parse(nl < 0 ? raw : raw.slice(0, nl)) as typeof header;
      if (header?.format !== CACHE_FORMAT) {
        this.cacheNote = 'index cache from another version or configuration; rebuilding';
        return;
      }
      body = raw.slice(nl + 1);
      doc = JSON.parse(body) as CacheDocument;
    } catch (e) {
      this.cacheNote = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no index cache yet' : `index cache unreadable (${(e as Error).message}); rebuilding`;
      return;
    }
    // Damage that leaves valid JSON (a flipped bit, an edit) would otherwise be
    // read as facts: a summary that enters the wrong scope gives wrong findings.
    if (header.check !== sha1(body)) {
      this.cacheNote = 'index cache damaged (its checksum does not match); rebuilding';
      return;
    }
    if (!doc || doc.format !== CACHE_FORMAT || doc.key !== this.key || doc.root !== this.root || !Array.isArray(doc.files) || !Array.isArray(doc.frozen) || !Array.isArray(doc.pending)) {
      this.cacheNote = 'index cache from another version or configuration; rebuilding';
      return;
    }
    try {
      for (const [rel, mtimeMs, size, hash, defs, summaries, calls, targets, callSites] of doc.files) {
        if (typeof calls !== 'string' || calls.length % 4 !== 0) throw new Error('a file without its calls');
        if (typeof targets !== 'string' || !Array.isArray(callSites)) throw new Error('a file without its callers');
        const abs = path.join(this.root, rel);
        this.files.set(abs, {
          mtimeMs,
          size,
          hash,
          definitions: checkedDefinitions(defs),
          summaries: summaries.map((s: FunctionSummary) => ({ ...s, file: abs })),
          calls,
          targets,
          callSites: callSites.map((c: CallSiteFact): CallSiteFact => [c[0], path.join(this.root, c[1]), c[2], c[3], c[4], c[5], c[6]]),
        });
      }
      for (const name of doc.frozen) this.frozen.add(name);
      this.pending = doc.pending.filter((n) => typeof n === 'string');
    } catch (e) {
      this.files.clear();
      this.frozen.clear();
      this.pending = [];
      this.cacheNote = `index cache damaged (${(e as Error).message}); rebuilding`;
    }
  }

  /** Writes the cache atomically (a temporary file renamed over it), so a reader never sees half of one. */
  save(): void {
    const files: CachedFile[] = [];
    for (const [abs, f] of this.files) {
      files.push([path.relative(this.root, abs), f.mtimeMs, f.size, f.hash, f.definitions, f.summaries.map((s) => ({ ...s, file: '' })), f.calls, f.targets, f.callSites.map((c): CallSiteFact => [c[0], path.relative(this.root, c[1]), c[2], c[3], c[4], c[5], c[6]])]);
    }
    const doc: CacheDocument = { format: CACHE_FORMAT, key: this.key, root: this.root, files, frozen: [...this.frozen], pending: this.pending };
    fs.mkdirSync(path.dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.tmp`;
    const body = JSON.stringify(doc);
    fs.writeFileSync(tmp, `${JSON.stringify({ format: CACHE_FORMAT, check: sha1(body) })}\n${body}`);
    fs.renameSync(tmp, this.cacheFile);
  }

  /** Every summary of the tree, as callers see them (a frozen one as unknown). */
  summaries(): FunctionSummary[] {
    const out: FunctionSummary[] = [];
    for (const f of this.files.values()) {
      for (const s of f.summaries) out.push(this.frozen.has(s.name) ? { name: s.name, file: s.file, isStatic: s.isStatic, outcomes: [], unknown: true } : s);
    }
    return out;
  }

  /** Where each name that has a summary is defined, over the whole tree. */
  nameTable(): Array<[string, NameDefinitions]> {
    const wanted = new Set<string>(this.targetNames());
    for (const f of this.files.values()) for (const s of f.summaries) wanted.add(s.name);
    const table = new Map<string, { globals: string[]; headerStatics: string[] }>();
    for (const [file, f] of this.files) {
      for (const d of decodeDefinitions(f.definitions)) {
        if (!wanted.has(d.name)) continue;
        if (d.isStatic && !file.endsWith('.h')) continue;
        let entry = table.get(d.name);
        if (!entry) table.set(d.name, (entry = { globals: [], headerStatics: [] }));
        (d.isStatic ? entry.headerStatics : entry.globals).push(file);
      }
    }
    return [...table];
  }

  /**
   * Brings the index up to date with `files` (every C file of the tree, as
   * absolute paths) and returns the facts of each file analysed on the way.
   */
  async refresh(files: readonly string[], analyse: AnalyseFiles, maxRounds = MAX_INDEX_ROUNDS): Promise<RefreshStats> {
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
    }
    const stale = files.filter((file) => {
      const f = this.files.get(file);
      if (!f) return true;
      try {
        const st = fs.statSync(file);
        return st.mtimeMs !== f.mtimeMs || st.size !== f.size;
      } catch {
        return true;
      }
    });
    const reused = files.length - stale.length;
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
        return stats(false);
      }
      const roundStart = Date.now();
      const targetsBefore = new Set(this.targetNames());
      const facts = await analyse(dirty, this.summaries(), this.nameTable(), recheck, this.callerInput());
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
        if (count > MAX_CHANGES_PER_SUMMARY) this.frozen.add(name);
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
    return [...new Set([...this.targetKeys()].map((k) => k.slice(k.lastIndexOf('#') + 1)))];
  }

  /** The contexts at the calls of every followed function (see CallerContext), keyed `file#name`. */
  callerContexts(): Map<string, CallerContext> {
    const keys = this.targetKeys();
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
    const names = new Set<string>();
    for (const f of this.files.values()) for (const s of f.summaries) if (s.outcomes.length > 0 || s.nofail !== undefined) names.add(s.name);
    return names;
  }

  private summarisedNames(): Set<string> {
    const names = new Set<string>();
    for (const f of this.files.values()) for (const s of f.summaries) names.add(s.name);
    return names;
  }

  get note(): string | undefined {
    return this.cacheNote;
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
