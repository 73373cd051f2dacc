#!/usr/bin/env bash
# containerd (systemd cgroups) and kubelet/kubeadm/kubectl pinned to one version.
#
# Parameters (environment):
#   K8S_VERSION      e.g. 1.31.4 (packages 1.31.4-1.1 from pkgs.k8s.io)
#   K8S_MINOR        e.g. v1.31 (the pkgs.k8s.io repository of that minor)
#   AIRGAP           true: install ARTIFACTS_DIR/kubeadm/*.deb and import
#                    ARTIFACTS_DIR/kubeadm/images/*.tar, never the network
#   ARTIFACTS_DIR    pre-staged packages and images
#   UPGRADE          true only from the rolling upgrade (components/cluster/upgrade,
#                    kubeadm-upgrade.sh, one node at a time, drained): may change
#                    the version of a joined node
#   PACKAGES         which of kubelet kubeadm kubectl to bring to K8S_VERSION
#                    (default all three; the upgrade does kubeadm first)
#   KUBE_DIR, APT_ETC, SYSTEMD_DIR  /etc/kubernetes, /etc/apt, /run/systemd/system
#                    (overridden only by the tests)
#
# Runs on every Kubernetes node in parallel, before any kubeadm command.
# Idempotent: installed versions, repository and configuration are
# checked first; containerd restarts only when its configuration changed.
#
# A node of the cluster (it has a kubelet.conf) whose kubelet is another
# version is refused before anything is touched: this runs on every node at
# once, so a version change would put kubelets ahead of the API server.
# A version change is the rolling upgrade's, which runs before this step
# (components/cluster/upgrade/README.md): this step then finds it installed.
#
# The repository key is kept ASCII-armored (.asc, read by apt >= 1.4
# itself): no gpg --dearmor, so no gnupg, which minimal images lack.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:?K8S_VERSION is required}"
K8S_MINOR="${K8S_MINOR:?K8S_MINOR is required}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"
UPGRADE="${UPGRADE:-false}"
read -ra packages <<< "${PACKAGES:-kubelet kubeadm kubectl}"
KUBE_DIR="${KUBE_DIR:-/etc/kubernetes}"
APT_ETC="${APT_ETC:-/etc/apt}"
SYSTEMD_DIR="${SYSTEMD_DIR:-/run/systemd/system}"

pkg_version="${K8S_VERSION}-1.1"
running="$(dpkg-query -W -f='${Version}' kubelet 2> /dev/null || true)"
if [ "$UPGRADE" != "true" ] && [ -f "${KUBE_DIR}/kubelet.conf" ] && [ -n "$running" ] \
  && [ "$running" != "$pkg_version" ]; then
  echo "kubeadm: this node runs kubelet ${running} and cluster.version asks for ${pkg_version}: refusing to" \
    "change the version of a joined node (every node would change at once, kubelets ahead of the API" \
    "server). Set cluster.version back to ${running%-*}; a version change runs the rolling upgrade first" \
    "(its <node>-upgrade steps, components/cluster/upgrade/README.md), which stopped or did not reach" \
    "this node: see its error above. Nothing was changed." >&2
  exit 1
fi

# kubeadm runs the kubelet as a systemd service; there is no fallback.
[ -d "$SYSTEMD_DIR" ] || { echo "kubeadm needs systemd to run the kubelet; use k3s on hosts without systemd" >&2; exit 1; }

changed=()
export DEBIAN_FRONTEND=noninteractive

installed() { [ "$(dpkg-query -W -f='${Version}' "$1" 2> /dev/null || true)" = "$2" ]; }

install_online() {
  local keyring="${APT_ETC}/keyrings/kubernetes-apt-keyring.asc"
  local list="${APT_ETC}/sources.list.d/kubernetes.list"
  local line="deb [signed-by=${keyring}] https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/ /"
  local key
  if ! command -v curl > /dev/null || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then
    apt-get update -qq > /dev/null
    apt-get install -y -qq --no-install-recommends curl ca-certificates > /dev/null
  fi
  if [ ! -f "$list" ] || [ "$(cat "$list")" != "$line" ]; then
    key="$(curl -fsSL --retry 5 "https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/Release.key")"
    grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' <<< "$key" \
      || { echo "pkgs.k8s.io ${K8S_MINOR}: Release.key is not an ASCII-armored OpenPGP key" >&2; exit 1; }
    mkdir -p "${APT_ETC}/keyrings" "${APT_ETC}/sources.list.d"
    printf '%s\n' "$key" > "$keyring"
    chmod 0644 "$keyring"
    # The dearmored keyring earlier versions of this script wrote.
    rm -f "${APT_ETC}/keyrings/kubernetes-apt-keyring.gpg"
    printf '%s\n' "$line" > "$list"
  fi
  apt-get update -qq > /dev/null
  apt-mark unhold kubelet kubeadm kubectl > /dev/null 2>&1 || true
  apt-get install -y -qq --allow-downgrades containerd "${packages[@]/%/=${pkg_version}}" > /dev/null
}

install_airgap() {
  local debs=("${ARTIFACTS_DIR}"/kubeadm/*.deb)
  [ -e "${debs[0]}" ] || { echo "air-gapped install: no packages in ${ARTIFACTS_DIR}/kubeadm" >&2; exit 1; }
  apt-mark unhold kubelet kubeadm kubectl > /dev/null 2>&1 || true
  # Of kubelet/kubeadm/kubectl only those asked for (the upgrade's kubeadm first).
  local deb name chosen=()
  for deb in "${debs[@]}"; do
    name="$(dpkg-deb -f "$deb" Package)"
    case "$name" in kubelet | kubeadm | kubectl) [[ " ${packages[*]} " == *" ${name} "* ]] || continue ;; esac
    chosen+=("$deb")
  done
  dpkg -i "${chosen[@]}" > /dev/null
}

missing=false
for pkg in "${packages[@]}"; do installed "$pkg" "$pkg_version" || missing=true; done
if [ "$missing" = "true" ] || ! command -v containerd > /dev/null; then
  if [ "$AIRGAP" = "true" ]; then install_airgap; else install_online; fi
  changed+=("packages")
fi
for pkg in "${packages[@]}"; do
  installed "$pkg" "$pkg_version" || { echo "${pkg} ${pkg_version} is not installed" >&2; exit 1; }
done
# Upgrades are deliberate (a spec version change), never apt's.
apt-mark hold kubelet kubeadm kubectl > /dev/null

# containerd with the systemd cgroup driver, as the kubelet is configured.
mkdir -p /etc/containerd
wanted="$(containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/')"
if [ ! -f /etc/containerd/config.toml ] || [ "$(cat /etc/containerd/config.toml)" != "$wanted" ]; then
  printf '%s\n' "$wanted" > /etc/containerd/config.toml
  systemctl restart containerd
  changed+=("containerd")
fi
systemctl enable --quiet --now containerd
systemctl enable --quiet kubelet

if [ "$AIRGAP" = "true" ]; then
  for image in "${ARTIFACTS_DIR}"/kubeadm/images/*.tar; do
    [ -e "$image" ] || continue
    ctr -n k8s.io images import "$image" > /dev/null
  done
fi
echo "kubernetes ${pkg_version} and containerd ready (changed: ${changed[*]:-none})"
