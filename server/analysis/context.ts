// Everything the analysis of one file needs from the model, built once per
// (kernel version, settings) and shared by every file analysed with them.

import { createHash } from 'node:crypto';
import { AllocatorTable, type AllocatorDef } from '../../shared/model/allocators';
import { builtinModel, GfpModel } from '../../shared/model/gfp-model';
import { TransactionTable, type TransactionDef } from '../../shared/model/transactions';
import { formatVersion, type KernelVersion } from '../../shared/model/version';
import { SCOPE_APIS } from '../../shared/model/scopes';
import { GUARD_CLASSES, isAtomicKind, LOCK_OPS } from '../../shared/model/locks';
import { sleepingCallNames, sleepingGuard } from '../../shared/model/sleeping';
import { chunkEnds, type TextFilter } from '../syntax/ranges';
import { changedRegion } from '../syntax/text-region';
import { calledNames, nameHash } from './call-names';
import { scanDefinitions } from './definitions';

export interface AnalysisOptions {
  readonly extraAllocators?: readonly AllocatorDef[];
  readonly extraTransactions?: readonly TransactionDef[];
  /** Composite masks read from the tree's gfp_types.h, when there is one. */
  readonly treeMasks?: { readonly masks: ReadonlyMap<string, string>; readonly path: string };
}

/**
 * What the lowering filter learnt about one text (a function's), kept between
 * analyses of a document whose other parts change (see ExtractCache).
 */
export interface LoweringMemo {
  /** Whole sub-filters' results, by the id of their source (sourceId). */
  readonly tests: Map<number, boolean>;
  sleeps?: boolean;
  atomic?: boolean;
  defs?: ReadonlyArray<{ readonly name: string; readonly isStatic: boolean }>;
}

export function newLoweringMemo(): LoweringMemo {
  return { tests: new Map() };
}

/** The filter of what is worth lowering (AnalysisContext.lowering). */
export interface LoweringFilter extends TextFilter {
  /** The same answer as test(), with what depends on `text` alone kept in `memo` (one memo per text). */
  testMemo(text: string, memo: LoweringMemo): boolean;
}

/** A hash of a set of names (sets are kept per text, and asked for once per summary round). */
const namesHashes = new WeakMap<ReadonlySet<string>, number>();
function namesHash(names: ReadonlySet<string>): number {
  let h = namesHashes.get(names);
  if (h === undefined) {
    h = nameHash([...names].sort().join(' '));
    namesHashes.set(names, h);
  }
  return h;
}

function memoTest(memo: LoweringMemo, id: number, filter: TextFilter, text: string): boolean {
  let hit = memo.tests.get(id);
  if (hit === undefined) {
    hit = filter.test(text);
    // Sources change with the document's summaries; a few of them are worth keeping.
    if (memo.tests.size >= 8) memo.tests.clear();
    memo.tests.set(id, hit);
  }
  return hit;
}

/**
 * A number per filter source: sources are long (every name with a summary)
 * and built anew each summary round, so memos are keyed by these instead.
 */
const sourceIds = new Map<string, number>();
let nextSourceId = 0;
function sourceId(source: string): number {
  // Keyed by a digest of a long source, not the source: a checker's worker
  // meets one per file it analyses (tens of KB each over a kernel tree's
  // index), and 4,096 of them kept whole grew each worker by gigabytes.
  const key = source.length > 256 ? createHash('sha1').update(source).digest('base64') : source;
  let id = sourceIds.get(key);
  if (id === undefined) {
    // A long session meets many sources; forgetting them only costs memo misses.
    if (sourceIds.size >= 4096) sourceIds.clear();
    id = nextSourceId++;
    sourceIds.set(key, id);
  }
  return id;
}

/** The functions `t` defines, by the text scan (not kernel style: the names called in the header). */
function definedHere(t: string): Array<{ name: string; isStatic: boolean }> {
  const defs = scanDefinitions(t);
  if (defs.length > 0) return defs;
  // Not kernel style (`{` on the declarator's line): the names called in the header.
  const header = t.slice(0, Math.max(0, t.indexOf('{')));
  const isStatic = /\bstatic\b/.test(header);
  return [...calledNames(header)].map((name) => ({ name, isStatic }));
}

