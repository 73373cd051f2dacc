#!/usr/bin/env bash
# kubeadm init on the first control plane; prints the CA's discovery hash.
#
# Parameters (environment):
#   KUBEADM_CONFIG        ClusterConfiguration + InitConfiguration + KubeletConfiguration,
#                         with @BOOTSTRAP_TOKEN@ / @CERTIFICATE_KEY@ placeholders
#   OTHER_CONTROL_PLANES  mesh IPs of the other control planes, one a line (bootstrap guard)
#   EXTERNAL_ETCD         true: write the etcd client certificates first
#   KUBE_DIR              /etc/kubernetes (overridden only by the tests)
# Secrets on stdin, one NAME=base64 a line: BOOTSTRAP_TOKEN, CERTIFICATE_KEY,
#   ENCRYPTION_CONFIG, and with external etcd ETCD_CA, ETCD_CERT, ETCD_KEY.
#
# Only this node ever runs `kubeadm init`, and only once: an initialised
# node is left alone, and a fresh node refuses to init while another
# control plane already serves a cluster (a replaced first control plane
# must never create a second cluster). stdout is only "sha256:<hex>".
set -euo pipefail

KUBEADM_CONFIG="${KUBEADM_CONFIG:?KUBEADM_CONFIG is required}"
OTHER_CONTROL_PLANES="${OTHER_CONTROL_PLANES:-}"
EXTERNAL_ETCD="${EXTERNAL_ETCD:-false}"
KUBE_DIR="${KUBE_DIR:-/etc/kubernetes}"

declare -A secret=()
read_secrets() {
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    secret["${line%%=*}"]="$(printf '%s' "${line#*=}" | base64 -d)"
  done
}
read_secrets
for name in BOOTSTRAP_TOKEN CERTIFICATE_KEY ENCRYPTION_CONFIG; do
  [ -n "${secret[$name]:-}" ] || { echo "${name} missing on stdin" >&2; exit 1; }
done

# write_file PATH MODE CONTENT (only when different)
write_file() {
  mkdir -p "$(dirname "$1")"
  # Compared without trailing newlines, as $(cat) reads the file back.
  local content
  content="$(printf '%s' "$3")"
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$content" ]; then
    install -m "$2" /dev/null "$1"
    printf '%s\n' "$content" > "$1"
  fi
}

ca_hash() {
  echo "sha256:$(openssl x509 -pubkey -noout -in "${KUBE_DIR}/pki/ca.crt" \
    | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)"
}

write_file "${KUBE_DIR}/enc/encryption.yaml" 0600 "${secret[ENCRYPTION_CONFIG]}"
if [ "$EXTERNAL_ETCD" = "true" ]; then
  write_file "${KUBE_DIR}/pki/etcd/ca.crt" 0644 "${secret[ETCD_CA]:?ETCD_CA missing on stdin}"
  write_file "${KUBE_DIR}/pki/apiserver-etcd-client.crt" 0644 "${secret[ETCD_CERT]:?ETCD_CERT missing on stdin}"
  write_file "${KUBE_DIR}/pki/apiserver-etcd-client.key" 0600 "${secret[ETCD_KEY]:?ETCD_KEY missing on stdin}"
fi
config="${KUBEADM_CONFIG//@BOOTSTRAP_TOKEN@/${secret[BOOTSTRAP_TOKEN]}}"
config="${config//@CERTIFICATE_KEY@/${secret[CERTIFICATE_KEY]}}"
# Kept (0600) for `kubeadm init phase upload-certs` by the join credentials.
write_file "${KUBE_DIR}/kubeadm-init.yaml" 0600 "$config"

if [ -f "${KUBE_DIR}/admin.conf" ] && [ -f "${KUBE_DIR}/manifests/kube-apiserver.yaml" ]; then
  echo "already initialised: nothing to do" >&2
  ca_hash
  exit 0
fi

while read -r ip; do
  [ -n "$ip" ] || continue
  if curl -fsk --max-time 5 "https://${ip}:6443/livez" > /dev/null 2>&1; then
    echo "refusing kubeadm init: control plane ${ip} already serves a cluster; a second cluster would split it." >&2
    echo "Join this node as a control plane instead (make another control plane the first of the spec)." >&2
    exit 1
  fi
done <<< "$OTHER_CONTROL_PLANES"

# kubeadm prints the join commands, token and certificate key included,
# unless told not to: this output lands in Pulumi's state and logs.
kubeadm init --config "${KUBE_DIR}/kubeadm-init.yaml" --upload-certs \
  --skip-token-print --skip-certificate-key-print >&2
ca_hash
