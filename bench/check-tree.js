#!/usr/bin/env node
// Benchmark of `gfp-lens check` over a kernel directory, against a bare parse of
// the same files by the same backend in the same run. The check runs with
// --no-index (the analysis of each file); bench/index-tree.js measures the
// workspace index.
//
//   node bench/check-tree.js [--backend native|wasm] [--jobs N] [SUBDIR...]
//
// SUBDIR is relative to the kernel tree that bench/fetch-kernel.sh fetches
// (Debian's linux-source-6.12, unpacked outside the repo); default: the whole
// tree. Run after `npm install` (it uses out/). Reports wall time, CPU time
// (user+sys) and peak RSS of the check (GNU time), the CPU time of a bare,
// single-threaded parse of every file it checks, and their ratio. Appends a
// line to bench/results/check-tree.md.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const repo = path.join(__dirname, '..');
const args = process.argv.slice(2);
let backend = 'native';
let jobs = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const subdirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--backend') backend = args[++i];
  else if (args[i] === '--jobs') jobs = Number(args[++i]);
  else subdirs.push(args[i]);
}
const tree = execFileSync(path.join(__dirname, 'fetch-kernel.sh'), { encoding: 'utf8' }).trim();
const targets = subdirs.length > 0 ? subdirs : ['.'];

function timed(argv, cwd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const last = r.stderr.trim().split('\n').pop();
  const [wall, user, sys, rssKb] = last.split(' ').map(Number);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wall, cpu: user + sys, rssMb: rssKb / 1024 };
}

const check = timed([process.execPath, path.join(repo, 'out/server/cli/main.js'), 'check', '--no-index', '--format', 'json', '--fail-on', 'none', '--backend', backend, '--jobs', String(jobs), '--file-timeout', '120', ...targets], tree);
if (check.status !== 0) {
  process.stderr.write(check.stderr);
  throw new Error(`gfp-lens check exited with ${check.status}`);
}
const report = JSON.parse(check.stdout);
const skipped = (check.stderr.match(/note: skipped/g) || []).length;
const errors = (check.stderr.match(/: error: /g) || []).length;

// Bare parse of the same files: one process, one thread, same backend.
const parse = timed([process.execPath, path.join(__dirname, 'parse-only.js'), '--backend', backend, ...targets.map((t) => path.join(tree, t))], tree);
if (parse.status !== 0) {
  process.stderr.write(parse.stderr);
  throw new Error('parse-only failed');
}

const counts = {};
for (const f of report.findings) counts[f.code] = (counts[f.code] || 0) + 1;
const row = {
  date: new Date().toISOString().slice(0, 10),
  target: targets.join(' '),
  backend,
  jobs,
  files: report.files,
  skipped,
  errors,
  wall: check.wall,
  cpu: check.cpu,
  rssMb: Math.round(check.rssMb),
  parseCpu: parse.cpu,
  ratio: +(check.cpu / parse.cpu).toFixed(2),
};
console.log(JSON.stringify(row));
console.log(JSON.stringify(counts));
const out = path.join(__dirname, 'results', 'check-tree.md');
fs.mkdirSync(path.dirname(out), { recursive: true });
if (!fs.existsSync(out)) {
  fs.writeFileSync(out, '| date | target | backend | jobs | files | skipped | wall s | CPU s | peak RSS MB | bare-parse CPU s | CPU ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
}
fs.appendFileSync(out, `| ${row.date} | ${row.target} | ${backend} | ${jobs} | ${row.files} | ${skipped} | ${row.wall} | ${row.cpu.toFixed(1)} | ${row.rssMb} | ${row.parseCpu.toFixed(1)} | ${row.ratio} |\n`);
