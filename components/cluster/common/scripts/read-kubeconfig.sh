#!/usr/bin/env bash
# Print the admin kubeconfig of the first control plane (stdout is a
# Pulumi secret; nothing else is printed on stdout).
#
# Parameters (environment):
#   KUBECONFIG_PATH  /etc/rancher/k3s/k3s.yaml or /etc/kubernetes/admin.conf
#   WAIT_SECONDS     how long to wait for the file (the server may still start)
set -euo pipefail

KUBECONFIG_PATH="${KUBECONFIG_PATH:?KUBECONFIG_PATH is required}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"

deadline=$((SECONDS + WAIT_SECONDS))
until [ -s "$KUBECONFIG_PATH" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "no kubeconfig at ${KUBECONFIG_PATH} after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done
cat "$KUBECONFIG_PATH"
