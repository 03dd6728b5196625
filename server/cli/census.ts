// The report's per-file data, computed in the worker thread from the same
// analysis `check` runs (analyzeIR's result): every explicit GFP_NOFS/GFP_NOIO
// site with its category, every memalloc_*_save() with the allocation sites
// its scope covers, and the callees that enter scopes. Plain data out
// (shared/report.ts), so it travels back from the worker as is.
//
// Categories, in precedence order (the first that applies):
//   under-atomic  the site's atomic verdict is yes or varies (in its function:
//                 the callers' verdict of the workspace index is not used, as
//                 check reports no finding for it; it misses a callee that
//                 releases its caller's lock before allocating);
//   redundant     the analysis reports gfp/redundant-nofs there;
//   convertible   the headline refactor finds an anchor (nofsScopeAnchor():
//                 a dominating transaction start, else a sleeping lock);
//   unexplained   the analysis reports gfp/nofs-outside-scope there (no path
//                 has a scope) and no anchor exists;
//   other         the rest (a scope on some paths only, a conditional callee
//                 scope, a context the analysis could not follow).

import type { PathState, ScopeOrigin } from '../../shared/evaluate';
import { B } from '../../shared/model/gfp-flags';
import { hasAll } from '../../shared/model/known-bits';
import type { CensusScope, CensusSite, FileCensus } from '../../shared/report';
import type { FileAnalysis, SiteResult } from '../analysis/analyze-file';
import type { AnalysisContext } from '../analysis/context';
import { nofsScopeAnchor, type AnchorInput } from '../features/refactor';

type Position = (offset: number) => { line: number; character: number };

/**
 * The written GFP_NOFS or GFP_NOIO of a site, when it takes effect: the same
 * test as shared/evaluate.ts applies before gfp/redundant-nofs and
 * gfp/nofs-outside-scope (`GFP_KERNEL | GFP_NOFS` is GFP_KERNEL, not NOFS; a
 * mask that is a policy input of the callee, as jbd2__journal_start()'s, is
 * not an allocation's protection).
 */
export function writtenNofs(site: SiteResult): 'GFP_NOFS' | 'GFP_NOIO' | undefined {
  const text = site.input.gfp?.text;
  if (text === undefined || site.input.allocator.gfpPolicy !== undefined) return undefined;
  const requested = site.evaluation.requested;
  if (/\bGFP_NOIO\b/.test(text) && hasAll(requested, B.IO) === 'no' && hasAll(requested, B.FS) === 'no') return 'GFP_NOIO';
  if (/\bGFP_NOFS\b/.test(text) && hasAll(requested, B.FS) === 'no') return 'GFP_NOFS';
  return undefined;
}

const flagWord = (flag: string): string => flag.replace('PF_MEMALLOC_', '').replace('PF_MEMALLOC', 'NORECLAIM');

/** Where a scope came from, in a few words (as shared/evaluate.ts's messages say it). */
function originPhrase(o: ScopeOrigin, pos: Position): string {
  const line = pos(o.span.start).line + 1;
  const kind = flagWord(o.flag);
  switch (o.kind) {
    case 'save':
      return `${kind} scope of ${o.name}() at line ${line}`;
    case 'callee':
      return `${kind} scope entered by ${o.name}() at line ${line}`;
    case 'assert':
      return `${kind} scope that ${o.name}() asserts at line ${line}`;
    case 'param':
      return `${kind} scope of the transaction passed in as \`${o.name}\`, if it is running`;
    default:
      return `${o.flag} set in current->flags at line ${line}`;
  }
}

function originText(states: readonly PathState[], pos: Position, written: 'GFP_NOFS' | 'GFP_NOIO'): string {
  const wanted = written === 'GFP_NOIO' ? ['PF_MEMALLOC_NOIO'] : ['PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO'];
  const o = states.flatMap((s) => s.origins).find((x) => wanted.includes(x.flag)) ?? states.flatMap((s) => s.origins)[0];
  return o ? `the ${originPhrase(o, pos)}` : 'a scope';
}

