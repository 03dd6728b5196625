// Findings at one allocation site, from plain data: the site, the task states
// that reach it (one per distinct path state), and the version's model. Pure:
// the analysis in server/ gathers the inputs, this decides what they mean.

import { findingRule, type FindingCode, type Severity } from './findings';
import { fold, scopeExcludes, type EffectiveContext } from './fold';
import type { AllocatorDef } from './model/allocators';
import { B, bits as bitsOf } from './model/gfp-flags';
import type { GfpModel } from './model/gfp-model';
import { hasAll, orBits, exactly, UNKNOWN_BITS, type KnownBits, type Tri } from './model/known-bits';
import { namesIn, MaskSyntaxError } from './model/mask-expr';
import type { SectionKind } from './model/locks';
import { atLeast, inRange, type KernelVersion } from './model/version';

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface ScopeOrigin {
  readonly flag: string;
  /**
   * 'save': a memalloc_*_save() here; 'direct': a current->flags write;
   * 'callee': entered by a call; 'assert': the kernel asserts it is held
   * (`WARN_ON_ONCE(!(current->flags & PF_MEMALLOC_NOFS))`); 'param': a
   * parameter is a running transaction (`handle_t *handle`), whose scope
   * the caller may be in.
   */
  readonly kind: 'save' | 'direct' | 'callee' | 'assert' | 'param';
  readonly name: string;
  readonly span: Span;
  /** A callee that enters the scope on some paths only (ext4_journal_start()), or an assertion under a condition. */
  readonly conditional: boolean;
  /**
   * For 'save' and 'direct': the condition assumptions every path to the save
   * makes (`c`, `!#defined(CONFIG_X)`), i.e. the conditions it was made under.
   */
  readonly guard?: readonly string[];
}

export interface HeldSection {
  readonly kind: SectionKind;
  readonly atomic: boolean;
  readonly name: string;
  readonly lock: string;
  readonly span: Span;
  /** Taken inside the called function `name` (a lock wrapper). */
  readonly viaCallee?: boolean;
}

/** One task state reaching the site. */
export interface PathState {
  /** Task flags set on this path. */
  readonly pf: readonly string[];
  readonly origins: readonly ScopeOrigin[];
  readonly held: readonly HeldSection[];
  /** The path went through something the analysis could not follow. */
  readonly unknown: boolean;
  /** Condition assumptions that distinguish this path (`c`, `!#defined(CONFIG_X)`), for messages. */
  readonly assumptions: readonly string[];
  /** On this path the function released a lock it did not take: its caller's (an unlock wrapper, a drop-and-retake). */
  readonly releasedCallers?: boolean;
}

export interface SiteInput {
  readonly callee: string;
  readonly allocator: AllocatorDef;
  readonly span: Span;
  readonly calleeSpan: Span;
  /** The gfp argument's text and span; absent for implicit masks. */
  readonly gfp?: { readonly text: string; readonly span: Span };
  readonly args: readonly { readonly text: string; readonly span: Span }[];
  /** Distinct states reaching the site; empty when the site is unreachable. */
  readonly states: readonly PathState[];
  /** The function could not be followed (too many states, or a large ERROR region): context unknown. */
  readonly contextUnknown: boolean;
  /** The call's arguments could not be parsed reliably: the requested mask is unknown. */
  readonly maskUnknown?: boolean;
  /** The contexts at the calls of the enclosing function, when the workspace index followed them. */
  readonly callers?: CallerContext;
}

/** How many of a function's known call sites have each context (the workspace index's caller contexts). */
export interface CallerCounts {
  readonly yes: number;
  readonly no: number;
  readonly varies: number;
  readonly unknown: number;
}

/**
 * The contexts at the call sites of one function, across the tree, through
 * static helpers whose own callers decide (a static helper with no scope of its
 * own is in whatever scope its callers are). `fs`/`io` count call sites inside
 * a scope that excludes __GFP_FS / __GFP_IO ("yes" = in scope); `atomic`, call
 * sites under an atomic section.
 */
export interface CallerContext {
  readonly count: number;
  readonly fs: CallerCounts;
  readonly io: CallerCounts;
  readonly atomic: CallerCounts;
}

