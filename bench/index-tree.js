#!/usr/bin/env node
// Benchmark of the workspace index: `gfp-lens check` over a kernel tree (or
// some of its directories, with --root), without the index, with a cold index
// (empty cache) and with a warm one (the cache the cold run left, nothing
// changed), and a warm run after one file changed.
//
//   node bench/index-tree.js [--jobs N] [--no-baseline] [SUBDIR]
//
// --no-baseline leaves out the run without the index (when its row is known
// from an earlier run and the machine's time is short).
// SUBDIR (relative to the tree bench/fetch-kernel.sh unpacks): index and check
// only that directory (--root SUBDIR); default the whole tree. Reports wall,
// CPU (user+sys) and peak RSS of each run (GNU time), the index's own time
// (the `index of ...` line that GFP_LENS_DEBUG prints), its rounds, and the
// size of its cache. Appends a row per run to bench/results/index-tree.md.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.join(__dirname, '..');
const args = process.argv.slice(2);
let jobs = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
let subdir;
let baseline = true;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') jobs = Number(args[++i]);
  else if (args[i] === '--no-baseline') baseline = false;
  else subdir = args[i];
}
const tree = execFileSync(path.join(__dirname, 'fetch-kernel.sh'), { encoding: 'utf8' }).trim();
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-bench-index-'));
const target = subdir ?? '.';

function run(label, extra) {
  const argv = [process.execPath, path.join(repo, 'out/server/cli/main.js'), 'check', '--format', 'json', '--fail-on', 'none', '--jobs', String(jobs), ...extra, target];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], {
    cwd: tree,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, GFP_LENS_CACHE: cache, GFP_LENS_DEBUG: '1' },
  });
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys, rssKb] = lines.pop().split(' ').map(Number);
  const index = lines.find((l) => l.startsWith('gfp-lens: index of '));
  const indexSeconds = index ? Number(/, ([\d.]+)s$/.exec(index)?.[1]) : undefined;
  const rounds = index ? /rounds analysed ([\d+]+) files/.exec(index)?.[1] : undefined;
  const pending = lines.find((l) => /summaries of the index .* still settling/.test(l));
  const findings = r.status === 0 ? JSON.parse(r.stdout).findings.length : undefined;
  const row = { label, wall, cpu: +(user + sys).toFixed(1), rssMb: Math.round(rssKb / 1024), indexSeconds, rounds, pending: pending ? Number(/(\d+) function summaries/.exec(pending)[1]) : 0, findings };
  if (r.status !== 0) console.error(r.stderr.slice(-2000));
  console.log(JSON.stringify(row));
  return row;
}

const rows = [];
if (baseline) rows.push(run('no index', ['--no-index']));
const rootArgs = subdir ? ['--root', subdir] : [];
rows.push(run('cold index', rootArgs));
// The index's cache (beside it, the check's results cache: not counted).
const cacheFiles = fs.readdirSync(path.join(cache, 'index')).filter((f) => f.endsWith('.json') && !f.includes('-results-'));
const cacheMb = cacheFiles.length > 0 ? +(fs.statSync(path.join(cache, 'index', cacheFiles[0])).size / 1e6).toFixed(1) : 0;
rows.push(run('warm index', rootArgs));
// One file touched (its content unchanged, its mtime moved): re-hashed and re-analysed, nothing propagates.
const touched = path.join(tree, subdir ?? 'fs', 'super.c');
if (fs.existsSync(touched)) {
  const st = fs.statSync(touched);
  fs.utimesSync(touched, st.atime, new Date(st.mtimeMs + 1000));
  rows.push(run('warm, one file touched', rootArgs));
  fs.utimesSync(touched, st.atime, st.mtime);
}
fs.rmSync(cache, { recursive: true, force: true });

const out = path.join(__dirname, 'results', 'index-tree.md');
if (!fs.existsSync(out)) {
  fs.writeFileSync(out, '| date | target | jobs | run | wall s | CPU s | peak RSS MB | index s | rounds (files analysed) | pending | cache MB | findings |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n');
}
const date = new Date().toISOString().slice(0, 10);
for (const r of rows) {
  fs.appendFileSync(out, `| ${date} | ${target} | ${jobs} | ${r.label} | ${r.wall} | ${r.cpu} | ${r.rssMb} | ${r.indexSeconds ?? ''} | ${r.rounds ?? ''} | ${r.pending} | ${r.label === 'cold index' ? cacheMb : ''} | ${r.findings ?? 'failed'} |\n`);
}
console.log(`cache ${cacheMb} MB; rows appended to ${path.relative(repo, out)}`);
