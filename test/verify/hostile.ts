// verify:hostile — input meant to break the checker and the server.
//
// A corpus generated here (never committed): binary files, invalid UTF-8, a
// 5 MB generated table, 10,000 nested blocks, a 1 MB line, unterminated
// comments and strings, `#if 0` around everything, huge macro expansions, a
// 100,000-term expression, 50,000 small functions; then files that change
// while `gfp-lens check --root` / `--interprocedural` index them, and a file
// deleted while the server has it open. Every file goes through the CLI (a
// process per file: exit status, wall and CPU time, peak memory) and through
// the real server over stdio (time to diagnostics, resident memory, still
// answering afterwards). Fails on a crash, a stack trace, a time or memory
// bound exceeded, or a skipped file without a message saying why.
//
// usage: node out/test/verify/hostile.js [--small] [--keep]

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Hover } from 'vscode-languageserver';
import { TestClient } from '../lsp-client';
import { CLI, flags, memoryOf, mib } from './lib-server';

export interface HostileFile {
  readonly name: string;
  readonly what: string;
  /** The CLI skips it (with a `note: skipped` line) rather than analysing it. */
  readonly skippedByCli?: RegExp;
  /** The server answers with one information diagnostic saying why it does not analyse it. */
  readonly skippedByServer?: RegExp;
  /** Deep enough that either analysing it or skipping it as nested too deeply (with that message) is right. */
  readonly mayBeTooDeep?: boolean;
}

/** Sizes: the full corpus of the issue, or a small one for the test suite. */
export interface Scale {
  readonly table: number;
  readonly nesting: number;
  readonly line: number;
  readonly terms: number;
  readonly functions: number;
  readonly macroLines: number;
}
export const FULL: Scale = { table: 5 * 1024 * 1024, nesting: 10_000, line: 1024 * 1024, terms: 100_000, functions: 50_000, macroLines: 20_000 };
export const SMALL: Scale = { table: 5 * 1024 * 1024, nesting: 2_000, line: 100 * 1024, terms: 10_000, functions: 1_000, macroLines: 1_000 };

const FN = 'static int demo_fn(struct demo *d)\n{\n\tunsigned int flags = memalloc_nofs_save();\n\td->p = kmalloc(8, GFP_NOFS);\n\tmemalloc_nofs_restore(flags);\n\treturn 0;\n}\n';

