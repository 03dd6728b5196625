// Hovers (rules.md §5): Markdown, short, the most important line first.
// - allocation call: effective mask(s) first, then requested, where each scope
//   came from, what that means, one row per differing path;
// - GFP flag or mask: bits, meaning, version notes (shared/explain.ts);
// - scope call: kind, where it ends on each path, allocations covered, safety rows;
// - function name: what the analysis knows of it.

import type { Hover } from 'vscode-languageserver';
import { MarkupKind } from 'vscode-languageserver';
import type { CallerContext, CallerCounts, CallerVerdicts, ContextVariant, PathState, ScopeOrigin } from '../../shared/evaluate';
import type { FunctionSummary } from '../analysis/summary';
import { explain, ExplainError } from '../../shared/explain';
import { describeReserves, type EffectiveContext } from '../../shared/fold';
import { flagBit, GFP_FLAGS } from '../../shared/model/gfp-flags';
import type { GfpModel } from '../../shared/model/gfp-model';
import { isExact, type KnownBits, type Tri } from '../../shared/model/known-bits';
import { PF_MASK_EFFECT, scopeSafety } from '../../shared/model/scope-safety';
import { scopeApiByRestore, scopeApiBySave } from '../../shared/model/scopes';
import type { SiteResult } from '../analysis/analyze-file';
import type { FunctionAnalysis } from '../analysis/incremental';
import type { CallOp, Op, Stmt } from '../syntax/ir';
import type { DocumentAnalysis } from '../documents/document-store';
import { contains, lineNo, rangeOf, wordAt } from './convert';

export function hover(a: DocumentAnalysis, offset: number): Hover | null {
  const result = a.result;
  if (!result) return null;
  const doc = a.document;
  const text = doc.getText();
  const word = wordAt(text, offset);
  const model = a.config.context.gfp;
  const line = (o: number): number => lineNo(doc, o);

  // An allocation call: on its name, or on its gfp argument.
  const site = result.sites.find((s) => contains(s.call.calleeSpan, offset) || (s.input.gfp !== undefined && contains(s.input.gfp.span, offset)));
  if (site) {
    let md = siteMarkdown(site, model, line);
    if (word && site.input.gfp && contains(site.input.gfp.span, offset)) {
      const flag = flagMarkdown(model, word.word);
      if (flag) md += `\n\n---\n\n${flag}`;
    }
    const span = word && site.input.gfp && contains(site.input.gfp.span, offset) ? site.input.gfp.span : site.call.calleeSpan;
    return { contents: { kind: MarkupKind.Markdown, value: md }, range: rangeOf(doc, span) };
  }
  if (!word) return null;
  const fa = result.functions.find((f) => contains(f.span, offset));

  // A scope call.
  if (fa) {
    const call = callAt(fa, offset);
    if (call && (scopeApiBySave(call.callee, a.config.context.version) || scopeApiByRestore(call.callee, a.config.context.version))) {
      return { contents: { kind: MarkupKind.Markdown, value: scopeMarkdown(fa, call, a, line) }, range: rangeOf(doc, call.calleeSpan) };
    }
  }

  // A GFP flag or mask anywhere.
  const flag = flagMarkdown(model, word.word);
  if (flag) return { contents: { kind: MarkupKind.Markdown, value: flag }, range: rangeOf(doc, word.span) };

  // A function defined in this file: at its definition or a call.
  const target = result.functions.find((f) => f.name === word.word);
  if (target && (contains(target.fn.nameSpan, offset) || (fa && callAt(fa, offset)?.callee === word.word))) {
    return { contents: { kind: MarkupKind.Markdown, value: functionMarkdown(target, a, line) }, range: rangeOf(doc, word.span) };
  }
  // A transaction start/end from the model.
  const tx = a.config.context.transactions.lookup(word.word);
  if (tx && fa && callAt(fa, offset)?.callee === word.word) {
    const what = tx.def.scope === 'nofs' ? 'enters a NOFS scope' : tx.def.scope === 'nofs-conditional' ? 'enters a NOFS scope on some paths' : 'enters no scope';
    const md = `**${word.word}()** · ${tx.def.fs} transaction ${tx.role} (${tx.role === 'start' ? what : `ends what ${tx.def.start[0]}() started`})\n\n${tx.def.note}\n\n_${tx.def.cite}_`;
    return { contents: { kind: MarkupKind.Markdown, value: md }, range: rangeOf(doc, word.span) };
  }
  // A function of another file, as the workspace index knows it.
  if (fa && a.external && !target && callAt(fa, offset)?.callee === word.word) {
    const s = a.external.context.index.resolve(word.word, a.external.file);
    if (s && s.file !== a.external.file) {
      return { contents: { kind: MarkupKind.Markdown, value: summaryMarkdown(s, relativeTo(a.config.index?.root, s.file)) }, range: rangeOf(doc, word.span) };
    }
  }
  return null;
}

