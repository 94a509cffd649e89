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

# Several runs may share the cache (two clones' tests or demos on one
# machine): each binary is built under an exclusive lock on its own lock file,
# in a private temporary directory, and renamed into bin/ in one step; a run
# that waited for the lock finds the binary there and builds nothing.
mkdir -p "$cache/locks"

# Builds bin/NAME with "BUILD_FN OUT WORKDIR ARGS..." unless it exists,
# holding the lock NAME meanwhile; WORKDIR is private and removed afterwards.
locked_build() {
  local name=$1 build_fn=$2; shift 2
  local out="$bin/$name"
  [ -x "$out" ] && return 0
  (
    flock 9
    [ -x "$out" ] && exit 0 # built by another run while this one waited
    work=$(mktemp -d "$cache/tmp.XXXXXX") # in the cache: the same filesystem, so mv is a rename
    trap 'rm -rf "$work"' EXIT
    "$build_fn" "$out" "$work" "$@"
  ) 9>"$cache/locks/$name.lock"
}

# kube-apiserver or kubectl from the wrapper module (written from the
# template), with the version stamped (else /version says v0.0.0-master and
# version-checking tools misbehave).
build_kube() {
  local out=$1 work=$2 cmd=$3 note=$4
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  sed -e "s/@KUBE@/$KUBE_VERSION/" -e "s/@STAGING@/v0.${KUBE_VERSION#v1.}/" "$here/kube-apiserver/go.mod.in" > "$work/go.mod"
  log "building $cmd $KUBE_VERSION ($note)"
  (cd "$work" && go mod tidy >&2 && go build -trimpath -o "$work/$cmd" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    "k8s.io/kubernetes/cmd/$cmd" >&2)
  mv -f "$work/$cmd" "$out"
  log "$cmd ready: $out"
}

build_etcd() {
  local out=$1 work=$2
  sed -e "s/@ETCD@/$ETCD_VERSION/" "$here/etcd/go.mod.in" > "$work/go.mod"
  log "building etcd $ETCD_VERSION (first time only, a few minutes)"
  (cd "$work" && go mod tidy >&2 && go build -trimpath -o "$work/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3 >&2)
  mv -f "$work/etcd" "$out"
  log "etcd ready: $out"
}

build_helm() {
  local out=$1 work=$2
  log "building helm $HELM_VERSION (first time only, a few minutes)"
  # Stamp the version and the Kubernetes version helm assumes without a cluster (else v1.20).
  GOBIN="$work" go install -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv -f "$work/helm" "$out"
  log "helm ready: $out"
}

# ln -sf is unlink-then-create, which fails when two runs do it at once; a
# symlink made aside and renamed over the old one is replaced atomically.
link() {
  local target=$1 name=$2
  ln -s "$target" "$bin/.$name.$$"
  mv -Tf "$bin/.$name.$$" "$bin/$name"
}

locked_build "etcd-$ETCD_VERSION" build_etcd
locked_build "kube-apiserver-$KUBE_VERSION" build_kube kube-apiserver "first time only: downloads ~500 MB of modules, 10-25 min on 2 cores"
# kubectl from the same module: Debian has no kubectl package, and a client of
# the server's own minor version keeps the tests inside the skew policy.
locked_build "kubectl-$KUBE_VERSION" build_kube kubectl "first time only, a few minutes"
if [ "$want_helm" = 1 ]; then locked_build "helm-$HELM_VERSION-k1.34" build_helm; fi
gateway_api_crds=$(bash "$here/gateway-api-crds.sh" | tail -n 1)
log "Gateway API $GATEWAY_API_VERSION CRDs: $gateway_api_crds"
link "kube-apiserver-$KUBE_VERSION" kube-apiserver
link "etcd-$ETCD_VERSION" etcd
link "kubectl-$KUBE_VERSION" kubectl
if [ -x "$bin/helm-$HELM_VERSION-k1.34" ]; then link "helm-$HELM_VERSION-k1.34" helm; fi
echo "$bin"
