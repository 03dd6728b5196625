// The abstract task state that flows through a function: which task flags are
// set and by whom, which cookies variables hold, which scopes are open, which
// locks and atomic sections are held, which transactions are open, and what is
// assumed about branch conditions on this path.
//
// The dataflow keeps a *set* of these per program point (path-sensitive up to
// a bound). States whose task part is equal are merged, keeping only the
// condition assumptions they share; states that differ stay apart, which is
// how "the context varies with the path" and correlated conditions
// (`if (c) save ... if (c) restore`) come out right.

import type { SectionKind } from '../../shared/model/locks';
import type { GuardOp, Span } from '../syntax/ir';

/** A task flag's value: set or clear on this path, or as the caller had it ('entry'), or unknowable. */
export type BitVal = 'set' | 'clear' | 'entry' | 'unknown';

export type OriginKind =
  /** memalloc_*_save() / memalloc_flags_save() in this function. */
  | 'save'
  /** A callee entered it (a transaction start, a summarised function). */
  | 'callee'
  /** current->flags written directly. */
  | 'direct'
  /**
   * The kernel asserts it: after `WARN_ON_ONCE(!(current->flags & PF_X))` the
   * paths that go on hold PF_X (or the kernel has warned). Not a scope this
   * function enters: summaries do not carry it to callers.
   */
  | 'assert'
  /**
   * A parameter says so: a running transaction handle passed in (`handle_t
   * *handle`) means the caller is in its scope, on some paths (see
   * TRANSACTION_PARAMS). Not a scope this function enters either.
   */
  | 'param'
  /** A restore (or end of transaction) cleared it. */
  | 'restore';

export interface Origin {
  readonly kind: OriginKind;
  /** The call or write (a save's call span; a callee call's span). */
  readonly span: Span;
  /** The function called: memalloc_nofs_save, xfs_trans_alloc, ... */
  readonly name: string;
  /** For 'save': the save's id, which its cookie carries. */
  readonly saveId?: number;
  /** For 'callee' and 'assert': whether the scope is entered (or asserted) on some paths only. */
  readonly conditional?: boolean;
  /** For a 'restore' of a cookie saved elsewhere: the cookie's home (`field:t_pflags`, `param:1`). */
  readonly home?: string;
}

export interface FlagState {
  readonly v: BitVal;
  readonly by?: Origin;
}

/** What a variable holds, as far as scopes are concerned. */
export type Cookie =
  /** The return value of a save: the flags it set, and their values before it. */
  | {
      readonly kind: 'cookie';
      readonly saveId: number;
      readonly api: string;
      readonly flags: readonly string[];
      readonly old: Readonly<Record<string, BitVal>>;
      /**
       * Flags that were set by a conditional origin when this save (or callee)
       * set them for certain: the state names the certain origin while the
       * scope is open, and the conditional one again once it ends.
       */
      readonly outer?: Readonly<Record<string, Origin>>;
    }
  /** A copy of current->flags (`pflags = current->flags`), for current_restore_flags(). */
  | { readonly kind: 'snapshot'; readonly old: Readonly<Record<string, BitVal>> }
  /** A constant (`flags = 0`). */
  | { readonly kind: 'const'; readonly value: string };

export interface Held {
  readonly kind: SectionKind;
  readonly atomic: boolean;
  /** The lock object's text (`&inode->i_lock`), '' for per-CPU sections. */
  readonly lock: string;
  /** The acquiring call's name and span. */
  readonly name: string;
  readonly span: Span;
  /** For cleanup guards: the block whose end releases it. */
  readonly guardBlock?: number;
  readonly guard?: GuardOp;
  /** Taken inside the called function `name` (a lock wrapper), not by a lock call here. */
  readonly viaCallee?: boolean;
}

export interface OpenTransaction {
  readonly fs: string;
  readonly name: string;
  readonly span: Span;
  /** The hidden cookie key when the start entered a scope. */
  readonly cookieKey?: string;
  /** The start failed on this path (its error return): no scope to leave at its end. */
  readonly failed?: boolean;
}

