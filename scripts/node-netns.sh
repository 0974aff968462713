#!/usr/bin/env bash
# The testbed node's network namespace and its clean-up (test/harness/node.ts starts the node).
#   scripts/node-netns.sh run -- CMD...   runs CMD in a new namespace; afterwards removes it and
#                                         everything a node left in it (tests: `make cluster`)
#   scripts/node-netns.sh enter NAME DIR -- CMD...  runs CMD in the namespace NAME, creating it
#                                         if missing, with the node's files in DIR (the testbed)
#   scripts/node-netns.sh remove NAME DIR  what `run` does after CMD, for NAME (`make testbed-down`)
#   scripts/node-netns.sh clean DIR CGROUP [NETWORK]  kills what runs in the node's cgroups and
#                                         its runc shims, unmounts what is mounted under DIR,
#                                         removes the cgroups and CNI's cache of NETWORK
# The namespace holds the whole testbed of a run: control plane, registry, containerd, kubelet
# and the Pods' bridge. It has no route out of the machine, and its addresses (the node
# 10.244.0.1, Pods 10.244.0.0/24, Services 10.0.0.0/24) exist only inside it, so runs side by
# side never meet. CMD sees the names below in its environment.
set -euo pipefail

NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.0.0.0/24 # test/harness/kube-pki.ts SERVICE_CLUSTER_IP_RANGE

# The kubelet sets these machine-wide sysctls as it starts (vm.overcommit_memory=1,
# kernel.panic=10, ...; without protectKernelDefaults it must): their values from before the
# first node are kept here and put back when the last node's namespace is removed.
SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
SAVED_SYSCTLS=/run/digestpin-node-sysctls
save_sysctls() {
  [ -e "$SAVED_SYSCTLS" ] && return 0
  local key
  for key in $SYSCTLS; do echo "$key=$(sysctl -n "$key")"; done >"$SAVED_SYSCTLS.partial"
  mv "$SAVED_SYSCTLS.partial" "$SAVED_SYSCTLS"
}
restore_sysctls() {
  [ -e "$SAVED_SYSCTLS" ] || return 0
  ls /run/netns 2>/dev/null | grep -q '^digestpin-\(node\|testbed\)-' && return 0 # still in use
  sysctl -q -p "$SAVED_SYSCTLS" >/dev/null 2>&1 || true
  rm -f "$SAVED_SYSCTLS"
}

# Every cgroup controller hierarchy (cgroup v1) or the one unified hierarchy (v2).
hierarchies() { awk '$3 ~ /^cgroup2?$/ { print $2 }' /proc/self/mounts | sort -u; }

clean() {
  local dir=$1 cgroup=$2 network=${3:-} h pass pids p
  # containerd's runc shims (they outlive containerd): by the socket under DIR they were given.
  if [ -n "$dir" ]; then
    for p in /proc/[0-9]*; do
      if [ "$(cat "$p/comm" 2>/dev/null)" = containerd-shim ] &&
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$dir/"; then
        kill -9 "${p#/proc/}" 2>/dev/null || true
      fi
    done
  fi
  # Containers first: they run in the kubelet's cgroups, outside the namespace.
  if [ -n "$cgroup" ]; then
    for pass in 1 2 3; do
      pids=$(for h in $(hierarchies); do
        if [ -d "$h$cgroup" ]; then find "$h$cgroup" -name cgroup.procs -exec cat {} + 2>/dev/null; fi
      done | sort -u || true)
      if [ -z "$pids" ]; then break; fi
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
      sleep 0.5
    done
  fi
  # Deepest mounts first: container root filesystems, Pod volumes, network namespaces.
  if [ -n "$dir" ]; then
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
      sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  fi
  if [ -n "$cgroup" ]; then
    # The cgroups below the root (the root itself goes with the namespace, in `remove`).
    for h in $(hierarchies); do
      if [ -d "$h$cgroup" ]; then find "$h$cgroup" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
  fi
  if [ -n "$network" ]; then rm -f /var/lib/cni/results/"$network"-*; fi
  return 0
}

create() {
  local name=$1 h
  save_sysctls
  # The kubelet's cgroup root (its Pods go below): it must exist in every hierarchy; a v1 cpuset
  # starts with no CPUs or memory nodes, so it gets its parent's.
  for h in $(hierarchies); do
    mkdir -p "$h/$name"
    if [ -e "$h/cpuset.cpus" ] && [ -e "$h/$name/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h/$name/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$name/cpuset.mems"
    fi
  done
  ip netns add "$name"
  in_ns() { nsenter --net="/run/netns/$name" "$@"; }
  in_ns ip link set lo up
  # The node's address is the bridge the Pods join (the CNI bridge plugin finds it there).
  in_ns ip link add cni0 type bridge
  in_ns ip addr add "$NODE_IP/24" dev cni0
  in_ns ip link set cni0 up
  # Service ClusterIPs are routed to the bridge, where kube-proxy's DNAT has already sent them
  # on (without a route the API server's calls to a webhook Service are "network is unreachable").
  in_ns ip route add "$SERVICE_CIDR" dev cni0 src "$NODE_IP"
  in_ns sysctl -qw net.ipv4.ip_forward=1
  in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
}

# Kills whatever still runs in the namespace, cleans the node's leftovers, deletes it.
remove() {
  local name=$1 dir=${2:-} cgroup=/$1 pids
  if [ -e "/run/netns/$name" ]; then
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    # shellcheck disable=SC2086
    if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null || true; fi
  fi
  clean "$dir" "$cgroup" "$name"
  for h in $(hierarchies); do rmdir "$h$cgroup" 2>/dev/null || true; done
  if [ -e "/run/netns/$name" ]; then ip netns delete "$name"; fi
  if [ -n "$dir" ]; then rm -rf "$dir"; fi
  restore_sysctls
  return 0
}

# Runs CMD in the namespace with the names the node harness reads (test/harness/node-network.ts).
enter() {
  local name=$1 dir=$2
  shift 2
  [ "${1:-}" = "--" ] && shift
  mkdir -p "$dir"
  DIGESTPIN_NODE_NETNS=$name DIGESTPIN_NODE_DIR=$dir DIGESTPIN_NODE_CGROUP=/$name \
    DIGESTPIN_NODE_IP=$NODE_IP DIGESTPIN_POD_CIDR=$POD_CIDR \
    nsenter --net="/run/netns/$name" "$@"
}

case "${1:-}" in
  run)
    shift
    id=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
    name=digestpin-node-$id
    dir=$(mktemp -d "${TMPDIR:-/tmp}/digestpin-node-$id-XXXX")
    trap 'remove "$name" "$dir"' EXIT
    trap 'exit 130' INT TERM
    create "$name"
    status=0
    enter "$name" "$dir" "$@" || status=$?
    exit "$status"
    ;;
  enter)
    [ -e "/run/netns/$2" ] || create "$2"
    enter "$2" "$3" "${@:4}"
    ;;
  remove) remove "$2" "${3:-}" ;;
  clean) clean "$2" "$3" "${4:-}" ;;
  *)
    echo "usage: scripts/node-netns.sh run -- CMD... | enter NAME DIR -- CMD... | remove NAME [DIR] | clean DIR CGROUP [NETWORK]" >&2
    exit 2
    ;;
esac
