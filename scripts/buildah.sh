# Sourced by the image scripts: buildah with its storage (and so its layer cache) under
# $DIGESTPIN_CACHE, apart from any other user of buildah or podman on the machine.
cache=${DIGESTPIN_CACHE:-$HOME/.cache/digestpin}
storage=$cache/containers
buildah_cmd() {
  buildah --root "$storage/storage" --runroot "$storage/run" --storage-driver overlay "$@"
}
