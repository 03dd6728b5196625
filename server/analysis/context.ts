// Everything the analysis of one file needs from the model, built once per
// (kernel version, settings) and shared by every file analysed with them.

import { AllocatorTable, type AllocatorDef } from '../../shared/model/allocators';
import { builtinModel, GfpModel } from '../../shared/model/gfp-model';
import { TransactionTable, type TransactionDef } from '../../shared/model/transactions';
import { formatVersion, type KernelVersion } from '../../shared/model/version';
import { SCOPE_APIS } from '../../shared/model/scopes';
import { GUARD_CLASSES, isAtomicKind, LOCK_OPS } from '../../shared/model/locks';
import { sleepingCallNames, sleepingGuard } from '../../shared/model/sleeping';

export interface AnalysisOptions {
  readonly extraAllocators?: readonly AllocatorDef[];
  readonly extraTransactions?: readonly TransactionDef[];
  /** Composite masks read from the tree's gfp_types.h, when there is one. */
  readonly treeMasks?: { readonly masks: ReadonlyMap<string, string>; readonly path: string };
}

export class AnalysisContext {
  readonly version: KernelVersion;
  readonly gfp: GfpModel;
  readonly allocators: AllocatorTable;
  readonly transactions: TransactionTable;
  /**
   * Matches the text of a function body worth lowering: one that mentions an
   * allocator, a GFP name, a scope API, a task flag, a transaction or a call
   * that sleeps (a function that may block is worth a summary). Bodies without
   * any of these have no sites, no scope facts and do not block by themselves.
   */
  readonly interesting: RegExp;

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
    // Calls that sleep, and the releases of sleeping locks (so that a lock
    // wrapper and its unlock wrapper are both summarised), as calls: `down`
    // and `up` are words of comments too. Cleanup guards of sleeping locks
    // (`guard(mutex)(&m)`, `scoped_guard(rwsem_read, &s)`) sleep as well.
    const sleeping = [...sleepingCallNames(), ...LOCK_OPS.filter((o) => o.op === 'release' && !isAtomicKind(o.kind)).map((o) => o.name)]
      .sort((a, b) => b.length - a.length)
      .join('|');
    const guards = Object.keys(GUARD_CLASSES).filter(sleepingGuard).join('|');
    this.interesting = new RegExp(`\\b(?:__GFP_\\w+|GFP_\\w+|PF_MEMALLOC\\w*|current_(?:set|restore)_flags\\w*|__acquires|__releases|${escaped.join('|')})\\b|\\b(?:${sleeping})\\s*\\(|\\b(?:scoped_)?guard\\s*\\(\\s*(?:${guards})\\b`);
  }

  describe(): string {
    return `kernel ${formatVersion(this.version)}, masks from ${this.gfp.source.detail}`;
  }
}
