#!/usr/bin/env bash
# Copies the Gateway API standard-channel CRDs of the pinned version into the
# cache (~/.cache/canary-operator/gateway-api-VERSION/), fetching the Go module
# sigs.k8s.io/gateway-api from the module proxy the first time. Only CRD files
# are copied: the channel's ValidatingAdmissionPolicy (vap_*) is left out.
# Safe under concurrent runs: each run fills a private temp dir and renames it
# into place; a run that loses the race keeps the winner's copy.
# Prints the CRD directory on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${CANARY_CACHE_DIR:-$HOME/.cache/canary-operator}
out="$cache/gateway-api-$GATEWAY_API_VERSION"
log() { echo "[control-plane] $*" >&2; }

if [ ! -d "$out" ]; then
  mkdir -p "$cache"
  log "fetching Gateway API $GATEWAY_API_VERSION CRDs (Go module sigs.k8s.io/gateway-api)"
  # Outside any module (the project has none), with the build's -mod flag cleared.
  json=$(cd "$cache" && GOFLAGS= go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION") || {
    echo "$json" >&2
    exit 1
  }
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  src="$dir/config/crd/standard"
  [ -d "$src" ] || { log "no $src in the module"; exit 1; }
  tmp=$(mktemp -d "$cache/.gateway-api-$GATEWAY_API_VERSION.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  n=0
  for f in "$src"/*.yaml; do
    case "$(basename "$f")" in *_vap_*) continue ;; esac
    # The module cache is read-only; the copy need not be.
    install -m 0644 "$f" "$tmp/"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { log "no CRD files in $src"; exit 1; }
  chmod 0755 "$tmp"
  if mv -T "$tmp" "$out" 2>/dev/null; then
    trap - EXIT
    log "Gateway API CRDs ready: $out ($n files)"
  fi
  [ -d "$out" ] || { log "could not create $out"; exit 1; }
fi
echo "$out"
