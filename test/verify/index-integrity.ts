// verify:index — the workspace index's on-disk cache is never trusted wrongly.
//
// Over a copy of a kernel subtree (fs/ext4 and fs/jbd2 of linux-source-6.12,
// made a kernel tree by its Makefile and gfp_types.h; the copy lives in a
// temporary directory), `gfp-lens check --root` with an empty cache directory
// gives the reference findings and sites. Then each of these must be detected
// (the index says why it rebuilds) and give exactly the reference:
//   - a warm run with the cache it left (nothing to rebuild);
//   - the cache overwritten with garbage, truncated, emptied, with one value
//     changed inside valid JSON, with entries of the wrong type;
//   - a cache written by another version of gfp-lens (another key) under this
//     version's name, and one of another cache format;
//   - two `gfp-lens check` processes indexing the tree at once, and two
//     language servers building the index of the same workspace at once,
//     then a run with the cache they left;
//   - files rewritten while the index is built, then a run with the cache.
//
// usage: node out/test/verify/index-integrity.js [--small] [--kernel DIR]

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestClient } from '../lsp-client';
import { CLI, flags, kernelTree } from './lib-server';

export interface Run {
  readonly status: number | null;
  /** The findings and sites, as compared (the JSON report without its timing). */
  readonly result: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The report without what may differ between equal runs. */
function canonical(stdout: string): string {
  try {
    const doc = JSON.parse(stdout) as { files?: unknown; findings?: unknown; sites?: unknown };
    return JSON.stringify({ findings: doc.findings, sites: doc.sites, files: doc.files });
  } catch {
    return `not JSON: ${stdout.slice(0, 200)}`;
  }
}

const ARGS = (root: string): string[] => [CLI, 'check', '--format', 'json', '--sites', '--fail-on', 'none', '--root', root, root];

export function check(root: string, cache: string): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ARGS(root), { encoding: 'utf8', env: { ...process.env, GFP_LENS_CACHE: cache, GFP_LENS_DEBUG: '1' }, maxBuffer: 1 << 30 });
  return { status: r.status, result: canonical(r.stdout), stderr: r.stderr, ms: Date.now() - t0 };
}

function checkAsync(root: string, cache: string): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ARGS(root), { env: { ...process.env, GFP_LENS_CACHE: cache, GFP_LENS_DEBUG: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (status) => resolve({ status, result: canonical(out), stderr: err, ms: Date.now() - t0 }));
  });
}

/** The index's own line about the cache (GFP_LENS_DEBUG): "N files, M from the cache (why not)". */
export function cacheLine(stderr: string): string {
  return /gfp-lens: index of .*/.exec(stderr)?.[0] ?? '(no index line)';
}

/** The single cache file the index keeps for this tree. */
export function cacheFile(cache: string): string {
  const dir = path.join(cache, 'index');
  // (Beside it, the checker's results cache: not the index's.)
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.includes('-results-'));
  if (files.length !== 1) throw new Error(`expected one cache file in ${dir}, found ${files.join(', ')}`);
  return path.join(dir, files[0]);
}

export interface Case {
  readonly name: string;
  /** Damages the cache (the reference run's, copied into a fresh directory). */
  readonly damage: (file: string) => void;
  /** What the index must say about the cache. */
  readonly note: RegExp;
}

/**
 * Rewrites the cache's body (the JSON after the header line). With `sealed`,
 * the header's checksum is made to match, as a real writer (another version of
 * gfp-lens) would leave it; without, the change is damage.
 */
function rewriteBody(f: string, edit: (doc: Record<string, unknown> & { files: unknown[][] }) => void, sealed: boolean): void {
  const raw = fs.readFileSync(f, 'utf8');
  const nl = raw.indexOf('\n');
  const doc = JSON.parse(raw.slice(nl + 1)) as Record<string, unknown> & { files: unknown[][] };
  edit(doc);
  const body = JSON.stringify(doc);
  // The first line is the sha1 of the body.
  fs.writeFileSync(f, `${sealed ? createHash('sha1').update(body).digest('hex') : raw.slice(0, nl)}\n${body}`);
}

