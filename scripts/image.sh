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
# The build's RUN steps (npm ci) reach the npm registry through the machine's network, trusting
# the machine's CAs too (a TLS-inspecting proxy's), mounted for the build only.
cas=()
ca_file=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$ca_file" ]; then
  cas=(-v "$ca_file:/run/build-ca.pem:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.pem)
fi
buildah_cmd bud --quiet --layers --network host --build-arg "BASE_IMAGE=$base" "${cas[@]}" \
  -t "$name" -f Dockerfile . >/dev/null
rm -rf "$out" && mkdir -p "$out"
buildah_cmd push --quiet --format oci --digestfile "$out/digest" "$name" "oci:$out/oci:$version"
echo "$name" >"$out/name"
echo "$base" >"$out/base"
size=$(buildah_cmd inspect --type image --format '{{.ImageSize}}' "$name" 2>/dev/null || echo 0)
compressed=$(du -sb "$out/oci/blobs" | cut -f1)
echo "image: $name $(cat "$out/digest") on $base"
echo "image: $((size / 1000000)) MB unpacked, $((compressed / 1000000)) MB compressed;" \
  "built in $((SECONDS - started)) s (base $base_seconds s); OCI layout in $out/oci"
