// `gfp-lens explain`: what a GFP mask means in a given kernel, optionally inside
// scopes. Pure: takes text, returns data; the CLI and the editor format it.

import { describeReserves, fold, type EffectiveContext } from './fold';
import { flagBit, flagDef, GFP_FLAGS } from './model/gfp-flags';
import type { GfpModel } from './model/gfp-model';
import { isExact, type Tri } from './model/known-bits';
import { MaskSyntaxError, namesIn } from './model/mask-expr';
import { MASK_DEFINITIONS } from './model/masks';
import { pfFlag, pfFlagPresent } from './model/scopes';
import { formatVersion } from './model/version';

export class ExplainError extends Error {}

/** Scope names accepted by --scope, and the task flag each sets. */
export const SCOPE_NAMES: Readonly<Record<string, string>> = {
  nofs: 'PF_MEMALLOC_NOFS',
  noio: 'PF_MEMALLOC_NOIO',
  noreclaim: 'PF_MEMALLOC',
  pin: 'PF_MEMALLOC_PIN',
  nocma: 'PF_MEMALLOC_NOCMA',
  'noreclaim-scope': 'PF_MEMALLOC_NORECLAIM',
  nowarn: 'PF_MEMALLOC_NOWARN',
};

export interface ExplainedBit {
  readonly name: string;
  /** Hex in this version's layout with the given configs; undefined for a config bit that is off. */
  readonly hex?: string;
  readonly meaning: string;
  readonly config?: string;
}

