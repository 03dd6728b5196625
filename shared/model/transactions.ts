// Filesystem transactions (kernel-model.md §6): start/end pairs that the
// refactor uses as scope anchors and that hovers state as facts. Whether a
// start enters a NOFS scope is a fact of the filesystem: xfs always does,
// ext4 only with a journal, btrfs and gfs2 never.

export type TransactionScope =
  /** The start enters a NOFS scope on every successful path and the end leaves it. */
  | 'nofs'
  /** The start enters a NOFS scope on some paths only (ext4 without a journal enters none). */
  | 'nofs-conditional'
  /** The start enters no scope: GFP_NOFS inside is the filesystem's only protection. */
  | 'none';

/** How a start that can fail reports it: the value its error return has. */
export type StartFailure =
  /** Returns a handle, or an ERR_PTR() on failure (jbd2_journal_start(), ocfs2_start_trans()). */
  | 'err-ptr'
  /** Returns 0, or a negative errno on failure (xfs_trans_alloc()). */
  | 'nonzero';

export interface TransactionDef {
  /** The filesystem or subsystem (`xfs`, `ext4`, `jbd2`, ...). */
  readonly fs: string;
  /** Functions that start a transaction (or take the reclaim-critical lock). */
  readonly start: readonly string[];
  /** Functions that end it, on every exit kind (commit, cancel, stop, abort). */
  readonly end: readonly string[];
  readonly scope: TransactionScope;
  /**
   * The start enters its scope only when it succeeds, and its error return is
   * this (one kind for every start of the row, or per start name). On the
   * caller's `if (IS_ERR(handle))` / `if (error)` branch no scope is open.
   * Absent: the start cannot fail (a void helper, a lock), and its scope is
   * entered on every path.
   */
  readonly fails?: StartFailure | Readonly<Record<string, StartFailure>>;
  /** Where the scope's cookie lives, when the start saves one. */
  readonly cookie?: string;
  /** One or two sentences for hovers: what the start does to the allocation context. */
  readonly note: string;
  readonly cite: string;
}

/**
 * One row per start/end family; a name belongs to one row only. Cites are
 * 6.12.117 paths. Rows whose start enters no scope ('none') are still
 * anchors for the refactor: the transaction is where the scope belongs.
 */
