#!/usr/bin/env bash
# Makes sure a Node.js of the major in .nvmrc is first on PATH for every make target.
# The system node is used when it is recent enough; otherwise the npm registry's `node`
# package is installed into .tools/node (git-ignored), which the Makefile puts first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(cat .nvmrc)
local_bin=.tools/node/node_modules/node/bin
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$local_bin/node" ] && [ "$(major "$local_bin/node")" -ge "$want" ]; then exit 0; fi
if command -v node >/dev/null && [ "$(major node)" -ge "$want" ]; then exit 0; fi

echo "ensure-node: system node is $(node --version 2>/dev/null || echo missing); installing Node $want into .tools/node" >&2
rm -rf .tools/node
mkdir -p .tools/node
npm install --prefix .tools/node --no-save --no-package-lock --loglevel=error "node@$want" >&2
"$local_bin/node" --version >&2
