// verify:lifecycle — the real server over stdio through the ends of a session.
//
//   - the client goes away: stdin closed; the editor (the initialize
//     processId) killed while the pipe stays open;
//   - shutdown/exit ordering: exit without shutdown exits 1, shutdown then
//     exit exits 0 (LSP), requests after shutdown get an error, not a hang;
//   - every request kind cancelled ($/cancelRequest): hover, inlay hints,
//     code actions, pull diagnostics; each gets an answer (RequestCancelled,
//     or the result when it was done first) and the server carries on;
//   - a burst of thousands of didChange, then a hover answered within a bound,
//     and the final diagnostics equal a fresh open of the final text;
//   - hundreds of open documents, then a hover answered within a bound;
//   - resident memory (VmRSS of the server) after 10,000 edits against after
//     100: the ratio must stay under MAX_GROWTH, or, once the server has
//     warmed up, the second 5,000 edits add at most MAX_LATE_GROWTH.
//
// usage: node out/test/verify/lifecycle.js [--small] [--file REL] [--kernel DIR]

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import type { Diagnostic, Hover } from 'vscode-languageserver';
import { TestClient } from '../lsp-client';
import { flags, kernelTree, memoryOf, mib, Random } from './lib-server';

/**
 * Resident memory after 10,000 edits may be at most this many times that after
 * 100. The server keeps one tree, one text and one function cache per open
 * document, each replaced by the next version, so nothing should grow with the
 * number of edits; V8 grows its heap in steps and hands memory back lazily, so
 * some growth is noise: on a small fixture it reaches ×1.3–1.5 after 2,000
 * edits and stays there (×1.32, ×1.63, ×1.48 after 2,000, 10,000 and 20,000:
 * a plateau, not a slope), and on a kernel file, whose tree and caches make
 * up most of the memory, it is smaller. A leaked tree or text per edit
 * (hundreds of KB for a kernel file) or a cache that keeps every version
 * passes this bound within a few hundred edits.
 */
export const MAX_GROWTH = 1.5;
/** The most the second half of the edits may add to resident memory (warm-up done, a leak would go on). */
export const MAX_LATE_GROWTH = 1.1;

type Pos = { line: number; character: number };

function positionAt(text: string, o: number): Pos {
  const before = text.slice(0, o);
  const nl = before.lastIndexOf('\n');
  let line = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  return { line, character: o - nl - 1 };
}

/** Where an allocation call's name is, for hovers. */
/** Where a hover has something to say: an allocation call, else a GFP flag (fs/ext4/inode.c has no kmalloc). */
export function allocationPosition(text: string): Pos {
  const m = /\b(k[mz]alloc|kvmalloc|kcalloc)\s*\(/.exec(text) ?? /\bGFP_[A-Z]+\b/.exec(text);
  if (!m) throw new Error('the text has neither an allocation call nor a GFP flag to hover');
  return positionAt(text, m.index + 1);
}

function waitExit(child: import('node:child_process').ChildProcess, ms: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The client disconnects: stdin closed, or the editor process killed (the server's watchdog). */
export async function disconnects(): Promise<Check[]> {
  const out: Check[] = [];
  {
    const c = new TestClient();
    await c.initialize();
    const t0 = Date.now();
    c.child.stdin!.end();
    const code = await waitExit(c.child, 10_000);
    out.push({ name: 'stdin closed without shutdown: the server exits 1', ok: code === 1, detail: `exit ${code} after ${Date.now() - t0} ms` });
    c.conn.dispose();
  }
  {
    // The "editor": a process whose pid the server is told; killed while the pipe stays open.
    const editor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const c = new TestClient();
    await c.conn.sendRequest('initialize', { processId: editor.pid, rootUri: null, capabilities: {} });
    await c.conn.sendNotification('initialized', {});
    const t0 = Date.now();
    editor.kill('SIGKILL');
    const code = await waitExit(c.child, 10_000);
    out.push({ name: 'editor process killed (stdin still open): the server notices and exits 1', ok: code === 1, detail: `exit ${code} after ${Date.now() - t0} ms` });
    if (c.child.exitCode === null) c.child.kill();
    c.conn.dispose();
  }
  return out;
}

/** shutdown/exit ordering, and requests after shutdown. */
export async function ordering(text: string): Promise<Check[]> {
  const out: Check[] = [];
  {
    const c = new TestClient();
    await c.initialize();
    await c.conn.sendNotification('exit');
    const code = await waitExit(c.child, 10_000);
    out.push({ name: 'exit without shutdown: exit code 1', ok: code === 1, detail: `exit ${code}` });
    c.conn.dispose();
  }
  {
    const c = new TestClient();
    await c.initialize();
    const uri = 'file:///lifecycle/order.c';
    await c.open(uri, text);
    await c.waitDiagnostics(uri, 1);
    await c.conn.sendRequest('shutdown');
    let after: string;
    try {
      await Promise.race([
        c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: allocationPosition(text) }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000)),
      ]);
      after = 'answered';
    } catch (e) {
      after = `error ${(e as { code?: number }).code ?? ''} ${(e as Error).message}`;
    }
    out.push({ name: 'a request after shutdown gets an error, not a hang', ok: /^error -32600/.test(after), detail: after });
    await c.conn.sendNotification('exit');
    const code = await waitExit(c.child, 10_000);
    out.push({ name: 'shutdown then exit: exit code 0', ok: code === 0, detail: `exit ${code}` });
    c.conn.dispose();
  }
  return out;
}