export const TRANSACTIONS: readonly TransactionDef[] = [
  {
    fs: 'xfs',
    start: ['xfs_trans_alloc', 'xfs_trans_alloc_empty', 'xfs_trans_alloc_inode', 'xfs_trans_alloc_icreate', 'xfs_trans_alloc_ichange', 'xfs_trans_alloc_dir'],
    end: ['xfs_trans_commit', 'xfs_trans_cancel'],
    scope: 'nofs',
    // Every error return comes after xfs_trans_cancel() (xfs_trans.c:284-303), which leaves the scope.
    fails: 'nonzero',
    cookie: 'tp->t_pflags',
    note: 'Enters a NOFS scope (memalloc_nofs_save() into tp->t_pflags) once the transaction is allocated; commit and cancel leave it through xfs_trans_free(). On error the start has already cancelled, so no scope is left open.',
    cite: 'fs/xfs/xfs_trans.c:244-309, :328-335, :1058, :1175, :1219, :1306, :66-73, :913, :950; fs/xfs/xfs_trans.h:165-171, :235-238, :251-265',
  },
  {
    fs: 'xfs',
    start: ['xfs_trans_set_context'],
    end: ['xfs_trans_clear_context'],
    scope: 'nofs',
    cookie: 'tp->t_pflags',
    note: 'The helpers behind every xfs transaction: memalloc_nofs_save() into tp->t_pflags, and memalloc_nofs_restore() from it. xfs_trans_roll() moves the cookie to the new transaction (xfs_trans_switch_context).',
    cite: 'fs/xfs/xfs_trans.h:267-288',
  },
  {
    fs: 'jbd2',
    start: ['jbd2_journal_start', 'jbd2__journal_start', 'jbd2_journal_start_reserved'],
    end: ['jbd2_journal_stop'],
    scope: 'nofs',
    // The save is the last step of a successful start_this_handle() (transaction.c:449-454); the
    // error returns free the handle first (:505-510, :609-614).
    fails: { jbd2_journal_start: 'err-ptr', jbd2__journal_start: 'err-ptr', jbd2_journal_start_reserved: 'nonzero' },
    cookie: 'handle->saved_alloc_context',
    note: 'start_this_handle() ends with memalloc_nofs_save() into handle->saved_alloc_context, and stop_this_handle() restores it. A nested start only takes another reference on the running handle, whose scope is already open.',
    cite: 'fs/jbd2/transaction.c:449-454, :470-484, :542-545, :584-611, :739-743, :1839-1859, :1965; include/linux/jbd2.h:503',
  },
  {
    fs: 'ext4',
    start: [
      'ext4_journal_start', 'ext4_journal_start_sb', 'ext4_journal_start_with_reserve', 'ext4_journal_start_with_revoke',
      '__ext4_journal_start', '__ext4_journal_start_sb', 'ext4_journal_start_reserved', '__ext4_journal_start_reserved',
    ],
    end: ['ext4_journal_stop', '__ext4_journal_stop'],
    scope: 'nofs-conditional',
    // ERR_PTR() from ext4_journal_check_start() or jbd2 (ext4_jbd2.c:105-106, :155-158).
    fails: 'err-ptr',
    cookie: 'handle->saved_alloc_context',
    note: 'With a journal this starts a jbd2 handle and so enters its NOFS scope; without one (no-journal mode, or during fast-commit replay) it returns a dummy handle and enters no scope.',
    cite: 'fs/ext4/ext4_jbd2.c:90-114, :116-128, :143-165; fs/ext4/ext4_jbd2.h:305-337',
  },
  {
    fs: 'ext4',
    start: ['ext4_writepages_down_write'],
    end: ['ext4_writepages_up_write'],
    scope: 'nofs',
    cookie: 'returned (int ctx)',
    note: 'Takes s_writepages_rwsem for write, then memalloc_nofs_save(); the cookie is returned and the up helper restores it before unlocking. Lock-tied placement.',
    cite: 'fs/ext4/ext4.h:1774-1784',
  },
  {
    fs: 'ext4',
    start: ['ext4_writepages_down_read'],
    end: ['ext4_writepages_up_read'],
    scope: 'nofs',
    cookie: 'returned (int ctx)',
    note: 'Takes s_writepages_rwsem for read, then memalloc_nofs_save(); the cookie is returned and the up helper restores it before unlocking. Lock-tied placement.',
    cite: 'fs/ext4/ext4.h:1762-1772',
  },
  {
    fs: 'ocfs2',
    start: ['ocfs2_start_trans'],
    end: ['ocfs2_commit_trans'],
    scope: 'nofs',
    // ERR_PTR(-EROFS) before jbd2, or jbd2's own ERR_PTR (journal.c:369-370, :384-393).
    fails: 'err-ptr',
    cookie: 'handle->saved_alloc_context',
    note: 'Starts a jbd2 handle (jbd2_journal_start), which enters the jbd2 NOFS scope; every path that returns a handle went through jbd2, nested ones included. The commit stops the handle.',
    cite: 'fs/ocfs2/journal.c:354-392, :394-412',
  },
  {
    fs: 'btrfs',
    start: [
      'btrfs_start_transaction', 'btrfs_start_transaction_fallback_global_rsv',
      'btrfs_join_transaction', 'btrfs_join_transaction_spacecache', 'btrfs_join_transaction_nostart',
      'btrfs_attach_transaction', 'btrfs_attach_transaction_barrier',
    ],
    end: ['btrfs_end_transaction', 'btrfs_end_transaction_throttle', 'btrfs_commit_transaction', 'btrfs_commit_transaction_async'],
    scope: 'none',
    note: 'Enters no scope: the handle has no saved-flags field, and btrfs protects allocations inside a transaction with explicit GFP_NOFS (the handle itself is GFP_NOFS).',
    cite: 'fs/btrfs/transaction.h:258-278; fs/btrfs/transaction.c:608-609, :696, :828-900, :1070-1131, :2003, :2209',
  },
  {
    fs: 'gfs2',
    start: ['gfs2_trans_begin', '__gfs2_trans_begin'],
    end: ['gfs2_trans_end'],
    scope: 'none',
    note: 'Enters no scope (fs/gfs2 has no memalloc_* call): the transaction is allocated with GFP_NOFS and allocations inside rely on explicit GFP_NOFS.',
    cite: 'fs/gfs2/trans.c:40, :109-122, :124; fs/gfs2/trans.h:37-40',
  },
  {
    fs: 'f2fs',
    start: ['f2fs_lock_op', 'f2fs_trylock_op'],
    end: ['f2fs_unlock_op'],
    scope: 'none',
    note: 'Takes the checkpoint rwsem (cp_rwsem) for read; no transaction object and no scope.',
    cite: 'fs/f2fs/f2fs.h:2320-2335',
  },
  {
    fs: 'f2fs',
    start: ['f2fs_lock_all'],
    end: ['f2fs_unlock_all'],
    scope: 'none',
    note: 'Takes the checkpoint rwsem (cp_rwsem) for write, excluding every f2fs_lock_op() section; no scope.',
    cite: 'fs/f2fs/f2fs.h:2337-2345',
  },
  {
    fs: 'bcachefs',
    start: ['bch2_trans_get', '__bch2_trans_get', 'bch2_trans_begin', 'bch2_trans_relock', 'bch2_trans_relock_notrace'],
    end: ['bch2_trans_put', 'bch2_trans_unlock', 'bch2_trans_unlock_noassert', 'bch2_trans_unlock_long'],
    scope: 'nofs-conditional',
    cookie: 'trans->pf_memalloc_nofs',
    note: 'NOFS follows the btree-lock state, not the transaction: taking the locks sets PF_MEMALLOC_NOFS directly and unlocking clears it unless it was already set. Any callee that unlocks (to block, or on restart) drops the scope until the next relock or bch2_trans_begin().',
    cite: 'fs/bcachefs/btree_locking.h:191-213; fs/bcachefs/btree_types.h:501; fs/bcachefs/btree_iter.c:3069-3125, :3151-3231, :3260-3265; fs/bcachefs/btree_locking.c:765-818',
  },
  {
    fs: 'bcachefs',
    start: ['trans_set_locked'],
    end: ['trans_set_unlocked'],
    scope: 'nofs',
    cookie: 'trans->pf_memalloc_nofs',
    note: 'Writes current->flags directly: saves whether PF_MEMALLOC_NOFS was set in the one-bit trans->pf_memalloc_nofs and sets it; the unlock clears it only if it was not set before.',
    cite: 'fs/bcachefs/btree_locking.h:191-213',
  },
  {
    fs: 'nilfs2',
    start: ['nilfs_transaction_begin'],
    end: ['nilfs_transaction_commit', 'nilfs_transaction_abort'],
    scope: 'none',
    note: 'Enters no scope (fs/nilfs2 has no memalloc_* call): it hooks a transaction info onto current->journal_info and takes ns_segctor_sem for read.',
    cite: 'fs/nilfs2/segment.c:141-171, :201-245, :256-290, :292-313',
  },
  {
    fs: 'jfs',
    start: ['txBegin'],
    end: ['txEnd'],
    scope: 'none',
    note: 'Enters no scope (fs/jfs has no memalloc_* call). txCommit() does not end the transaction; txEnd() does.',
    cite: 'fs/jfs/jfs_txnmgr.c:349, :493; fs/jfs/jfs_txnmgr.h:283-285',
  },
  {
    fs: 'reiserfs',
    start: ['journal_begin', 'journal_join_abort', 'reiserfs_persistent_transaction'],
    end: ['journal_end', 'journal_end_sync', 'reiserfs_end_persistent_transaction'],
    scope: 'none',
    note: 'Enters no scope (fs/reiserfs has no memalloc_* call); reiserfs allocates with explicit GFP_NOFS inside transactions.',
    cite: 'fs/reiserfs/journal.c:3146-3205, :3207-3219, :3221, :3385, :3522',
  },
  {
    fs: 'smb',
    start: ['cifs_server_lock'],
    end: ['cifs_server_unlock'],
    scope: 'nofs',
    cookie: 'server->nofs_flag',
    note: 'Enters a NOFS scope before taking server->_srv_mutex and keeps the cookie in server->nofs_flag; the unlock releases the mutex, then restores.',
    cite: 'fs/smb/client/cifsglob.h:678, :807-821',
  },
  {
    fs: 'fsnotify',
    start: ['fsnotify_group_lock'],
    end: ['fsnotify_group_unlock'],
    scope: 'nofs',
    cookie: 'group->owner_flags',
    note: 'Takes group->mark_mutex, then enters a NOFS scope with the cookie in group->owner_flags, so that reclaim cannot evict an inode whose mark needs the same mutex.',
    cite: 'include/linux/fsnotify_backend.h:221, :263-283',
  },
];

