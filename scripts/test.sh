#!/usr/bin/env bash
# The project's test command (npm test): installs what is missing, type-checks
# and builds, then runs the unit tests and the end-to-end tests against a real
# kube-apiserver + etcd (built from Go modules on first use, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
# kubectl (built with kube-apiserver, same version) and helm come from the cache.
bin=$(bash scripts/ensure-deps.sh | tail -n 1)
export PATH="$bin:$PATH"
npm run --silent typecheck
npm run --silent build
export NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}"
# One process: the e2e files each run an operator, and two at once would share the cluster.
exec npx jest --runInBand "$@"
