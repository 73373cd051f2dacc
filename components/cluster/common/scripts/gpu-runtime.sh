#!/usr/bin/env bash
# The NVIDIA container runtime of a GPU node, before the node joins.
#
# Parameters (environment):
#   RUNTIME          containerd: kubeadm's /etc/containerd/config.toml gets an
#                    `nvidia` runtime (nvidia-ctk); k3s: K3s adds that runtime
#                    itself when it starts and finds nvidia-container-runtime
#   CHECK_DRIVER     true: the host's NVIDIA driver must work (nvidia-smi)
#   INSTALL_TOOLKIT  true: nvidia-container-toolkit TOOLKIT_VERSION on the host
#                    and the runtime configured; false: the GPU operator's
#   TOOLKIT_VERSION  Debian version of the toolkit packages, e.g. 1.17.8-1
#   EXPECTED_GPUS    GPUs the spec gives this node (fewer seen: a warning)
#   AIRGAP           true: install ARTIFACTS_DIR/nvidia/*.deb, never the network
#   ARTIFACTS_DIR    pre-staged packages
#   CONTAINERD_CONFIG, K3S_DATA, APT_DIR, RUNTIME_BIN  locations (defaults:
#                    the standard ones; overridden only by the tests)
#
# Who owns what per addons.gpu.mode: components/cluster/common/gpu_runtime.py.
# The driver is never installed here (out of scope: the provider's GPU image,
# the distribution's packages, or the GPU operator); without a working driver
# this fails before changing anything.
#
# Order: after containerd is installed (kubeadm-packages.sh) and before the
# node's kubeadm init/join or K3s start: K3s looks for the runtime only when
# it starts. The runtime is added beside runc, never as the default: pods
# ask for it with runtimeClassName: nvidia (the platform's RuntimeClass).
# Idempotent: the pinned packages installed and the runtime configured mean
# no change (no apt-get, no restart); prints one line naming what changed.
set -euo pipefail

RUNTIME="${RUNTIME:?RUNTIME is required}"
CHECK_DRIVER="${CHECK_DRIVER:-true}"
INSTALL_TOOLKIT="${INSTALL_TOOLKIT:-true}"
TOOLKIT_VERSION="${TOOLKIT_VERSION:?TOOLKIT_VERSION is required}"
EXPECTED_GPUS="${EXPECTED_GPUS:-1}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"
CONTAINERD_CONFIG="${CONTAINERD_CONFIG:-/etc/containerd/config.toml}"
K3S_DATA="${K3S_DATA:-/var/lib/rancher/k3s}"
APT_DIR="${APT_DIR:-/etc/apt}"
# Where the Debian packages put it; K3s also looks there.
RUNTIME_BIN="${RUNTIME_BIN:-/usr/bin/nvidia-container-runtime}"

case "$RUNTIME" in
  containerd | k3s) ;;
  *) echo "RUNTIME must be containerd or k3s, got ${RUNTIME}" >&2; exit 1 ;;
esac

# The toolkit and the libraries it is built on, all at one version.
packages=(nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1)
changed=()
summary=()
export DEBIAN_FRONTEND=noninteractive

apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

driver_missing() {
  echo "gpu-runtime: no working NVIDIA driver on this node ($1)." >&2
  echo "Installing GPU drivers is out of scope of sovereign-cloud: install the driver for this GPU" \
    "(the provider's GPU image, or the distribution's NVIDIA driver packages), check that" \
    "'nvidia-smi -L' lists the GPUs, then run pulumi up again; or let the GPU operator install" \
    "it (addons.gpu.mode: operator)." >&2
  exit 1
}

check_driver() {
  local out seen
  command -v nvidia-smi > /dev/null || driver_missing "nvidia-smi not found"
  out="$(nvidia-smi -L 2>&1)" || driver_missing "nvidia-smi failed: $(head -n 1 <<< "$out")"
  seen="$(grep -c '^GPU ' <<< "$out" || true)"
  if [ "$seen" -lt "$EXPECTED_GPUS" ]; then
    echo "gpu-runtime: warning: nvidia-smi lists ${seen} GPU(s), the spec gives this node ${EXPECTED_GPUS}" >&2
  fi
  summary+=("driver ok (${seen} GPU(s))")
}

