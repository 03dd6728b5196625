// A GFP mask of which some bits are known: the value of an expression such as
// `gfp | __GFP_NOFAIL`, where `gfp` is a parameter, has __GFP_NOFAIL set for
// certain and every other bit unknown. Findings ask "is this bit surely set /
// surely clear", so partial knowledge is worth keeping.

import { ALL_FLAG_BITS } from './gfp-flags';

export interface KnownBits {
  /** Bits that are certainly 1. */
  readonly set: bigint;
  /** Bits that are certainly 0. */
  readonly clear: bigint;
}

export const UNKNOWN_BITS: KnownBits = { set: 0n, clear: 0n };

export function exactly(mask: bigint): KnownBits {
  return { set: mask, clear: ALL_FLAG_BITS & ~mask };
}

export function isExact(k: KnownBits): boolean {
  return (k.set | k.clear) === ALL_FLAG_BITS;
}

export function orBits(a: KnownBits, b: KnownBits): KnownBits {
  return { set: a.set | b.set, clear: a.clear & b.clear };
}

export function andBits(a: KnownBits, b: KnownBits): KnownBits {
  return { set: a.set & b.set, clear: a.clear | b.clear };
}

export function xorBits(a: KnownBits, b: KnownBits): KnownBits {
  return {
    set: (a.set & b.clear) | (a.clear & b.set),
    clear: (a.set & b.set) | (a.clear & b.clear),
  };
}

export function notBits(a: KnownBits): KnownBits {
  return { set: a.clear, clear: a.set };
}

/** Forces the given bits to 0 (what a scope does to the mask). */
export function clearBits(a: KnownBits, bits: bigint): KnownBits {
  return { set: a.set & ~bits, clear: a.clear | bits };
}

/** Forces the given bits to 1. */
export function setBits(a: KnownBits, bits: bigint): KnownBits {
  return { set: a.set | bits, clear: a.clear & ~bits };
}

export type Tri = 'yes' | 'no' | 'unknown';

/** Whether all of `bits` are set. */
export function hasAll(k: KnownBits, bits: bigint): Tri {
  if ((k.set & bits) === bits) return 'yes';
  if ((k.clear & bits) !== 0n) return 'no';
  return 'unknown';
}

/** Whether any of `bits` is set. */
export function hasAny(k: KnownBits, bits: bigint): Tri {
  if ((k.set & bits) !== 0n) return 'yes';
  if ((k.clear & bits) === bits) return 'no';
  return 'unknown';
}

export function sameBits(a: KnownBits, b: KnownBits): boolean {
  return a.set === b.set && a.clear === b.clear;
}