// ---- allocation sites --------------------------------------------------------

function hexOf(model: GfpModel, bits: KnownBits): string {
  if (!isExact(bits)) return '';
  const h = model.toHex(bits.set, new Set());
  return ` \`0x${h.value.toString(16)}\`${h.symbolic.length > 0 ? ` (+${h.symbolic.join(', ')})` : ''}`;
}

function bitNames(bits: KnownBits): string {
  if (!isExact(bits)) return 'not constant';
  const names = GFP_FLAGS.filter((f) => (bits.set & flagBit(f.name)) !== 0n).map((f) => f.name);
  return names.length > 0 ? names.join(' ') : '(none)';
}

function yn(t: Tri): string {
  return t === 'yes' ? 'yes' : t === 'no' ? 'no' : '?';
}

function consequences(c: EffectiveContext): string {
  return `may sleep **${yn(c.mayBlock)}** · reclaim **${yn(c.directReclaim)}** · start IO **${yn(c.mayStartIo)}** · recurse into the fs **${yn(c.mayRecurseFs)}** · ${describeReserves(c.reserves)} · may fail **${yn(c.mayFail)}** · warns on failure **${yn(c.warnsOnFailure)}**`;
}

function originText(o: ScopeOrigin, line: (o: number) => number): string {
  const kind = o.flag.replace('PF_MEMALLOC_', '').replace('PF_MEMALLOC', 'NORECLAIM');
  if (o.kind === 'save') return `${kind} from \`${o.name}()\` at line ${line(o.span.start)}`;
  if (o.kind === 'callee') return `${kind} entered by \`${o.name}()\` at line ${line(o.span.start)}${o.conditional ? ' (on some paths)' : ''}`;
  if (o.kind === 'assert') return `${kind} asserted by \`${o.name}()\` at line ${line(o.span.start)}${o.conditional ? ' (on some paths)' : ''}`;
  if (o.kind === 'param') return `${kind} of the transaction passed in as \`${o.name}\` (if it is running)`;
  return `${kind} set in \`current->flags\` at line ${line(o.span.start)}`;
}

function statesText(states: readonly PathState[], line: (o: number) => number): string {
  const origins = new Map<string, string>();
  const held = new Map<string, string>();
  for (const s of states) {
    for (const o of s.origins) origins.set(`${o.flag}@${o.span.start}`, originText(o, line));
    for (const h of s.held) held.set(`${h.name}@${h.span.start}`, `\`${h.name}(${h.lock})\` at line ${line(h.span.start)}`);
  }
  const parts: string[] = [];
  parts.push(origins.size > 0 ? [...origins.values()].join('; ') : 'no scope');
  if (held.size > 0) parts.push(`holding ${[...held.values()].join(', ')}`);
  return parts.join(', ');
}