installed() { [ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2> /dev/null || true)" = "installed $2" ]; }

toolkit_installed() {
  local pkg
  for pkg in "${packages[@]}"; do
    installed "$pkg" "$TOOLKIT_VERSION" || return 1
  done
}

install_online() {
  local keyring="${APT_DIR}/keyrings/nvidia-container-toolkit.gpg"
  local list="${APT_DIR}/sources.list.d/nvidia-container-toolkit.list"
  # $(ARCH) is apt's, expanded by apt for each architecture.
  local line="deb [signed-by=${keyring}] https://nvidia.github.io/libnvidia-container/stable/deb/\$(ARCH) /"
  local pins=() pkg
  if [ ! -f "$list" ] || [ "$(cat "$list")" != "$line" ]; then
    mkdir -p "${APT_DIR}/keyrings" "${APT_DIR}/sources.list.d"
    curl -fsSL --retry 5 https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor --yes -o "$keyring"
    printf '%s\n' "$line" > "$list"
  fi
  for pkg in "${packages[@]}"; do pins+=("${pkg}=${TOOLKIT_VERSION}"); done
  apt_get update -qq > /dev/null
  apt_get install -y -qq --allow-downgrades "${pins[@]}" > /dev/null
}

install_airgap() {
  local debs=("${ARTIFACTS_DIR}"/nvidia/*.deb)
  [ -e "${debs[0]}" ] || {
    echo "air-gapped install: no packages in ${ARTIFACTS_DIR}/nvidia (stage ${packages[*]} ${TOOLKIT_VERSION} there)" >&2
    exit 1
  }
  # Local files only: a missing dependency fails here, nothing is fetched.
  apt_get install -y -qq --allow-downgrades --no-download "${debs[@]}" > /dev/null
}

install_toolkit() {
  if ! toolkit_installed; then
    apt-mark unhold "${packages[@]}" > /dev/null 2>&1 || true
    if [ "$AIRGAP" = "true" ]; then install_airgap; else install_online; fi
    changed+=("toolkit")
  fi
  local pkg
  for pkg in "${packages[@]}"; do
    installed "$pkg" "$TOOLKIT_VERSION" || { echo "${pkg} ${TOOLKIT_VERSION} is not installed" >&2; exit 1; }
  done
  # Upgrades are deliberate (a new pinned version), never apt's.
  apt-mark hold "${packages[@]}" > /dev/null
  [ -x "$RUNTIME_BIN" ] || { echo "${RUNTIME_BIN} missing after installing the toolkit" >&2; exit 1; }
  summary+=("nvidia-container-toolkit ${TOOLKIT_VERSION}")
}

configure_containerd() {
  [ -f "$CONTAINERD_CONFIG" ] || { echo "${CONTAINERD_CONFIG} missing: containerd is installed first" >&2; exit 1; }
  local work out
  work="$(mktemp)"
  # Configured on a copy: the live file (and containerd) change only when
  # the result differs, so a second run restarts nothing.
  cp "$CONTAINERD_CONFIG" "$work"
  if ! out="$(nvidia-ctk runtime configure --runtime=containerd --config="$work" 2>&1)"; then
    rm -f "$work"
    echo "nvidia-ctk runtime configure failed: ${out}" >&2
    exit 1
  fi
  if cmp -s "$work" "$CONTAINERD_CONFIG"; then
    rm -f "$work"
  else
    install -m 0644 "$work" "${CONTAINERD_CONFIG}.new"
    rm -f "$work"
    mv "${CONTAINERD_CONFIG}.new" "$CONTAINERD_CONFIG"
    systemctl restart containerd
    changed+=("containerd")
  fi
  summary+=("containerd runtime nvidia")
}

k3s_runtime() {
  # K3s writes its containerd configuration at every start, with an
  # `nvidia` runtime when nvidia-container-runtime exists (RUNTIME_BIN, or
  # the GPU operator's /usr/local/nvidia/toolkit). Nothing to write here;
  # a K3s that started before the toolkit existed needs a restart.
  local generated="${K3S_DATA}/agent/etc/containerd/config.toml"
  summary+=("k3s runtime nvidia")
  [ -f "$generated" ] || return 0
  grep -Eq "runtimes\.[\"']?nvidia[\"']?\]" "$generated" && return 0
  if systemctl is-active --quiet k3s-agent 2> /dev/null; then
    systemctl restart k3s-agent
    changed+=("k3s-agent")
  elif systemctl is-active --quiet k3s 2> /dev/null; then
    # A server restart is an etcd member restart: never several at once.
    echo "gpu-runtime: K3s runs on this server without the nvidia runtime;" \
      "restart it (systemctl restart k3s), one server at a time" >&2
  fi
}

if [ "$CHECK_DRIVER" = "true" ]; then check_driver; fi
if [ "$INSTALL_TOOLKIT" = "true" ]; then
  install_toolkit
  if [ "$RUNTIME" = "containerd" ]; then configure_containerd; else k3s_runtime; fi
fi
[ "${#summary[@]}" -gt 0 ] || summary=("nothing to do (the GPU operator owns the driver and the toolkit)")
done_text="$(printf '%s; ' "${summary[@]}")"
echo "gpu-runtime: ${done_text%; } (changed: ${changed[*]:-none})"
