#!/usr/bin/env bash
# Installs the Debian packages the testbed node and the image build use, when missing:
# the CNI plugins (the Pods' bridge), iptables and conntrack (kube-proxy), busybox-static (the
# node's sandbox and test images), buildah and debootstrap (make image), libseccomp-dev and
# pkg-config (scripts/tools.sh builds runc with them; Debian's runc is too old for containerd 2). Run as root (CI and the developers' machines are); apt is called only if one is
# missing.
set -euo pipefail
packages=(containernetworking-plugins iptables conntrack busybox-static buildah debootstrap
  libseccomp-dev pkg-config)
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