export interface State {
  /** Flags that are not 'entry'. */
  readonly pf: ReadonlyMap<string, FlagState>;
  readonly cookies: ReadonlyMap<string, Cookie>;
  /** Save ids still open on this path, oldest first. */
  readonly open: readonly number[];
  readonly held: readonly Held[];
  /** Locks released here that this function did not take: the caller held them (an unlock wrapper). */
  readonly released?: ReadonlyArray<{ readonly kind: Held['kind']; readonly lock: string }>;
  readonly trans: readonly OpenTransaction[];
  readonly conds: ReadonlyMap<string, boolean>;
  /** Something this path went through could not be followed (an opaque ERROR region, a lost goto). */
  readonly unknown: boolean;
}

/** The task flags the dataflow tracks: those that change an allocation, in any version. */
export const MODELLED_TASK_FLAGS: readonly string[] = ['PF_MEMALLOC', 'PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO', 'PF_MEMALLOC_PIN', 'PF_MEMALLOC_NORECLAIM', 'PF_MEMALLOC_NOWARN'];

export const ENTRY_STATE: State = {
  pf: new Map(),
  cookies: new Map(),
  open: [],
  held: [],
  trans: [],
  conds: new Map(),
  unknown: false,
};

export function flagValue(s: State, flag: string): FlagState {
  return s.pf.get(flag) ?? { v: 'entry' };
}

export function withFlag(s: State, flag: string, value: FlagState): State {
  const pf = new Map(s.pf);
  if (value.v === 'entry') pf.delete(flag);
  else pf.set(flag, value);
  return { ...s, pf };
}

export function withCookie(s: State, name: string, cookie: Cookie | undefined): State {
  const cookies = new Map(s.cookies);
  if (cookie) cookies.set(name, cookie);
  else cookies.delete(name);
  return { ...s, cookies };
}

const spanKey = (sp: Span): string => `${sp.start}`;

function originKey(o: Origin | undefined): string {
  return o ? `${o.kind}@${spanKey(o.span)}${o.conditional ? '?' : ''}` : '';
}

const keyCache = new WeakMap<State, string>();

/**
 * Key of everything but the condition assumptions: states with equal keys
 * merge. States are immutable and most transfers return their input, so the
 * key is computed once per state object.
 */
export function taskKey(s: State): string {
  let key = keyCache.get(s);
  if (key === undefined) {
    key = computeTaskKey(s);
    keyCache.set(s, key);
  }
  return key;
}

/** The same state with other condition assumptions: same task key, no recomputation. */
export function withConds(s: State, conds: ReadonlyMap<string, boolean>): State {
  const next = { ...s, conds };
  const key = keyCache.get(s);
  if (key !== undefined) keyCache.set(next, key);
  return next;
}

function computeTaskKey(s: State): string {
  const parts: string[] = [];
  for (const [f, st] of [...s.pf].sort((a, b) => (a[0] < b[0] ? -1 : 1))) parts.push(`${f}=${st.v}:${originKey(st.by)}`);
  parts.push('|');
  for (const [name, c] of [...s.cookies].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    parts.push(`${name}=${c.kind === 'cookie' ? `c${c.saveId}:${Object.entries(c.old).map(([k, v]) => `${k}${v}`).join(',')}${c.outer ? `^${Object.entries(c.outer).map(([k, o]) => `${k}${originKey(o)}`).join(',')}` : ''}` : c.kind === 'snapshot' ? `s${Object.entries(c.old).map(([k, v]) => `${k}${v}`).join(',')}` : `k${c.value}`}`);
  }
  parts.push('|', s.open.join(','), '|');
  for (const h of s.held) parts.push(`${h.kind}:${h.lock}@${spanKey(h.span)}`);
  for (const r of s.released ?? []) parts.push(`-${r.kind}:${r.lock}`);
  parts.push('|');
  for (const t of s.trans) parts.push(`${t.name}@${spanKey(t.span)}${t.failed ? '!' : ''}`);
  parts.push(s.unknown ? '|?' : '|');
  return parts.join(' ');
}

/** Merges two states with the same task key: keeps the condition assumptions both make. */
export function mergeConds(a: State, b: State): State {
  if (a.conds.size === 0) return a;
  const conds = new Map<string, boolean>();
  for (const [k, v] of a.conds) if (b.conds.get(k) === v) conds.set(k, v);
  return conds.size === a.conds.size ? a : withConds(a, conds);
}
