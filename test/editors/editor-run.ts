// Runs a real editor against the real server, for the editor tests: finds the
// editor (a missing editor is a failure with the install command, never a
// skip), works on a copy of the headline fixture in a scratch directory, and
// returns the editor's exit status and its log.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const EDITOR_DIR = path.join(__dirname, '..', '..', '..', 'test', 'editors');
export const SERVER = path.join(__dirname, '..', '..', 'server', 'main.js');

/** The absolute path of `program` on PATH, or a thrown error saying how to install it. */
export function requireProgram(program: string, install: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, program);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  throw new Error(`${program} is not installed: this test needs it (${install}; .ci/run installs it)`);
}

export interface EditorRun {
  readonly status: number | null;
  readonly log: string;
  readonly file: string;
}

export function runEditor(command: string, args: (file: string, out: string) => string[], env: Record<string, string>): EditorRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-editor-'));
  try {
    const file = path.join(dir, 'headline.c');
    fs.copyFileSync(path.join(EDITOR_DIR, 'headline.c'), file);
    const out = path.join(dir, 'result.txt');
    const r = spawnSync(command, args(file, out), {
      cwd: dir,
      env: { ...process.env, HOME: dir, GFP_SERVER: SERVER, GFP_EXPECTED: path.join(EDITOR_DIR, 'headline.expected.c'), GFP_OUT: out, GFP_FILE: file, ...env },
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '') + (r.stdout ?? '') + (r.stderr ?? '') + (r.error ? `\n${r.error.message}` : '');
    return { status: r.status, log, file };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
