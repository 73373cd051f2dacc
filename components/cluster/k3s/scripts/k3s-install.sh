#!/usr/bin/env bash
# Install the K3s binary (and, air-gapped, its images), nothing else.
#
# Parameters (environment):
#   K3S_VERSION    e.g. v1.31.4+k3s1
#   AIRGAP         true: take everything from ARTIFACTS_DIR/k3s, never the network
#   ARTIFACTS_DIR  pre-staged files: k3s/k3s[-arm64], k3s/k3s-airgap-images-<arch>.tar[.zst|.gz]
#
# Runs on every node in parallel, before any node starts K3s. Idempotent:
# the right version already installed means no download and no change.
set -euo pipefail

K3S_VERSION="${K3S_VERSION:?K3S_VERSION is required}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"

bin=/usr/local/bin/k3s
images_dir=/var/lib/rancher/k3s/agent/images

case "$(uname -m)" in
  x86_64) arch=amd64; suffix="" ;;
  aarch64 | arm64) arch=arm64; suffix="-arm64" ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

installed_version() { [ -x "$bin" ] && "$bin" --version 2> /dev/null | awk 'NR==1 {print $3}'; }

install_from_artifacts() {
  local src="${ARTIFACTS_DIR}/k3s/k3s${suffix}" image
  [ -f "$src" ] || { echo "air-gapped install: ${src} is missing" >&2; exit 1; }
  install -m 0755 "$src" "$bin"
  mkdir -p "$images_dir"
  for image in "${ARTIFACTS_DIR}"/k3s/k3s-airgap-images-"${arch}".tar*; do
    [ -e "$image" ] || continue
    # K3s imports every archive in this directory when it starts.
    cmp -s "$image" "${images_dir}/$(basename "$image")" || cp "$image" "$images_dir/"
  done
}

install_from_github() {
  local base tmp
  base="https://github.com/k3s-io/k3s/releases/download/${K3S_VERSION//+/%2B}"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  curl -fsSL --retry 5 -o "${tmp}/k3s${suffix}" "${base}/k3s${suffix}"
  curl -fsSL --retry 5 -o "${tmp}/sha256sum.txt" "${base}/sha256sum-${arch}.txt"
  (cd "$tmp" && grep " k3s${suffix}\$" sha256sum.txt | sha256sum -c --quiet -)
  install -m 0755 "${tmp}/k3s${suffix}" "$bin"
}

changed=false
if [ "$(installed_version || true)" != "$K3S_VERSION" ]; then
  if [ "$AIRGAP" = "true" ]; then install_from_artifacts; else install_from_github; fi
  changed=true
elif [ "$AIRGAP" = "true" ]; then
  install_from_artifacts  # images may have been staged after the binary
fi
for tool in kubectl crictl ctr; do
  [ -e "/usr/local/bin/${tool}" ] || ln -s "$bin" "/usr/local/bin/${tool}"
done
echo "k3s ${K3S_VERSION} installed (changed=${changed})"
