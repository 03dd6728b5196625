// The integration suite, run INSIDE a real VS Code extension host (code-server)
// by the runner extension, with the .vsix built from this repository
// installed: same shape as an @vscode/test-electron extensionTestsPath module
// (exports run()). Waits by polling, never by fixed sleeps. The workspace is a
// throwaway copy of test/vscode/workspace plus test/editors/headline.c.
'use strict';
const vscode = require('vscode');
const assert = require('assert');
const fs = require('fs');
const path = require('path');

async function waitFor(what, fn, ms = 30000, step = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

const hoverText = (hovers) => hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');

exports.run = async function run(log) {
  const root = vscode.workspace.workspaceFolders[0].uri.fsPath;
  const expected = fs.readFileSync(process.env.GFP_HEADLINE_EXPECTED, 'utf8');

  // 1. Activated by the kernel tree (workspaceContains), before any C file is open.
  const ext = vscode.extensions.getExtension('gfp-lens.gfp-lens');
  assert.ok(ext, 'the gfp-lens extension is installed');
  await waitFor('activation', () => ext.isActive);
  const api = ext.exports;
  log(`activated: ${ext.extensionPath}`);

  // 2. Diagnostics on the headline file.
  const uri = vscode.Uri.file(path.join(root, 'headline.c'));
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc);
  assert.equal(doc.languageId, 'c');
  const diags = await waitFor('gfp-lens diagnostics', () => {
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'gfp-lens');
    return d.length >= 2 ? d : null;
  });
  log(`diagnostics: ${diags.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code && d.code.value}`).join(', ')}`);
  assert.deepEqual(diags.map((d) => d.code.value), ['gfp/nofs-outside-scope', 'gfp/nofs-outside-scope']);
  assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Information);

  // 3. Hover on the allocation: the effective context first.
  const text = doc.getText();
  const kz = doc.positionAt(text.indexOf('kzalloc') + 2);
  const hover = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, kz));
  log(`hover: ${hover.split('\n')[0]}`);
  assert.ok(hover.startsWith('**Effective: `GFP_NOFS | __GFP_ZERO | __GFP_NOFAIL`**'), hover);

  // 4. The status item: kernel version and mask source from the tree.
  const status = await waitFor('gfp-lens/status', () => api.status(uri.toString()));
  log(`status: ${JSON.stringify(status)}; item: ${api.statusItem.text}`);
  assert.equal(status.kernelVersion, '6.12');
  assert.equal(status.maskSource, path.join(root, 'include', 'linux', 'gfp_types.h'));
  assert.match(status.versionSource, /^Makefile of /);
  assert.ok(['native', 'wasm'].includes(status.backend));
  await waitFor('status item text', () => api.statusItem.text === 'GFP 6.12 (tree)');
  assert.match(api.statusItem.tooltip.value, /masks from: .*gfp_types\.h/);

  // 5. The headline refactor through executeCodeActionProvider, applied.
  const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, diags[0].range);
  log(`code actions: ${actions.map((a) => a.title).join(' | ')}`);
  const headline = actions.find((a) => a.title.startsWith('Replace GFP_NOFS with scope at transaction start: gfs2_trans_begin()'));
  assert.ok(headline, 'the headline refactor is offered');
  assert.ok(headline.edit, 'it carries its edit');
  assert.ok(await vscode.workspace.applyEdit(headline.edit));
  assert.equal(doc.getText(), expected);
  await waitFor('diagnostics cleared after the refactor', () => vscode.languages.getDiagnostics(uri).filter((x) => x.code && x.code.value === 'gfp/nofs-outside-scope').length === 0);
  log('headline refactor applied; text equals headline.expected.c');
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.files.revert');
  assert.equal(doc.getText(), text);
  void editor;

  // 6. Inlay hints: GFP_KERNEL inside memalloc_nofs_save() is GFP_NOFS.
  const scoped = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(root, 'scoped.c')));
  await vscode.window.showTextDocument(scoped);
  const full = new vscode.Range(0, 0, scoped.lineCount, 0);
  const hints = await waitFor('inlay hints', async () => {
    const h = await vscode.commands.executeCommand('vscode.executeInlayHintProvider', scoped.uri, full);
    return h && h.length > 0 ? h : null;
  });
  const labels = hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')));
  log(`inlay hints: ${JSON.stringify(labels)}`);
  assert.deepEqual(labels, ['⟶ NOFS']);
  const at = scoped.positionAt(scoped.getText().indexOf('GFP_KERNEL);') + 'GFP_KERNEL'.length);
  assert.ok(hints.some((h) => h.position.line === at.line), 'the hint is on the allocation line');

  // 7. Coexistence: the server and the client bring no completion, definition, formatting...
  const client = api.client();
  const caps = client.initializeResult.capabilities;
  for (const k of ['completionProvider', 'definitionProvider', 'declarationProvider', 'referencesProvider', 'documentFormattingProvider', 'documentRangeFormattingProvider', 'documentOnTypeFormattingProvider', 'renameProvider', 'documentSymbolProvider', 'semanticTokensProvider', 'signatureHelpProvider']) {
    assert.equal(caps[k], undefined, `server capability ${k}`);
  }
  for (const method of ['textDocument/completion', 'textDocument/definition', 'textDocument/formatting', 'textDocument/rangeFormatting', 'textDocument/rename', 'textDocument/documentSymbol']) {
    const feature = client.getFeature(method);
    assert.equal(feature.getProvider(doc), undefined, `client provider for ${method}`);
  }
  assert.deepEqual(Object.keys(client.clientOptions.middleware || {}), [], 'no middleware');
  log('no completion/definition/formatting/rename/symbol providers');

  // 8. Explain GFP Mask… runs the model in the extension host, no server needed.
  const md = await vscode.commands.executeCommand('gfp-lens.explainMask', 'GFP_NOFS | __GFP_NOFAIL');
  assert.match(md, /`__GFP_NOFAIL`/);
  assert.match(md, /may recurse into the filesystem \| no/);
  log('explain: ' + md.split('\n')[2]);
  const shown = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'gfp-lens-explain');
  assert.ok(shown && shown.getText() === md && !shown.isDirty, 'the explanation is shown as a read-only document');

  // 8b. Show Allocation Context Report: the census of the workspace (this
  // extension's CLI under VS Code's Node), shown in a webview.
  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('gfp-lens.showReport'), 'the report command is registered');
  const report = await vscode.commands.executeCommand('gfp-lens.showReport');
  assert.ok(report, 'the report was built');
  log(`report: ${report.files} files, ${report.sites} sites ${JSON.stringify(report.counts)}; panel ${report.panel.title} (${report.panel.htmlLength} chars)`);
  // headline.c and its copy ui.c (for the browser test): two GFP_NOFS after gfs2_trans_begin() each.
  assert.equal(report.sites, 4);
  assert.equal(report.counts.convertible, 4);
  assert.equal(report.panel.viewType, 'gfp-lens.report');
  assert.ok(report.panel.htmlLength > 5000);
  assert.ok(report.panel.visible, 'the webview panel is visible');
  // The tab model reaches the extension host a moment later.
  const tab = await waitFor('the report tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === report.panel.title), 10000);
  log(`report tab: ${tab.label} (${tab.input && tab.input.constructor && tab.input.constructor.name}, webview: ${tab.input instanceof vscode.TabInputWebview})`);
  assert.ok(tab.input instanceof vscode.TabInputWebview, 'the report tab is a webview');
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

  // 9. Restart on crash: kill the server; the client restarts it and diagnostics come back.
  const pid = client._serverProcess && client._serverProcess.pid;
  assert.ok(pid, 'the server process is known');
  process.kill(pid, 'SIGKILL');
  await waitFor('restart after a crash', () => api.restarts() === 1 && api.client().state === 2 /* Running */, 30000);
  await vscode.window.showTextDocument(doc);
  const again = await waitFor('diagnostics after the restart', async () => {
    const h = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, kz));
    return h.includes('Effective') ? h : null;
  });
  assert.ok(again);
  log(`server restarted after SIGKILL of pid ${pid}`);

  // 10. The restart command.
  const before = api.client();
  await vscode.commands.executeCommand('gfp-lens.restartServer');
  assert.notEqual(api.client(), before);
  await waitFor('running after the restart command', () => api.client().state === 2);
  log('restart command: running');

  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // Leave a clean workbench for the browser test (the crash notice above is expected).
  await vscode.commands.executeCommand('notifications.clearAll');
};
