// An extensionTestsPath for code-server (whose CLI rejects --extensionTestsPath;
// /work/shared/editor-testing.md §4h): on startup, require() the suite named by
// $GFP_EXT_TESTS (exports async run(log)), run it inside this extension host,
// and write {ok, error, log, ms} to $GFP_EXT_TESTS_RESULT. Installed only into
// the throwaway extensions dir of a test run, never shipped.
'use strict';
const fs = require('fs');
exports.activate = () => {
  const mod = process.env.GFP_EXT_TESTS;
  const out = process.env.GFP_EXT_TESTS_RESULT;
  if (!mod || !out || fs.existsSync(out)) return;
  const t0 = Date.now();
  const log = [];
  setTimeout(async () => {
    let res;
    try {
      await require(mod).run((m) => log.push(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`));
      res = { ok: true };
    } catch (e) {
      res = { ok: false, error: String((e && (e.stack || e.message)) || e) };
    }
    res.log = log;
    res.ms = Date.now() - t0;
    fs.writeFileSync(out + '.tmp', JSON.stringify(res, null, 2));
    fs.renameSync(out + '.tmp', out);
  }, 0);
};
exports.deactivate = () => {};
