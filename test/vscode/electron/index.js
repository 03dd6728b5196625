// The extensionTestsPath module for @vscode/test-electron: the same suite the
// code-server run uses (../suite), logging to the test host's console.
'use strict';
exports.run = () => require('../suite').run((message) => console.log(`[gfp-lens suite] ${message}`));