function pathText(v: ContextVariant): string {
  const assumptions = new Set<string>();
  for (const s of v.states) for (const x of s.assumptions) assumptions.add(x);
  return v.states.length === 1 && assumptions.size > 0 ? `when ${[...assumptions].join(' && ')}` : `${v.states.length} path${v.states.length === 1 ? '' : 's'}`;
}

export function siteMarkdown(site: SiteResult, model: GfpModel, line: (o: number) => number): string {
  const e = site.evaluation;
  const def = site.input.allocator;
  const out: string[] = [];
  const unknown = site.input.contextUnknown || site.input.states.length === 0 || site.input.states.some((s) => s.unknown);
  const requested = `\`${e.requestedText}\`${site.input.gfp ? '' : ' (implicit)'}`;
  if (unknown || e.variants.length === 0) {
    out.push(`**Effective: unknown** — ${site.input.states.length === 0 ? 'this call is unreachable' : 'the analysis could not follow every path here'}`);
  } else if (e.variants.length === 1) {
    const v = e.variants[0];
    const same = isExact(e.requested) && isExact(v.context.effective) && e.requested.set === v.context.effective.set;
    out.push(`**Effective: \`${v.canonical}\`**${hexOf(model, v.context.effective)}${same ? ' (as written)' : ''} — ${statesText(v.states, line)}`);
  } else {
    out.push(`**Effective: varies by path** — ${e.variants.map((v) => `\`${v.canonical}\``).join(' or ')}`);
  }
  out.push('');
  out.push(`\`${site.call.callee}()\` · ${def.backend} allocator · requested ${requested} = \`${model.describe(e.requested)}\`${hexOf(model, e.requested)}`);
  if (e.unknownNames.length > 0) out.push(`\nNot evaluated: ${e.unknownNames.map((n) => `\`${n}\``).join(', ')}`);
  if (def.gfpPolicy) out.push('', `The mask is also a policy input: ${def.gfpPolicy}`);
  if (!unknown && e.variants.length > 0) {
    if (e.variants.length === 1) {
      out.push('', consequences(e.variants[0].context), '', `Bits: ${bitNames(e.variants[0].context.effective)}`);
    } else {
      out.push('', '| path | effective | from | may sleep | fs recursion |', '|---|---|---|---|---|');
      for (const v of e.variants) {
        out.push(`| ${pathText(v)} | \`${v.canonical}\` | ${statesText(v.states, line)} | ${yn(v.context.mayBlock)} | ${yn(v.context.mayRecurseFs)} |`);
      }
    }
  }
  if (site.input.callers) out.push('', callersText(site.input.callers, e.callers));
  const findings = e.findings.map((f) => `\`${f.code}\``);
  if (findings.length > 0) out.push('', `Findings: ${findings.join(', ')}`);
  return out.join('\n');
}

function countsText(c: CallerCounts, yes: string): string {
  const parts: string[] = [];
  if (c.yes > 0) parts.push(`${c.yes} ${yes}`);
  if (c.varies > 0) parts.push(`${c.varies} on some paths`);
  if (c.no > 0) parts.push(`${c.no} not`);
  if (c.unknown > 0) parts.push(`${c.unknown} unknown`);
  return parts.join(', ');
}

/**
 * The contexts at the calls of the enclosing function, from the workspace
 * index: how many, how many in a scope, under a lock; and what they make of
 * this site's verdicts.
 */
export function callersText(c: CallerContext, verdicts?: CallerVerdicts): string {
  if (c.count === 0) return 'Callers (workspace index): **none** in the tree (a pointer call or another tree may still reach it)';
  const parts = [`${c.count} call site${c.count === 1 ? '' : 's'}`, `NOFS: ${countsText(c.fs, 'in scope')}`];
  if (c.io.yes + c.io.varies > 0) parts.push(`NOIO: ${countsText(c.io, 'in scope')}`);
  if (c.atomic.yes + c.atomic.varies + c.atomic.unknown > 0) parts.push(`atomic: ${countsText(c.atomic, 'under a lock or with irqs off')}`);
  let text = `Callers (workspace index): ${parts.join(' · ')}`;
  if (verdicts) text += `\n\nWith the callers: excludes FS **${verdicts.fs}** · excludes IO **${verdicts.io}** · may block **${verdicts.mayBlock}** · atomic **${verdicts.atomic}**`;
  return text;
}

