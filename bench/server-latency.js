#!/usr/bin/env node
// Language-server latency on real kernel files (Debian's linux-source-6.12,
// unpacked by bench/fetch-kernel.sh):
//   - edit-to-diagnostics p50/p99 on the largest fs/ and kernel/ .c files that
//     the analysis reads, against the incremental parse of the same edits alone
//     (in-process, same backend): the server's overhead over the parse;
//   - hover latency on allocation calls;
//   - open-to-first-diagnostics;
//   - server RSS with 100 open fs/ files.
// The server runs as a child process over stdio, exactly as editors run it.
//
// usage: node bench/server-latency.js [KERNEL_DIR] [--edits N] [--backend native|wasm]
// (--backend: the server's gfp-lens.parserBackend and the baseline's parser; default native)
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-languageserver/node');
const { TextDocument } = require('vscode-languageserver-textdocument');
const { incrementalParseTimes } = require('./parse-baseline');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const editsArg = args.indexOf('--edits');
const backendArg = args.indexOf('--backend');
// The kernel tree: the argument that is neither an option nor an option's value.
const isValue = (i) => (editsArg >= 0 && i === editsArg + 1) || (backendArg >= 0 && i === backendArg + 1);
const kernel = args.find((a, i) => !a.startsWith('--') && !isValue(i)) ?? path.join(process.env.HOME ?? '/root', '.cache', 'gfp-lens', 'linux-source-6.12');
const EDITS = editsArg >= 0 ? Number(args[editsArg + 1]) : 60;
const BACKEND = backendArg >= 0 ? args[backendArg + 1] : 'native';

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full, out);
    else if (e.name.endsWith('.c')) out.push(full);
  }
  return out;
}

const INTERESTING = /\b(?:GFP_\w+|memalloc_\w+_save|kmalloc|kzalloc)\b/;
function largest(dir, n = 1) {
  return walk(path.join(kernel, dir))
    .map((f) => ({ f, size: fs.statSync(f).size }))
    .filter((x) => x.size < 4 * 1024 * 1024 && INTERESTING.test(fs.readFileSync(x.f, 'utf8')))
    .sort((a, b) => b.size - a.size)
    .slice(0, n)
    .map((x) => x.f);
}

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const ms = (ns) => Number(ns) / 1e6;

function startServer() {
  const child = spawn(process.execPath, [path.join(root, 'out', 'server', 'main.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map();
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    const key = `${p.uri}@${p.version}`;
    const w = waiting.get(key);
    if (w) {
      waiting.delete(key);
      w(p);
    }
  });
  // The workspace index off: its background build of the whole tree would
  // share the cores with what is measured here (latency of the open file).
  conn.onRequest('workspace/configuration', (p) => p.items.map(() => ({ kernelVersion: '6.12', parserBackend: BACKEND, index: { enabled: false } })));
  conn.onRequest('client/registerCapability', () => null);
  conn.listen();
  const diagnostics = (uri, version) => new Promise((resolve) => waiting.set(`${uri}@${version}`, resolve));
  return { child, conn, diagnostics };
}

function rss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function main() {
  if (!fs.existsSync(path.join(kernel, 'Makefile'))) {
    console.error(`no kernel tree at ${kernel} (run bench/fetch-kernel.sh)`);
    process.exit(2);
  }
  const { createParser } = require(path.join(root, 'out', 'server', 'syntax', 'parser.js'));
  const parser = await createParser(BACKEND);
  const server = startServer();
  await server.conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true } } });
  await server.conn.sendNotification('initialized', {});
  const results = {};

  for (const file of [...largest('fs'), ...largest('kernel')]) {
    const rel = path.relative(kernel, file);
    const text = fs.readFileSync(file, 'utf8');
    const uri = `file://${file}`;
    // Open to first diagnostics.
    const t0 = process.hrtime.bigint();
    const first = server.diagnostics(uri, 1);
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
    const firstDiags = await first;
    const open = ms(process.hrtime.bigint() - t0);

    // Edits inside function bodies near allocation calls: type a character, delete it.
    let doc = TextDocument.create(uri, 'c', 1, text);
    const anchors = [];
    const re = /\bk[mz]alloc\(/g;
    for (let m = re.exec(text); m && anchors.length < 20; m = re.exec(text)) anchors.push(m.index);
    if (anchors.length === 0) anchors.push(Math.floor(text.length / 2));
    const edits = [];
    for (let i = 0; i < EDITS; i++) {
      const at = anchors[i % anchors.length] + (i % 2 === 0 ? 0 : 0);
      edits.push(i % 2 === 0 ? { at, del: 0, ins: 'x' } : { at, del: 1, ins: '' });
    }
    const serverTimes = [];
    for (let i = 0; i < edits.length; i++) {
      const e = edits[i];
      const change = { range: { start: doc.positionAt(e.at), end: doc.positionAt(e.at + e.del) }, text: e.ins };
      doc = TextDocument.update(doc, [change], i + 2);
      const t = process.hrtime.bigint();
      const got = server.diagnostics(uri, i + 2);
      await server.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: i + 2 }, contentChanges: [change] });
      await got;
      serverTimes.push(ms(process.hrtime.bigint() - t));
    }
    // Hover on allocation calls (the analysis of the current version is done).
    const hoverTimes = [];
    for (let i = 0; i < 200; i++) {
      const pos = doc.positionAt(anchors[i % anchors.length] + 2);
      const t = process.hrtime.bigint();
      await server.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: pos });
      hoverTimes.push(ms(process.hrtime.bigint() - t));
    }
    // The same edits, incremental parse alone (after the hovers: the trees it
    // drops are this process's garbage, and collecting them would stretch the
    // hover times measured here).
    const parseTimes = incrementalParseTimes(parser, uri, text, edits, () => {
      const t = process.hrtime.bigint();
      return () => ms(process.hrtime.bigint() - t);
    });
    results[rel] = {
      bytes: Buffer.byteLength(text),
      findings: firstDiags.diagnostics.length,
      openToDiagnosticsMs: +open.toFixed(1),
      editToDiagnosticsMs: { p50: +pct(serverTimes, 50).toFixed(2), p99: +pct(serverTimes, 99).toFixed(2) },
      incrementalParseMs: { p50: +pct(parseTimes, 50).toFixed(2), p99: +pct(parseTimes, 99).toFixed(2) },
      ratio: { p50: +(pct(serverTimes, 50) / pct(parseTimes, 50)).toFixed(2), p99: +(pct(serverTimes, 99) / pct(parseTimes, 99)).toFixed(2) },
      hoverMs: { p50: +pct(hoverTimes, 50).toFixed(2), p99: +pct(hoverTimes, 99).toFixed(2) },
    };
    await server.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  // RSS with 100 open fs/ files (the first 100 that mention GFP names, sorted by path).
  const hundred = walk(path.join(kernel, 'fs')).sort().filter((f) => /\bGFP_\w+/.test(fs.readFileSync(f, 'utf8'))).slice(0, 100);
  const rssBefore = rss(server.child.pid);
  await Promise.all(hundred.map((f) => {
    const uri = `file://${f}`;
    const got = server.diagnostics(uri, 1);
    void server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: fs.readFileSync(f, 'utf8') } });
    return got;
  }));
  results.rss = { idleMiB: +rssBefore.toFixed(0), with100OpenFilesMiB: +rss(server.child.pid).toFixed(0) };

  await server.conn.sendRequest('shutdown');
  await server.conn.sendNotification('exit');
  server.conn.dispose();
  parser.dispose();
  console.log(JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
