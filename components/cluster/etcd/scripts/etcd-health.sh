#!/usr/bin/env bash
# Wait until every etcd member answers healthy over TLS with a client
# certificate (the gate before any control plane uses etcd).
#
# Parameters (environment):
#   ENDPOINTS  every member's client URL, one a line
#   TIMEOUT    seconds to wait (default 180)
#   CONF_DIR   /etc/etcd (overridden only by the tests)
# stdout: "<n> members healthy".
#
# Also clears the teardown mark the gate's delete leaves (etcd-teardown.sh):
# a cluster that is gated again is not being destroyed.
set -euo pipefail

ENDPOINTS="${ENDPOINTS:?ENDPOINTS is required}"
TIMEOUT="${TIMEOUT:-180}"
CONF_DIR="${CONF_DIR:-/etc/etcd}"
PKI="${CONF_DIR}/pki"

rm -f "${CONF_DIR}/teardown"

endpoints="$(paste -sd, <<< "$ENDPOINTS")"
count="$(grep -c . <<< "$ENDPOINTS")"
deadline=$((SECONDS + TIMEOUT))
until ETCDCTL_API=3 etcdctl --cacert "${PKI}/ca.crt" --cert "${PKI}/healthcheck-client.crt" \
    --key "${PKI}/healthcheck-client.key" --dial-timeout=3s --command-timeout=5s \
    --endpoints "$endpoints" endpoint health > /dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "etcd: not every member is healthy after ${TIMEOUT}s (${endpoints})" >&2
    exit 1
  fi
  sleep 1
done
echo "${count} members healthy"
