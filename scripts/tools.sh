#!/usr/bin/env bash
# Builds the testbed's programs from the Go module proxy, once, into a cache outside the repo.
#   scripts/tools.sh all          build every tool in scripts/tools.versions that is missing
#   scripts/tools.sh NAME...      build those (if missing)
#   scripts/tools.sh path NAME    print the binary's path (building it if missing)
# A binary exists at $DIGESTPIN_CACHE/tools/NAME-VERSION-rRECIPE/NAME only after a complete build, so
# an interrupted build is simply redone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${DIGESTPIN_CACHE:-$HOME/.cache/digestpin}
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod GOTOOLCHAIN=local
export CGO_ENABLED=0
# Bump when the way tools are built changes, so every machine rebuilds them.
recipe=2

row() { awk -v n="$1" '$1 == n { print; found = 1 } END { exit !found }' "$here/tools.versions"; }
names() { awk '!/^#/ && NF == 4 { print $1 }' "$here/tools.versions"; }
bin_path() { local _n v _m _p; read -r _n v _m _p < <(row "$1"); echo "$cache/tools/$1-$v-r$recipe/$1"; }

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging;
# outside its repo each must be replaced by the published module of the matching version.
staging_replaces() {
  local version=$1 gomod staging
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" | awk -F'"' '/"GoMod"/ { print $4 }')
  staging=v0.${version#v1.}
  awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { print "replace " $1 " => " $1 " " v }' "$gomod"
}

# `go build` outside a project's own Makefile leaves its version stamps at placeholder values
# (kubectl/kube-apiserver say v0.0.0-master, helm says v3.22); set them as the releases do.
version_ldflags() {
  local name=$1 version=$2 minor pkg
  case $name in
    kube-* | kubectl | kubelet)
      minor=${version#v1.} && minor=${minor%%.*}
      for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        printf -- '-X %s ' "$pkg.gitVersion=$version" "$pkg.gitMajor=1" "$pkg.gitMinor=$minor" \
          "$pkg.gitTreeState=clean"
      done ;;
    runc) printf -- '-X main.version=%s ' "${version#v}" ;;
    helm)
      # Like helm's Makefile: the default Kubernetes version (`helm template`, `helm lint`) is
      # that of the client-go it was built with, v0.N → v1.N (run in the build's module).
      minor=$(go list -m -f '{{.Version}}' k8s.io/client-go) && minor=${minor#v0.} && minor=${minor%%.*}
      printf -- '-X %s ' "helm.sh/helm/v3/internal/version.version=$version" \
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1" "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor" \
        "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1" "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" ;;
    promtool)
      # Prometheus 3.x is the Go module v0.3xx.y: v0.316.0 is the release 3.16.0.
      minor=${version#v0.} && minor=${minor%%.*}
      printf -- '-X %s ' "github.com/prometheus/common/version.Version=$((minor / 100)).$((minor % 100)).${version##*.}" ;;
    cosign*)
      printf -- '-X %s ' "sigs.k8s.io/release-utils/version.gitVersion=$version" \
        "sigs.k8s.io/release-utils/version.gitTreeState=clean" ;;
  esac
}

# Build tags: promtool is only used to check and unit-test rules, so it is built without
# Prometheus's service-discovery plugins (cloud SDKs, client-go): half the compile time. runc
# is C as well as Go (its nsenter) and loads seccomp filters through libseccomp
# (scripts/node-packages.sh installs gcc's libc headers and libseccomp-dev).
tags_for() { case $1 in promtool) echo remove_all_sd ;; runc) echo seccomp ;; *) echo "" ;; esac; }
cgo_for() { case $1 in runc) echo 1 ;; *) echo 0 ;; esac; }

build() {
  local name=$1 version module pkg out work
  read -r name version module pkg < <(row "$name") || { echo "tools.sh: unknown tool $1" >&2; exit 2; }
  out=$cache/tools/$name-$version-r$recipe
  [ -x "$out/$name" ] && return 0
  # Test files run in parallel processes and may all ask for the same missing tool: one
  # builds it, the others wait for that build and use its result.
  mkdir -p "$out"
  exec {lock}>"$out/.lock"
  flock "$lock"
  [ -x "$out/$name" ] && { exec {lock}>&-; return 0; }
  work=$cache/build/$name-$version
  rm -rf "$work" && mkdir -p "$work" "$out"
  echo "tools.sh: building $name $version from $module (first time only)" >&2
  local started=$SECONDS
  (
    cd "$work"
    go mod init "digestpin.testbed/$name" >/dev/null 2>&1
    [ "$module" = k8s.io/kubernetes ] && staging_replaces "$version" >>go.mod
    go get "$module@$version" >/dev/null
    CGO_ENABLED=$(cgo_for "$name") go build -trimpath -tags "$(tags_for "$name")" \
      -ldflags="-s -w $(version_ldflags "$name" "$version")" -o "$out/$name.partial" "$pkg"
  )
  mv "$out/$name.partial" "$out/$name"
  echo "tools.sh: built $name in $((SECONDS - started))s" >&2
  exec {lock}>&-
}

case "${1:-all}" in
  all) for n in $(names); do build "$n"; done ;;
  path) build "$2"; bin_path "$2" ;;
  *) for n in "$@"; do build "$n"; done ;;
esac
