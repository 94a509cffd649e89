#!/usr/bin/env bash
# The live demo (npm run demo): installs what is missing, builds, and plays
# two releases of bookinfo's reviews service on a local control plane.
# Flags: --plain (line output, no redraw), --keep (leave everything running).
set -euo pipefail
cd "$(dirname "$0")/.."
# kubectl (built with kube-apiserver, same version) and helm come from the cache.
bin=$(bash scripts/ensure-deps.sh | tail -n 1)
export PATH="$bin:$PATH"
npm run --silent build
exec node dist/tools/demo/main.js "$@"
