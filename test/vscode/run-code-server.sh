#!/usr/bin/env bash
# Runs gfp-lens in a real VS Code: code-server (VS Code 1.139.1, from npm, on
# Node 24 from npm; see /work/shared/editor-testing.md §4) with the .vsix built
# from this checkout installed by `code-server --install-extension`, on
# loopback, with throwaway user-data, extensions, home and workspace dirs.
#   (a) the integration suite (suite/index.js) inside the extension host,
#       started by a small runner extension (code-server has no
#       --extensionTestsPath);
#   (b) the browser test (ui.js): Debian's Chromium via playwright-core.
# Installs into ~/.cache/gfp-lens/code-server on first use (install-code-server.sh).
# Exit 0 only if both pass; anything that cannot run is a failure, with a reason.
# Screenshots: test/vscode/artifacts/. Everything started is stopped by PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${GFP_LENS_CS_CACHE:-$HOME/.cache/gfp-lens/code-server}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=${ARTIFACTS:-$HERE/artifacts}
fail() { echo "run-code-server: FAIL: $*" >&2; exit 1; }

[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM (Debian: apt-get install chromium; .ci/run installs it)"
"$HERE/install-code-server.sh" || fail "code-server could not be installed (see above)"
NODE24=$CACHE/node24/dist/bin/node
CS=$CACHE/cs/node_modules/code-server/out/node/entry.js
PLAYWRIGHT=$CACHE/pw/node_modules/playwright-core
[ -x "$NODE24" ] && [ -f "$CS" ] && [ -d "$PLAYWRIGHT" ] || fail "incomplete install in $CACHE (delete it and rerun)"

T0=$(date +%s.%N)
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gfp-lens-vscode.XXXXXX")
mkdir -p "$RUN/home" "$RUN/data/User" "$RUN/exts" "$RUN/tmp" "$ARTIFACTS"
export TMPDIR=$RUN/tmp
cat > "$RUN/data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "workbench.tips.enabled": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "editor.hover.delay": 300,
  "security.workspace.trust.enabled": false
}
JSON
# The workspace: a stand-in kernel tree (Makefile, gfp_types.h) with the headline file.
cp -r "$HERE/workspace" "$RUN/work"
cp "$REPO/test/editors/headline.c" "$RUN/work/headline.c"
cp "$REPO/test/editors/headline.c" "$RUN/work/ui.c"

# The .vsix, exactly as `npm run package` builds it (the build already ran).
(cd "$REPO" && "$NODE24" node_modules/@vscode/vsce/vsce package --allow-missing-repository --no-rewrite-relative-links --out "$RUN/gfp-lens.vsix" > "$RUN/vsce.log" 2>&1) \
  || { cat "$RUN/vsce.log"; fail "vsce package failed"; }
HOME=$RUN/home "$NODE24" "$CS" --extensions-dir "$RUN/exts" --user-data-dir "$RUN/data" --install-extension "$RUN/gfp-lens.vsix" > "$RUN/install.log" 2>&1 \
  || { cat "$RUN/install.log"; fail "code-server --install-extension failed"; }
grep -q 'gfp-lens.gfp-lens' <(HOME=$RUN/home "$NODE24" "$CS" --extensions-dir "$RUN/exts" --user-data-dir "$RUN/data" --list-extensions 2>/dev/null) \
  || fail "the .vsix did not install (code-server --list-extensions does not show gfp-lens.gfp-lens)"
# The runner extension (tests only): copied in and registered next to the .vsix.
cp -r "$HERE/runner" "$RUN/exts/local.gfp-lens-test-runner-0.0.1"
"$NODE24" -e '
const fs = require("fs"), f = process.argv[1] + "/extensions.json", dir = process.argv[1] + "/local.gfp-lens-test-runner-0.0.1";
const list = JSON.parse(fs.readFileSync(f, "utf8"));
list.push({ identifier: { id: "local.gfp-lens-test-runner" }, version: "0.0.1",
  location: { $mid: 1, fsPath: dir, external: "file://" + dir, path: dir, scheme: "file" },
  relativeLocation: "local.gfp-lens-test-runner-0.0.1", metadata: { installedTimestamp: Date.now(), source: "resource" } });
fs.writeFileSync(f, JSON.stringify(list));' "$RUN/exts" || fail "could not register the test runner extension"
echo "vsix built and installed in $(echo "$(date +%s.%N) - $T0" | bc) s"

PORT=$("$NODE24" -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
HOME=$RUN/home GFP_EXT_TESTS=$HERE/suite/index.js GFP_EXT_TESTS_RESULT=$RUN/result.json \
  GFP_HEADLINE_EXPECTED=$REPO/test/editors/headline.expected.c \
  "$NODE24" "$CS" --bind-addr 127.0.0.1:$PORT --auth none --config "$RUN/config.yaml" \
  --user-data-dir "$RUN/data" --extensions-dir "$RUN/exts" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override --disable-proxy --reconnection-grace-time 5 \
  "$RUN/work" > "$RUN/code-server.log" 2>&1 &
CSPID=$!
up=0
for i in $(seq 1 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && { up=1; break; }; sleep 0.2; done
UI_RC=1
if [ $up = 1 ]; then
  RESULT=$RUN/result.json ARTIFACTS=$ARTIFACTS PLAYWRIGHT=$PLAYWRIGHT CHROMIUM=$CHROMIUM \
    timeout 300 "$NODE24" "$HERE/ui.js" "http://127.0.0.1:$PORT/?folder=$RUN/work"
  UI_RC=$?
else
  echo "code-server did not answer on 127.0.0.1:$PORT"; tail -20 "$RUN/code-server.log"
fi
# Stop code-server and everything it forked (extension hosts, language servers), by PID.
desc() { for c in $(pgrep -P "$1"); do echo "$c"; desc "$c"; done; }
KIDS="$(desc $CSPID)"
kill $CSPID 2>/dev/null; wait $CSPID 2>/dev/null
L=""
for i in $(seq 1 50); do L=""; for k in $KIDS; do kill -0 "$k" 2>/dev/null && L="$L $k"; done; [ -z "$L" ] && break; sleep 0.2; done
[ -n "$L" ] && { echo "killing leftovers:$L"; kill $L 2>/dev/null; }

SUITE_OK=0
if [ -f "$RUN/result.json" ]; then
  "$NODE24" -e 'const r=require(process.argv[1]); for (const l of r.log||[]) console.log("[suite] "+l); if(!r.ok) console.log("FAIL (suite): "+r.error); process.exit(r.ok?0:1)' "$RUN/result.json" && SUITE_OK=1
else
  echo "FAIL (suite): no result (the runner extension did not run; extension host log below)"
  find "$RUN/data/logs" -name 'remoteexthost.log' -print 2>/dev/null | head -1 | xargs -r tail -n 20
fi
echo "total $(echo "$(date +%s.%N) - $T0" | bc) s; suite ok=$SUITE_OK; ui rc=$UI_RC; run dir $RUN"
if [ $SUITE_OK = 1 ] && [ $UI_RC = 0 ]; then
  [ -z "${KEEP_RUN:-}" ] && rm -rf "$RUN"
  exit 0
fi
echo "logs kept in $RUN"
exit 1
