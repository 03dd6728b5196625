// Invariant: shared/settings.ts is the single source of truth for the
// server's settings: every spec has a default that validates to itself, bad
// values fall back to the default with a problem naming the setting, and
// extra allocators/transactions are checked against the model's row shapes
// and really change what the analysis sees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, SETTING_SPECS, validateSettings } from '../shared/settings';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';

test('defaults: nothing given gives the defaults and no problem', () => {
  for (const raw of [undefined, null, {}]) assert.deepEqual(validateSettings(raw), { settings: DEFAULT_SETTINGS, problems: [] });
});

test('every spec names a real field whose default matches DEFAULT_SETTINGS', () => {
  const flat: Record<string, unknown> = {
    'gfp-lens.kernelVersion': DEFAULT_SETTINGS.kernelVersion,
    'gfp-lens.parserBackend': DEFAULT_SETTINGS.parserBackend,
    'gfp-lens.inlayHints.enabled': DEFAULT_SETTINGS.inlayHints.enabled,
    'gfp-lens.severity': DEFAULT_SETTINGS.severity,
    'gfp-lens.extraAllocators': DEFAULT_SETTINGS.extraAllocators,
    'gfp-lens.extraTransactions': DEFAULT_SETTINGS.extraTransactions,
    'gfp-lens.maxFileSize': DEFAULT_SETTINGS.maxFileSize,
    'gfp-lens.index.enabled': DEFAULT_SETTINGS.index.enabled,
    'gfp-lens.index.include': DEFAULT_SETTINGS.index.include,
    'gfp-lens.index.exclude': DEFAULT_SETTINGS.index.exclude,
  };
  assert.deepEqual(SETTING_SPECS.map((s) => s.name).sort(), Object.keys(flat).sort());
  for (const s of SETTING_SPECS) {
    assert.deepEqual(s.default, flat[s.name], s.name);
    assert.ok(s.description.length > 20, s.name);
  }
});

test('good values are taken, in nested or dotted form', () => {
  const { settings, problems } = validateSettings({
    kernelVersion: '5.15',
    parserBackend: 'wasm',
    'inlayHints.enabled': false,
    severity: { 'gfp/nofs-outside-scope': 'off', 'scope/unbalanced': 'warning' },
    maxFileSize: 1000,
  });
  assert.deepEqual(problems, []);
  assert.equal(settings.kernelVersion, '5.15');
  assert.equal(settings.parserBackend, 'wasm');
  assert.equal(settings.inlayHints.enabled, false);
  assert.deepEqual(settings.severity, { 'gfp/nofs-outside-scope': 'off', 'scope/unbalanced': 'warning' });
  assert.equal(settings.maxFileSize, 1000);
});

test('bad values fall back to defaults, each with a problem naming the setting', () => {
  const { settings, problems } = validateSettings({
    kernelVersion: '3.10',
    parserBackend: 'gpu',
    inlayHints: { enabled: 'yes' },
    severity: { 'gfp/no-such-code': 'error', 'gfp/partial-scope': 'fatal' },
    maxFileSize: -1,
    extraAllocators: [{ names: ['my alloc'] }, { names: ['my_alloc'], gfp: { kind: 'arg', index: 1 }, backend: 'slab' }],
    extraTransactions: 'nope',
  });
  assert.equal(settings.kernelVersion, 'auto');
  assert.equal(settings.parserBackend, 'auto');
  assert.equal(settings.inlayHints.enabled, true);
  assert.deepEqual(settings.severity, {});
  assert.equal(settings.maxFileSize, DEFAULT_SETTINGS.maxFileSize);
  assert.equal(settings.extraAllocators.length, 1);
  for (const name of ['kernelVersion', 'parserBackend', 'inlayHints.enabled', "unknown finding code 'gfp/no-such-code'", 'severity.gfp/partial-scope', 'maxFileSize', 'extraAllocators[0]', 'extraTransactions']) {
    assert.ok(problems.some((p) => p.includes(name)), `no problem for ${name}: ${problems.join(' | ')}`);
  }
  assert.equal(problems.length, 8);
});

test('index settings: nested or dotted, globs validated', () => {
  const nested = validateSettings({ index: { enabled: false, include: ['fs/**', 'include/**'], exclude: ['fs/bcachefs/**'] } });
  assert.deepEqual(nested.problems, []);
  assert.deepEqual(nested.settings.index, { enabled: false, include: ['fs/**', 'include/**'], exclude: ['fs/bcachefs/**'] });
  const dotted = validateSettings({ 'index.enabled': true, 'index.exclude': ['drivers/**'] });
  assert.deepEqual(dotted.settings.index, { enabled: true, include: [], exclude: ['drivers/**'] });
  const bad = validateSettings({ index: { enabled: 'no', include: 'fs/**', exclude: [3] } });
  assert.deepEqual(bad.settings.index, DEFAULT_SETTINGS.index);
  assert.equal(bad.problems.length, 3);
  for (const name of ['index.enabled', 'index.include', 'index.exclude']) assert.ok(bad.problems.some((p) => p.includes(`gfp-lens.${name}:`)), name);
});

test('extra allocators and transactions reach the analysis context', () => {
  const { settings, problems } = validateSettings({
    extraAllocators: [{ names: ['myfs_alloc'], gfp: { kind: 'arg', index: 1 }, backend: 'slab' }, { names: ['myfs_page'], gfp: { kind: 'implicit', mask: 'GFP_NOFS' } }],
    extraTransactions: [{ fs: 'myfs', start: ['myfs_trans_begin'], end: ['myfs_trans_end'], scope: 'nofs' }],
  });
  assert.deepEqual(problems, []);
  const ctx = new AnalysisContext(parseVersion('6.12'), { extraAllocators: settings.extraAllocators, extraTransactions: settings.extraTransactions });
  assert.equal(ctx.allocators.lookup('myfs_alloc')?.def.backend, 'slab');
  assert.deepEqual(ctx.allocators.lookup('myfs_page')?.def.gfp, { kind: 'implicit', mask: 'GFP_NOFS' });
  assert.equal(ctx.transactions.lookup('myfs_trans_end')?.role, 'end');
  assert.ok(ctx.interesting.test('x = myfs_trans_begin(t);'));
});
