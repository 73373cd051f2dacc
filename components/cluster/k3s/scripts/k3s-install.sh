#!/usr/bin/env bash
# Install the K3s binary (and, air-gapped, its images), nothing else.
#
# Parameters (environment):
#   K3S_VERSION    e.g. v1.31.4+k3s1
#   AIRGAP         true: take everything from ARTIFACTS_DIR/k3s, never the network
#   UPGRADE        true only from the rolling upgrade (components/cluster/upgrade,
#                  k3s-upgrade.sh, one node at a time, drained): may replace the
#                  binary of a node of the cluster
#   ARTIFACTS_DIR  pre-staged files: k3s/k3s[-arm64], k3s/k3s-airgap-images-<arch>.tar[.zst|.gz]
#   K3S_BIN, K3S_ETC, K3S_DATA  /usr/local/bin/k3s, /etc/rancher/k3s, /var/lib/rancher/k3s
#                  (overridden only by the tests)
#
# Runs on every node in parallel, before any node starts K3s. Idempotent:
# the right version already installed means no download and no change.
#
# A node of the cluster (K3s configured on it) that runs another version is
# refused, before anything is touched: this runs on every node at once, so
# a version change would upgrade agents before servers and every server
# together. A version change is the rolling upgrade's, which runs before
# this step (components/cluster/upgrade/README.md): this step then finds the
# version installed.
set -euo pipefail

K3S_VERSION="${K3S_VERSION:?K3S_VERSION is required}"
AIRGAP="${AIRGAP:-false}"
UPGRADE="${UPGRADE:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"

bin="${K3S_BIN:-/usr/local/bin/k3s}"
etc="${K3S_ETC:-/etc/rancher/k3s}"
images_dir="${K3S_DATA:-/var/lib/rancher/k3s}/agent/images"

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

installed="$(installed_version || true)"
# k3s-node.sh writes config.yaml: a node with one is part of the cluster.
if [ "$UPGRADE" != "true" ] && [ -n "$installed" ] && [ "$installed" != "$K3S_VERSION" ] \
  && [ -f "${etc}/config.yaml" ]; then
  echo "k3s: this node runs ${installed} and cluster.version asks for ${K3S_VERSION}: refusing to change" \
    "the version of a running node (every node would change at once, agents before servers). Set" \
    "cluster.version back to ${installed}; a version change runs the rolling upgrade first (its" \
    "<node>-upgrade steps, components/cluster/upgrade/README.md), which stopped or did not reach this" \
    "node: see its error above. Nothing was changed." >&2
  exit 1
fi

changed=false
if [ "$installed" != "$K3S_VERSION" ]; then
  if [ "$AIRGAP" = "true" ]; then install_from_artifacts; else install_from_github; fi
  changed=true
elif [ "$AIRGAP" = "true" ]; then
  install_from_artifacts  # images may have been staged after the binary
fi
# The multi-call binary's tools, beside it (/usr/local/bin), unless installed otherwise.
for tool in kubectl crictl ctr; do
  [ -e "$(dirname "$bin")/${tool}" ] || ln -s "$bin" "$(dirname "$bin")/${tool}"
done
echo "k3s ${K3S_VERSION} installed (changed=${changed})"
