// Moving plain data (IR, analysis results) by a number of UTF-16 units: a
// function's cached IR and results are kept relative to its start, and moved
// back to wherever the function is after an edit above it.

import type { Span } from './ir';

/**
 * A deep copy of plain data with every span ({start, end} and nothing else)
 * moved by `delta`. Shared objects stay shared (the dataflow keys some maps
 * by op identity); class instances and non-plain objects are kept as they are.
 */
export function shiftSpans<T>(value: T, delta: number): T {
  if (delta === 0) return value;
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(walk(x));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set<unknown>();
      seen.set(v, out);
      for (const x of v) out.add(walk(x));
      return out;
    }
    if (v instanceof Map) {
      // Maps in the IR and results are keyed by names, not offsets.
      const out = new Map<unknown, unknown>();
      seen.set(v, out);
      for (const [k, x] of v) out.set(k, walk(x));
      return out;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 2 && typeof obj.start === 'number' && typeof obj.end === 'number') {
      const span: Span = { start: (obj.start as number) + delta, end: (obj.end as number) + delta };
      seen.set(v, span);
      return span;
    }
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const k of keys) out[k] = walk(obj[k]);
    return out;
  };
  return walk(value) as T;
}
