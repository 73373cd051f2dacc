#!/usr/bin/env bash
# On the first control plane: keep the join credentials valid while a join
# is pending. Installed and run by kubeadm-join-credentials.sh, then run
# every REFRESH_SECONDS by a systemd timer.
#
# Parameters (environment):
#   STATE_DIR           pending/<node> (content: its role), token (0600)
#   TOKEN_TTL_SECONDS   lifetime given to the bootstrap token (7200)
#   MIN_VALID_SECONDS   a token with less left is extended (5400: more than
#                       the timer's period, so it never lapses in between)
#   INIT_CONFIG         kubeadm's init configuration, certificate key included
#   KUBECONFIG          admin credentials (/etc/kubernetes/admin.conf)
#
# With a join pending: the bootstrap token is created when missing (it
# expired, or was deleted) and extended when it has less than
# MIN_VALID_SECONDS left; with a control plane pending, the control-plane
# certificates are uploaded again (kubeadm deletes them two hours after an
# upload). With nothing pending it refreshes nothing (the token then expires
# on its own) and stops its timer. Prints one line.
set -euo pipefail

STATE_DIR="${STATE_DIR:-/etc/kubernetes/sovereign-joins}"
TOKEN_TTL_SECONDS="${TOKEN_TTL_SECONDS:-7200}"
MIN_VALID_SECONDS="${MIN_VALID_SECONDS:-5400}"
INIT_CONFIG="${INIT_CONFIG:-/etc/kubernetes/kubeadm-init.yaml}"
export KUBECONFIG="${KUBECONFIG:-/etc/kubernetes/admin.conf}"
TIMER=sovereign-kubeadm-join-refresh.timer

mkdir -p "${STATE_DIR}/pending"
# One refresh at a time (the timer and the joins' own runs).
exec 9> "${STATE_DIR}/lock"
flock 9

pending=0
control_planes=0
for mark in "${STATE_DIR}"/pending/*; do
  [ -f "$mark" ] || continue
  pending=$((pending + 1))
  if [ "$(cat "$mark")" = "control-plane" ]; then control_planes=$((control_planes + 1)); fi
done
if [ "$pending" -eq 0 ]; then
  systemctl disable --now --quiet "$TIMER" 2> /dev/null || true
  echo "join credentials: no join pending, nothing refreshed"
  exit 0
fi

[ -s "${STATE_DIR}/token" ] || { echo "no bootstrap token in ${STATE_DIR}/token" >&2; exit 1; }
token="$(cat "${STATE_DIR}/token")"
secret="bootstrap-token-${token%%.*}"
now="$(date +%s)"

# "<name> <base64 expiration>": nothing when the token does not exist (an
# API error fails the script), no expiration for a token that never expires.
found="$(kubectl -n kube-system get secret "$secret" --ignore-not-found -o jsonpath='{.metadata.name} {.data.expiration}')"
read -r _ expiration <<< "${found:-}" || true
if [ -z "$found" ]; then
  kubeadm token create "$token" --ttl "${TOKEN_TTL_SECONDS}s" --description "sovereign-cloud joins" > /dev/null
  token_state="created"
elif [ -z "${expiration:-}" ]; then
  token_state="kept (no expiry)"
else
  expires="$(date -d "$(printf '%s' "$expiration" | base64 -d)" +%s)"
  if [ $((expires - now)) -ge "$MIN_VALID_SECONDS" ]; then
    token_state="kept"
  elif [ "$expires" -le "$now" ]; then
    # Expired: the token cleaner may delete it at any moment; start afresh.
    kubeadm token delete "$token" > /dev/null 2>&1 || true
    kubeadm token create "$token" --ttl "${TOKEN_TTL_SECONDS}s" --description "sovereign-cloud joins" > /dev/null
    token_state="created"
  else
    # Still valid: extended in place, so a join using it right now is unaffected.
    until_="$(date -u -d "@$((now + TOKEN_TTL_SECONDS))" +%Y-%m-%dT%H:%M:%SZ)"
    kubectl -n kube-system patch secret "$secret" --type merge \
      -p "{\"stringData\":{\"expiration\":\"${until_}\"}}" > /dev/null
    token_state="extended"
  fi
fi

certificates=false
if [ "$control_planes" -gt 0 ]; then
  # Re-encrypted with the same certificate key (in INIT_CONFIG).
  kubeadm init phase upload-certs --upload-certs --config "$INIT_CONFIG" > /dev/null
  certificates=true
fi
echo "join credentials for ${pending} pending join(s): token ${token_state}, certificates uploaded=${certificates}"