/** The JSON `callers` object of a site: its verdicts once the callers' contexts are folded in. */
export interface CallerVerdicts {
  readonly count: number;
  readonly fs: Verdict;
  readonly io: Verdict;
  readonly mayBlock: Verdict;
  readonly atomic: Verdict;
}

export interface FixEdit {
  readonly span: Span;
  readonly text: string;
}

export interface FixData {
  readonly title: string;
  readonly edits: readonly FixEdit[];
  /** Whether this fix is the preferred one for the finding (quick-fix `isPreferred`). */
  readonly preferred?: boolean;
}

export interface Related {
  readonly span: Span;
  readonly message: string;
}

export interface FindingData {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly related: readonly Related[];
  readonly fixes: readonly FixData[];
}

export type Verdict = 'yes' | 'no' | 'varies' | 'unknown';

export interface ContextVariant {
  readonly context: EffectiveContext;
  readonly canonical: string;
  readonly states: readonly PathState[];
}

export interface SiteEvaluation {
  /** The requested mask after what the allocator adds (kzalloc's __GFP_ZERO). */
  readonly requested: KnownBits;
  readonly requestedText: string;
  /** Names and expressions in the mask the model could not evaluate (`gfp`, `mapping_gfp_mask(m)`). */
  readonly unknownNames: readonly string[];
  readonly variants: readonly ContextVariant[];
  readonly fs: Verdict;
  readonly io: Verdict;
  readonly mayBlock: Verdict;
  readonly atomic: Verdict;
  readonly findings: readonly FindingData[];
  /** The verdicts with the callers' contexts folded in (SiteInput.callers). */
  readonly callers?: CallerVerdicts;
  /** A written GFP_NOFS/GFP_NOIO with no scope for it on any path of its own function (whatever the callers do). */
  readonly outsideLocalScope?: boolean;
}

const PAGE_SIZE = 4096;

function verdict(values: readonly Tri[]): Verdict {
  if (values.length === 0 || values.includes('unknown')) return 'unknown';
  if (values.every((v) => v === 'yes')) return 'yes';
  if (values.every((v) => v === 'no')) return 'no';
  return 'varies';
}

/**
 * A site's verdicts once its function's callers are folded in: a mask that
 * keeps __GFP_FS here loses it at the calls made inside a NOFS scope, and a
 * section held by a caller is held here too.
 */
function callerVerdicts(callers: CallerContext, known: boolean, contexts: readonly EffectiveContext[], atomicPerState: readonly Tri[], sleeps: boolean, releasesCallers: boolean): CallerVerdicts {
  const fold = (local: Verdict, inScope: CallerCounts): Verdict => {
    if (!known || local === 'unknown') return 'unknown';
    // Locally cleared stays cleared whatever the callers do.
    if (local === 'no' || callers.count === 0) return local;
    if (inScope.unknown > 0) return 'unknown';
    if (inScope.yes === callers.count) return 'no';
    if (inScope.yes + inScope.varies > 0) return 'varies';
    return local;
  };
  const held = (local: Verdict): Verdict => {
    if (!known || local === 'unknown') return 'unknown';
    // A function that drops its caller's lock before the site
    // (btrfs/free-space-cache.c, ceph/xattr.c) is not under the caller's section there.
    if (local === 'yes' || callers.count === 0 || releasesCallers) return local;
    const a = callers.atomic;
    if (a.unknown > 0) return 'unknown';
    if (local === 'no' && a.yes === callers.count) return 'yes';
    if (a.yes + a.varies > 0) return 'varies';
    return local;
  };
  return {
    count: callers.count,
    fs: fold(verdict(contexts.map((c) => hasAll(c.effective, B.FS))), callers.fs),
    io: fold(verdict(contexts.map((c) => hasAll(c.effective, B.IO))), callers.io),
    mayBlock: known ? verdict(contexts.map((c) => (sleeps ? 'yes' : c.mayBlock))) : 'unknown',
    atomic: held(verdict([...atomicPerState])),
  };
}

function finding(code: FindingCode, message: string, span: Span, related: Related[] = [], fixes: FixData[] = [], severity?: Severity): FindingData {
  return { code, severity: severity ?? findingRule(code).severity, message, span, related, fixes };
}

