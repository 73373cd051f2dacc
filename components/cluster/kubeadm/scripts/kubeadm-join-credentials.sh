#!/usr/bin/env bash
# On the first control plane: make sure joiners can join now.
#
# Parameters (environment):
#   JOINERS       names of the nodes that join (a change re-runs this script
#                 before the new node's join)
#   UPLOAD_CERTS  true when control planes join: re-upload the control-plane
#                 certificates (kubeadm deletes them two hours after upload)
# Secrets on stdin, one NAME=base64 a line: BOOTSTRAP_TOKEN.
#
# Idempotent: a live token is kept; the certificates are re-encrypted with
# the same certificate key.
set -euo pipefail

JOINERS="${JOINERS:-}"
UPLOAD_CERTS="${UPLOAD_CERTS:-false}"

token=""
while IFS= read -r line; do
  case "${line%%=*}" in
    BOOTSTRAP_TOKEN) token="$(printf '%s' "${line#*=}" | base64 -d)" ;;
  esac
done
[ -n "$token" ] || { echo "BOOTSTRAP_TOKEN missing on stdin" >&2; exit 1; }

export KUBECONFIG=/etc/kubernetes/admin.conf
if kubeadm token list 2> /dev/null | awk 'NR > 1 {print $1}' | grep -qxF "$token"; then
  state="kept"
else
  kubeadm token create "$token" --ttl 2h0m0s --description "sovereign-cloud joins" > /dev/null
  state="created"
fi
if [ "$UPLOAD_CERTS" = "true" ]; then
  kubeadm init phase upload-certs --upload-certs --config /etc/kubernetes/kubeadm-init.yaml > /dev/null
fi
echo "join credentials ready for $(grep -c . <<< "$JOINERS") node(s): token ${state}, certificates uploaded=${UPLOAD_CERTS}"
