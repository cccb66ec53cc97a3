#!/usr/bin/env bash
# Builds the test cluster and its clients from the Go module proxy: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, and the real node's kubelet and kube-proxy
# (module k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3), kwok (sigs.k8s.io/kwok), helm
# (helm.sh/helm/v3) and CoreDNS (github.com/coredns/coredns, trimmed to the plugins a cluster DNS
# needs), kube-router (github.com/cloudnativelabs/kube-router/v2, the node's NetworkPolicy enforcer)
# and the tests' policy analyser (tests/harness/policy_analyser, on cyclonus). About 45 minutes cold
# on 2 cores; the binaries go to a cache outside the repository, keyed by the versions in
# versions.env, and each is reused when present. Prints the folder that holds them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${IMQCAM_CONTROL_PLANE_CACHE:-$HOME/.cache/imqcam-dagster/control-plane}"
bin="$cache/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION-coredns-$COREDNS_VERSION/bin"
mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0
proxy="$(go env GOPROXY | cut -d, -f1)"

missing() { for b in "$@"; do [[ -s "$bin/$b" ]] || return 0; done; return 1; }
# wrapper <name> <go.mod lines>: a module of its own for one tool, tidied against the proxy.
wrapper() {
  mkdir -p "$work/$1" && cd "$work/$1"
  printf 'module imqcam.test/%s\n\ngo 1.26.0\n\n%s\n' "$1" "$2" >go.mod
}
# build <output> <package> [ldflags]: into the cache under a temporary name, then moved in place.
build() {
  echo "building $1 ..." >&2
  go build -ldflags "-s -w ${3:-}" -o "$bin/.$1.partial" "$2"
  mv "$bin/.$1.partial" "$bin/$1"
}

k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
if missing "${k8s_cmds[@]}"; then
  # k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with folders of its own tree;
  # a dependency's replaces are ignored, so the wrapper maps each to its published v0.<minor>.<patch>.
  staging="v0${KUBERNETES_VERSION#v1}"
  wrapper kubernetes "require k8s.io/kubernetes $KUBERNETES_VERSION
$(curl -fsS "$proxy/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod" |
    sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*|replace \1 => \1 '"$staging"'|p')"
  printf 'package tools\n\nimport (\n' >tools.go
  for cmd in "${k8s_cmds[@]}"; do
    printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd" >>tools.go
  done
  printf ')\n' >>tools.go
  go mod tidy
  # Without the stamp /version says v0.0.0, and clients and the chart's kubeVersion check see that.
  minor="$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
  stamp=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for cmd in "${k8s_cmds[@]}"; do
    missing "$cmd" && build "$cmd" "k8s.io/kubernetes/cmd/$cmd" "$stamp"
  done
fi

if missing etcd; then
  # etcd's own main is this one call; its module replaces its siblings with folders, so it is wrapped.
  replaces=""
  for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
    replaces+="replace go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $ETCD_VERSION"$'\n'
  done
  wrapper etcd "require go.etcd.io/etcd/server/v3 $ETCD_VERSION
$replaces"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
  go mod tidy
  build etcd .
fi

if missing kwok kwok-stages.yaml; then
  wrapper kwok "require sigs.k8s.io/kwok $KWOK_VERSION"
  printf 'package tools\n\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' >tools.go
  go mod tidy
  build kwok sigs.k8s.io/kwok/cmd/kwok
  # The kwok binary alone has no stages; these are the ones kwokctl gives a cluster ("fast"): a
  # node Ready with a lease heartbeat, pods Running and Ready at once, Job pods Succeeded.
  stages="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  for f in "$stages"/node/fast/node-initialize.yaml "$stages"/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$stages"/pod/fast/pod-ready.yaml "$stages"/pod/fast/pod-complete.yaml "$stages"/pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$f"
  done >"$bin/kwok-stages.yaml"
fi

if missing helm; then
  wrapper helm "require helm.sh/helm/v3 $HELM_VERSION"
  printf 'package tools\n\nimport _ "helm.sh/helm/v3/cmd/helm"\n' >tools.go
  go mod tidy
  build helm helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
fi

if missing coredns; then
  # The plugins a cluster DNS needs and nothing else (no forward: the test node has no upstream);
  # client-go lifted to the Kubernetes release above, so the Go build cache is shared.
  staging="v0${KUBERNETES_VERSION#v1}"
  wrapper coredns "require (
	github.com/coredns/coredns $COREDNS_VERSION
	k8s.io/client-go $staging
	k8s.io/api $staging
	k8s.io/apimachinery $staging
)"
  printf 'package main\n\nimport (\n' >main.go
  for plugin in cache errors health kubernetes loadbalance log ready; do
    printf '\t_ "github.com/coredns/coredns/plugin/%s"\n' "$plugin" >>main.go
  done
  printf '\n\t"github.com/coredns/coredns/coremain"\n)\n\nfunc main() { coremain.Run() }\n' >>main.go
  go mod tidy
  build coredns .
fi

# stamped <binary> <key>: whether $bin/<binary> was built from <key> (a version, or a hash of sources).
stamped() { [[ -s "$bin/$1" && "$(cat "$bin/.$1.key" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$bin/.$1.key"; }

# The real node's NetworkPolicy enforcer: kube-router with only its firewall (iptables and ipset).
# kube-network-policies needs the nftables `queue` expression, which this machine's kernel lacks.
if ! stamped kube-router "$KUBE_ROUTER_VERSION"; then
  echo "building kube-router ..." >&2
  GOBIN="$work/gobin" go install -ldflags "-s -w" "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
  mv "$work/gobin/kube-router" "$bin/kube-router"
  stamp kube-router "$KUBE_ROUTER_VERSION"
fi

# The tests' policy analyser: cyclonus's matcher behind a JSON front (tests/harness/policy_analyser).
analyser_src="$(dirname "$here")/tests/harness/policy_analyser"
analyser_key="$(cat "$analyser_src"/go.mod "$analyser_src"/go.sum "$analyser_src"/*.go | sha256sum | cut -c1-16)"
if ! stamped policy-analyser "$analyser_key"; then
  (cd "$analyser_src" && build policy-analyser .)
  stamp policy-analyser "$analyser_key"
fi

echo "$bin"
