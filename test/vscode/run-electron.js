#!/usr/bin/env node
// Runs the VS Code integration suite (test/vscode/suite) in a desktop VS Code
// downloaded by @vscode/test-electron, with this checkout as the extension
// under development: for a developer's machine or a CI that can reach VS Code's
// download site. (This project's own CI cannot, and runs the same suite in
// code-server instead: test/vscode/run-code-server.sh.) Needs `npm ci` first;
// on Linux without a display, run it under xvfb-run.
//   npm run test:electron [-- VSCODE_VERSION]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runTests } = require('@vscode/test-electron');

async function main() {
  const repo = path.join(__dirname, '..', '..');
  // A throwaway stand-in kernel tree with the headline file, as in run-code-server.sh.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gfp-lens-electron-'));
  fs.cpSync(path.join(__dirname, 'workspace'), work, { recursive: true });
  for (const name of ['headline.c', 'ui.c']) fs.copyFileSync(path.join(repo, 'test', 'editors', 'headline.c'), path.join(work, name));
  try {
    await runTests({
      ...(process.argv[2] ? { version: process.argv[2] } : {}),
      extensionDevelopmentPath: repo,
      extensionTestsPath: path.join(__dirname, 'electron', 'index.js'),
      extensionTestsEnv: { GFP_HEADLINE_EXPECTED: path.join(repo, 'test', 'editors', 'headline.expected.c') },
      launchArgs: [work, '--disable-extensions', '--disable-workspace-trust'],
    });
  } catch (e) {
    console.error(`test:electron: FAIL: ${e && e.message ? e.message : e}`);
    console.error('(VS Code could not be downloaded or the suite failed; where VS Code cannot be downloaded, `npm test` runs the same suite in code-server.)');
    process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
