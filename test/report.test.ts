// Invariant: `gfp-lens report` puts every explicit GFP_NOFS/GFP_NOIO site of
// a tree in exactly one category, taken from the analysis `check` runs
// (gfp/redundant-nofs, gfp/nofs-outside-scope, the atomic verdict, the
// refactor's anchor), groups them by the kernel's subsystems, counts the sites
// each memalloc_*_save() covers, and writes Markdown, JSON and one
// self-contained HTML page (no network). The fixture tree
// (test/fixtures-report/tree) annotates each site with its category.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildReport, CATEGORIES, subsystemOf, type ReportDocument } from '../shared/report';
import { renderHtml } from '../shared/report-html';
import { openTarget } from '../client/report-message';

const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'out', 'server', 'cli', 'main.js');
const TREE = path.join('test', 'fixtures-report', 'tree');

// The workspace index of the scratch kernel trees is cached here, not in the user's cache.
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-report-cache-'));

function run(args: string[], cwd = repo): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, GFP_LENS_CACHE: CACHE } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function report(args: string[] = [], cwd = repo, paths = [TREE]): ReportDocument {
  const r = run(['report', '--format', 'json', ...args, ...paths], cwd);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReportDocument;
}

/** `/* report: CATEGORY *\/` annotations of the fixture tree: file:line -> category. */
function expected(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(repo, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.[ch]$/.test(e.name)) {
        fs.readFileSync(path.join(repo, rel), 'utf8').split('\n').forEach((line, i) => {
          const m = /\/\* report: ([\w-]+) \*\//.exec(line);
          if (m) out.set(`${rel.split(path.sep).join('/')}:${i + 1}`, m[1]);
        });
      }
    }
  };
  walk(TREE);
  return out;
}

function scratch(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-report-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

test('every annotated site gets its category, and no other site is counted', () => {
  const doc = report();
  const got = new Map(doc.sites.map((s) => [`${s.file}:${s.line}`, s.category as string]));
  assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expected()].sort()));
});

test('counts per category, with totals, in precedence order', () => {
  const doc = report();
  assert.deepEqual(doc.categories, ['under-atomic', 'redundant', 'convertible', 'unexplained', 'other']);
  assert.deepEqual(doc.totals.counts, { 'under-atomic': 1, redundant: 5, convertible: 3, unexplained: 2, other: 2 });
  assert.equal(doc.totals.sites, 13);
  assert.equal(doc.totals.nofs, 11);
  assert.equal(doc.totals.noio, 2);
  assert.equal(doc.files, 7);
  assert.equal(doc.by, 'subsystem');
});

test('subsystems: fs/<x> and drivers/<x>, else the top-level directory', () => {
  const doc = report();
  const groups = Object.fromEntries(doc.groups.map((g) => [g.name, { sites: g.sites, saves: g.saves, ...g.counts }]));
  assert.deepEqual(groups, {
    'fs/xfsdemo': { sites: 4, saves: 2, 'under-atomic': 0, redundant: 4, convertible: 0, unexplained: 0, other: 0 },
    'fs/gfs2demo': { sites: 3, saves: 0, 'under-atomic': 0, redundant: 0, convertible: 3, unexplained: 0, other: 0 },
    'drivers/blkdemo': { sites: 2, saves: 1, 'under-atomic': 1, redundant: 1, convertible: 0, unexplained: 0, other: 0 },
    'fs/lonelyfs': { sites: 2, saves: 0, 'under-atomic': 0, redundant: 0, convertible: 0, unexplained: 2, other: 0 },
    mm: { sites: 1, saves: 1, 'under-atomic': 0, redundant: 0, convertible: 0, unexplained: 0, other: 1 },
    'fs/ext4demo': { sites: 1, saves: 0, 'under-atomic': 0, redundant: 0, convertible: 0, unexplained: 0, other: 1 },
  });
  // Sorted by sites, most first; every site carries its subsystem.
  assert.deepEqual(doc.groups.map((g) => g.sites), [4, 3, 2, 2, 1, 1]);
  assert.ok(doc.sites.every((s) => s.group === s.subsystem));
  assert.equal(subsystemOf('fs/xfs/libxfs/xfs_bmap.c'), 'fs/xfs');
  assert.equal(subsystemOf('drivers/md/dm-bufio.c'), 'drivers/md');
  assert.equal(subsystemOf('fs/namei.c'), 'fs');
  assert.equal(subsystemOf('mm/vmscan.c'), 'mm');
  assert.equal(subsystemOf('include/linux/gfp.h'), 'include');
  assert.equal(subsystemOf('Makefile.c'), '(top level)');
});

