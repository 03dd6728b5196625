// Code nested deeper than the analysis' recursion can follow (thousands of
// nested blocks, or an expression of tens of thousands of terms: generated
// code, never hand-written kernel code) exhausts the JavaScript stack in the
// tree walks. The file is then skipped with this reason, as an oversized one
// is, rather than failing with an internal error (verify:hostile).

export const TOO_DEEP = 'nested too deeply to analyse (the syntax tree is deeper than the analysis can follow)';

/** Whether `err` is V8's stack overflow. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /Maximum call stack size exceeded/.test(err.message);
}
