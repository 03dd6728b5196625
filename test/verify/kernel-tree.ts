// What the verify scripts share: the kernel tree they run over (Debian's
// linux-source-6.12, fetched and unpacked outside the repo by
// bench/fetch-kernel.sh, the same way the benchmarks get it) and the repo's
// own paths. Scripts run from out/test/verify/.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** The repository root (scripts run from out/test/verify). */
export const REPO = path.join(__dirname, '..', '..', '..');

/** The CLI, compiled. */
export const CLI = path.join(REPO, 'out', 'server', 'cli', 'main.js');

/** The unpacked kernel tree; fetches it (apt, Debian's linux-source-6.12) the first time. */
export function kernelTree(): string {
  return execFileSync(path.join(REPO, 'bench', 'fetch-kernel.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Seconds, for summaries. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
