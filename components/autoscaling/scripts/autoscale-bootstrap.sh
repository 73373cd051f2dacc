#!/usr/bin/env bash
# The user data's only script (Hetzner caps user data at 32 KiB; the node
# scripts are about 70 KiB): reach a control plane over the Hetzner private
# network, fetch the group's script bundle from the cluster, check it is
# the bundle Pulumi rendered (its SHA-256 is in this user data), unpack it
# and run its autoscale-join.sh.
#
# Parameters (environment; lists one item a line):
#   CONTROL_PLANES   "<private address> <mesh address>" of each control plane
#                    on the private network
#   API_PORT         6443
#   CA_FILE          the cluster CA certificate
#   TOKEN_FILE       the registrar ServiceAccount token (may read the bundle)
#   NAMESPACE        namespace of the bundle ConfigMap
#   BUNDLE           its name; key bundle.tar.gz of its binaryData
#   BUNDLE_SHA256    the bundle Pulumi rendered
#   SCRIPTS_DIR      where it is unpacked
#   WAIT_SECONDS     how long to wait for a control plane (600: the private
#                    network interface may come up late)
set -euo pipefail

CONTROL_PLANES="${CONTROL_PLANES:?CONTROL_PLANES is required}"
API_PORT="${API_PORT:-6443}"
CA_FILE="${CA_FILE:?CA_FILE is required}"
TOKEN_FILE="${TOKEN_FILE:?TOKEN_FILE is required}"
NAMESPACE="${NAMESPACE:?NAMESPACE is required}"
BUNDLE="${BUNDLE:?BUNDLE is required}"
BUNDLE_SHA256="${BUNDLE_SHA256:?BUNDLE_SHA256 is required}"
SCRIPTS_DIR="${SCRIPTS_DIR:?SCRIPTS_DIR is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"

# api PRIVATE MESH PATH: GET over the private network, TLS checked against
# the control plane's mesh address (in its certificate; the private one is not).
api() {
  curl -fsS --max-time 10 --cacert "$CA_FILE" --connect-to "$2:${API_PORT}:$1:${API_PORT}" \
    -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "https://$2:${API_PORT}$3"
}

deadline=$((SECONDS + WAIT_SECONDS))
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
while :; do
  while read -r private mesh; do
    [ -n "$private" ] || continue
    if api "$private" "$mesh" "/api/v1/namespaces/${NAMESPACE}/configmaps/${BUNDLE}" > "${tmp}/bundle.json" 2> /dev/null; then
      python3 -c 'import base64, json, sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["binaryData"]["bundle.tar.gz"]))' \
        < "${tmp}/bundle.json" > "${tmp}/bundle.tar.gz"
      if ! sha256sum "${tmp}/bundle.tar.gz" | grep -q "^${BUNDLE_SHA256} "; then
        echo "autoscale-bootstrap: the bundle ${NAMESPACE}/${BUNDLE} is not the one this server was created for" \
          "(another pulumi up changed it since?): not running it" >&2
        exit 1
      fi
      mkdir -p "$SCRIPTS_DIR"
      tar -xzf "${tmp}/bundle.tar.gz" -C "$SCRIPTS_DIR"
      echo "autoscale-bootstrap: bundle ${BUNDLE} from control plane ${mesh} (${private})"
      rm -rf "$tmp"
      API_PRIVATE="$private" API_MESH="$mesh" exec bash "${SCRIPTS_DIR}/autoscale-join.sh"
    fi
  done <<< "$CONTROL_PLANES"
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "autoscale-bootstrap: no control plane answered over the private network in ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 5
done