export const CASES: readonly Case[] = [
  { name: 'garbage over the middle', note: /unreadable|damaged/, damage: (f) => {
    const b = fs.readFileSync(f);
    for (let i = Math.floor(b.length / 2); i < Math.floor(b.length / 2) + 64 && i < b.length; i++) b[i] = (i * 37) & 0xff;
    fs.writeFileSync(f, b);
  } },
  { name: 'truncated to a third', note: /unreadable/, damage: (f) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 3)) },
  { name: 'empty', note: /unreadable/, damage: (f) => fs.writeFileSync(f, '') },
  { name: 'one value changed inside valid JSON (a summary enters NOIO instead of NOFS)', note: /damaged/, damage: (f) => {
    const t = fs.readFileSync(f, 'utf8');
    // (Each file's facts are a JSON string inside the body: the name is escaped there.)
    if (!t.includes('PF_MEMALLOC_NOFS')) throw new Error('the cache has no summary that enters NOFS to change');
    fs.writeFileSync(f, t.replace(/PF_MEMALLOC_NOFS/g, 'PF_MEMALLOC_NOIO'));
  } },
  { name: 'a file entry of the wrong type (checksum matching)', note: /damaged \(a file without/, damage: (f) => rewriteBody(f, (doc) => void (doc.files[0][4] = 42), true) },
  { name: 'written by another version of gfp-lens (its key) under this name', note: /another version/, damage: (f) => rewriteBody(f, (doc) => void (doc.key = String(doc.key).replace(/^\["[^"]*"/, '["0.0.1-other"')), true) },
  { name: 'of another cache format', note: /another version/, damage: (f) => {
    const raw = fs.readFileSync(f, 'utf8');
    fs.writeFileSync(f, raw.replace(/\n\{"format":\d+/, '\n{"format":1'));
  } },
  { name: 'of the layout before checksums (one JSON document, format 4)', note: /another version/, damage: (f) => {
    const raw = fs.readFileSync(f, 'utf8');
    fs.writeFileSync(f, raw.slice(raw.indexOf('\n') + 1).replace(/^\{"format":\d+/, '{"format":4'));
  } },
];

export interface Outcome {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

function same(run: Run, reference: Run): string | undefined {
  if (run.status !== reference.status) return `exit ${run.status}, the reference ${reference.status}: ${run.stderr.slice(0, 400)}`;
  if (run.result !== reference.result) return 'findings or sites differ from a run with an empty cache';
  return undefined;
}

/** Every case on `root`; `servers` adds the two-servers case. */
export async function verifyIndex(root: string, options: { servers: boolean; log: (s: string) => void }): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const note = (o: Outcome): void => {
    out.push(o);
    options.log(`  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name}: ${o.detail}`);
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-verify-index-'));
  const fresh = (): string => fs.mkdtempSync(path.join(tmp, 'cache-'));
  try {
    const refCache = fresh();
    const reference = check(root, refCache);
    if (reference.status !== 0 || reference.result.startsWith('not JSON')) throw new Error(`the reference run failed: ${reference.stderr.slice(0, 800)}`);
    const findings = (JSON.parse(reference.result) as { findings: unknown[] }).findings.length;
    options.log(`  reference (empty cache): ${findings} findings in ${(reference.ms / 1000).toFixed(1)} s; ${cacheLine(reference.stderr)}`);
    const good = fs.readFileSync(cacheFile(refCache));

    const warm = check(root, refCache);
    const warmDiff = same(warm, reference);
    note({ name: 'warm run with its own cache', ok: !warmDiff && /from the cache(?! \()/.test(cacheLine(warm.stderr)) && !/rebuilding/.test(warm.stderr), detail: warmDiff ?? `${(warm.ms / 1000).toFixed(1)} s; ${cacheLine(warm.stderr)}` });

    for (const c of CASES) {
      const cache = fresh();
      fs.mkdirSync(path.join(cache, 'index'));
      const file = path.join(cache, 'index', path.basename(cacheFile(refCache)));
      fs.writeFileSync(file, good);
      c.damage(file);
      const run = check(root, cache);
      const diff = same(run, reference);
      const line = cacheLine(run.stderr);
      note({ name: `cache ${c.name}`, ok: !diff && c.note.test(line), detail: diff ?? `${line.replace(/^gfp-lens: index of \S+: /, '')}${c.note.test(line) ? '' : ` (expected ${c.note})`}` });
      // And the rebuilt cache is whole: the next run reads it.
      const after = check(root, cache);
      const afterDiff = same(after, reference);
      if (afterDiff || /rebuilding/.test(after.stderr)) note({ name: `cache ${c.name}, the run after`, ok: false, detail: afterDiff ?? cacheLine(after.stderr) });
    }

    {
      const cache = fresh();
      const [a, b] = await Promise.all([checkAsync(root, cache), checkAsync(root, cache)]);
      const d = same(a, reference) ?? same(b, reference);
      const after = check(root, cache);
      const afterDiff = same(after, reference);
      const leftovers = fs.readdirSync(path.join(cache, 'index')).filter((f) => !f.endsWith('.json'));
      note({ name: 'two gfp-lens check processes indexing the tree at once, then a run with their cache', ok: !d && !afterDiff && !/rebuilding/.test(after.stderr) && leftovers.length === 0, detail: d ?? afterDiff ?? `${(a.ms / 1000).toFixed(1)} s and ${(b.ms / 1000).toFixed(1)} s; after: ${cacheLine(after.stderr).replace(/^gfp-lens: index of \S+: /, '')}${leftovers.length ? `; left behind: ${leftovers.join(' ')}` : ''}` });
    }

    if (options.servers) {
      const cache = fresh();
      const t0 = Date.now();
      const clients = [new TestClient({ progress: true, env: { GFP_LENS_CACHE: cache } }), new TestClient({ progress: true, env: { GFP_LENS_CACHE: cache } })];
      try {
        await Promise.all(clients.map((c) => c.initialize(pathToFileURL(root).href)));
        await Promise.all(clients.map((c) => c.waitFor('the end of the index build', () => c.progress.some((p) => p.value.kind === 'end'), 600_000)));
        const ends = clients.map((c) => c.progress.filter((p) => p.value.kind === 'end').at(-1)?.value.message ?? '');
        for (const c of clients) await c.shutdown();
        const after = check(root, cache);
        const afterDiff = same(after, reference);
        note({ name: 'two language servers building the index of the same workspace at once, then a run with their cache', ok: !afterDiff && !/rebuilding/.test(after.stderr), detail: afterDiff ?? `both built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${ends.join(' | ')}); after: ${cacheLine(after.stderr).replace(/^gfp-lens: index of \S+: /, '')}` });
      } finally {
        for (const c of clients) if (c.child.exitCode === null) c.child.kill();
      }
    }

    {
      // Files rewritten while the index is built (another process, same
      // sizes and new contents, as fast as it can), then the final text: the
      // cache must not hold facts of a text that is gone.
      const cache = fresh();
      const files = listC(root).slice(0, 40);
      const originals = files.map((f) => fs.readFileSync(f, 'utf8'));
      const script = `
        const fs = require('fs');
        const files = ${JSON.stringify(files)};
        let n = 0;
        for (;;) {
          const f = files[n % files.length];
          const t = fs.readFileSync(f, 'utf8');
          // Same size, other meaning: every GFP_NOFS becomes GFP_NOIO and back.
          fs.writeFileSync(f, t.includes('GFP_NOFS') ? t.replace(/GFP_NOFS/g, 'GFP_NOIO') : t.replace(/GFP_NOIO/g, 'GFP_NOFS'));
          n++;
        }`;
      const rewriter = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
      const during = await checkAsync(root, cache);
      rewriter.kill('SIGKILL');
      await new Promise((r) => rewriter.once('exit', r));
      files.forEach((f, i) => fs.writeFileSync(f, originals[i]));
      // Without touching the cache: any fact of a rewritten text it kept would show now.
      const after = check(root, cache);
      const afterDiff = same(after, reference);
      const unwritten = /changed while they were indexed; the index cache is not written/.test(during.stderr) ? ' (the run during the rewrites did not write its cache)' : '';
      note({ name: 'files rewritten (same size) while the index was built, then a run with that cache', ok: during.status === 0 && !afterDiff, detail: afterDiff ?? `during: exit ${during.status}${unwritten}; after: ${cacheLine(after.stderr).replace(/^gfp-lens: index of \S+: /, '')}` });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

export function listC(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) listC(full, out);
    else if (/\.[ch]$/.test(e.name)) out.push(full);
  }
  return out;
}

/** A kernel tree made of a few subdirectories of the real one (copied: the checks rewrite files). */
export function subtree(kernel: string, dirs: readonly string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-index-tree-'));
  fs.copyFileSync(path.join(kernel, 'Makefile'), path.join(root, 'Makefile'));
  fs.mkdirSync(path.join(root, 'include', 'linux'), { recursive: true });
  fs.copyFileSync(path.join(kernel, 'include', 'linux', 'gfp_types.h'), path.join(root, 'include', 'linux', 'gfp_types.h'));
  for (const d of dirs) fs.cpSync(path.join(kernel, d), path.join(root, d), { recursive: true });
  return root;
}

async function main(): Promise<number> {
  const f = flags(process.argv.slice(2));
  const kernel = f.get('kernel') ?? kernelTree();
  const dirs = (f.get('dirs') ?? 'fs/ext4,fs/jbd2').split(',');
  const root = subtree(kernel, dirs);
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  try {
    log(`verify:index over ${dirs.join(' + ')} of ${kernel} (${listC(root).length} files, copied to ${root})`);
    const t0 = process.cpuUsage();
    const outcomes = await verifyIndex(root, { servers: true, log });
    const cpu = process.cpuUsage(t0);
    const failed = outcomes.filter((o) => !o.ok).length;
    log(failed === 0 ? `verify:index: all ${outcomes.length} cases detected and rebuilt, results equal to an empty cache's (this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU)` : `verify:index: ${failed} of ${outcomes.length} cases failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
