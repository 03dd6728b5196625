// Generated C for the verify scripts and their small versions in the suite.

/**
 * `count` small functions, each taking a mutex and allocating with GFP_NOFS
 * under it: about 250 bytes each, and about 1 ms of analysis each on this
 * project's 2-core machine, so 2,000 of them take a couple of seconds, far
 * over a time limit of a quarter second.
 */
export function manyFunctions(count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) {
    s += `static int demo_${i}(struct demo *d)\n{\n\tvoid *p;\n\tint err;\n\n\tmutex_lock(&d->lock);\n\tp = kmalloc(d->len, GFP_NOFS);\n\tif (!p) {\n\t\tmutex_unlock(&d->lock);\n\t\treturn -ENOMEM;\n\t}\n\terr = demo_fill(d, p);\n\tmutex_unlock(&d->lock);\n\tkfree(p);\n\treturn err;\n}\n\n`;
  }
  return s;
}
