// What a workspace index cache is valid for, besides the files themselves:
// the tool, the analysis code, the kernel version and the tree's masks. The
// checker and the language server compute it the same way, so that either can
// go on from the cache the other left.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The root of the built package (`out/`'s parent), where package.json is. */
const PACKAGE_ROOT = path.join(__dirname, '..', '..', '..');

export function toolVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const fingerprints = new Map<string, string>();

/**
 * What the summaries in an index cache depend on besides the files: the
 * analysis code itself. A build that analyses differently (a new model row, a
 * changed rule) must not trust a cache an older one wrote, whatever the
 * package version says. (The checker's results cache also fingerprints
 * `server/cli`, which shapes its output.)
 */
export function analysisFingerprint(dirs: readonly string[] = ['shared', 'server/analysis', 'server/syntax']): string {
  const known = fingerprints.get(dirs.join('\0'));
  if (known !== undefined) return known;
  const out = path.join(__dirname, '..', '..');
  const hash = createHash('sha1');
  for (const dir of dirs) {
    const abs = path.join(out, dir);
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (e.name.endsWith('.js')) hash.update(e.name).update(fs.readFileSync(f));
      }
    };
    if (fs.existsSync(abs)) walk(abs);
  }
  const fingerprint = hash.digest('hex').slice(0, 16);
  fingerprints.set(dirs.join('\0'), fingerprint);
  return fingerprint;
}

/** The key of an index built for `version` ("6.12") with the tree's masks (as sent to workers). */
export function indexKey(version: string, treeMasks: { readonly masks: ReadonlyArray<[string, string]>; readonly path: string } | undefined): string {
  return JSON.stringify([toolVersion(), analysisFingerprint(), version, treeMasks ?? null]);
}