/** The names a chunk of text calls, when it enters an atomic section. */
type AtomicChunk = readonly string[] | undefined;

export class AnalysisContext {
  readonly version: KernelVersion;
  readonly gfp: GfpModel;
  readonly allocators: AllocatorTable;
  readonly transactions: TransactionTable;
  /**
   * Matches the text of a function body worth lowering: one that mentions an
   * allocator, a GFP name, a scope API, a task flag or a transaction. Bodies
   * without any of these have no sites and no scope facts.
   */
  readonly interesting: RegExp;
  /**
   * Calls that sleep (and cleanup guards of sleeping locks). A function that
   * only sleeps is worth lowering where a caller may hold an atomic section:
   * in a file that enters one (see lowering()).
   */
  readonly sleeping: RegExp;
  /** Calls that enter an atomic section (spin_lock*, rcu_read_lock, local_irq_*, ...) and atomic cleanup guards. */
  readonly atomic: RegExp;

  constructor(version: KernelVersion, options: AnalysisOptions = {}) {
    this.version = version;
    this.gfp = options.treeMasks ? new GfpModel(version, options.treeMasks) : builtinModel(version);
    this.allocators = new AllocatorTable(version, options.extraAllocators ?? []);
    this.transactions = new TransactionTable(options.extraTransactions ?? []);
    const words = new Set<string>([...this.allocators.names(), ...this.transactions.names()]);
    for (const api of SCOPE_APIS) words.add(api.save).add(api.restore);
    const escaped = [...words].sort((a, b) => b.length - a.length).map((w) => w.replace(/[^\w]/g, ''));
    // __acquires/__releases mark lock wrappers, whose summaries carry a lock to
    // their callers.
    this.interesting = new RegExp(`\\b(?:__GFP_\\w+|GFP_\\w+|PF_MEMALLOC\\w*|current_(?:set|restore)_flags\\w*|__acquires|__releases|${escaped.join('|')})\\b`);
    // Calls that sleep, and the releases of sleeping locks (so that a lock
    // wrapper and its unlock wrapper are both summarised), as calls: `down`
    // and `up` are words of comments too. Cleanup guards of sleeping locks
    // (`guard(mutex)(&m)`, `scoped_guard(rwsem_read, &s)`) sleep as well.
    const sleeping = [...sleepingCallNames(), ...LOCK_OPS.filter((o) => o.op === 'release' && !isAtomicKind(o.kind)).map((o) => o.name)]
      .sort((a, b) => b.length - a.length)
      .join('|');
    const sleepingGuards = Object.keys(GUARD_CLASSES).filter(sleepingGuard).join('|');
    this.sleeping = new RegExp(`\\b(?:${sleeping})\\s*\\(|\\b(?:scoped_)?guard\\s*\\(\\s*(?:${sleepingGuards})\\b`);
    const entering = LOCK_OPS.filter((o) => o.op !== 'release' && isAtomicKind(o.kind)).map((o) => o.name).sort((a, b) => b.length - a.length).join('|');
    const atomicGuards = Object.keys(GUARD_CLASSES).filter((g) => isAtomicKind(GUARD_CLASSES[g])).join('|');
    this.atomic = new RegExp(`\\b(?:${entering})\\s*\\(|\\b(?:scoped_)?guard\\s*\\(\\s*(?:${atomicGuards})\\b|\\b__acquires\\b`);
  }