/** Every request kind the server offers, cancelled while the analysis it waits for runs. */
export async function cancellation(text: string): Promise<Check[]> {
  const out: Check[] = [];
  const c = new TestClient({ pull: true });
  try {
    await c.initialize();
    const kinds: Array<[string, (uri: string) => unknown]> = [
      ['textDocument/hover', (uri) => ({ textDocument: { uri }, position: allocationPosition(text) })],
      ['textDocument/inlayHint', (uri) => ({ textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 100000, character: 0 } } })],
      ['textDocument/codeAction', (uri) => ({ textDocument: { uri }, range: { start: allocationPosition(text), end: allocationPosition(text) }, context: { diagnostics: [] } })],
      ['textDocument/diagnostic', (uri) => ({ textDocument: { uri } })],
    ];
    let n = 0;
    for (const [method, params] of kinds) {
      // A new document each time: the request waits for its first analysis, and the cancel arrives meanwhile.
      const uri = `file:///lifecycle/cancel-${n++}.c`;
      await c.open(uri, text);
      const source = new CancellationTokenSource();
      const pending = c.conn.sendRequest(method, params(uri), source.token);
      source.cancel();
      let got: string;
      try {
        await pending;
        got = 'answered';
      } catch (e) {
        got = `error ${(e as { code?: number }).code}`;
      }
      // Then the same request, not cancelled, is answered.
      let again = 'answered';
      try {
        await c.conn.sendRequest(method, params(uri));
      } catch (e) {
        again = `error ${(e as { code?: number }).code}`;
      }
      out.push({ name: `${method} cancelled: RequestCancelled, then answered`, ok: got === 'error -32800' && again === 'answered', detail: `cancelled: ${got}; again: ${again}` });
    }
  } finally {
    await c.shutdown();
  }
  return out;
}

/** Thousands of didChange in a burst, then a hover on another document and the final diagnostics. */
export async function burst(text: string, edits: number, boundMs: number): Promise<Check[]> {
  const c = new TestClient();
  const out: Check[] = [];
  try {
    await c.initialize();
    const uri = 'file:///lifecycle/burst.c';
    const other = 'file:///lifecycle/other.c';
    await c.open(uri, text);
    await c.open(other, text);
    await c.waitDiagnostics(other, 1);
    const random = new Random(7);
    let cur = text;
    let v = 1;
    const t0 = Date.now();
    for (let i = 0; i < edits; i++) {
      const o = random.int(cur.length + 1);
      const insert = i % 2 === 0;
      const change = insert ? { range: { start: positionAt(cur, o), end: positionAt(cur, o) }, text: 'x' } : { range: { start: positionAt(cur, o), end: positionAt(cur, Math.min(cur.length, o + 1)) }, text: '' };
      cur = insert ? cur.slice(0, o) + 'x' + cur.slice(o) : cur.slice(0, o) + cur.slice(Math.min(cur.length, o + 1));
      void c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++v }, contentChanges: [change] });
    }
    const sent = Date.now() - t0;
    const h0 = Date.now();
    const h = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: other }, position: allocationPosition(text) });
    const hoverMs = Date.now() - h0;
    out.push({ name: `hover on another document after a burst of ${edits} didChange`, ok: h !== null && hoverMs < boundMs, detail: `${hoverMs} ms (bound ${boundMs} ms; the burst took ${sent} ms to send)` });
    const d0 = Date.now();
    const got = await c.waitDiagnostics(uri, v, 120_000);
    const fresh = 'file:///lifecycle/fresh.c';
    await c.open(fresh, cur);
    const want = await c.waitDiagnostics(fresh, 1);
    const key = (d: Diagnostic[]): string => JSON.stringify(d.map((x) => [x.range, x.code, x.message]));
    out.push({ name: 'diagnostics of the last version after the burst equal a fresh open', ok: key(got) === key(want), detail: `${got.length} diagnostics, ${Date.now() - d0} ms after the burst` });
  } finally {
    await c.shutdown();
  }
  return out;
}

/** Hundreds of open documents, then a hover within a bound. */
export async function manyOpen(texts: readonly string[], count: number, boundMs: number): Promise<Check[]> {
  const c = new TestClient();
  try {
    await c.initialize();
    const t0 = Date.now();
    for (let i = 0; i < count; i++) await c.open(`file:///lifecycle/open-${i}.c`, texts[i % texts.length]);
    for (let i = 0; i < count; i++) await c.waitDiagnostics(`file:///lifecycle/open-${i}.c`, 1, 120_000);
    const opened = Date.now() - t0;
    const mem = memoryOf(c.child.pid!);
    const h0 = Date.now();
    const h = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: 'file:///lifecycle/open-0.c' }, position: allocationPosition(texts[0]) });
    const hoverMs = Date.now() - h0;
    return [{ name: `${count} open documents: diagnostics for all, then a hover`, ok: h !== null && hoverMs < boundMs, detail: `all diagnosed in ${opened} ms; hover ${hoverMs} ms (bound ${boundMs}); server resident ${mib(mem.rss)}` }];
  } finally {
    await c.shutdown();
  }
}