/**
 * A parameter whose type says the function runs inside a transaction's scope:
 * whoever passes a running handle started it, and its scope is the task's.
 * Always *may*: a handle can be passed before it is started, or (ext4 without
 * a journal) have no scope at all, so a GFP_NOFS beside it is neither
 * redundant nor unexplained.
 */
export interface TransactionParam {
  /** Matches the parameter's declaration text (`handle_t *handle`). */
  readonly type: RegExp;
  readonly fs: string;
  readonly flags: readonly string[];
  /** Why, with the kernel lines. */
  readonly why: string;
}

export const TRANSACTION_PARAMS: readonly TransactionParam[] = [
  {
    type: /\bhandle_t\s*\*/,
    fs: 'jbd2 (ext4, ocfs2)',
    flags: ['PF_MEMALLOC_NOFS'],
    why: 'start_this_handle() saves the NOFS cookie in handle->saved_alloc_context (fs/jbd2/transaction.c:449-454) and stop_this_handle() restores it (:739-743); an ext4 handle without a journal has no scope (fs/ext4/ext4_jbd2.c:110-111)',
  },
  {
    type: /\bstruct\s+btree_trans\s*\*/,
    fs: 'bcachefs',
    flags: ['PF_MEMALLOC_NOFS'],
    why: 'trans_set_locked() sets PF_MEMALLOC_NOFS while the btree_trans holds its locks and trans_set_unlocked() clears it (fs/bcachefs/btree_locking.h:191-213); an unlocked trans has no scope',
  },
];