/** Parses a C integer constant; undefined for anything else. */
function constantInt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\(?\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** Whether this allocation can sleep regardless of its mask (vmalloc before non-blocking support). */
function vmallocNonBlockingSupport(model: GfpModel): 'no' | 'yes' | 'unknown' {
  if (atLeast(model.version, '7.0')) return 'yes';
  if (atLeast(model.version, '6.13')) return 'unknown';
  return 'no';
}

function originWords(o: ScopeOrigin): string {
  const kind = o.flag.replace('PF_MEMALLOC_', '').replace('PF_MEMALLOC', 'noreclaim');
  if (o.kind === 'save') return `the ${kind} scope opened by ${o.name}()`;
  if (o.kind === 'callee') return `the ${kind} scope entered by ${o.name}()${o.conditional ? ' on some paths' : ''}`;
  if (o.kind === 'assert') return `the ${kind} scope that ${o.name}() asserts${o.conditional ? ' on some paths' : ''}`;
  if (o.kind === 'param') return `the ${kind} scope of the transaction passed in as \`${o.name}\`, if it is running`;
  return `${o.flag} set in current->flags`;
}

/** Whether the origin is a scope opened in this function (a save or a current->flags write). */
function isLocalOrigin(o: ScopeOrigin): boolean {
  return o.kind === 'save' || o.kind === 'direct';
}

/**
 * The flags a path holds for certain: those with a certain origin. A flag
 * with several origins on the path (a conditional callee's scope, and a
 * transaction start inside it) is certain when any one of them is.
 */
function certainFlags(s: PathState): string[] {
  return s.pf.filter((f) => {
    const origins = s.origins.filter((o) => o.flag === f);
    return origins.length === 0 || origins.some((o) => !o.conditional);
  });
}

/**
 * Why a name is missing from version `v`: it "appeared in X" when `v` is older
 * than its first version, else it "was removed in Y". A name with both bounds
 * (PF_MEMALLOC_NORECLAIM, 6.9-6.11) is missing on either side.
 */
export function versionWhen(v: KernelVersion, range: { readonly since?: string; readonly until?: string }): string {
  if (range.since !== undefined && !atLeast(v, range.since)) return `appeared in ${range.since}`;
  if (range.until !== undefined) return `was removed in ${range.until}`;
  return `is not in this version`;
}

/** Replaces whole-word `from` by `to` in a mask's text, keeping the other modifiers. */
export function replaceMaskName(text: string, from: string, to: string): string {
  return text.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
}

export function evaluateSite(site: SiteInput, model: GfpModel): SiteEvaluation {
  const findings: FindingData[] = [];
  const def = site.allocator;
  const v = model.version;

  // ---- the requested mask --------------------------------------------------
  let requested: KnownBits = UNKNOWN_BITS;
  let requestedText: string;
  let unknownNames: string[] = [];
  let names: string[] = [];
  if (site.maskUnknown) {
    requestedText = 'unknown';
    unknownNames = ['(unparsed arguments)'];
  } else if (site.gfp) {
    requestedText = site.gfp.text;
    try {
      const value = model.evaluate(site.gfp.text);
      requested = value.bits;
      unknownNames = [...value.unknown];
      names = namesIn(value.ast);
    } catch (e) {
      if (!(e instanceof MaskSyntaxError)) throw e;
      unknownNames = [site.gfp.text];
    }
  } else {
    const implicit = def.gfp.kind === 'implicit' ? def.gfp.mask : def.gfp.kind === 'optional' ? def.gfp.default : 'GFP_KERNEL';
    requestedText = implicit;
    requested = model.evaluate(implicit).bits;
  }
  if (def.adds && !site.maskUnknown) requested = orBits(requested, exactly(model.evaluate(def.adds).bits.set));

  // ---- findings that depend on the mask alone -----------------------------
  const gfpSpan = site.gfp?.span ?? site.calleeSpan;
  for (const name of names) {
    const other = model.elsewhere(name);
    if (!other) continue;
    const when = versionWhen(v, other);
    findings.push(finding('gfp/removed-flag', `${name} ${when}; kernel ${model.version.major}.${model.version.minor} does not have it.`, gfpSpan));
  }
  const nofail = hasAll(requested, B.NOFAIL);
  if (nofail === 'yes') {
    const conflicting = ['__GFP_NORETRY', '__GFP_RETRY_MAYFAIL'].filter((n) => hasAll(requested, bitsOf(n)) === 'yes');
    for (const c of conflicting) {
      const fixes: FixData[] = site.gfp && new RegExp(`\\|\\s*${c}\\b|\\b${c}\\s*\\|`).test(site.gfp.text)
        ? [{ title: `Drop ${c}`, edits: [{ span: site.gfp.span, text: site.gfp.text.replace(new RegExp(`\\s*\\|\\s*${c}\\b|\\b${c}\\s*\\|\\s*`), '') }], preferred: true }]
        : [];
      findings.push(finding('gfp/nofail-conflict', `__GFP_NOFAIL retries forever, so ${c} here is ignored and misleads readers; drop one of them.`, gfpSpan, [], fixes));
    }
    if (def.backend === 'page' && def.orderArg !== undefined) {
      const order = constantInt(site.args[def.orderArg]?.text);
      if (order !== undefined && order > 1) {
        findings.push(finding('gfp/nofail-high-order', `__GFP_NOFAIL with order ${order}: the buddy allocator does not support NOFAIL above order 1 and WARNs; use kvmalloc() instead.`, site.args[def.orderArg]!.span));
      }
    }
  }
  if (def.backend === 'slab') {
    for (const [bit, name] of [[B.HIGHMEM, '__GFP_HIGHMEM'], [B.DMA32, '__GFP_DMA32']] as const) {
      if (hasAll(requested, bit) === 'yes') {
        findings.push(finding('gfp/slab-bug-mask', `${name} is in GFP_SLAB_BUG_MASK: the slab allocator strips it with a "Fix your code!" warning, and the memory does not come from that zone.`, gfpSpan));
      }
    }
  }
  const vmallocNofsIgnored = def.backend === 'vmalloc' && !inRange(v, '5.17') && hasAll(requested, B.DIRECT_RECLAIM) === 'yes' && hasAll(requested, B.FS) === 'no';

  // ---- the effective contexts ---------------------------------------------
  const reachable = site.states;
  const contextKnown = !site.contextUnknown && reachable.length > 0 && reachable.every((s) => !s.unknown);
  // gfp/vmalloc-nofs-ignored, unless every path already runs inside a scope that
  // covers what the mask asks: that scope is the documented fix, and it reaches
  // the page-table allocations that ignore the mask.
  if (vmallocNofsIgnored) {
    const wantsNoio = hasAll(requested, B.IO) === 'no';
    const covered = contextKnown && reachable.every((s) => {
      const ex = scopeExcludes(new Set(certainFlags(s)), v);
      return ex.fs && (!wantsNoio || ex.io);
    });
    if (!covered) {
      findings.push(finding('gfp/vmalloc-nofs-ignored', `Before 5.17 vmalloc allocates page tables with GFP_KERNEL, so ${requestedText} does not prevent reclaim recursion here; use memalloc_nofs_save()/memalloc_nofs_restore() around the call with a comment saying why.`, gfpSpan));
    }
  }
  const variantsByKey = new Map<string, { context: EffectiveContext; states: PathState[] }>();
  for (const state of reachable) {
    const context = fold(requested, state.pf, v);
    // Variants differ by what the allocator does: the effective mask, and PF_MEMALLOC,
    // which changes reclaim without touching the mask.
    const key = `${context.effective.set}/${context.effective.clear}/${context.directReclaim}`;
    const existing = variantsByKey.get(key);
    if (existing) existing.states.push(state);
    else variantsByKey.set(key, { context, states: [state] });
  }
  const variants: ContextVariant[] = [...variantsByKey.values()].map((x) => ({ context: x.context, states: x.states, canonical: model.describe(x.context.effective) }));
  const atomicPerState: Tri[] = reachable.map((s) => (s.unknown ? 'unknown' : s.held.some((h) => h.atomic) ? 'yes' : 'no'));
  const contexts = reachable.map((s) => fold(requested, s.pf, v));
  const result = (extra: FindingData[]): SiteEvaluation => ({
    requested,
    requestedText,
    unknownNames,
    variants,
    fs: contextKnown ? verdict(contexts.map((c) => hasAll(c.effective, B.FS))) : 'unknown',
    io: contextKnown ? verdict(contexts.map((c) => hasAll(c.effective, B.IO))) : 'unknown',
    mayBlock: contextKnown ? verdict(contexts.map((c) => alwaysSleeps(def, model) ? 'yes' : c.mayBlock)) : 'unknown',
    atomic: contextKnown ? verdict(atomicPerState) : 'unknown',
    findings: [...findings, ...extra],
    ...(site.callers ? { callers: callerVerdicts(site.callers, contextKnown, contexts, atomicPerState, alwaysSleeps(def, model), reachable.some((s) => s.releasedCallers === true)) } : {}),
    ...(outsideLocalScope ? { outsideLocalScope } : {}),
  });
  let outsideLocalScope = false;
  if (!contextKnown) return result([]);

  const extra: FindingData[] = [];

  // gfp/sleep-in-atomic
  const sleepy = contexts.map((c) => (alwaysSleeps(def, model) ? 'yes' : c.mayBlock));
  const atomicSleep = reachable.map((s, i) => (s.held.some((h) => h.atomic) ? sleepy[i] : 'no'));
  if (atomicSleep.includes('yes')) {
    const must = atomicSleep.every((x) => x === 'yes');
    const state = reachable[atomicSleep.indexOf('yes')];
    const section = [...state.held].reverse().find((h) => h.atomic)!;
    const why = hasAll(contexts[atomicSleep.indexOf('yes')].effective, B.DIRECT_RECLAIM) === 'yes' ? `${requestedText} may sleep` : `${site.callee}() can sleep whatever the mask`;
    const fixes = atomicFixes(site, requested);
    extra.push(finding(
      'gfp/sleep-in-atomic',
      `${why}, but ${section.viaCallee ? `${section.kind.replace('_', ' ')} ${section.lock}, taken by ${section.name}(),` : `${section.name}(${section.lock})`} is held${must ? '' : ' on some paths'}: sleeping in atomic context. Use GFP_NOWAIT (or GFP_ATOMIC if reserves are justified) and handle failure, or allocate before taking the lock.`,
      site.calleeSpan,
      [{ span: section.span, message: section.viaCallee ? `${section.name}() takes it here` : `${section.name}() taken here` }],
      fixes,
      must ? 'error' : 'warning',
    ));
  }

  // gfp/nofail-cannot-reclaim
  if (nofail === 'yes') {
    const cannot = contexts.map((c) => c.directReclaim === 'no');
    if (cannot.some(Boolean)) {
      const must = cannot.every(Boolean);
      const i = cannot.indexOf(true);
      const state = reachable[i];
      const byScope = state.pf.includes('PF_MEMALLOC') || state.pf.includes('PF_MEMALLOC_NORECLAIM');
      const origin = state.origins.find((o) => o.flag === 'PF_MEMALLOC' || o.flag === 'PF_MEMALLOC_NORECLAIM');
      const why = byScope && hasAll(requested, B.DIRECT_RECLAIM) === 'yes'
        ? `it runs inside ${origin ? originWords(origin) : 'a no-reclaim scope'}, where the allocator cannot reclaim`
        : `${requestedText} has no __GFP_DIRECT_RECLAIM`;
      extra.push(finding(
        'gfp/nofail-cannot-reclaim',
        `__GFP_NOFAIL cannot be honoured${must ? '' : ' on some paths'}: ${why}. The allocator WARNs and may return NULL anyway.`,
        gfpSpan,
        origin ? [{ span: origin.span, message: `${origin.name}() here` }] : [],
        [],
        must ? 'error' : 'warning',
      ));
    }
  }

  // gfp/vmalloc-nonblocking (outside atomic sections; inside, sleep-in-atomic says it)
  if (!atomicSleep.includes('yes')) {
    const nonBlocking = contexts.every((c) => c.mayBlock === 'no');
    if (nonBlocking && def.backend === 'vmalloc' && vmallocNonBlockingSupport(model) === 'no') {
      extra.push(finding('gfp/vmalloc-nonblocking', `vmalloc does not support non-blocking masks in this kernel: ${site.callee}() with ${requestedText} can still sleep (page-table and vmap-area allocation). Allocate from process context, or use kmalloc.`, gfpSpan));
    }
    if (nonBlocking && def.backend === 'kvmalloc' && vmallocNonBlockingSupport(model) === 'no') {
      const size = def.sizeArg !== undefined ? constantInt(site.args[def.sizeArg]?.text) : undefined;
      if (size === undefined || size > PAGE_SIZE) {
        extra.push(finding('gfp/vmalloc-nonblocking', `${site.callee}() with the non-blocking ${requestedText} never falls back to vmalloc: above a page it returns NULL once kmalloc fails.`, gfpSpan, [], [], 'information'));
      }
    }
  }

  // NOFS/NOIO as written vs the scopes in force.
  // Only a written GFP_NOFS/GFP_NOIO that takes effect counts: `GFP_KERNEL | GFP_NOFS`
  // (xfs_inode_item_precommit_check) is GFP_KERNEL, since the OR brings __GFP_FS back.
  // A mask that is a policy input of the callee (jbd2's handle start) is not
  // reclaim protection alone: scopes do not make it redundant or explain it.
  const judged = site.gfp !== undefined && def.gfpPolicy === undefined;
  const writesNoio = judged && /\bGFP_NOIO\b/.test(site.gfp!.text) && hasAll(requested, B.IO) === 'no' && hasAll(requested, B.FS) === 'no';
  const writesNofs = judged && /\bGFP_NOFS\b/.test(site.gfp!.text) && hasAll(requested, B.FS) === 'no';
  if (writesNofs || writesNoio) {
    const written = writesNoio ? 'GFP_NOIO' : 'GFP_NOFS';
    const needs = (pf: readonly string[]) => {
      const ex = scopeExcludes(new Set(pf), v);
      return writesNoio ? ex.io && ex.fs : ex.fs;
    };
    // A scope counts when some origin of it on the path is certain (not a conditional callee).
    const certain = reachable.map((s) => needs(certainFlags(s)));
    const any = reachable.map((s) => needs(s.pf));
    if (certain.every(Boolean)) {
      const fits = (o: ScopeOrigin) => (writesNoio ? o.flag === 'PF_MEMALLOC_NOIO' : o.flag === 'PF_MEMALLOC_NOFS' || o.flag === 'PF_MEMALLOC_NOIO');
      const origin = reachable[0].origins.find((o) => fits(o) && !o.conditional) ?? reachable[0].origins.find(fits);
      const replacement = replaceMaskName(site.gfp!.text, written, 'GFP_KERNEL');
      extra.push(finding(
        'gfp/redundant-nofs',
        `${written} is redundant: every path here is inside ${origin ? originWords(origin) : 'a scope'}, which already clears ${writesNoio ? '__GFP_IO and __GFP_FS' : '__GFP_FS'}. Write ${replacement}.`,
        site.gfp!.span,
        origin ? [{ span: origin.span, message: `${origin.name}() ${origin.kind === 'callee' ? 'enters the scope' : origin.kind === 'assert' ? 'asserts the scope' : 'opens the scope'} here` }] : [],
        [{ title: `Use GFP_KERNEL: the scope already excludes ${writesNoio ? 'IO' : 'FS'}`, edits: [{ span: site.gfp!.span, text: replacement }], preferred: true }],
      ));
    } else if (!any.some(Boolean) && !reachable.some((s) => s.origins.some((o) => o.conditional))) {
      outsideLocalScope = true;
      // A caller that calls this function inside the scope is a path with a
      // scope too: then the mask has a reason, recorded in the caller.
      const callersInScope = site.callers ? (writesNoio ? site.callers.io : site.callers.fs) : undefined;
      const explained = callersInScope !== undefined && callersInScope.yes + callersInScope.varies > 0;
      const where = reachable.some((s) => s.pf.length > 0) ? `with no ${writesNoio ? 'NOIO' : 'NOFS'} scope on any path` : 'outside any scope';
      if (!explained) extra.push(finding(
        'gfp/nofs-outside-scope',
        `${written} ${where}: the reason for it is not recorded. Prefer memalloc_${writesNoio ? 'noio' : 'nofs'}_save() where the transaction starts or the reclaim-critical lock is taken, with a comment, and GFP_KERNEL inside.`,
        site.gfp!.span,
      ));
    }
  }

  // gfp/partial-scope: a scope opened *here* covers some paths only.
  if (variants.length > 1) {
    const localFlags = (s: PathState) => s.origins.filter(isLocalOrigin).map((o) => o.flag).sort().join(',');
    const masks = new Set(contexts.map((c) => `${c.effective.set}/${c.effective.clear}`));
    const locals = new Set(reachable.map(localFlags));
    const unexplained = masks.size > 1 && locals.size > 1 ? unexplainedPath(reachable) : undefined;
    if (unexplained) {
      const origin = unexplained.origin;
      const without = unexplained.state;
      const pathNote = without.assumptions.length > 0 ? ` (not on the path where ${without.assumptions.map(showAssumption).join(' && ')})` : '';
      extra.push(finding(
        'gfp/partial-scope',
        `The effective mask depends on the path: ${origin ? originWords(origin) : 'a scope'} covers this allocation on some paths only${pathNote} (${variants.map((x) => x.canonical).join(' or ')}). A save or restore is probably missing on one branch.`,
        site.calleeSpan,
        origin ? [{ span: origin.span, message: `${origin.name}() opens the scope here` }] : [],
      ));
    }
  }
  return result(extra);
}

/**
 * A path that a scope opened in this function does not cover although
 * nothing explains why, with that scope's origin; undefined when every
 * uncovered path is explained. A path is explained when it contradicts a
 * condition the save was made under: `if (c) save ... if (c) restore`, an
 * else-if chain choosing NOFS, NOIO or nothing, `#ifdef CONFIG_X`. The
 * context varies there on purpose (hovers and inlay hints say so); it is not
 * a missing save or restore. A path that could have run the save and has no
 * scope lost it to a restore on one branch (a forgotten return) or to a
 * condition that changed in between: that is the finding.
 */
function unexplainedPath(states: readonly PathState[]): { state: PathState; origin: ScopeOrigin } | undefined {
  const opened = new Map<number, ScopeOrigin>();
  for (const s of states) for (const o of s.origins) if (isLocalOrigin(o) && !opened.has(o.span.start)) opened.set(o.span.start, o);
  for (const [at, origin] of opened) {
    const guard = origin.guard ?? [];
    for (const s of states) {
      if (s.origins.some((o) => isLocalOrigin(o) && o.span.start === at)) continue;
      if (!guard.some((g) => s.assumptions.includes(negateAssumption(g)))) return { state: s, origin };
    }
  }
  return undefined;
}

function negateAssumption(a: string): string {
  return a.startsWith('!') ? a.slice(1) : `!${a}`;
}

/** `!x == y` reads as `(!x) == y`: parenthesise negated expressions for messages. */
function showAssumption(a: string): string {
  return a.startsWith('!') && !/^![\w.>#()-]+$/.test(a) ? `!(${a.slice(1)})` : a;
}

function alwaysSleeps(def: AllocatorDef, model: GfpModel): boolean {
  return def.backend === 'vmalloc' && vmallocNonBlockingSupport(model) === 'no';
}

/** "Use GFP_NOWAIT" / "Use GFP_ATOMIC", keeping the modifiers that stay valid. */
function atomicFixes(site: SiteInput, requested: KnownBits): FixData[] {
  if (!site.gfp || site.allocator.backend === 'vmalloc') return [];
  const base = /\b(GFP_KERNEL|GFP_NOFS|GFP_NOIO|GFP_USER|GFP_KERNEL_ACCOUNT)\b/.exec(site.gfp.text);
  if (!base) return [];
  if (hasAll(requested, B.NOFAIL) === 'yes') return []; // NOFAIL cannot be made non-blocking; the code must change
  const account = base[1] === 'GFP_KERNEL_ACCOUNT' ? ' | __GFP_ACCOUNT' : '';
  const make = (to: string): FixData => ({
    title: `Use ${to} (the caller must handle failure)`,
    edits: [{ span: site.gfp!.span, text: site.gfp!.text.replace(base[0], `${to}${account}`) }],
    preferred: to === 'GFP_NOWAIT',
  });
  return [make('GFP_NOWAIT'), make('GFP_ATOMIC')];
}
