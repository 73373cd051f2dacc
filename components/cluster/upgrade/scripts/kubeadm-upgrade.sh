#!/usr/bin/env bash
# On one kubeadm node, drained by the step before, kubeadm's upgrade
# procedure: kubeadm itself first, then `kubeadm upgrade apply` on the
# first control plane (the cluster's control plane and configuration) or
# `kubeadm upgrade node` on the others, then kubelet and kubectl and a
# kubelet restart.
#
# Parameters (environment):
#   K8S_VERSION       the target, e.g. 1.32.1
#   ROLE              first | control-plane | worker
#   PACKAGES_SCRIPT   kubeadm-packages.sh rendered for K8S_VERSION with UPGRADE=true
#                     (run here with PACKAGES=kubeadm, then PACKAGES="kubelet kubectl")
#   EXTERNAL_ETCD     true: etcd is dedicated members, which kubeadm must not touch
#   WAIT_SECONDS      how long the restarted kubelet may take to be healthy
#   HEALTHZ_URL       the kubelet's health endpoint (default http://127.0.0.1:10248/healthz)
#   KUBE_DIR          /etc/kubernetes (overridden only by the tests)
#
# Refuses, before anything changes, a skipped minor version or a
# downgrade. A node that never joined, or whose kubelet already runs
# K8S_VERSION, is left alone. kubeadm rolls its own static pod manifests
# back when `upgrade apply|node` fails; the kubelet is only upgraded after
# that succeeded, so a failure before it leaves the node serving at its old
# version. Idempotent (kubeadm's upgrade commands are). Prints one line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:?K8S_VERSION is required}"
ROLE="${ROLE:?ROLE is required}"
PACKAGES_SCRIPT="${PACKAGES_SCRIPT:?PACKAGES_SCRIPT is required}"
EXTERNAL_ETCD="${EXTERNAL_ETCD:-false}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"
HEALTHZ_URL="${HEALTHZ_URL:-http://127.0.0.1:10248/healthz}"
KUBE_DIR="${KUBE_DIR:-/etc/kubernetes}"

running="$(dpkg-query -W -f='${Version}' kubelet 2> /dev/null || true)"
if [ ! -f "${KUBE_DIR}/kubelet.conf" ] || [ -z "$running" ]; then
  echo "kubeadm ${ROLE}: not joined yet, nothing to upgrade"
  exit 0
fi
installed="${running%-*}"
if [ "$installed" = "$K8S_VERSION" ]; then
  echo "kubeadm ${ROLE}: already at ${K8S_VERSION}"
  exit 0
fi

# "1 31 4" from 1.31.4; the same rule as components/cluster/upgrade/versions.py.
read -r -a old <<< "${installed//./ }"
read -r -a new <<< "${K8S_VERSION//./ }"
if [ $((new[1] * 1000 + new[2])) -lt $((old[1] * 1000 + old[2])) ] \
  || [ "${new[0]}" != "${old[0]}" ] || [ "${new[1]}" -gt $((old[1] + 1)) ]; then
  echo "kubeadm: this node runs kubelet ${installed}; ${K8S_VERSION} would skip a minor version or go back:" \
    "refused, one minor version at a time and never down. Nothing was changed." >&2
  exit 1
fi

PACKAGES=kubeadm bash -c "$PACKAGES_SCRIPT" > /dev/null
case "$ROLE" in
  first)
    args=(upgrade apply "v${K8S_VERSION}" --yes)
    if [ "$EXTERNAL_ETCD" = "true" ]; then args+=(--etcd-upgrade=false); fi
    ;;
  control-plane | worker) args=(upgrade node) ;;
  *) echo "ROLE must be first, control-plane or worker, got ${ROLE}" >&2; exit 1 ;;
esac
if ! kubeadm "${args[@]}" > /dev/null; then
  echo "kubeadm ${ROLE}: 'kubeadm ${args[*]}' failed (kubeadm rolled its manifests back); the kubelet" \
    "still runs ${installed}. The upgrade stops here; the nodes after this one were not touched." >&2
  exit 1
fi
PACKAGES="kubelet kubectl" bash -c "$PACKAGES_SCRIPT" > /dev/null
systemctl daemon-reload
systemctl restart kubelet
deadline=$((SECONDS + WAIT_SECONDS))
until curl -fs --max-time 5 "$HEALTHZ_URL" > /dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "kubeadm ${ROLE}: kubelet ${K8S_VERSION} not healthy after ${WAIT_SECONDS}s (journalctl -u kubelet);" \
      "the upgrade stops here, the node stays cordoned." >&2
    exit 1
  fi
  sleep 3
done
echo "kubeadm ${ROLE}: upgraded ${installed} -> ${K8S_VERSION}"
