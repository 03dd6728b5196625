#!/usr/bin/env node
// Runs every compiled test file (out/test/**/*.test.js) with node's built-in
// test runner, whose closing summary ("# pass N", "# fail N") CI reads.
// Extra arguments are passed to `node --test` (for example --test-name-pattern).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'out', 'test');
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.test.js')) files.push(full);
  }
})(root);
if (files.length === 0) {
  console.error(`no test files under ${root}: did the build run?`);
  process.exit(1);
}
files.sort();
const result = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
