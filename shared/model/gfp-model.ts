// The GFP vocabulary of one kernel version: which flags exist, what each
// composite mask is, how to parse mask text, how to name a mask for people,
// and how to read and write hex.

import { flagBit, flagDef, GFP_FLAGS, type GfpFlagDef } from './gfp-flags';
import { configBitValues, layoutFor, type GfpLayout } from './gfp-layouts';
import { exactly, isExact, UNKNOWN_BITS, type KnownBits } from './known-bits';
import { evaluateMask, parseMask, type MaskAst, type MaskValue, MaskSyntaxError } from './mask-expr';
import { MASK_DEFINITIONS, type MaskDefinition } from './masks';
import { formatVersion, inRange, type KernelVersion } from './version';

export interface MaskSource {
  readonly kind: 'builtin' | 'tree';
  /** Human description: "built-in table for 6.12" or the header's path. */
  readonly detail: string;
}

export interface NamedMask {
  readonly name: string;
  readonly value: bigint;
  readonly definition: MaskDefinition | undefined;
  /** The expression the tree's header gave, when masks come from a tree. */
  readonly treeExpr?: string;
}

export class GfpModel {
  readonly version: KernelVersion;
  readonly layout: GfpLayout;
  readonly source: MaskSource;
  private readonly masks = new Map<string, NamedMask>();
  private readonly canonicalOrder: NamedMask[];

  constructor(version: KernelVersion, treeMasks?: { masks: ReadonlyMap<string, string>; path: string }) {
    this.version = version;
    this.layout = layoutFor(version);
    for (const def of MASK_DEFINITIONS) {
      if (!inRange(version, def.since, def.until)) continue;
      const value = this.evaluateDefinition(def.expr, def.name);
      this.masks.set(def.name, { name: def.name, value, definition: def });
    }
    if (treeMasks) {
      for (const [name, expr] of treeMasks.masks) {
        let value: bigint;
        try {
          value = this.evaluateDefinition(expr, name);
        } catch {
          continue; // A definition over names the model does not know (GFP_VMALLOC32 on some configs).
        }
        const def = MASK_DEFINITIONS.find((d) => d.name === name && inRange(version, d.since, d.until));
        this.masks.set(name, { name, value, definition: def, treeExpr: expr });
      }
      this.source = { kind: 'tree', detail: treeMasks.path };
    } else {
      this.source = { kind: 'builtin', detail: `built-in table for ${formatVersion(version)}` };
    }
    // Canonical naming prefers the largest public mask; ties go to table order
    // (GFP_NOIO before __GFP_RECLAIM, which is not canonical anyway).
    const order = MASK_DEFINITIONS.map((d) => d.name);
    this.canonicalOrder = [...this.masks.values()]
      .filter((m) => m.definition?.canonical ?? /^GFP_/.test(m.name))
      .sort((a, b) => popcount(b.value) - popcount(a.value) || order.indexOf(a.name) - order.indexOf(b.name));
  }

  private evaluateDefinition(expr: string, name: string): bigint {
    const value = evaluateMask(parseMask(expr), this.resolverFor(true));
    if (!isExact(value.bits)) {
      throw new Error(`mask ${name} = ${expr} is not a constant for ${formatVersion(this.version)} (${value.unknown.join(', ')})`);
    }
    return value.bits.set;
  }

  /** Whether a __GFP_ flag exists in this version. */
  hasFlag(name: string): boolean {
    const def = flagDef(name);
    return def !== undefined && inRange(this.version, def.since, def.until);
  }

  flags(): GfpFlagDef[] {
    return GFP_FLAGS.filter((f) => inRange(this.version, f.since, f.until));
  }

  mask(name: string): NamedMask | undefined {
    return this.masks.get(name);
  }

  allMasks(): NamedMask[] {
    return [...this.masks.values()];
  }

  /** The value of a flag or mask name in this version, or undefined. */
  resolve(name: string): bigint | undefined {
    if (this.hasFlag(name)) return flagBit(name);
    return this.masks.get(name)?.value;
  }

  /**
   * A GFP name that this version lacks but another version has (`__GFP_ATOMIC`
   * in 6.12): the versions that have it, for gfp/removed-flag.
   */
  elsewhere(name: string): { since?: string; until?: string } | undefined {
    const flag = flagDef(name);
    if (flag && !inRange(this.version, flag.since, flag.until)) return { since: flag.since, until: flag.until };
    if (!this.masks.has(name)) {
      const defs = MASK_DEFINITIONS.filter((d) => d.name === name);
      if (defs.length > 0) return { since: defs[0].since, until: defs[defs.length - 1].until };
    }
    return undefined;
  }

  private resolverFor(strict: boolean) {
    return {
      name: (n: string) => this.resolve(n),
      number: (value: number): KnownBits => {
        const decoded = this.fromHex(value, new Set());
        if (decoded.undecoded !== 0 && strict) return UNKNOWN_BITS;
        return decoded.undecoded === 0 ? exactly(decoded.mask) : UNKNOWN_BITS;
      },
    };
  }

  /** Parses and evaluates C mask text. Throws MaskSyntaxError on text that is not a mask expression. */
  evaluate(text: string): MaskValue & { ast: MaskAst } {
    const ast = parseMask(text);
    return { ...evaluateMask(ast, this.resolverFor(false)), ast };
  }

