#!/usr/bin/env bash
# `make image`: builds the Dockerfile with buildah (no Docker daemon) and writes the image as an
# OCI layout to .run/image (what `make testbed-deploy` and test/cluster push).
#   BASE_IMAGE=REF scripts/image.sh   build on REF (by digest) instead of the offline stand-in
# Without BASE_IMAGE the base is scripts/image-base.sh's (Debian packages and Node 24 from npm);
# with it, buildah pulls REF, e.g. the Dockerfile's default, the official node image.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/buildah.sh
. scripts/buildah.sh
out=.run/image
version=$(node -p 'require("./package.json").version')
name=localhost/digestpin:$version
started=$SECONDS
base=${BASE_IMAGE:-$(scripts/image-base.sh)}
base_seconds=$((SECONDS - started))
# The build's npm ci reaches the npm registry through the machine's network, trusting the
# machine's CAs too (a TLS-inspecting proxy's): the npm-ca build secret (see the Dockerfile).
secret=()
ca_file=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca_file" ] && secret=(--secret "id=npm-ca,src=$ca_file")
mkdir -p .run
# --isolation chroot: RUN steps need no OCI runtime and no cgroups, so the build works on every
# host layout (crun refuses a cgroup v1 host with cgroup2 mounted beside it: "hybrid mode").
buildah_cmd bud --isolation chroot --layers --network host --build-arg "BASE_IMAGE=$base" "${secret[@]}" \
  -t "$name" -f Dockerfile . >.run/image-build.log 2>&1 ||
  { tail -n 40 .run/image-build.log >&2; echo "image: the build failed (log: .run/image-build.log)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
buildah_cmd push --quiet --format oci --digestfile "$out/digest" "$name" "oci:$out/oci:$version"
echo "$name" >"$out/name"
echo "$base" >"$out/base"
size=$(buildah_cmd images --format '{{.Size}}' "$name" | head -n1)
compressed=$(du -sb "$out/oci/blobs" | cut -f1)
echo "image: $name $(cat "$out/digest") on $base"
echo "image: $size unpacked, $((compressed / 1000000)) MB compressed; built in" \
  "$((SECONDS - started)) s (base $base_seconds s); OCI layout in $out/oci"
