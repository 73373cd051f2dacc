#!/usr/bin/env bash
# On the first control plane: the cluster side of one node's rolling upgrade.
#
# Parameters (environment):
#   STEP                   drain | uncordon
#   NODE_NAME              the node being upgraded
#   TARGET_VERSION         the version its kubelet reports once upgraded
#                          (v1.31.4+k3s1, v1.31.4)
#   CONTROL_PLANE          true when the node is a control plane
#   KUBECTL                how kubectl runs here ("kubectl", "/usr/local/bin/k3s kubectl")
#   KUBECONFIG             admin credentials on this node
#   DRAIN_TIMEOUT_SECONDS  how long evictions may take (PodDisruptionBudgets)
#   WAIT_SECONDS           uncordon: how long to wait for the node Ready at TARGET_VERSION
#
# drain: refuses, before anything changes, a node whose kubelet would skip a
# minor version or go back to an older one; before a control plane, every
# control plane must be Ready (one down already, and draining another
# would risk etcd's quorum). Then records the upgrade in the node's
# annotation sovereign.cloud/upgrading ("<target>", plus ",cordoned" when
# this step cordons it: a node cordoned by somebody else stays cordoned),
# cordons and drains it. A drain that does not finish in time puts the node
# back as it was and fails: the upgrade stops with the cluster serving.
# uncordon: for a node with that annotation, waits until it is Ready at
# TARGET_VERSION, uncordons it if the drain step cordoned it, and removes
# the annotation.
# A node not (yet) in the cluster, or a cluster not yet bootstrapped, has
# nothing to upgrade: both steps are no-ops then, as they are for a node
# already at TARGET_VERSION. Idempotent. Prints one line.
set -euo pipefail

STEP="${STEP:?STEP is required}"
NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
TARGET_VERSION="${TARGET_VERSION:?TARGET_VERSION is required}"
CONTROL_PLANE="${CONTROL_PLANE:-false}"
KUBECTL="${KUBECTL:-kubectl}"
export KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
DRAIN_TIMEOUT_SECONDS="${DRAIN_TIMEOUT_SECONDS:-600}"
WAIT_SECONDS="${WAIT_SECONDS:-900}"
MARK=sovereign.cloud/upgrading

read -ra kubectl <<< "$KUBECTL"

if [ ! -s "$KUBECONFIG" ] || ! command -v "${kubectl[0]}" > /dev/null; then
  echo "${NODE_NAME}: no cluster on this control plane yet, nothing to upgrade"
  exit 0
fi

# "1 31 4 2" from v1.31.4+k3s2 (the last field 0 without a K3s revision).
fields() { sed -E 's/^v?([0-9]+)\.([0-9]+)\.([0-9]+)(\+k3s([0-9]+))?.*$/\1 \2 \3 \5/' <<< "$1"; }

# Why going from $1 to $2 is refused (empty: allowed); components/cluster/upgrade/versions.py.
refusal() {
  local a b
  read -r -a a <<< "$(fields "$1")"
  read -r -a b <<< "$(fields "$2")"
  local old=$((a[1] * 1000000 + a[2] * 1000 + ${a[3]:-0})) new=$((b[1] * 1000000 + b[2] * 1000 + ${b[3]:-0}))
  if [ "$new" -lt "$old" ]; then
    echo "${2} is older than ${1}, which it runs: Kubernetes cannot be downgraded in place." \
      "Set version back to ${1}"
  elif [ "${a[0]}" != "${b[0]}" ] || [ "${b[1]}" -gt $((a[1] + 1)) ]; then
    echo "going from ${1} to ${2} skips minor version ${a[0]}.$((a[1] + 1)): Kubernetes upgrades one" \
      "minor version at a time. Set version to the latest ${a[0]}.$((a[1] + 1)).x first, then to ${2}"
  fi
}