// ---- GFP names ---------------------------------------------------------------

export function flagMarkdown(model: GfpModel, name: string): string | undefined {
  if (!/^(?:__)?GFP_\w+$/.test(name)) return undefined;
  if (!model.hasFlag(name) && !model.mask(name)) {
    const other = model.elsewhere(name);
    if (!other) return undefined;
    return `**\`${name}\`** is not in kernel ${model.version.major}.${model.version.minor}: it ${other.until ? `was removed in ${other.until}` : `appeared in ${other.since}`}.`;
  }
  let x;
  try {
    x = explain(model, name);
  } catch (e) {
    if (e instanceof ExplainError) return undefined;
    throw e;
  }
  const out: string[] = [];
  const same = x.canonical === name;
  out.push(`**\`${name}\`** = \`${x.hex}\`${same ? '' : ` (\`${x.canonical}\`)`} · kernel ${x.kernel}`);
  out.push('', `may sleep **${yn(x.mayBlock)}** · reclaim **${yn(x.directReclaim)}** · start IO **${yn(x.mayStartIo)}** · recurse into the fs **${yn(x.mayRecurseFs)}** · ${x.reserves} · may fail **${yn(x.mayFail)}** · warns **${yn(x.warnsOnFailure)}**`);
  if (x.bits.length > 0) {
    out.push('');
    for (const b of x.bits) out.push(`- \`${b.name}\`${b.hex ? ` ${b.hex}` : ''}: ${b.meaning}${b.config ? ` (${b.config})` : ''}`);
  }
  if (x.notes.length > 0) out.push('', ...x.notes.map((n) => `_${n}_`));
  return out.join('\n');
}

// ---- scope calls -------------------------------------------------------------

function callsOf(stmt: Stmt, out: CallOp[]): void {
  const ops = (list: readonly Op[]): void => {
    for (const op of list) if (op.kind === 'call') out.push(op);
  };
  switch (stmt.kind) {
    case 'block':
      stmt.body.forEach((s) => callsOf(s, out));
      return;
    case 'ops':
    case 'return':
    case 'unknown':
      ops(stmt.ops);
      return;
    case 'if':
      ops(stmt.cond.ops);
      callsOf(stmt.then, out);
      if (stmt.else) callsOf(stmt.else, out);
      return;
    case 'loop':
      if (stmt.init) callsOf(stmt.init, out);
      if (stmt.cond) ops(stmt.cond.ops);
      ops(stmt.update);
      callsOf(stmt.body, out);
      return;
    case 'switch':
      ops(stmt.cond.ops);
      callsOf(stmt.body, out);
      return;
    case 'scoped-guard':
      callsOf(stmt.body, out);
      return;
    default:
      return;
  }
}

export function functionCalls(fa: FunctionAnalysis): CallOp[] {
  const out: CallOp[] = [];
  callsOf(fa.fn.body, out);
  return out.sort((x, y) => x.span.start - y.span.start);
}

function callAt(fa: FunctionAnalysis, offset: number): CallOp | undefined {
  return functionCalls(fa).find((c) => contains(c.calleeSpan, offset));
}