/** Writes the corpus into `dir`. */
export function generateCorpus(dir: string, scale: Scale): HostileFile[] {
  const files: HostileFile[] = [];
  const put = (name: string, content: string | Buffer, what: string, extra: Partial<HostileFile> = {}): void => {
    fs.writeFileSync(path.join(dir, name), content);
    files.push({ name, what, ...extra });
  };
  // Binary: an object file's worth of bytes, with NULs and allocation names in it.
  const bin = Buffer.alloc(256 * 1024);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 2654435761) >>> 24;
  bin.write('kmalloc(8, GFP_NOFS)', 1000);
  put('binary.c', bin, 'binary content with NUL bytes', { skippedByCli: /binary/, skippedByServer: /binary content/ });
  put('invalid-utf8.c', Buffer.concat([Buffer.from(FN), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]), Buffer.from(`\n${FN.replace('demo_fn', 'demo_fn2')}`)]), 'invalid UTF-8 sequences', { skippedByCli: /UTF-8/ });
  // A generated table well over the 4 MiB default limit, with an allocation after it.
  let table = 'static const unsigned int demo_table[] = {\n';
  for (let i = 0; table.length < scale.table; i++) table += `\t0x${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}, 0x${i.toString(16)}, ${i}, ${i * 7},\n`;
  put('table-5mb.c', `${table}};\n${FN}`, `a ${mib(scale.table / 1024)} generated table`, { skippedByCli: /size limit/, skippedByServer: /larger than gfp-lens\.maxFileSize/ });
  // The same shape, under the limit: analysed, in bounded time.
  put('table-3mb.c', `${table.slice(0, 3 * 1024 * 1024).replace(/[^\n]*$/, '')}};\n${FN}`, 'a 3 MiB generated table (analysed)');
  put('nested-blocks.c', `static void demo_nested(struct demo *d)\n{\n${'{\n'.repeat(scale.nesting)}\td->p = kmalloc(8, GFP_NOFS);\n${'}\n'.repeat(scale.nesting)}}\n${FN}`, `${scale.nesting} nested blocks`, { mayBeTooDeep: true });
  put('nested-ifs.c', `static void demo_ifs(struct demo *d, int x)\n{\n\tunsigned int fl = memalloc_nofs_save();\n${'\tif (x) {\n'.repeat(scale.nesting)}\td->p = kmalloc(8, GFP_KERNEL);\n${'\t}\n'.repeat(scale.nesting)}\tmemalloc_nofs_restore(fl);\n}\n`, `${scale.nesting} nested if statements inside a scope`, { mayBeTooDeep: true });
  put('unbalanced-open.c', `static void demo_open(struct demo *d)\n{\n${'\tif (d) {\n\t\td->p = kmalloc(8, GFP_NOFS);\n'.repeat(Math.floor(scale.nesting / 2))}`, `${Math.floor(scale.nesting / 2)} blocks never closed`, { mayBeTooDeep: true });
  let line = 'static void demo_line(struct demo *d) { ';
  while (line.length < scale.line) line += 'd->p = kmalloc(8, GFP_NOFS); kfree(d->p); ';
  put('one-line.c', `${line}}\n`, `a ${mib(scale.line / 1024)} line`);
  put('unterminated-comment.c', `${FN}/* this comment never ends\n${FN.repeat(200)}`, 'a comment that never ends');
  put('unterminated-string.c', `static const char *s = "never ends\n${FN.repeat(200)}\nstatic char c = 'x;\n`, 'a string and a character literal that never end');
  put('if0.c', `#if 0\n${FN.repeat(500)}#endif\n`, '#if 0 around everything');
  put('if0-unterminated.c', `#if 0\n${FN.repeat(500)}`, '#if 0 never closed');
  put('nested-ifdefs.c', `${'#ifdef CONFIG_A\n'.repeat(scale.nesting / 10)}${FN}${'#endif\n'.repeat(scale.nesting / 10)}`, `${scale.nesting / 10} nested #ifdefs`);
  // Macros: one definition of many continuation lines, used often; and calls nested deeply.
  const body = Array.from({ length: scale.macroLines }, (_, i) => `\t(x)->f${i} = kmalloc(${i}, GFP_NOFS); \\`).join('\n');
  put('macro-huge.c', `#define DEMO_INIT(x) do { \\\n${body}\n} while (0)\n\nstatic void demo_m(struct demo *d)\n{\n${'\tDEMO_INIT(d);\n'.repeat(1000)}}\n`, `a macro of ${scale.macroLines} lines used 1000 times`);
  put('macro-nested.c', `static void demo_mn(struct demo *d)\n{\n\td->p = kmalloc(${'DEMO_SIZE('.repeat(scale.nesting / 2)}8${')'.repeat(scale.nesting / 2)}, GFP_NOFS);\n}\n`, `${scale.nesting / 2} nested macro calls in an argument`, { mayBeTooDeep: true });
  put('long-expression.c', `static void demo_expr(struct demo *d)\n{\n\td->n = ${Array.from({ length: scale.terms }, (_, i) => `a${i % 10}`).join(' + ')};\n\td->p = kmalloc(d->n, GFP_NOFS);\n}\n`, `an expression of ${scale.terms} terms`, { mayBeTooDeep: true });
  put('long-mask.c', `static void demo_mask(struct demo *d)\n{\n\td->p = kmalloc(8, ${Array.from({ length: scale.terms / 10 }, () => 'GFP_NOFS').join(' | ')});\n}\n`, `a GFP mask of ${scale.terms / 10} names`, { mayBeTooDeep: true });
  put('many-functions.c', Array.from({ length: scale.functions }, (_, i) => `static int demo_f${i}(void)\n{\n\treturn demo_f${(i + 1) % scale.functions}() + !!kmalloc(8, GFP_NOFS);\n}\n`).join('\n'), `${scale.functions} small functions calling each other in a cycle`);
  put('crlf-bom.c', `\ufeff${FN.replace(/\n/g, '\r\n')}\r${FN}`, 'a byte order mark, CR LF and a lone CR');
  put('empty.c', '', 'an empty file');
  put('control-chars.c', `${FN}\u0001\u0002\u001b[31m\u007f${FN.replace('demo_fn', 'demo_g')}`, 'control characters (no NUL)');
  return files;
}

export interface CliResult {
  readonly file: string;
  readonly status: number | null;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakKiB: number;
  readonly notes: string[];
  readonly problem?: string;
}