/** Resident memory after `early` edits and after `late` edits (waiting for diagnostics every `group`). */
export async function leak(text: string, early: number, late: number, group: number): Promise<Check & { early: number; late: number }> {
  const c = new TestClient();
  try {
    await c.initialize();
    const uri = 'file:///lifecycle/leak.c';
    await c.open(uri, text);
    await c.waitDiagnostics(uri, 1, 60_000);
    const random = new Random(11);
    let cur = text;
    let v = 1;
    let atEarly = 0;
    let atMiddle = 0;
    const middle = Math.round(late / 2);
    for (let i = 1; i <= late; i++) {
      // Pairs: insert a piece somewhere, then take it out again; the file stays the size it was.
      const pieces = ['x', 'GFP_NOFS', '{', '}', ';', 'kmalloc(8, GFP_KERNEL);', '/*', '\n'];
      let change;
      if (i % 2 === 1) {
        const o = random.int(cur.length + 1);
        const p = random.pick(pieces);
        change = { range: { start: positionAt(cur, o), end: positionAt(cur, o) }, text: p };
        cur = cur.slice(0, o) + p + cur.slice(o);
        (leak as unknown as { last: [number, number] }).last = [o, p.length];
      } else {
        const [o, n] = (leak as unknown as { last: [number, number] }).last;
        change = { range: { start: positionAt(cur, o), end: positionAt(cur, o + n) }, text: '' };
        cur = cur.slice(0, o) + cur.slice(o + n);
      }
      void c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++v }, contentChanges: [change] });
      if (i % group === 0) await c.waitDiagnostics(uri, v, 60_000);
      if (i === early || i === middle) {
        await c.waitDiagnostics(uri, v, 60_000);
        await new Promise((r) => setTimeout(r, 500));
        if (i === early) atEarly = memoryOf(c.child.pid!).rss;
        else atMiddle = memoryOf(c.child.pid!).rss;
      }
    }
    await c.waitDiagnostics(uri, v, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const atLate = memoryOf(c.child.pid!).rss;
    const ratio = atLate / atEarly;
    // The heap grows while the server warms up (V8 sizes its spaces to the
    // garbage rate), then stays: a leak keeps growing with the edits, so the
    // second half of them must add no more than MAX_LATE_GROWTH.
    const lateGrowth = atLate / atMiddle;
    return {
      name: `resident memory after ${late} edits / after ${early} (and after ${late} / after ${middle})`,
      ok: ratio <= MAX_GROWTH || lateGrowth <= MAX_LATE_GROWTH,
      detail: `${mib(atEarly)} → ${mib(atMiddle)} → ${mib(atLate)} (×${ratio.toFixed(2)} overall, bound ×${MAX_GROWTH}; ×${lateGrowth.toFixed(2)} over the second half, bound ×${MAX_LATE_GROWTH})`,
      early: atEarly,
      late: atLate,
    };
  } finally {
    await c.shutdown();
  }
}

async function main(): Promise<number> {
  const f = flags(process.argv.slice(2));
  const small = f.has('small');
  let text: string;
  let texts: string[];
  let label: string;
  if (small) {
    const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');
    text = fs.readFileSync(path.join(fixtures, 'gfp', 'redundant-nofs.c'), 'utf8');
    texts = [text];
    label = 'test/fixtures/gfp/redundant-nofs.c';
  } else {
    const kernel = f.get('kernel') ?? kernelTree();
    const rel = f.get('file') ?? 'fs/ext4/inode.c';
    text = fs.readFileSync(path.join(kernel, rel), 'utf8');
    // Hundreds of real files to keep open: fs/ext4, fs/btrfs, fs/xfs .c files.
    texts = [];
    for (const d of ['fs/ext4', 'fs/btrfs', 'fs/xfs', 'fs/nfs', 'mm']) {
      for (const e of fs.readdirSync(path.join(kernel, d)).sort()) if (e.endsWith('.c')) texts.push(fs.readFileSync(path.join(kernel, d, e), 'utf8'));
    }
    label = `${rel} of ${kernel} (${text.length} chars); ${texts.length} files to open`;
  }
  process.stdout.write(`verify:lifecycle on ${label}\n`);
  const checks: Check[] = [];
  const report = (cs: Check[]): void => {
    for (const c of cs) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
    checks.push(...cs);
  };
  report(await disconnects());
  report(await ordering(text));
  report(await cancellation(text));
  report(await burst(text, small ? 2000 : 5000, 2000));
  report(await manyOpen(texts, small ? 200 : 300, 2000));
  report([await leak(text, 100, 10_000, small ? 10 : 20)]);
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(failed === 0 ? `verify:lifecycle: all ${checks.length} checks passed\n` : `verify:lifecycle: ${failed} of ${checks.length} checks failed\n`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