test('--by file and --by function group the same sites differently', () => {
  const byFile = report(['--by', 'file']);
  assert.equal(byFile.by, 'file');
  assert.deepEqual(
    Object.fromEntries(byFile.groups.map((g) => [g.name, g.sites])),
    {
      [`${TREE}/fs/xfsdemo/xfsdemo_inode.c`]: 4,
      [`${TREE}/fs/gfs2demo/gfs2demo_trans.c`]: 3,
      [`${TREE}/drivers/blkdemo/queue.c`]: 2,
      [`${TREE}/fs/lonelyfs/super.c`]: 2,
      [`${TREE}/mm/demo_reclaim.c`]: 1,
      [`${TREE}/fs/ext4demo/xattr.c`]: 1,
    },
  );
  const byFn = report(['--by', 'function']);
  const names = byFn.groups.map((g) => g.name);
  assert.ok(names.includes(`${TREE}/fs/gfs2demo/gfs2demo_trans.c: demo_gfs2_write()`));
  assert.equal(byFn.groups.find((g) => g.name.endsWith('demo_gfs2_write()'))!.counts.convertible, 2);
  // A function with a save and no NOFS site is still listed for its scope.
  assert.equal(byFn.groups.find((g) => g.name.endsWith('demo_trans_start()'))!.saves, 1);
  assert.deepEqual(byFn.totals, report().totals);
});

test('scope usage: the allocation sites each save covers, on some and on every path', () => {
  const doc = report();
  const scopes = Object.fromEntries(doc.scopes.map((s) => [`${s.function}:${s.api}`, { covers: s.covers, always: s.coversAlways, escapes: s.escapes }]));
  assert.deepEqual(scopes, {
    'demo_inode_grow:memalloc_nofs_save': { covers: 3, always: 3, escapes: false },
    'demo_queue_reset:memalloc_noio_save': { covers: 1, always: 1, escapes: false },
    'demo_shrink:memalloc_nofs_save': { covers: 1, always: 0, escapes: false },
    'demo_trans_start:memalloc_nofs_save': { covers: 0, always: 0, escapes: true },
  });
  assert.deepEqual(doc.scopes.map((s) => s.covers), [3, 1, 1, 0]);
  assert.deepEqual(doc.enteredBy, [{ callee: 'demo_trans_start', covers: 2 }, { callee: 'xfs_trans_alloc', covers: 1 }]);
});

