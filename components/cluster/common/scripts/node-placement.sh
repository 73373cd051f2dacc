#!/usr/bin/env bash
# On the first control plane: give a node the labels and taints of the
# spec, also long after it joined.
#
# Parameters (environment):
#   NODE_NAME     the node
#   LABELS        key=value, one a line
#   TAINTS        key=value:Effect or key:Effect, one a line
#   KUBECTL       how kubectl runs here ("kubectl", "/usr/local/bin/k3s kubectl")
#   KUBECONFIG    admin credentials on this node
#   WAIT_SECONDS  how long to wait for the node to register
#
# The kubelet applies --node-labels / --register-with-taints (kubeadm's
# nodeRegistration) only when the node registers; K3s applies its
# --node-label values again at every start but never removes one, and
# leaves taints alone. So a label or taint changed in the spec would never
# reach a joined node. This sets them through the API and removes the ones
# it set before that left the spec (recorded in two annotations of the
# node); labels and taints set by anybody else are left alone.
# Idempotent. Prints one line.
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
LABELS="${LABELS:-}"
TAINTS="${TAINTS:-}"
KUBECTL="${KUBECTL:-kubectl}"
export KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
LABELS_RECORD=sovereign.cloud/managed-labels
TAINTS_RECORD=sovereign.cloud/managed-taints

read -ra kubectl <<< "$KUBECTL"

deadline=$((SECONDS + WAIT_SECONDS))
until [ -n "$("${kubectl[@]}" get node "$NODE_NAME" --ignore-not-found -o name 2> /dev/null)" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "node ${NODE_NAME} not registered after ${WAIT_SECONDS}s: its labels and taints cannot be set" >&2
    exit 1
  fi
  sleep 3
done

# key=value:Effect or key:Effect -> key:Effect (what identifies a taint)
taint_id() {
  local key="${1%:*}"
  printf '%s:%s' "${key%%=*}" "${1##*:}"
}

# contains WORD LIST...
contains() {
  local word="$1" item
  shift
  for item in "$@"; do [ "$item" = "$word" ] && return 0; done
  return 1
}

mapfile -t labels < <(grep -v '^$' <<< "$LABELS" || true)
mapfile -t taints < <(grep -v '^$' <<< "$TAINTS" || true)
label_keys=()
for label in "${labels[@]}"; do label_keys+=("${label%%=*}"); done
taint_ids=()
for taint in "${taints[@]}"; do taint_ids+=("$(taint_id "$taint")"); done

# What this step set last time (empty the first time) and the node's taints now.
# (Read into variables first: an API error must stop here, not look empty.)
annotation() { "${kubectl[@]}" get node "$NODE_NAME" -o "jsonpath={.metadata.annotations.${1//./\\.}}"; }
labels_before="$(annotation "$LABELS_RECORD")"
taints_before="$(annotation "$TAINTS_RECORD")"
taints_now="$("${kubectl[@]}" get node "$NODE_NAME" -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}')"
IFS=, read -ra set_before <<< "$labels_before"
IFS=, read -ra tainted_before <<< "$taints_before"
mapfile -t present < <(grep -v '^$' <<< "$taints_now" || true)

label_args=("${labels[@]}")
removed=()
for key in "${set_before[@]}"; do
  if [ -n "$key" ] && ! contains "$key" "${label_keys[@]}"; then label_args+=("${key}-"); removed+=("$key"); fi
done
taint_args=("${taints[@]}")
for id in "${tainted_before[@]}"; do
  if [ -n "$id" ] && ! contains "$id" "${taint_ids[@]}" && contains "$id" "${present[@]}"; then
    taint_args+=("${id}-")
    removed+=("$id")
  fi
done

if [ "${#label_args[@]}" -gt 0 ]; then
  "${kubectl[@]}" label node "$NODE_NAME" --overwrite "${label_args[@]}" > /dev/null
fi
if [ "${#taint_args[@]}" -gt 0 ]; then
  "${kubectl[@]}" taint node "$NODE_NAME" --overwrite "${taint_args[@]}" > /dev/null
fi
# Recorded last: an interrupted run leaves the old record, and the next run
# still knows what to remove.
record_labels="$(IFS=,; printf '%s' "${label_keys[*]}")"
record_taints="$(IFS=,; printf '%s' "${taint_ids[*]}")"
"${kubectl[@]}" annotate node "$NODE_NAME" --overwrite \
  "${LABELS_RECORD}=${record_labels}" "${TAINTS_RECORD}=${record_taints}" > /dev/null
echo "node ${NODE_NAME}: ${#labels[@]} label(s), ${#taints[@]} taint(s) set; removed: ${removed[*]:-none}"
