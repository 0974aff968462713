#!/usr/bin/env bash
# Installs the Debian packages the testbed node and the image build use, when missing:
# runc (containerd's runtime), the CNI plugins (the Pods' bridge), iptables and conntrack
# (kube-proxy), busybox-static (the node's sandbox and test images), buildah and debootstrap
# (make image). Run as root (CI and the developers' machines are); apt is called only if one is
# missing.
set -euo pipefail
packages=(runc containernetworking-plugins iptables conntrack busybox-static buildah debootstrap)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "node-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