function categorise(ctx: AnalysisContext, fa: AnchorInput, site: SiteResult, written: 'GFP_NOFS' | 'GFP_NOIO', pos: Position): Pick<CensusSite, 'category' | 'why' | 'anchor'> {
  const e = site.evaluation;
  const states = site.input.states;
  const has = (code: string) => e.findings.some((f) => f.code === code);
  // The call sites of the function (workspace index), by whether they are inside a scope for this mask.
  const cc = site.input.callers;
  const calls = cc ? (written === 'GFP_NOIO' ? cc.io : cc.fs) : undefined;
  const callers = cc && calls ? { callers: { count: cc.count, inScope: calls.yes, varies: calls.varies, outside: calls.no, unknown: calls.unknown } } : {};
  if (e.atomic === 'yes' || e.atomic === 'varies') {
    const held = states.flatMap((s) => s.held).filter((h) => h.atomic).at(-1);
    const what = held ? (held.viaCallee ? `${held.lock}, taken by ${held.name}()` : `${held.name}(${held.lock})`) : 'an atomic section';
    return { category: 'under-atomic', why: `${what} held${e.atomic === 'varies' ? ' on some paths' : ''}`, ...callers };
  }
  if (has('gfp/redundant-nofs')) return { category: 'redundant', why: `every path is inside ${originText(states, pos, written)}`, ...callers };
  const anchor = nofsScopeAnchor(ctx, fa, site);
  if (anchor) {
    const line = pos(anchor.span.start).line + 1;
    const what = anchor.kind === 'transaction'
      ? `${anchor.fs} transaction start ${anchor.callee}() at line ${line}${anchor.entersNofs ? ' (enters NOFS itself)' : ''}`
      : `${anchor.callee}(${anchor.lock ?? ''}) at line ${line}`;
    return { category: 'convertible', why: `anchor: ${what}`, anchor: { kind: anchor.kind, callee: anchor.callee, line }, ...callers };
  }
  if (has('gfp/nofs-outside-scope')) {
    return { category: 'unexplained', why: written === 'GFP_NOIO' ? 'no scope on any path (the refactor converts GFP_NOFS only)' : 'no scope on any path; no transaction start or sleeping lock dominates it', ...callers };
  }
  let why: string;
  const contextKnown = !site.input.contextUnknown && states.length > 0 && states.every((s) => !s.unknown);
  const conditional = states.flatMap((s) => s.origins).find((o) => o.conditional);
  if (cc && calls && e.outsideLocalScope && cc.count > 0 && calls.yes + calls.varies + calls.unknown > 0) {
    const parts = [[calls.yes, 'inside one'], [calls.varies, 'inside one on some paths'], [calls.unknown, 'of unknown context']]
      .filter(([n]) => (n as number) > 0)
      .map(([n, what]) => `${n} ${what}`);
    why = calls.yes === cc.count
      ? `no scope of its own; ${cc.count === 1 ? 'the one call site of its function is' : `all ${cc.count} call sites of its function are`} inside one`
      : `no scope of its own; of the ${cc.count} call site${cc.count === 1 ? '' : 's'} of its function, ${parts.join(', ')}`;
  } else if (!contextKnown) why = 'context unknown: a path goes through code the analysis could not follow';
  else if (conditional) why = conditional.kind === 'param' ? `the ${originPhrase(conditional, pos)}` : `the ${originPhrase(conditional, pos)}, on some paths only`;
  else if (has('gfp/partial-scope') || states.some((s) => s.pf.length > 0)) why = 'a scope covers it on some paths only';
  else why = 'no scope that excludes what the mask excludes';
  return { category: 'other', why, ...callers };
}

/** The census of one analysed file. `pos` maps offsets to 0-based positions. */
export function fileCensus(ctx: AnalysisContext, analysis: FileAnalysis, pos: Position): FileCensus {
  const sites: CensusSite[] = [];
  const scopes: CensusScope[] = [];
  const entered = new Map<string, number>();
  for (const fr of analysis.functions) {
    const fa = { flow: fr.flow, base: 0, fn: fr.fn };
    for (const site of fr.sites) {
      // Which scopes this site is inside: saves of this function by id, callees by name.
      const callees = new Set<string>();
      for (const s of site.input.states) for (const o of s.origins) if (o.kind === 'callee') callees.add(o.name);
      for (const c of callees) entered.set(c, (entered.get(c) ?? 0) + 1);
      const written = writtenNofs(site);
      if (!written) continue;
      const p = pos(site.call.calleeSpan.start);
      sites.push({
        line: p.line + 1,
        column: p.character + 1,
        function: site.function,
        callee: site.call.callee,
        written,
        mask: site.input.gfp!.text.replace(/\s+/g, ' ').trim(),
        ...categorise(ctx, fa, site, written, pos),
      });
    }
    for (const save of fr.flow.saves.values()) {
      let covers = 0;
      let always = 0;
      for (const site of fr.sites) {
        const inside = site.input.states.map((s) => s.origins.some((o) => o.kind === 'save' && o.span.start === save.id));
        if (!inside.some(Boolean)) continue;
        covers++;
        if (inside.every(Boolean)) always++;
      }
      const p = pos(save.call.calleeSpan.start);
      scopes.push({
        line: p.line + 1,
        column: p.character + 1,
        function: fr.fn.name,
        api: save.api,
        flags: save.flags,
        covers,
        coversAlways: always,
        escapes: fr.flow.escaped.has(save.id),
      });
    }
  }
  scopes.sort((a, b) => a.line - b.line || a.column - b.column);
  return { sites, scopes, entered: [...entered].map(([callee, covers]) => ({ callee, covers })) };
}
