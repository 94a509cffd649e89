#!/usr/bin/env bash
# Installs what the tests and the demo need and a fresh machine may lack:
# Debian packages (as root), node modules, and the local control plane
# binaries (kube-apiserver, etcd, kubectl, helm). Prints their directory.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }

missing=()
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/prometheus ] || command -v prometheus >/dev/null || missing+=(prometheus)
# The Argo CD health check is tested with a real Lua 5.1, the version Argo CD embeds.
command -v lua5.1 >/dev/null || missing+=(lua5.1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi
command -v go >/dev/null || { say "Go is needed to build kube-apiserver and etcd (https://go.dev/doc/install)"; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node modules (npm ci)"
  npm ci --no-audit --no-fund >&2
fi
# helm: the chart tests and scripts/render-manifests.sh use the pinned version.
bash scripts/control-plane/build.sh --helm "$@"