test('categories agree with what check reports at the same sites', () => {
  const doc = report();
  const r = run(['check', '--format', 'json', '--fail-on', 'none', TREE]);
  const check = JSON.parse(r.stdout) as { findings: Array<{ file: string; line: number; code: string }> };
  const at = (code: string) => new Set(check.findings.filter((f) => f.code === code).map((f) => `${f.file}:${f.line}`));
  const redundant = at('gfp/redundant-nofs');
  const outside = at('gfp/nofs-outside-scope');
  for (const s of doc.sites) {
    const key = `${s.file}:${s.line}`;
    if (s.category === 'redundant') assert.ok(redundant.has(key), key);
    if (s.category === 'unexplained') assert.ok(outside.has(key), key);
  }
  assert.equal(doc.totals.counts.redundant, redundant.size);
  // Findings per code are those of check.
  const perCode = new Map<string, number>();
  for (const f of check.findings) perCode.set(f.code, (perCode.get(f.code) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(doc.findings.map((f) => [f.code, f.count])), Object.fromEntries(perCode));
  // A transaction handed in as a parameter: the caller may be in its scope.
  assert.equal(doc.sites.find((s) => s.file.endsWith('ext4demo/xattr.c'))!.why, 'the NOFS scope of the transaction passed in as `handle_t *handle`, if it is running');
  // The convertible sites name their anchor.
  const anchors = doc.sites.filter((s) => s.category === 'convertible').map((s) => s.anchor && `${s.anchor.kind}:${s.anchor.callee}`);
  assert.deepEqual(anchors, ['transaction:gfs2_trans_begin', 'transaction:gfs2_trans_begin', 'lock:mutex_lock']);
});

test('Markdown: totals, the table per subsystem, scope usage, findings per code, and sites with file:line links', () => {
  const r = run(['report', TREE]);
  assert.equal(r.status, 0, r.stderr);
  const md = r.stdout;
  assert.match(md, /^# GFP_NOFS \/ GFP_NOIO census$/m);
  assert.match(md, /^\| redundant \| 5 \| 38% \|/m);
  assert.match(md, /^\| fs\/gfs2demo \| 3 \| 0 \| 0 \| 0 \| 3 \| 0 \| 0 \| 3 \| 0 \|$/m);
  assert.match(md, /^\| \*\*total\*\* \| 11 \| 2 \| 1 \| 5 \| 3 \| 2 \| 2 \| 13 \| 4 \|$/m);
  // Header and separator rows have the same number of columns.
  const header = md.split('\n').find((l) => l.startsWith('| subsystem |'))!;
  const sep = md.split('\n')[md.split('\n').indexOf(header) + 1];
  assert.equal(sep.split('|').length, header.split('|').length);
  assert.match(md, /^## Scope usage$/m);
  assert.match(md, /^\| `gfp\/nofs-outside-scope` \| information \| 6 \|$/m);
  assert.match(md, /^### convertible \(3\)$/m);
  assert.match(md, /^- \[test\/fixtures-report\/tree\/fs\/gfs2demo\/gfs2demo_trans\.c:26\]\(test\/fixtures-report\/tree\/fs\/gfs2demo\/gfs2demo_trans\.c#L26\) `demo_gfs2_rgrp\(\)`: `kcalloc\(\)` with `GFP_NOFS` — anchor: mutex_lock\(&sdp->sd_rindex_mutex\) at line 25$/m);
  assert.match(r.stderr, /13 GFP_NOFS\/GFP_NOIO sites \(1 under atomic, 5 redundant, 3 convertible, 2 unexplained, 2 other\)/);
});

test('Markdown links are relative to the output file', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-report-out-'));
  const file = path.join(out, 'sub', 'census.md');
  fs.mkdirSync(path.dirname(file));
  const r = run(['report', '-o', file, path.join(repo, TREE, 'mm')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const md = fs.readFileSync(file, 'utf8');
  const link = /\]\(([^)]+)#L10\)/.exec(md)![1];
  assert.equal(path.resolve(path.dirname(file), decodeURIComponent(link)), path.join(repo, TREE, 'mm', 'demo_reclaim.c'));
});

test('HTML: one self-contained page with the chart, the tables and vscode:// links', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-report-html-')), 'r.html');
  const r = run(['report', '--format', 'html', '--out', out, TREE]);
  assert.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  // Nothing is fetched: no external URL in any src or href, no <link> or remote script, and a CSP that forbids it.
  assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
  assert.doesNotMatch(html, /<link\b|<script[^>]+src=|@import|url\(/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.match(html, /<svg class="bars"[^>]*role="img"/);
  for (const c of CATEGORIES) assert.match(html, new RegExp(`<tr data-cat="${c}"`));
  assert.equal((html.match(/<tr data-cat=/g) ?? []).length, 13);
  assert.match(html, /<table class="sortable" id="site-table">/);
  assert.match(html, /<table class="sortable" id="groups">/);
  assert.match(html, /<input type="search" id="q"/);
  const abs = path.join(repo, TREE, 'fs', 'lonelyfs', 'super.c');
  assert.ok(html.includes(`href="vscode://file${abs.split(path.sep).map(encodeURIComponent).join('/')}:6:9"`), 'a vscode:// link to the site');
  // One bar segment per non-zero category of each subsystem.
  assert.equal((html.match(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="14" fill="#/g) ?? []).length, 7);
});

test('HTML for a webview: a nonce-only CSP, no vscode:// links, clicks post messages', () => {
  const doc = report();
  const html = renderHtml(doc, { webview: { nonce: 'abc123', cspSource: 'vscode-resource:' } });
  assert.match(html, /script-src 'nonce-abc123'/);
  assert.match(html, /<script nonce="abc123">/);
  assert.doesNotMatch(html, /vscode:\/\/file/);
  assert.doesNotMatch(html, /'unsafe-inline'; script-src 'unsafe-inline'/);
  assert.match(html, /acquireVsCodeApi\(\)/);
  assert.match(html, /postMessage\(\{command:'open',file:/);
  assert.match(html, /<a class="loc" href="#" data-file="test\/fixtures-report\/tree\/fs\/lonelyfs\/super\.c" data-line="6" data-column="9">/);
});

test('inside a kernel tree, subsystems are relative to its root, wherever the command runs', () => {
  const dir = scratch({
    'Makefile': 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n',
    'include/linux/types.h': '/* empty */\n',
    'fs/demo/a.c': 'void *f(void)\n{\n\treturn kmalloc(8, GFP_NOFS);\n}\n',
    'drivers/demo/b.c': 'void *g(void)\n{\n\treturn kmalloc(8, GFP_NOIO);\n}\n',
  });
  const inside = report([], path.join(dir, 'fs'), ['demo']);
  assert.deepEqual(inside.groups.map((g) => g.name), ['fs/demo']);
  assert.equal(inside.sites[0].file, 'demo/a.c');
  assert.equal(inside.kernel.version, '6.12');
  const outside = report([], repo, [path.join(dir, 'fs'), path.join(dir, 'drivers', 'demo', 'b.c')]);
  assert.deepEqual(outside.groups.map((g) => g.name).sort(), ['drivers/demo', 'fs/demo']);
  assert.equal(outside.base, repo.split(path.sep).join('/'));
});

test('usage errors exit 2 with a message; a missing path is an I/O error (exit 2)', () => {
  for (const [args, message] of [
    [['report', '--format', 'pdf', TREE], /--format must be md, html or json/],
    [['report', '--by', 'maintainer', TREE], /--by must be subsystem, file or function/],
    [['report'], /report needs a PATH/],
    [['report', '--sites', TREE], /unknown option --sites/],
    [['report', '--by'], /--by needs a value/],
  ] as const) {
    const r = run([...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /gfp-lens report \[options\] PATH\.\.\./);
  }
  const unwritable = run(['report', '-o', path.join(os.tmpdir(), 'no-such-dir-gfp-lens', 'r.md'), path.join(TREE, 'mm')]);
  assert.equal(unwritable.status, 2);
  assert.match(unwritable.stderr, /gfp-lens: error: cannot write .*r\.md: ENOENT/);
  const r = run(['report', 'no-such-dir', path.join(TREE, 'mm')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /gfp-lens: error: no-such-dir: no such file or directory/);
  assert.match(r.stdout, /^### other \(1\)$/m);
});

test('the analysis options of check apply: --jobs, --shard, --kernel-version', () => {
  const one = run(['report', '--format', 'json', '--jobs', '1', TREE]).stdout;
  const two = run(['report', '--format', 'json', '--jobs', '2', TREE]).stdout;
  assert.equal(one, two);
  const shards = [1, 2].map((i) => report(['--shard', `${i}/2`]));
  assert.equal(shards[0].totals.sites + shards[1].totals.sites, 13);
  assert.equal(report(['--kernel-version', '6.8']).kernel.version, '6.8');
});

test('what the VS Code command runs: JSON on stdout, progress on stderr with GFP_LENS_PROGRESS=1', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 25; i++) files[`fs/demo/f${i}.c`] = `void *f${i}(void)\n{\n\treturn kmalloc(8, GFP_NOFS);\n}\n`;
  const dir = scratch(files);
  const r = spawnSync(process.execPath, [cli, 'report', '--format', 'json', '--jobs', '1', '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', GFP_LENS_PROGRESS: '1', GFP_LENS_CACHE: CACHE },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /gfp-lens: checking: 25\/25 files/);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  assert.equal(doc.totals.counts.unexplained, 25);
  assert.deepEqual(doc.groups.map((g) => g.name), ['fs/demo']);
});

test('a click in the webview opens only a file the report lists, at its line', () => {
  const known = new Set(['fs/demo/a.c']);
  assert.deepEqual(openTarget({ command: 'open', file: 'fs/demo/a.c', line: 12, column: 5 }, known, '/k'), { file: path.resolve('/k', 'fs/demo/a.c'), line: 11, character: 4 });
  assert.deepEqual(openTarget({ command: 'open', file: 'fs/demo/a.c', line: 3 }, known, '/k'), { file: path.resolve('/k', 'fs/demo/a.c'), line: 2, character: 0 });
  for (const bad of [
    { command: 'open', file: '../../etc/passwd', line: 1 },
    { command: 'open', file: 'fs/demo/a.c', line: 0 },
    { command: 'open', file: 'fs/demo/a.c', line: '7' },
    { command: 'run', file: 'fs/demo/a.c', line: 1 },
    'open',
    null,
  ]) {
    assert.equal(openTarget(bad, known, '/k'), undefined, JSON.stringify(bad));
  }
});

test('findings are counted per code and severity, as check reports them', () => {
  const doc = buildReport(
    [
      { display: 'a.c', rel: 'mm/a.c', findings: [{ code: 'gfp/vmalloc-nonblocking', severity: 'error' }, { code: 'gfp/vmalloc-nonblocking', severity: 'information' }, { code: 'gfp/vmalloc-nonblocking', severity: 'information' }] },
      { display: 'b.c', rel: 'mm/b.c', findings: [{ code: 'gfp/redundant-nofs', severity: 'hint' }] },
    ],
    { toolVersion: 't', kernelVersion: '6.12', kernelSource: 's', base: '/', by: 'subsystem' },
  );
  assert.deepEqual(doc.findings, [
    { code: 'gfp/vmalloc-nonblocking', severity: 'information', count: 2 },
    { code: 'gfp/redundant-nofs', severity: 'hint', count: 1 },
    { code: 'gfp/vmalloc-nonblocking', severity: 'error', count: 1 },
  ]);
  assert.equal(doc.totals.findings, 4);
  assert.equal(doc.files, 2);
  assert.deepEqual(doc.groups, []);
});

test('inside a kernel tree the workspace index adds caller contexts: callers inside a scope explain a site (other); an atomic section held by callers does not count', () => {
  const dir = scratch({
    'Makefile': 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n',
    'include/linux/types.h': '/* empty */\n',
    'fs/demo/helper.c': 'void *demo_helper(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n',
    'fs/demo/caller.c': 'void demo_caller(struct demo *d)\n{\n\tunsigned int flags = memalloc_nofs_save();\n\n\td->p = demo_helper(16);\n\tmemalloc_nofs_restore(flags);\n}\n',
    'drivers/x/spin.c': 'static void *x_alloc(void)\n{\n\treturn kmalloc(8, GFP_NOIO);\n}\n\nvoid x_locked(struct x *x)\n{\n\tspin_lock(&x->lock);\n\tx->p = x_alloc();\n\tspin_unlock(&x->lock);\n}\n',
  });
  const doc = report([], dir, ['.']);
  const at = (file: string) => doc.sites.find((s) => s.file === file)!;
  assert.equal(at('fs/demo/helper.c').category, 'other');
  assert.equal(at('fs/demo/helper.c').why, 'no scope of its own; the one call site of its function is inside one');
  assert.deepEqual(at('fs/demo/helper.c').callers, { count: 1, inScope: 1, varies: 0, outside: 0, unknown: 0 });
  // Only the function's own atomic verdict counts (check reports nothing through callers).
  assert.equal(at('drivers/x/spin.c').category, 'unexplained');
  assert.deepEqual(at('drivers/x/spin.c').callers, { count: 1, inScope: 0, varies: 0, outside: 1, unknown: 0 });
  // --no-index: each file alone, as check --no-index.
  const alone = report(['--no-index'], dir, ['.']);
  assert.deepEqual(alone.sites.map((s) => [s.file, s.category]).sort(), [['drivers/x/spin.c', 'unexplained'], ['fs/demo/helper.c', 'unexplained']]);
});