  /**
   * The name people use for a mask: the largest public mask it contains, then
   * the remaining flags, e.g. `GFP_NOFS | __GFP_NOFAIL`; `0` for the empty mask.
   * A composite that includes a config-dependent flag (GFP_HIGHUSER_MOVABLE has
   * __GFP_SKIP_KASAN) still matches a mask without it when that config is off
   * in `configs`: decoded from a report of such a kernel, the bit is 0.
   */
  canonical(mask: bigint, configs: ReadonlySet<string> = new Set()): string {
    if (mask === 0n) return '0';
    let optional = 0n;
    for (const cb of this.layout.configBits) {
      if (!configs.has(cb.config) && this.hasFlag(cb.flag)) optional |= flagBit(cb.flag);
    }
    const parts: string[] = [];
    let rest = mask;
    // A mask that may block is never named after a non-blocking context:
    // GFP_NOIO | __GFP_NOWARN, not GFP_NOWAIT | __GFP_DIRECT_RECLAIM.
    const blocking = (mask & flagBit('__GFP_DIRECT_RECLAIM')) !== 0n;
    const base = this.canonicalOrder.find((m) => {
      const required = m.value & ~optional;
      if (blocking && NON_BLOCKING_CONTEXTS.has(m.name)) return false;
      return required !== 0n && (required & mask) === required;
    });
    if (base) {
      parts.push(base.name);
      rest &= ~base.value;
    }
    for (const f of GFP_FLAGS) {
      const bit = flagBit(f.name);
      if ((rest & bit) !== 0n) parts.push(f.name);
    }
    return parts.join(' | ');
  }

  /** Canonical text for partially known bits: exact masks get their name, others "unknown". */
  describe(bits: KnownBits): string {
    return isExact(bits) ? this.canonical(bits.set) : 'unknown';
  }

  /**
   * Decodes a hex mask as this version lays it out. `configs` names the config
   * options that were on (CONFIG_LOCKDEP, ...), which decides what the high bits
   * mean; bits that decode to nothing are returned in `undecoded`.
   */
  fromHex(value: number, configs: ReadonlySet<string>): { mask: bigint; undecoded: number } {
    let mask = 0n;
    let rest = value >>> 0;
    const table = this.hexTable(configs);
    for (const [name, hex] of table) {
      if ((rest & hex) === hex) {
        mask |= flagBit(name);
        rest &= ~hex;
      }
    }
    return { mask, undecoded: rest >>> 0 };
  }

  /** Encodes a mask as this version's hex; flags that are 0 under `configs` are listed in `symbolic`. */
  toHex(mask: bigint, configs: ReadonlySet<string>): { value: number; symbolic: string[] } {
    const table = this.hexTable(configs);
    let value = 0;
    const symbolic: string[] = [];
    for (const f of GFP_FLAGS) {
      if ((mask & flagBit(f.name)) === 0n) continue;
      const hex = table.get(f.name);
      if (hex === undefined) symbolic.push(f.name);
      else value |= hex;
    }
    return { value: value >>> 0, symbolic };
  }

  private hexTable(configs: ReadonlySet<string>): Map<string, number> {
    const table = new Map<string, number>();
    for (const [name, hex] of Object.entries(this.layout.values)) {
      if (this.hasFlag(name)) table.set(name, hex);
    }
    for (const [name, hex] of configBitValues(this.layout, configs)) {
      if (this.hasFlag(name)) table.set(name, hex);
    }
    return table;
  }
}

/** Allocation contexts that cannot sleep; a blocking mask is never named after them. */
const NON_BLOCKING_CONTEXTS = new Set(['GFP_NOWAIT', 'GFP_ATOMIC']);

function popcount(v: bigint): number {
  let n = 0;
  for (let x = v; x !== 0n; x &= x - 1n) n++;
  return n;
}

export { MaskSyntaxError };

const modelCache = new Map<string, GfpModel>();

/** The built-in model of a version (cached: models are immutable). */
export function builtinModel(version: KernelVersion): GfpModel {
  const key = formatVersion(version);
  let model = modelCache.get(key);
  if (!model) {
    model = new GfpModel(version);
    modelCache.set(key, model);
  }
  return model;
}

/**
 * Reads the composite-mask #defines from the text of a tree's
 * include/linux/gfp_types.h (6.0 on) or include/linux/gfp.h (before). Returns
 * name -> expression for GFP_* and __GFP_RECLAIM; the flags themselves always
 * come from the model, since the header's values depend on the config.
 */
export function masksFromHeader(text: string): Map<string, string> {
  const masks = new Map<string, string>();
  // Join continuation lines and drop comments, keeping line structure otherwise.
  const joined = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\\\r?\n/g, ' ');
  const re = /^[ \t]*#[ \t]*define[ \t]+((?:__)?GFP_[A-Z0-9_]+)[ \t]+(.+)$/gm;
  for (let m = re.exec(joined); m; m = re.exec(joined)) {
    const name = m[1];
    const expr = m[2].trim();
    if (name.startsWith('__GFP_') && name !== '__GFP_RECLAIM') continue; // flags, or __GFP_BITS_*
    if (!masks.has(name)) masks.set(name, expr);
  }
  return masks;
}
