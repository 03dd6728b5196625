// Invariant: package.json is the VS Code manifest of this extension and
// agrees with the code: its contributed settings are exactly those of
// shared/settings.ts (SETTING_SPECS for the server, CLIENT_SETTING_SPECS for
// the client): same names both ways, types, defaults, enums, descriptions and
// scopes; the commands it contributes are the ones client/extension.ts
// registers; it activates on C files and kernel trees; it declares its
// untrusted-workspace support; main points at the compiled client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLIENT_SETTING_SPECS, SETTING_SPECS, validateSettings } from '../shared/settings';
import { configurationContribution } from '../client/manifest';
import { clientDocumentSelector, SERVER_MODULE, STATUS_NOTIFICATION as CLIENT_STATUS } from '../client/options';
import { STATUS_NOTIFICATION as SERVER_STATUS } from '../server/server';

const ROOT = path.join(__dirname, '..', '..');
interface Property { type: string; default: unknown; description: string; markdownDescription?: string; enum?: string[]; scope?: string }
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  bin: Record<string, string>;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | string; restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, Property> }; commands: Array<{ command: string; title: string; category?: string }> };
  engines: { vscode: string };
};
const props = pkg.contributes.configuration.properties;

test('manifest: every contributed setting is in shared/settings.ts and every setting there is contributed', () => {
  const specs = [...SETTING_SPECS, ...CLIENT_SETTING_SPECS];
  assert.deepEqual(Object.keys(props).sort(), specs.map((s) => s.name).sort());
});

test('manifest: each setting has the spec\'s type, default, enum, description and scope', () => {
  for (const spec of [...SETTING_SPECS, ...CLIENT_SETTING_SPECS]) {
    const p = props[spec.name];
    assert.equal(p.type, spec.type, spec.name);
    assert.deepEqual(p.default, spec.default, spec.name);
    assert.deepEqual(p.enum, spec.enum ? [...spec.enum] : undefined, spec.name);
    assert.equal(p.description, spec.description, spec.name);
    assert.equal(p.markdownDescription, spec.markdownDescription, spec.name);
    assert.equal(p.scope, spec.scope ?? 'resource', spec.name);
  }
  // And the whole block is what `npm run manifest` generates (no stray keys).
  assert.deepEqual(pkg.contributes.configuration, configurationContribution());
});

test('manifest: the server accepts every contributed default and enum value', () => {
  for (const spec of SETTING_SPECS) {
    const key = spec.name.replace(/^gfp-lens\./, '');
    for (const value of [props[spec.name].default, ...(props[spec.name].enum ?? [])]) {
      assert.deepEqual(validateSettings({ [key]: value }).problems, [], `${spec.name} = ${JSON.stringify(value)}`);
    }
  }
  // The window-scoped ones are the ones that cannot differ per file.
  assert.deepEqual(Object.entries(props).filter(([, p]) => p.scope === 'window').map(([n]) => n).sort(), [
    'gfp-lens.includeCppHeaders',
    // One index per tree: its settings are read for the tree, not per file.
    'gfp-lens.index.enabled',
    'gfp-lens.index.exclude',
    'gfp-lens.index.include',
    'gfp-lens.parserBackend',
    'gfp-lens.trace.server',
  ]);
});

test('manifest: commands registered by the client are contributed, and only those', () => {
  const source = fs.readFileSync(path.join(ROOT, 'client', 'extension.ts'), 'utf8');
  const registered = [...source.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), registered);
  const titles = Object.fromEntries(pkg.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
  assert.equal(titles['gfp-lens.restartServer'], 'GFP Lens: Restart Server');
  assert.equal(titles['gfp-lens.explainMask'], 'GFP Lens: Explain GFP Mask…');
  assert.equal(titles['gfp-lens.showReport'], 'GFP Lens: Show Allocation Context Report');
});

test('manifest: activation, main, server path, selector, status notification, workspace trust', () => {
  assert.deepEqual(pkg.activationEvents.sort(), ['onLanguage:c', 'workspaceContains:include/linux/gfp_types.h']);
  assert.equal(pkg.main, './out/client/extension.js');
  assert.ok(fs.existsSync(path.join(ROOT, pkg.main)), 'the compiled client exists');
  assert.ok(fs.existsSync(path.join(ROOT, SERVER_MODULE)), 'the server module the client starts exists');
  assert.equal(pkg.bin['gfp-lens-server'], SERVER_MODULE);
  assert.deepEqual(clientDocumentSelector(false), [{ scheme: 'file', language: 'c' }]);
  assert.deepEqual(clientDocumentSelector(true), [{ scheme: 'file', language: 'c' }, { scheme: 'file', language: 'cpp', pattern: '**/*.h' }]);
  assert.equal(CLIENT_STATUS, SERVER_STATUS);
  // Nothing in the settings names a program or a path to run: full support.
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces, { supported: true });
  for (const spec of [...SETTING_SPECS, ...CLIENT_SETTING_SPECS]) assert.doesNotMatch(spec.name, /path|command|executable|program|args/i, spec.name);
  const typesVscode = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@types', 'vscode', 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(pkg.engines.vscode, `^${typesVscode}`, 'engines.vscode matches the API the client is compiled against');
});
