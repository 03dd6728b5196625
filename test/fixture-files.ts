// Where the fixtures are, for every test that walks them.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** test/fixtures in the source tree (tests run from out/test). */
export const FIXTURE_ROOT = path.join(__dirname, '..', '..', 'test', 'fixtures');

/** Every fixture .c file below `dir`, sorted. */
export function fixtureFiles(dir = FIXTURE_ROOT): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...fixtureFiles(full));
    else if (entry.name.endsWith('.c')) out.push(full);
  }
  return out.sort();
}