  /**
   * What is worth lowering in `text`, given `base` (the interesting words, and
   * the names of functions with summaries): also, in a file that enters an
   * atomic section, the functions that sleep or call a `blocking` function
   * (one that may sleep) where that can happen under the section: they enter
   * it themselves, or a function that does calls them, or (for a function
   * that sleeps itself) they are global and another file may call them under
   * its own. A sleep under a section is what gfp/sleep-in-atomic reports;
   * elsewhere those would cost a parse for nothing this file can show (the
   * kernel has far more functions that sleep than functions that call them
   * under a spinlock). A file with no atomic section at all lowers none of
   * them, so a global helper that only takes a mutex there has no summary.
   */
  lowering(text: string, base: TextFilter = this.interesting, blocking?: TextFilter, underAtomic = this.calledUnderAtomic(text), globalSleepers = true): LoweringFilter {
    const baseId = sourceId(base.source);
    if (underAtomic === undefined) return { test: (t) => base.test(t), source: base.source, testMemo: (t, memo) => memoTest(memo, baseId, base, t) };
    const blockingId = blocking !== undefined ? sourceId(blocking.source) : -1;
    // A function that sleeps may be called under an atomic section here, or,
    // if global, in another file; one that calls a function that may sleep
    // matters where it runs under a section itself (a chain through a global
    // middle function is left out: lowering every global caller of every
    // function that may sleep costs a parse of most of a driver file).
    // The parts that depend on the text alone are kept in the memo, so that a
    // new set of names under an atomic section (an edit in a function that
    // takes a spinlock) costs set lookups, not a scan of every function.
    const relevant = (t: string, memo: LoweringMemo): boolean => {
      const sleeps = (memo.sleeps ??= this.sleeping.test(t));
      const calls = blocking !== undefined && memoTest(memo, blockingId, blocking, t);
      if (!sleeps && !calls) return false;
      if ((memo.atomic ??= this.atomic.test(t))) return true;
      const defs = (memo.defs ??= definedHere(t));
      return defs.some((d) => underAtomic.has(d.name)) || (globalSleepers && sleeps && defs.some((d) => !d.isStatic));
    };
    return {
      test: (t) => base.test(t) || relevant(t, newLoweringMemo()),
      testMemo: (t, memo) => memoTest(memo, baseId, base, t) || relevant(t, memo),
      source: `(?:${base.source})|(?:(?:${this.sleeping.source}|${blocking?.source ?? ''})@atomic:${namesHash(underAtomic)}${globalSleepers ? '' : ':here'})`,
    };
  }

  /** The last text calledUnderAtomic() read: its chunk ends, what each chunk calls if it enters an atomic section, the answer. */
  private lastAtomic: { readonly text: string; readonly ends: readonly number[]; readonly chunks: readonly AtomicChunk[]; readonly names: Set<string> | undefined } | undefined;

  /**
   * The names called in the top-level definitions of `text` that enter an
   * atomic section; undefined when none does. The text is read in the chunks
   * of interestingRanges() (no match of the atomic pattern or of a call spans
   * two: a chunk ends with a `}` line), and what the last text's chunks gave is
   * kept: the language server asks again after each edit, and an edit changes
   * one chunk (see chunkEnds).
   */
  calledUnderAtomic(text: string): Set<string> | undefined {
    const last = this.lastAtomic;
    if (last?.text === text) return last.names;
    const scan = chunkEnds(text, last ? { ends: last.ends, region: changedRegion(last.text, text) } : undefined);
    const chunks: AtomicChunk[] = [];
    for (let i = 0; i < scan.ends.length; i++) {
      if (last && i < scan.kept) chunks.push(last.chunks[i]);
      else if (last && i >= scan.from) chunks.push(last.chunks[scan.oldFrom + i - scan.from]);
      else {
        const chunk = text.slice(i === 0 ? 0 : scan.ends[i - 1], scan.ends[i]);
        chunks.push(this.atomic.test(chunk) ? [...calledNames(chunk)] : undefined);
      }
    }
    let names: Set<string> | undefined;
    for (const c of chunks) {
      if (!c) continue;
      names ??= new Set();
      for (const n of c) names.add(n);
    }
    this.lastAtomic = { text, ends: scan.ends, chunks, names };
    return names;
  }

  describe(): string {
    return `kernel ${formatVersion(this.version)}, masks from ${this.gfp.source.detail}`;
  }
}