/** Runs `gfp-lens check` on one file under /usr/bin/time: status, times and peak memory. */
export function checkOne(file: string, extra: readonly string[], limits: { wallMs: number; peakKiB: number }, env: NodeJS.ProcessEnv = process.env): CliResult {
  const t0 = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'GFPTIME %U %S %M', process.execPath, CLI, 'check', '--format', 'json', '--fail-on', 'none', '--jobs', '1', ...extra, file], { encoding: 'utf8', env, timeout: limits.wallMs * 3, maxBuffer: 1 << 28 });
  const wallMs = Date.now() - t0;
  const m = /GFPTIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  const cpuMs = m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN;
  const peakKiB = m ? Number(m[3]) : NaN;
  const stderr = (r.stderr ?? '').replace(/GFPTIME.*\n?/, '');
  const notes = stderr.split('\n').filter((l) => /note:|warning:|error:/.test(l));
  let problem: string | undefined;
  if (r.error) problem = `did not finish: ${r.error.message}`;
  else if (r.status !== 0) problem = `exit status ${r.status}: ${stderr.slice(0, 500)}`;
  else if (/\n\s+at |uncaught|RangeError|Maximum call stack/i.test(stderr)) problem = `stack trace on stderr: ${stderr.slice(0, 800)}`;
  else if (wallMs > limits.wallMs) problem = `took ${wallMs} ms (limit ${limits.wallMs})`;
  else if (peakKiB > limits.peakKiB) problem = `peak memory ${mib(peakKiB)} (limit ${mib(limits.peakKiB)})`;
  else {
    try {
      JSON.parse(r.stdout);
    } catch {
      problem = 'standard output is not the JSON report';
    }
  }
  return { file, status: r.status, wallMs, cpuMs, peakKiB, notes, ...(problem ? { problem } : {}) };
}

export interface ServerResult {
  readonly file: string;
  readonly ms: number;
  readonly diagnostics: number;
  readonly problem?: string;
}

/** Opens every corpus file in one server, one after another; checks answers, skips and that the server keeps answering. */
export async function throughServer(dir: string, files: readonly HostileFile[], limitMs: number, log: (s: string) => void): Promise<{ results: ServerResult[]; rssKiB: number; hwmKiB: number; alive: boolean; stderr: string }> {
  const c = new TestClient();
  const results: ServerResult[] = [];
  try {
    await c.initialize();
    const probe = 'file:///hostile/probe.c';
    await c.open(probe, FN);
    await c.waitDiagnostics(probe, 1);
    for (const f of files) {
      const uri = pathToFileURL(path.join(dir, f.name)).href;
      // What an editor sends: the file decoded as UTF-8 (invalid bytes become U+FFFD).
      const text = fs.readFileSync(path.join(dir, f.name)).toString('utf8');
      const t0 = Date.now();
      let diags: Diagnostic[] = [];
      let problem: string | undefined;
      try {
        await c.open(uri, text);
        diags = await c.waitDiagnostics(uri, 1, limitMs);
        const tooDeep = f.mayBeTooDeep && diags.length === 1 && diags[0].severity === 3 && /nested too deeply/.test(diags[0].message);
        if (!f.skippedByServer && !tooDeep && diags.some((d) => /does not analyse/.test(d.message))) problem = `not analysed: ${diags[0].message}`;
        if (f.skippedByServer) {
          if (diags.length !== 1 || diags[0].severity !== 3 || !f.skippedByServer.test(diags[0].message)) problem = `expected one information diagnostic matching ${f.skippedByServer}, got ${JSON.stringify(diags.map((d) => d.message))}`;
        }
        // Still answering: a hover on the small probe document.
        const h0 = Date.now();
        const h = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: probe }, position: { line: 3, character: 9 } });
        if (!h) problem ??= 'no hover on the probe document afterwards';
        if (Date.now() - h0 > 2000) problem ??= `hover took ${Date.now() - h0} ms afterwards`;
      } catch (e) {
        problem = (e as Error).message.slice(0, 300);
      }
      const ms = Date.now() - t0;
      if (!problem && ms > limitMs) problem = `took ${ms} ms`;
      if (c.child.exitCode !== null) problem = `the server exited (${c.child.exitCode})`;
      results.push({ file: f.name, ms, diagnostics: diags.length, ...(problem ? { problem } : {}) });
      log(`  server ${f.name}: ${ms} ms, ${diags.length} diagnostics${problem ? `  PROBLEM: ${problem}` : ''}`);
      await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
      if (c.child.exitCode !== null) break;
    }
    // A file deleted while open: the server works on the editor's text, not the disk.
    const doomed = path.join(dir, 'deleted-while-open.c');
    fs.writeFileSync(doomed, FN);
    const uri = pathToFileURL(doomed).href;
    await c.open(uri, FN);
    await c.waitDiagnostics(uri, 1);
    fs.unlinkSync(doomed);
    await c.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri, type: 3 }] });
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 3, character: 19 }, end: { line: 3, character: 27 } }, text: 'GFP_KERNEL' }] });
    const after = await c.waitDiagnostics(uri, 2, limitMs);
    const hover = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 9 } });
    await c.conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
    await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    const deletedProblem = !hover ? 'no hover on the document deleted on disk' : after.some((d) => d.code === 'gfp/nofs-outside-scope') ? 'diagnostics of the deleted file are not for the edited text' : undefined;
    results.push({ file: 'deleted-while-open.c', ms: 0, diagnostics: after.length, ...(deletedProblem ? { problem: deletedProblem } : {}) });
    log(`  server deleted-while-open.c: ${after.length} diagnostics after the edit, hover ${hover ? 'answered' : 'missing'}${deletedProblem ? `  PROBLEM: ${deletedProblem}` : ''}`);
    const mem = memoryOf(c.child.pid!);
    const code = await c.shutdown();
    return { results, rssKiB: mem.rss, hwmKiB: mem.hwm, alive: code === 0, stderr: c.stderr.join('') };
  } finally {
    if (c.child.exitCode === null) c.child.kill();
  }
}

