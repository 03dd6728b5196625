#!/usr/bin/env node
// Parse-only throughput of one backend over a source tree, no analysis:
//   node bench/parse-only.js [--backend native|wasm|auto] DIR
// Run after `npx tsc -b` (it loads the compiled parser from out/). Reports
// files, bytes, wall and CPU time, peak RSS and MB/s. Every tree is disposed
// (which frees WASM trees at once) and the loop yields to the event loop every
// 100 files, because native trees are freed only by finalizers, which never run
// inside a synchronous loop (fs/ then grows to ~1 GB instead of ~200 MB).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createParser, describeBackend } = require('../out/server/syntax/parser.js');
const { loadWasm } = require('../out/server/syntax/wasm-backend.js');

const YIELD_EVERY = 100;

function usage(message) {
  if (message) console.error(message);
  console.error('usage: node bench/parse-only.js [--backend native|wasm|auto] DIR...');
  process.exit(2);
}

function parseArgs(argv) {
  let backend = 'auto';
  const dirs = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--backend') backend = argv[++i];
    else if (arg.startsWith('--backend=')) backend = arg.slice('--backend='.length);
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else dirs.push(arg);
  }
  if (!['native', 'wasm', 'auto'].includes(backend)) usage(`unknown backend ${backend}`);
  if (dirs.length === 0) usage('DIR is required');
  return { backend, dirs };
}

/** .c and .h files under dir, sorted so that runs are comparable; symlinks skipped. */
function sourceFiles(dir) {
  const out = [];
  (function walk(d) {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && (e.name.endsWith('.c') || e.name.endsWith('.h'))) out.push(full);
    }
  })(dir);
  return out;
}

/** Kernel-tracked peak RSS (VmHWM) in bytes; undefined where /proc is missing. */
function vmHwm() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes) => bytes / 1e6;
const fmt = (n, digits = 1) => n.toFixed(digits);

async function main() {
  const { backend, dirs } = parseArgs(process.argv.slice(2));
  const files = dirs.flatMap((dir) => sourceFiles(dir));
  // Parser creation (WASM compile) is outside the timed region: it is paid once
  // per process and is not throughput.
  const parser = await createParser(backend);
  const wasm = parser.backend === 'wasm' ? await loadWasm() : undefined;

  let bytes = 0;
  let chars = 0;
  let parseMs = 0;
  let errorFiles = 0;
  // Sampled as well as VmHWM, for platforms without /proc.
  let peakRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();

  for (let i = 0; i < files.length; i++) {
    const buf = fs.readFileSync(files[i]);
    const text = buf.toString('utf8');
    bytes += buf.length;
    chars += text.length;
    const t0 = performance.now();
    const tree = parser.parse(text);
    parseMs += performance.now() - t0;
    if (tree.rootNode.hasError) errorFiles++;
    tree.dispose();
    if ((i + 1) % YIELD_EVERY === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const hwm = vmHwm();
  parser.dispose();

  const cpuMs = (cpu.user + cpu.system) / 1000;
  const lines = [
    `backend      ${describeBackend(parser)}`,
    `dirs         ${dirs.join(" ")}`,
    `files        ${files.length} (${errorFiles} with an ERROR/MISSING node)`,
    `bytes        ${fmt(mb(bytes))} MB (${chars} UTF-16 units)`,
    `wall         ${fmt(wallMs / 1000, 2)} s (parse calls ${fmt(parseMs / 1000, 2)} s)`,
    `cpu          ${fmt(cpuMs / 1000, 2)} s (user ${fmt(cpu.user / 1e6, 2)}, sys ${fmt(cpu.system / 1e6, 2)})`,
    `peak rss     ${fmt(mb(hwm ?? peakRss))} MB (${hwm !== undefined ? 'VmHWM' : 'sampled'}; sampled max ${fmt(mb(peakRss))} MB)`,
    `throughput   ${fmt(mb(bytes) / (wallMs / 1000), 2)} MB/s wall, ${fmt(mb(bytes) / (parseMs / 1000), 2)} MB/s in parse`,
  ];
  if (wasm) {
    const heap = wasm.heapBytes();
    lines.push(`wasm memory  ${heap === undefined ? 'unknown' : fmt(mb(heap)) + ' MB'} (linear memory never shrinks)`);
  }
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