# The API may be restarting (the node is this control plane): retried.
node_field() {
  local try
  for try in 1 2 3 4 5; do
    if "${kubectl[@]}" get node "$NODE_NAME" --ignore-not-found -o "jsonpath=$1" 2> /dev/null; then return 0; fi
    sleep "$try"
  done
  echo "${NODE_NAME}: the API server does not answer" >&2
  return 1
}

registered="$(node_field '{.metadata.name}')"
if [ -z "$registered" ]; then
  echo "${NODE_NAME}: not in the cluster yet, nothing to upgrade"
  exit 0
fi
version="$(node_field '{.status.nodeInfo.kubeletVersion}')"
marked="$(node_field "{.metadata.annotations.${MARK//./\\.}}")"

# Back in service if this upgrade cordoned it; the record goes.
release() {
  [ -n "$marked" ] || return 0
  if [[ "$marked" == *,cordoned ]]; then "${kubectl[@]}" uncordon "$NODE_NAME" > /dev/null; fi
  "${kubectl[@]}" annotate node "$NODE_NAME" "${MARK}-" > /dev/null
}

drain() {
  if [ "$version" = "$TARGET_VERSION" ]; then
    echo "${NODE_NAME}: already at ${TARGET_VERSION}, nothing to drain"
    return 0
  fi
  local why
  why="$(refusal "$version" "$TARGET_VERSION")"
  if [ -n "$why" ]; then
    echo "${NODE_NAME} runs ${version}: ${why}. Nothing was changed." >&2
    return 1
  fi
  if [ "$CONTROL_PLANE" = "true" ]; then
    local not_ready
    not_ready="$("${kubectl[@]}" get nodes -l node-role.kubernetes.io/control-plane \
      -o 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
      | grep -v '=True$' || true)"
    if [ -n "$not_ready" ]; then
      echo "${NODE_NAME}: control plane(s) not Ready (${not_ready//$'\n'/ }): upgrading another one could" \
        "lose etcd's quorum; bring them back first. Nothing was changed." >&2
      return 1
    fi
  fi
  # Recorded before cordoning: an interrupted run still knows to uncordon.
  if [[ "$marked" == *,cordoned ]] || [ "$(node_field '{.spec.unschedulable}')" != "true" ]; then
    marked="${TARGET_VERSION},cordoned"
  else
    marked="$TARGET_VERSION"
  fi
  "${kubectl[@]}" annotate node "$NODE_NAME" --overwrite "${MARK}=${marked}" > /dev/null
  "${kubectl[@]}" cordon "$NODE_NAME" > /dev/null
  if ! "${kubectl[@]}" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
    --timeout="${DRAIN_TIMEOUT_SECONDS}s" > /dev/null; then
    release
    echo "${NODE_NAME}: drain did not finish in ${DRAIN_TIMEOUT_SECONDS}s (a PodDisruptionBudget, or a pod" \
      "no controller would recreate, blocks it): the node was put back in service and the upgrade stops" \
      "here, ${version} still running. Free the blocking pods and run pulumi up again." >&2
    return 1
  fi
  echo "${NODE_NAME}: drained (${version} -> ${TARGET_VERSION})"
}

uncordon() {
  if [ -z "$marked" ]; then
    echo "${NODE_NAME}: not drained for an upgrade (${version}), nothing to uncordon"
    return 0
  fi
  local deadline=$((SECONDS + WAIT_SECONDS)) state=""
  until [ "$state" = "${TARGET_VERSION} True" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "${NODE_NAME}: not Ready at ${TARGET_VERSION} after ${WAIT_SECONDS}s (now: ${state:-unknown});" \
        "it stays cordoned and the upgrade stops here" >&2
      return 1
    fi
    [ -z "$state" ] || sleep 3
    state="$(node_field '{.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}' || true)"
  done
  release
  echo "${NODE_NAME}: Ready at ${TARGET_VERSION}$([[ "$marked" == *,cordoned ]] && echo ", uncordoned")"
}

case "$STEP" in
  drain) drain ;;
  uncordon) uncordon ;;
  *) echo "STEP must be drain or uncordon, got ${STEP}" >&2; exit 1 ;;
esac