export interface Explanation {
  readonly input: string;
  readonly kernel: string;
  readonly maskSource: string;
  readonly canonical: string;
  readonly hex: string;
  /** Flags set in the mask whose value is 0 with the given configs. */
  readonly symbolic: readonly string[];
  readonly bits: readonly ExplainedBit[];
  readonly scopes: readonly string[];
  /** The mask after current_gfp_context(), when scopes are given. */
  readonly effective?: { readonly canonical: string; readonly hex: string; readonly bits: readonly string[] };
  readonly mayBlock: Tri;
  readonly directReclaim: Tri;
  readonly mayStartIo: Tri;
  readonly mayRecurseFs: Tri;
  readonly reserves: string;
  readonly mayFail: Tri;
  readonly warnsOnFailure: Tri;
  readonly notes: readonly string[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Finds `0x...` at the start, as pasted from `gfp_mask=0xcc0(GFP_KERNEL)`. */
function hexInput(text: string): number | undefined {
  const m = /^\s*(?:gfp_mask=)?(0[xX][0-9a-fA-F]+)(?:\(.*\))?\s*,?\s*$/.exec(text);
  return m ? Number.parseInt(m[1], 16) : undefined;
}

export function explain(model: GfpModel, input: string, scopes: readonly string[] = [], configs: ReadonlySet<string> = new Set()): Explanation {
  const v = model.version;
  const kernel = formatVersion(v);
  let mask: bigint;
  const notes: string[] = [];
  const asHex = hexInput(input);
  if (asHex !== undefined) {
    const decoded = model.fromHex(asHex, configs);
    if (decoded.undecoded !== 0) {
      throw new ExplainError(
        `${hex(decoded.undecoded)} of ${input.trim()} is not a GFP bit in kernel ${kernel}${configs.size === 0 ? ' with every config option off (name the options that were on with --config, e.g. --config CONFIG_LOCKDEP)' : ` with ${[...configs].join(', ')}`}`,
      );
    }
    mask = decoded.mask;
  } else {
    let value;
    try {
      value = model.evaluate(input);
    } catch (e) {
      if (e instanceof MaskSyntaxError) throw new ExplainError(`not a GFP mask expression: ${e.message}`);
      throw e;
    }
    if (value.unknown.length > 0) {
      const reasons = value.unknown.map((name) => {
        const other = model.elsewhere(name);
        if (other) return `${name} ${other.until ? `was removed in ${other.until}` : `appeared in ${other.since}`}`;
        return `${name} is not a GFP flag or mask`;
      });
      throw new ExplainError(`${reasons.join('; ')} (kernel ${kernel})`);
    }
    if (!isExact(value.bits)) throw new ExplainError(`${input} is not a constant mask`);
    mask = value.bits.set;
    notes.push(...versionNotes(model, namesIn(value.ast)));
  }

  const pf: string[] = [];
  for (const s of scopes) {
    const flag = SCOPE_NAMES[s];
    if (!flag) throw new ExplainError(`unknown scope '${s}' (known: ${Object.keys(SCOPE_NAMES).join(', ')})`);
    if (!pfFlagPresent(flag, v)) {
      const def = pfFlag(flag)!;
      throw new ExplainError(`${flag} (scope '${s}') does not exist in kernel ${kernel} (${def.since ? `from ${def.since}` : ''}${def.until ? ` until ${def.until}` : ''})`.replace('( ', '('));
    }
    pf.push(flag);
  }
  const ctx: EffectiveContext = fold({ set: mask, clear: ~mask }, pf, v);
  const encoded = model.toHex(mask, configs);
  const bits: ExplainedBit[] = GFP_FLAGS.filter((f) => (mask & flagBit(f.name)) !== 0n).map((f) => {
    const one = model.toHex(flagBit(f.name), configs);
    return { name: f.name, meaning: f.meaning, ...(one.symbolic.length === 0 ? { hex: hex(one.value) } : {}), ...(f.config ? { config: f.config } : {}) };
  });
  if (encoded.symbolic.length > 0) notes.push(`${encoded.symbolic.join(', ')} ${encoded.symbolic.length === 1 ? 'is' : 'are'} 0 unless ${[...new Set(encoded.symbolic.map((n) => flagDef(n)?.config))].join('/')} is on, so the hex leaves ${encoded.symbolic.length === 1 ? 'it' : 'them'} out`);
  if (pf.includes('PF_MEMALLOC')) notes.push('PF_MEMALLOC leaves the mask alone but forbids direct reclaim and compaction and opens all reserves (page_alloc.c:4142-4158, :4480-4482)');
  if ((mask & flagBit('__GFP_NOFAIL')) !== 0n && ctx.directReclaim === 'no') notes.push('__GFP_NOFAIL without direct reclaim: the allocator WARNs and may return NULL anyway (page_alloc.c:4304-4321)');

  const effectiveMask = ctx.effective.set;
  return {
    input,
    kernel,
    maskSource: model.source.detail,
    canonical: model.canonical(mask),
    hex: hex(encoded.value),
    symbolic: encoded.symbolic,
    bits,
    scopes: pf,
    ...(pf.length > 0
      ? { effective: { canonical: model.canonical(effectiveMask), hex: hex(model.toHex(effectiveMask, configs).value), bits: GFP_FLAGS.filter((f) => (effectiveMask & flagBit(f.name)) !== 0n).map((f) => f.name) } }
      : {}),
    mayBlock: ctx.mayBlock,
    directReclaim: ctx.directReclaim,
    mayStartIo: ctx.mayStartIo,
    mayRecurseFs: ctx.mayRecurseFs,
    reserves: describeReserves(ctx.reserves),
    mayFail: ctx.mayFail,
    warnsOnFailure: ctx.warnsOnFailure,
    notes,
  };
}

/** Notes on names whose definition differs between versions (GFP_NOWAIT before and since 6.8). */
function versionNotes(model: GfpModel, names: readonly string[]): string[] {
  const notes: string[] = [];
  for (const name of new Set(names)) {
    const defs = MASK_DEFINITIONS.filter((d) => d.name === name);
    if (defs.length < 2) continue;
    const history = defs.map((d) => `${d.expr}${d.since ? ` from ${d.since}` : ''}${d.until ? ` until ${d.until}` : ''}`).join('; ');
    notes.push(`${name} changed across versions: ${history}; this is kernel ${formatVersion(model.version)}`);
  }
  return notes;
}
