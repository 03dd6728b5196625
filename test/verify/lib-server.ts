// Shared by the server-side verify scripts (incremental, hostile, lifecycle,
// index): a seeded random source, the kernel tree, resource readings.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (scripts run from out/test/verify). */
export const REPO = path.join(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'out', 'server', 'cli', 'main.js');

/** A deterministic pseudo-random source: every run is reproducible from its seed. */
export class Random {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** In [0, 1). */
  next(): number {
    // xorshift32: better low bits than an LCG, which matters for `int(2)`.
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * The unpacked linux-source-6.12, located (or fetched from Debian's package)
 * by the project's own bench/fetch-kernel.sh, into the cache outside the repo.
 */
export function kernelTree(): string {
  const r = spawnSync('bash', [path.join(REPO, 'bench', 'fetch-kernel.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !fs.existsSync(path.join(dir, 'Makefile'))) throw new Error(`bench/fetch-kernel.sh failed (exit ${r.status})`);
  return dir;
}

/** Every .c file below `dir`, sorted (a stable order, so a seed picks the same files). */
export function cFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) cFiles(full, out);
    else if (e.name.endsWith('.c')) out.push(full);
  }
  return out;
}

/** A process's resident and peak resident memory, in KiB (Linux /proc). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Command-line flags `--name value` (and bare `--name`), for the scripts. */
export function flags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    if (m[2] !== undefined) out.set(m[1], m[2]);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(m[1], argv[++i]);
    else out.set(m[1], 'true');
  }
  return out;
}

export const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
