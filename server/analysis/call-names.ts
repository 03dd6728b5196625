// The names a file calls, as the workspace index needs them: when a
// function's summary changes, its callers must be analysed again, and finding
// them must not mean reading the whole tree once more. Each file keeps the
// 32-bit hashes of the identifiers it calls, sorted; a changed name is looked
// up by its hash, and only the files that may call it are read again (where
// the exact names decide). A hash collision costs one re-analysis, never a
// wrong result; a caller is never missed.

/** Words followed by `(` that are not calls. */
const NOT_CALLS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'defined', '__attribute__', 'alignof', '_Alignof', 'do', 'case']);

/** Every identifier followed by `(`: calls, and also macro uses and declarations, which only widen the set. */
export function calledNames(text: string): Set<string> {
  const names = new Set<string>();
  const re = /\b([A-Za-z_]\w*)\s*\(/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) if (!NOT_CALLS.has(m[1])) names.add(m[1]);
  return names;
}

/** FNV-1a, 32 bits. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The sorted hashes of the names, as base64 (what the index cache stores). */
export function encodeCalls(names: Iterable<string>): string {
  const hashes = Uint32Array.from(new Set([...names].map(nameHash))).sort();
  return Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength).toString('base64');
}

export function decodeCalls(encoded: string): Uint32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('calls are not a list of 32-bit hashes');
  // A copy, aligned for the typed array.
  return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** Whether a file with these call hashes may call any of the names hashed into `wanted`. */
export function mayCallAny(calls: Uint32Array, wanted: ReadonlySet<number>): boolean {
  for (let i = 0; i < calls.length; i++) if (wanted.has(calls[i])) return true;
  return false;
}