function scopeMarkdown(fa: FunctionAnalysis, call: CallOp, a: DocumentAnalysis, line: (o: number) => number): string {
  const v = a.config.context.version;
  const calls = functionCalls(fa);
  const saveApi = scopeApiBySave(call.callee, v);
  const api = saveApi ?? scopeApiByRestore(call.callee, v)!;
  // Pair saves and restores by the cookie variable.
  let save: CallOp | undefined;
  let cookie: string | undefined;
  if (saveApi) {
    save = call;
    cookie = call.result?.kind === 'assign' ? call.result.target : undefined;
  } else {
    cookie = call.args[0]?.text.trim();
    save = calls.filter((c) => c.callee === api.save && c.span.start < call.span.start && c.result?.kind === 'assign' && c.result.target === cookie).pop();
  }
  const restores = cookie === undefined ? [] : calls.filter((c) => c.callee === api.restore && c.args[0]?.text.trim() === cookie && (!save || c.span.start > save.span.start));
  const flags = api.flags.length > 0 ? api.flags : ['(the flags in its argument)'];
  const out: string[] = [];
  const clears = api.flags.flatMap((f) => PF_MASK_EFFECT[f]?.clears ?? []);
  out.push(`**\`${api.save}()\` / \`${api.restore}()\`** · sets ${flags.map((f) => `\`${f}\``).join(', ')}${clears.length > 0 ? `, so allocations inside lose ${clears.map((c) => `\`${c}\``).join(', ')}` : ''}`);
  if (save) {
    const covered = fa.sites.filter((s) => s.input.states.some((st) => st.origins.some((o) => o.kind === 'save' && o.span.start === save!.span.start)));
    const always = covered.filter((s) => s.input.states.every((st) => st.origins.some((o) => o.kind === 'save' && o.span.start === save!.span.start)));
    out.push('', `Saved at line ${line(save.span.start)}${cookie ? ` into \`${cookie}\`` : ''}; covers ${covered.length} allocation${covered.length === 1 ? '' : 's'}${covered.length !== always.length ? ` (${always.length} on every path)` : ''}.`);
    const escaped = fa.flow.escaped.has(save.span.start - fa.base);
    if (escaped) out.push('', 'Its cookie leaves the function: the caller (or a later function) ends the scope.');
    else if (restores.length > 0) out.push('', `Ends at ${restores.map((r) => `line ${line(r.span.start)}`).join(', ')}.`);
    else out.push('', 'No restore of this cookie in the function.');
    const leak = a.result?.findings.find((f) => f.code === 'scope/unbalanced' && f.span.start === save!.span.start);
    if (leak) out.push('', `**Not restored on every path:** ${leak.related.map((r) => `line ${line(r.span.start)}`).join(', ')}.`);
  } else {
    out.push('', `No \`${api.save}()\` into \`${cookie ?? '?'}\` before this restore in the function.`);
  }
  const rows = api.flags.flatMap((f) => {
    const effect = PF_MASK_EFFECT[f];
    if (!effect) return [];
    return [...effect.clears.map((b) => ['clears', b] as const), ...effect.sets.map((b) => ['sets', b] as const)];
  });
  if (rows.length > 0) {
    out.push('', '| bit | what the scope does | safe | why |', '|---|---|---|---|');
    for (const [verb, bit] of rows) {
      const row = scopeSafety(bit);
      if (!row) continue;
      out.push(`| \`${bit}\` | ${verb} | ${(verb === 'clears' ? row.mayClear : row.maySet) ? 'yes' : '**no**'} | ${row.why} |`);
    }
  }
  return out.join('\n');
}

// ---- functions ---------------------------------------------------------------

