#!/usr/bin/env bash
# Builds kube-apiserver, etcd (and helm, with --helm) from Go modules into a
# cache outside git, and reuses them when the pinned version is already there;
# fetches the Gateway API CRDs into the same cache (gateway-api-crds.sh; their
# directory is logged on stderr). Prints the bin directory on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${CANARY_CACHE_DIR:-$HOME/.cache/canary-operator}
bin="$cache/bin"
mkdir -p "$bin"
want_helm=0
for a in "$@"; do [ "$a" = --helm ] && want_helm=1; done

log() { echo "[control-plane] $*" >&2; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod

# The wrapper module for kube-apiserver and kubectl, written from the template.
kube_module() {
  local work="$cache/src/kube-apiserver-$KUBE_VERSION"
  mkdir -p "$work"
  sed -e "s/@KUBE@/$KUBE_VERSION/" -e "s/@STAGING@/v0.${KUBE_VERSION#v1.}/" "$here/kube-apiserver/go.mod.in" > "$work/go.mod.new"
  cmp -s "$work/go.mod.new" "$work/go.mod.in.last" || { cp "$work/go.mod.new" "$work/go.mod"; cp "$work/go.mod.new" "$work/go.mod.in.last"; }
  echo "$work"
}

# kube-apiserver or kubectl from the wrapper module, with the version stamped
# (else /version says v0.0.0-master and version-checking tools misbehave).
build_kube_cmd() {
  local cmd=$1 note=$2
  local out="$bin/$cmd-$KUBE_VERSION"
  [ -x "$out" ] && return 0
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local work; work=$(kube_module)
  log "building $cmd $KUBE_VERSION ($note)"
  (cd "$work" && go mod tidy >&2 && go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    "k8s.io/kubernetes/cmd/$cmd" >&2)
  mv "$out.tmp" "$out"
  log "$cmd ready: $out"
}

build_etcd() {
  local out="$bin/etcd-$ETCD_VERSION"
  [ -x "$out" ] && return 0
  local work="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$work"
  sed -e "s/@ETCD@/$ETCD_VERSION/" "$here/etcd/go.mod.in" > "$work/go.mod"
  log "building etcd $ETCD_VERSION (first time only, a few minutes)"
  (cd "$work" && go mod tidy >&2 && go build -trimpath -o "$out.tmp" -ldflags "-s -w" go.etcd.io/etcd/server/v3 >&2)
  mv "$out.tmp" "$out"
  log "etcd ready: $out"
}

build_helm() {
  local out="$bin/helm-$HELM_VERSION-k1.34"
  [ -x "$out" ] && return 0
  log "building helm $HELM_VERSION (first time only, a few minutes)"
  # Stamp the version and the Kubernetes version helm assumes without a cluster (else v1.20).
  GOBIN="$cache/src/helm-$HELM_VERSION" go install -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$cache/src/helm-$HELM_VERSION/helm" "$out"
  log "helm ready: $out"
}

build_etcd
build_kube_cmd kube-apiserver "first time only: downloads ~500 MB of modules, 10-25 min on 2 cores"
# kubectl from the same module: Debian has no kubectl package, and a client of
# the server's own minor version keeps the tests inside the skew policy.
build_kube_cmd kubectl "first time only, a few minutes"
[ "$want_helm" = 1 ] && build_helm
gateway_api_crds=$(bash "$here/gateway-api-crds.sh" | tail -n 1)
log "Gateway API $GATEWAY_API_VERSION CRDs: $gateway_api_crds"
ln -sf "kube-apiserver-$KUBE_VERSION" "$bin/kube-apiserver"
ln -sf "etcd-$ETCD_VERSION" "$bin/etcd"
ln -sf "kubectl-$KUBE_VERSION" "$bin/kubectl"
[ -x "$bin/helm-$HELM_VERSION-k1.34" ] && ln -sf "helm-$HELM_VERSION-k1.34" "$bin/helm"
echo "$bin"