/** A small tree of C files calling each other across files (wrappers that enter scopes), to index. */
export function writeTree(dir: string, files: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `d${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    const f = path.join(sub, `f${i}.c`);
    fs.writeFileSync(f, treeFile(i, files, 0));
    out.push(f);
  }
  return out;
}

/** File `i` of the tree, variant `v`: the variants change summaries (scope or not) and the size. */
export function treeFile(i: number, files: number, v: number): string {
  const next = (i + 1) % files;
  const enters = (i + v) % 3 === 0;
  return [
    `void demo_begin_${i}(struct demo_trans *tp)`,
    '{',
    enters ? '\ttp->flags = memalloc_nofs_save();' : '\ttp->flags = 0;',
    '}',
    '',
    `void demo_end_${i}(struct demo_trans *tp)`,
    '{',
    enters ? '\tmemalloc_nofs_restore(tp->flags);' : '\ttp->flags = 1;',
    '}',
    '',
    `int demo_user_${i}(struct demo_trans *tp)`,
    '{',
    `\tdemo_begin_${next}(tp);`,
    `\ttp->p = kmalloc(${8 + v}, GFP_NOFS);`,
    `\tdemo_end_${next}(tp);`,
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
}

/**
 * Starts a process that rewrites, truncates, deletes and recreates files of
 * the tree in a loop until killed (it runs apart from this process so that
 * its writes really race the checker's reads).
 */
export function startRewriter(files: readonly string[], count: number): import('node:child_process').ChildProcess {
  const script = `
    const fs = require('fs');
    const files = ${JSON.stringify(files)};
    const text = ${treeFile.toString()};
    let n = 0;
    for (;;) {
      const i = (n * 7919) % files.length;
      const f = files[i];
      const k = n % 5;
      try {
        if (k === 0) fs.unlinkSync(f);
        else if (k === 1) fs.writeFileSync(f, text(i, ${count}, n % 4).slice(0, 40));
        else fs.writeFileSync(f, text(i, ${count}, n % 4));
        if (k === 0) fs.writeFileSync(f, text(i, ${count}, n % 4));
      } catch {}
      n++;
      if (n % 50 === 0) { const t = Date.now(); while (Date.now() - t < 2); }
    }`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

/** `gfp-lens check` over a tree while another process rewrites it; returns what each run did. */
export async function checkWhileRewriting(dir: string, cache: string, args: readonly string[], files: readonly string[], count: number, runs: number): Promise<CliResult[]> {
  const rewriter = startRewriter(files, count);
  try {
    const results: CliResult[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await new Promise<CliResult>((resolve) => {
        const t0 = Date.now();
        const child = spawn('/usr/bin/time', ['-f', 'GFPTIME %U %S %M', process.execPath, CLI, 'check', '--format', 'json', '--fail-on', 'none', ...args], { env: { ...process.env, GFP_LENS_CACHE: cache }, cwd: dir });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (status) => {
          const m = /GFPTIME ([\d.]+) ([\d.]+) (\d+)/.exec(err);
          const stderr = err.replace(/GFPTIME.*\n?/, '');
          const notes = stderr.split('\n').filter((l) => /note:|warning:|error:/.test(l));
          let problem: string | undefined;
          // Exit 2 is what a file that vanished between listing and reading gives ("no such file"): an I/O error, reported.
          if (status !== 0 && status !== 2) problem = `exit status ${status}: ${stderr.slice(0, 500)}`;
          else if (/\n\s+at |uncaught|unhandled/i.test(stderr)) problem = `stack trace: ${stderr.slice(0, 800)}`;
          else {
            try {
              JSON.parse(out);
            } catch {
              problem = 'standard output is not the JSON report';
            }
          }
          resolve({ file: args.join(' '), status, wallMs: Date.now() - t0, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, peakKiB: m ? Number(m[3]) : NaN, notes, ...(problem ? { problem } : {}) });
        });
      });
      results.push(r);
    }
    return results;
  } finally {
    rewriter.kill();
  }
}

async function main(): Promise<number> {
  const f = flags(process.argv.slice(2));
  const scale = f.has('small') ? SMALL : FULL;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-hostile-'));
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  let failures = 0;
  try {
    const corpus = generateCorpus(dir, scale);
    log(`verify:hostile: ${corpus.length} generated files in ${dir}`);
    // Bounds: a file of the corpus may take at most 60 s and 1.5 GB in a process of its own.
    const limits = { wallMs: 60_000, peakKiB: 1536 * 1024 };
    log('CLI (gfp-lens check --jobs 1, one process per file): status, wall, CPU, peak RSS');
    for (const file of corpus) {
      const r = checkOne(path.join(dir, file.name), ['--no-index'], limits);
      const skipped = r.notes.find((n) => /note: skipped/.test(n));
      let problem = r.problem;
      if (!problem && file.skippedByCli && !(skipped && file.skippedByCli.test(skipped))) problem = `expected a 'note: skipped' matching ${file.skippedByCli}, got ${JSON.stringify(r.notes)}`;
      if (!problem && !file.skippedByCli && skipped && !(file.mayBeTooDeep && /nested too deeply/.test(skipped))) problem = `skipped unexpectedly: ${skipped}`;
      if (problem) failures++;
      log(`  ${file.name.padEnd(24)} ${String(r.status).padStart(2)} ${(r.wallMs / 1000).toFixed(1).padStart(5)} s wall ${(r.cpuMs / 1000).toFixed(1).padStart(5)} s CPU ${mib(r.peakKiB).padStart(9)}  ${file.what}${skipped ? ` (${skipped.replace(/^.*note: /, '')})` : ''}${problem ? `\n    PROBLEM: ${problem}` : ''}`);
    }
    log('server (one process over stdio, every file opened in turn, a hover on another document after each):');
    const s = await throughServer(dir, corpus, 60_000, log);
    for (const r of s.results) if (r.problem) failures++;
    log(`  server resident memory at the end ${mib(s.rssKiB)}, peak ${mib(s.hwmKiB)}; shutdown ${s.alive ? 'clean (exit 0)' : 'FAILED'}`);
    if (!s.alive) failures++;
    if (s.hwmKiB > 2048 * 1024) {
      failures++;
      log('  PROBLEM: server peak memory over 2 GiB');
    }
    // Files that change while being indexed.
    const tree = path.join(dir, 'tree');
    const count = f.has('small') ? 60 : 400;
    const treeFiles = writeTree(tree, count);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-hostile-cache-'));
    log(`files rewritten, truncated, deleted and recreated by another process while gfp-lens indexes a tree of ${count} files:`);
    for (const args of [['--root', '.', '.'], ['--interprocedural', '--no-index', '.'], ['--interprocedural', '.']]) {
      const runs = await checkWhileRewriting(tree, cache, args, treeFiles, count, f.has('small') ? 2 : 4);
      for (const r of runs) {
        if (r.problem) failures++;
        log(`  check ${args.join(' ')}: exit ${r.status}, ${(r.wallMs / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU, ${mib(r.peakKiB)}${r.notes.length ? `; ${r.notes.length} messages, e.g. ${r.notes[0].trim()}` : ''}${r.problem ? `\n    PROBLEM: ${r.problem}` : ''}`);
      }
    }
    fs.rmSync(cache, { recursive: true, force: true });
  } finally {
    if (!f.has('keep')) fs.rmSync(dir, { recursive: true, force: true });
  }
  log(failures === 0 ? 'verify:hostile: no crash, every bound kept, every skip explained' : `verify:hostile: ${failures} problems`);
  return failures === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
