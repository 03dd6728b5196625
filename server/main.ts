#!/usr/bin/env node
// gfp-lens-server: the language server as a program. `--stdio` for any LSP
// client (Neovim, Emacs/eglot, Helix); `--node-ipc` when vscode-languageclient
// forks it; `--socket=N` also works (vscode-languageserver reads argv). This is
// the only file that touches the process.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

if (process.argv.includes('--version')) {
  process.stdout.write(`gfp-lens-server ${packageVersion()}\n`);
  process.exit(0);
}
if (!process.argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket=') || a.startsWith('--pipe=')) && process.send === undefined) {
  process.stderr.write('usage: gfp-lens-server --stdio   (or --node-ipc, --socket=PORT, --pipe=NAME)\n');
  process.exit(2);
}

const connection = createConnection(ProposedFeatures.all);
// A bug in one request must not take the editor's server down with it.
process.on('uncaughtException', (err) => connection.console.error(`gfp-lens: uncaught ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => connection.console.error(`gfp-lens: unhandled ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
startServer(connection, { name: 'gfp-lens', version: packageVersion() });
