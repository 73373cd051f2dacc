#!/usr/bin/env bash
# First boot of a server the cluster-autoscaler created: join the WireGuard
# mesh, then the cluster, with the very scripts Pulumi runs on the static
# nodes of the same group (rendered with the same parameters).
#
#  1. who am I: name, public and private address (Hetzner metadata service)
#  2. baseline and firewall, K3s binary, WireGuard key (made here, never sent)
#  3. the API of a control plane over the Hetzner private network (the node
#     is not in the mesh yet): claim a mesh address and publish the public
#     key (mesh-register.sh), read the peers (mesh-sync.sh), bring wg0 up
#  4. wait until the static nodes added this node (their mesh-sync timers)
#  5. the node-local API load balancer, the registry agent (renewal, sync,
#     release at shutdown) through it, then the K3s agent with the group's
#     labels and taints, this node's name and its mesh address
#
# Parameters (environment; lists one item a line):
#   SCRIPTS_DIR        where cloud-init wrote the rendered scripts
#   API_PRIVATE, API_MESH  private and mesh address of the control plane
#                      autoscale-bootstrap.sh reached
#   API_PORT           6443
#   LOCAL_API          the node-local load balancer's URL (https://127.0.0.1:7445)
#   CA_FILE            the cluster CA certificate
#   TOKEN_FILE         the registrar ServiceAccount token (0600)
#   K3S_TOKEN_FILE     the K3s agent token (0600)
#   K3S_CONFIG_TEMPLATE  the agent's config.yaml with @NODE_NAME@ and @MESH_IP@
#   MESH_PREFIX        prefix length of the mesh CIDR
#   METADATA_URL       http://169.254.169.254/hetzner/v1/metadata
#   MESH_WAIT_SECONDS  how long to wait for the static nodes (300)
#   KUBECONFIG         the registrar's kubeconfig, written here (the rendered
#                      registry scripts read it)
#   NODE_ENV_FILE      the facts of this boot (name, addresses), written here
#                      for the registry scripts
set -euo pipefail

SCRIPTS_DIR="${SCRIPTS_DIR:?SCRIPTS_DIR is required}"
API_PRIVATE="${API_PRIVATE:?API_PRIVATE is required}"
API_MESH="${API_MESH:?API_MESH is required}"
API_PORT="${API_PORT:-6443}"
LOCAL_API="${LOCAL_API:?LOCAL_API is required}"
CA_FILE="${CA_FILE:?CA_FILE is required}"
TOKEN_FILE="${TOKEN_FILE:?TOKEN_FILE is required}"
K3S_TOKEN_FILE="${K3S_TOKEN_FILE:?K3S_TOKEN_FILE is required}"
K3S_CONFIG_TEMPLATE="${K3S_CONFIG_TEMPLATE:?K3S_CONFIG_TEMPLATE is required}"
MESH_PREFIX="${MESH_PREFIX:?MESH_PREFIX is required}"
METADATA_URL="${METADATA_URL:-http://169.254.169.254/hetzner/v1/metadata}"
MESH_WAIT_SECONDS="${MESH_WAIT_SECONDS:-300}"
KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
NODE_ENV_FILE="${NODE_ENV_FILE:?NODE_ENV_FILE is required}"

step() { echo "autoscale-join: $*"; }
fail() { echo "autoscale-join: $*" >&2; exit 1; }
run() { bash "${SCRIPTS_DIR}/$1"; }
metadata() { curl -fsS --retry 10 --retry-delay 2 --retry-connrefused "${METADATA_URL}/$1"; }

# kubeconfig FILE SERVER [TLS_SERVER_NAME]: the registrar's credentials.
kubeconfig() {
  local tls=""
  [ -z "${3:-}" ] || tls="    tls-server-name: $3"
  umask 077
  printf '%s\n' 'apiVersion: v1' 'kind: Config' 'clusters:' '- name: cluster' '  cluster:' \
    "    server: $2" "    certificate-authority: ${CA_FILE}" "$tls" 'users:' '- name: registrar' '  user:' \
    "    tokenFile: ${TOKEN_FILE}" 'contexts:' '- name: registrar' '  context: {cluster: cluster, user: registrar}' \
    'current-context: registrar' | grep . > "$1"
}

# 1. Identity. The server name is the Kubernetes node name (the autoscaler
# finds a node's server by it: no cloud controller sets providerID here).
NODE_NAME="$(metadata hostname)"
PUBLIC_ADDRESS="$(metadata public-ipv4)"
PRIVATE_ADDRESS="$(metadata private-networks | sed -n 's/^- *ip: *\([0-9.]*\).*/\1/p' | head -n 1)"
if [ -z "$NODE_NAME" ] || [ -z "$PUBLIC_ADDRESS" ]; then fail "the metadata service gave no name or public address"; fi
[ -n "$PRIVATE_ADDRESS" ] || fail "no private network address: the autoscaler must attach servers to it (HCLOUD_NETWORK)"
export NODE_NAME PUBLIC_ADDRESS PRIVATE_ADDRESS
mkdir -p "$(dirname "$NODE_ENV_FILE")" "$(dirname "$KUBECONFIG")"
printf 'NODE_NAME=%q\nPUBLIC_ADDRESS=%q\nPRIVATE_ADDRESS=%q\n' "$NODE_NAME" "$PUBLIC_ADDRESS" "$PRIVATE_ADDRESS" \
  > "$NODE_ENV_FILE"
step "${NODE_NAME}: public ${PUBLIC_ADDRESS}, private ${PRIVATE_ADDRESS}"

# 2. The same baseline, firewall, binary and key as a static node of the group.
run baseline.sh
run firewall.sh
run k3s-install.sh
run wg-keys.sh > /dev/null
# Pods must not read the user data (it holds the join tokens) from the
# metadata service; the host itself still may.
nft -f - <<'NFT'
table inet sovereign-metadata
delete table inet sovereign-metadata
table inet sovereign-metadata {
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    ip daddr 169.254.169.254 drop comment "pods: no cloud metadata"
  }
}
NFT

# 3. The control plane autoscale-bootstrap.sh reached over the private
# network; its certificate names its mesh address (K3s --tls-san), which TLS
# checks instead of the private one.
kubeconfig "$KUBECONFIG" "https://${API_PRIVATE}:${API_PORT}" "$API_MESH"
MESH_IP="$(run mesh-register.sh)"
export MESH_ADDRESS="${MESH_IP}/${MESH_PREFIX}"
step "mesh address ${MESH_IP}"
run wg-apply.sh
run mesh-sync.sh

# 4. The static nodes add this node at their next sync.
deadline=$((SECONDS + MESH_WAIT_SECONDS))
until ping -c 1 -W 1 "$API_MESH" > /dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || fail "control plane ${API_MESH} unreachable over the mesh after ${MESH_WAIT_SECONDS}s"
  sleep 2
done
step "mesh up (control plane ${API_MESH} answers)"

# 5. From now on the API through the mesh, as every static node reaches it.
run api-lb.sh
kubeconfig "$KUBECONFIG" "$LOCAL_API"
run mesh-agent-install.sh
config="${K3S_CONFIG_TEMPLATE//@NODE_NAME@/$NODE_NAME}"
export K3S_CONFIG="${config//@MESH_IP@/$MESH_IP}"
printf 'K3S_TOKEN=%s\n' "$(base64 -w0 < "$K3S_TOKEN_FILE")" | bash "${SCRIPTS_DIR}/k3s-node.sh"
step "${NODE_NAME} joined"