function functionMarkdown(fa: FunctionAnalysis, a: DocumentAnalysis, line: (o: number) => number): string {
  const v = a.config.context.version;
  const calls = functionCalls(fa);
  const saves = calls.filter((c) => scopeApiBySave(c.callee, v));
  const tx = calls.filter((c) => a.config.context.transactions.lookup(c.callee)?.role === 'start');
  const nofail = fa.sites.filter((s) => /__GFP_NOFAIL/.test(s.evaluation.requestedText));
  const blocks = fa.sites.filter((s) => s.evaluation.mayBlock === 'yes' || s.evaluation.mayBlock === 'varies');
  const out: string[] = [];
  const escaped = saves.filter((s) => fa.flow.escaped.has(s.span.start - fa.base));
  const head: string[] = [];
  head.push(fa.sites.length > 0 ? `allocates at ${fa.sites.length} site${fa.sites.length === 1 ? '' : 's'}` : 'does not allocate directly');
  if (escaped.length > 0) head.push(`enters a scope its caller keeps (${escaped.map((s) => `\`${s.callee}()\``).join(', ')})`);
  else if (saves.length > 0) head.push(`opens and closes ${saves.length} scope${saves.length === 1 ? '' : 's'}`);
  if (tx.length > 0) head.push(`starts ${tx.map((c) => `\`${c.callee}()\``).join(', ')}`);
  out.push(`**\`${fa.fn.name}()\`** ${head.join(' · ')}`);
  if (blocks.length > 0) out.push('', `May block: ${blocks.map((s) => `\`${s.call.callee}()\` line ${line(s.call.span.start)}`).join(', ')}`);
  if (nofail.length > 0) out.push('', `__GFP_NOFAIL: ${nofail.map((s) => `line ${line(s.call.span.start)}`).join(', ')}`);
  if (saves.length > 0) out.push('', `Scopes: ${saves.map((s) => `\`${s.callee}()\` line ${line(s.span.start)}`).join(', ')}`);
  if (fa.flow.overflow) out.push('', '_Too many paths to follow: contexts here are unknown._');
  const callers = a.external?.context.index.forFile(a.external.file).callers?.(fa.fn.name);
  if (callers) out.push('', callersText(callers));
  return out.join('\n');
}

/** What the workspace index knows of a function defined in another file. */
export function summaryMarkdown(s: FunctionSummary, where: string): string {
  const head: string[] = [];
  const enters = new Set<string>();
  const leaves = new Set<string>();
  const acquires = new Set<string>();
  const releases = new Set<string>();
  for (const o of s.outcomes) {
    for (const f of o.enter?.flags ?? []) enters.add(flagWord(f));
    for (const f of o.leave?.flags ?? []) leaves.add(flagWord(f));
    if (o.acquire) acquires.add(`${o.acquire.kind} \`${o.acquire.lock}\``);
    for (const r of o.release ?? []) releases.add(`${r.kind} \`${r.lock}\``);
  }
  const some = (pred: (o: FunctionSummary['outcomes'][number]) => boolean): string => (s.outcomes.every(pred) ? '' : ' (on some paths)');
  if (enters.size > 0) head.push(`enters ${[...enters].join(', ')}${some((o) => o.enter !== undefined)}`);
  if (leaves.size > 0) head.push(`leaves ${[...leaves].join(', ')}${some((o) => o.leave !== undefined)}`);
  if (acquires.size > 0) head.push(`returns holding ${[...acquires].join(', ')}${some((o) => o.acquire !== undefined)}`);
  if (releases.size > 0) head.push(`releases ${[...releases].join(', ')}`);
  if (s.unknown) head.push('could not be followed (its effect is unknown)');
  if (head.length === 0) head.push('no effect on the scope or locks of its callers');
  const out = [`**\`${s.name}()\`** ${head.join(' · ')}`, '', `_${s.isStatic ? 'static, ' : ''}${where} (workspace index)_`];
  if (s.mayBlock) out.push('', `May block: ${[...s.mayBlock.via, s.mayBlock.at].map((x) => `\`${x}\``).join(' → ')}`);
  if (s.nofail) out.push('', `Reaches __GFP_NOFAIL${s.nofail.via.length > 0 ? ` via ${s.nofail.via.map((x) => `\`${x}()\``).join(' → ')}` : ''}`);
  return out.join('\n');
}

function flagWord(flag: string): string {
  return flag === 'PF_MEMALLOC' ? 'a no-reclaim scope' : `a ${flag.replace('PF_MEMALLOC_', '')} scope`;
}

function relativeTo(root: string | undefined, file: string): string {
  return root && file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
}