/**
 * Handles of a running transaction, of filesystems whose transactions enter
 * no scope or one the analysis cannot see from the callee (a handle passed
 * in): a function that takes one runs inside a transaction that a caller
 * started, and a GFP_NOFS in it is there for that transaction, whatever lock
 * the function also takes. The scope refactor does not anchor such a site at
 * a lock (its comment would name the wrong reason): the scope belongs where
 * the transaction starts. Rows of TRANSACTION_PARAMS count too.
 */
export const TRANSACTION_HANDLES: ReadonlyArray<{ readonly type: RegExp; readonly fs: string; readonly cite: string }> = [
  { type: /\bstruct\s+btrfs_trans_handle\s*\*/, fs: 'btrfs', cite: 'fs/btrfs/transaction.h:142; fs/btrfs/transaction.c:696 (the handle itself is GFP_NOFS)' },
  { type: /\bstruct\s+xfs_trans\s*\*/, fs: 'xfs', cite: 'fs/xfs/xfs_trans.h:123; the scope is in tp->t_pflags from xfs_trans_alloc()' },
];

/** Whether a parameter is the handle of a running transaction (TRANSACTION_HANDLES, TRANSACTION_PARAMS). */
export function takesTransactionHandle(paramDecls: readonly string[]): boolean {
  return paramDecls.some((d) => TRANSACTION_HANDLES.some((h) => h.type.test(d)) || TRANSACTION_PARAMS.some((t) => t.type.test(d)));
}

/** The transaction a function's parameters say it runs in: the parameter's declaration and its row. */
export function transactionParam(paramDecls: readonly string[]): { readonly decl: string; readonly def: TransactionParam } | undefined {
  for (const decl of paramDecls) {
    const def = TRANSACTION_PARAMS.find((d) => d.type.test(decl));
    if (def) return { decl, def };
  }
  return undefined;
}

/** How `name`, a start of `def`, reports failure; undefined when it cannot fail. */
export function startFailure(def: TransactionDef, name: string): StartFailure | undefined {
  if (def.fails === undefined || typeof def.fails === 'string') return def.fails;
  return def.fails[name];
}

export interface TransactionMatch {
  readonly def: TransactionDef;
  readonly role: 'start' | 'end';
}

export class TransactionTable {
  private readonly byName = new Map<string, TransactionMatch>();

  constructor(extra: readonly TransactionDef[] = []) {
    for (const def of [...TRANSACTIONS, ...extra]) {
      for (const name of def.start) this.byName.set(name, { def, role: 'start' });
      for (const name of def.end) this.byName.set(name, { def, role: 'end' });
    }
  }

  lookup(name: string): TransactionMatch | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
