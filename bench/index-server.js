#!/usr/bin/env node
// The language server's workspace index over a kernel tree, as an editor sees
// it: the server over stdio with the tree as its workspace folder and the
// index on, one file open; how long from `initialized` to the end of the
// index's work-done progress, and the resident memory of the server and its
// workers then (VmRSS, and the peak VmHWM) and after a while idle. Run it
// twice: the first run builds the index cache (cold), the second reads it
// (warm). The cache goes where `GFP_LENS_CACHE` says (the server's default
// otherwise, the checker's cache of the same tree).
//
// usage: node bench/index-server.js [KERNEL_DIR] [--idle SECONDS]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-languageserver/node');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const idleArg = args.indexOf('--idle');
const IDLE_S = idleArg >= 0 ? Number(args[idleArg + 1]) : 10;
const kernel = args.find((a, i) => !a.startsWith('--') && !(idleArg >= 0 && i === idleArg + 1)) ?? path.join(process.env.HOME ?? '/root', '.cache', 'gfp-lens', 'linux-source-6.12');

/** VmRSS and VmHWM (MiB) of a process and of every process below it (native workers are child processes). */
function memory(pid) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  let rss = 0;
  let hwm = 0;
  const visit = (p) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
      hwm += Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
    } catch {
      return;
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return { rss: Math.round(rss), hwm: Math.round(hwm) };
}

async function main() {
  if (!fs.existsSync(path.join(kernel, 'Makefile'))) {
    console.error(`no kernel tree at ${kernel} (run bench/fetch-kernel.sh)`);
    process.exit(2);
  }
  const child = spawn(process.execPath, [path.join(root, 'out', 'server', 'main.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  // The defaults, as a fresh editor has them (kernel version auto: the tree's own masks, as the checker reads them, so both share one cache).
  conn.onRequest('workspace/configuration', (p) => p.items.map(() => ({})));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onNotification('window/logMessage', (p) => (log += `${p.message}\n`));
  let ended;
  const done = new Promise((resolve) => (ended = resolve));
  let last = '';
  conn.onNotification('$/progress', (p) => {
    if (p.value?.message) last = p.value.message;
    if (p.value?.kind === 'end') ended();
  });
  conn.listen();
  const uri = `file://${kernel}`;
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: uri,
    workspaceFolders: [{ uri, name: 'linux' }],
    capabilities: { workspace: { configuration: true, workspaceFolders: true }, window: { workDoneProgress: true } },
  });
  const started = Date.now();
  await conn.sendNotification('initialized', {});
  const file = path.join(kernel, 'fs', 'ext4', 'inode.c');
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: `file://${file}`, languageId: 'c', version: 1, text: fs.readFileSync(file, 'utf8') } });
  await done;
  const seconds = (Date.now() - started) / 1000;
  const atEnd = memory(child.pid);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idle = memory(child.pid);
  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  const summary = log.split('\n').filter((l) => /index of/.test(l)).pop() ?? last;
  console.log(JSON.stringify({ indexSeconds: seconds, rssAtEndMiB: atEnd.rss, peakMiB: atEnd.hwm, rssIdleMiB: idle.rss, idleSeconds: IDLE_S, index: summary.trim() }, null, 2));
  child.kill();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
