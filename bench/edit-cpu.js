#!/usr/bin/env node
// The language server's work per edit, in-process and as CPU time: the same
// files and edits as bench/server-latency.js, through the document store
// (tree.edit, incremental reparse, analysis, diagnostics) and, separately,
// through tree.edit and the incremental parse alone. CPU time of this process
// is far less disturbed than wall time by other work on a shared machine, so
// this is the number to compare changes by; server-latency.js measures what an
// editor sees (stdio, JSON, scheduling) on a quiet machine.
//
// usage: node bench/edit-cpu.js [KERNEL_DIR] [--edits N]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { TextDocument } = require('vscode-languageserver-textdocument');
const { incrementalParseTimes } = require('./parse-baseline');

const root = path.join(__dirname, '..');
const out = (p) => require(path.join(root, 'out', p));
const { DocumentStore } = out('server/documents/document-store.js');
const { AnalysisContext } = out('server/analysis/context.js');
const { parseVersion } = out('shared/model/version.js');
const { DEFAULT_SETTINGS } = out('shared/settings.js');
const { createParser } = out('server/syntax/parser.js');
const { toDiagnostics } = out('server/features/diagnostics.js');

const args = process.argv.slice(2);
const editsArg = args.indexOf('--edits');
// The kernel tree: the argument that is neither an option nor --edits' value.
const kernel = args.find((a, i) => !a.startsWith('--') && (editsArg < 0 || i !== editsArg + 1)) ?? path.join(process.env.HOME ?? '/root', '.cache', 'gfp-lens', 'linux-source-6.12');
const EDITS = editsArg >= 0 ? Number(args[editsArg + 1]) : 60;
// The files server-latency.js picks (the largest interesting .c of fs/ and kernel/).
const FILES = ['fs/nfs/nfs4proc.c', 'kernel/bpf/verifier.c'];

const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const cpuMs = (since) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

/** server-latency.js's edits: type a character at an allocation call, delete one at the next. */
function editsOf(text) {
  const anchors = [];
  const re = /\bk[mz]alloc\(/g;
  for (let m = re.exec(text); m && anchors.length < 20; m = re.exec(text)) anchors.push(m.index);
  if (anchors.length === 0) anchors.push(Math.floor(text.length / 2));
  return Array.from({ length: EDITS }, (_, i) => (i % 2 === 0 ? { at: anchors[i % anchors.length], del: 0, ins: 'x' } : { at: anchors[i % anchors.length], del: 1, ins: '' }));
}

async function main() {
  const parser = await createParser('native');
  const config = { settings: DEFAULT_SETTINGS, context: new AnalysisContext(parseVersion('6.12')), contextKey: 'bench', parser, kernel: '' };
  const results = {};
  for (const rel of FILES) {
    const file = path.join(kernel, rel);
    if (!fs.existsSync(file)) {
      console.error(`no ${file} (run bench/fetch-kernel.sh)`);
      process.exit(2);
    }
    const text = fs.readFileSync(file, 'utf8');
    const uri = `file://${file}`;
    const edits = editsOf(text);
    const store = new DocumentStore({ config: async () => config });
    store.open(uri, 'c', 1, text);
    toDiagnostics(await store.analysis(uri));
    let doc = TextDocument.create(uri, 'c', 1, text);
    const server = [];
    let analysed = 0;
    for (const e of edits) {
      const change = { range: { start: doc.positionAt(e.at), end: doc.positionAt(e.at + e.del) }, text: e.ins };
      doc = TextDocument.update(doc, [change], doc.version + 1);
      const since = process.cpuUsage();
      store.change(uri, doc.version, [change]);
      const a = await store.analysis(uri);
      toDiagnostics(a);
      server.push(cpuMs(since));
      analysed += a.result?.analysed ?? 0;
    }
    store.close(uri);
    // The same edits, tree.edit and the incremental parse alone.
    const parse = incrementalParseTimes(parser, uri, text, edits, () => {
      const since = process.cpuUsage();
      return () => cpuMs(since);
    });
    const r2 = (x) => +x.toFixed(2);
    results[rel] = {
      editCpuMs: { mean: r2(mean(server)), p50: r2(pct(server, 50)), p99: r2(pct(server, 99)) },
      parseCpuMs: { mean: r2(mean(parse)), p50: r2(pct(parse, 50)), p99: r2(pct(parse, 99)) },
      ratio: { mean: r2(mean(server) / mean(parse)), p50: r2(pct(server, 50) / pct(parse, 50)) },
      functionsAnalysedPerEdit: r2(analysed / edits.length),
    };
  }
  parser.dispose();
  console.log(JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
