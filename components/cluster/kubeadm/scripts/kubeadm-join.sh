#!/usr/bin/env bash
# kubeadm join of a control plane or a worker.
#
# Parameters (environment):
#   KUBEADM_CONFIG  JoinConfiguration with @BOOTSTRAP_TOKEN@ / @CERTIFICATE_KEY@ placeholders
#   ROLE            control-plane | worker
#   EXTERNAL_ETCD   true: control planes get the etcd client certificates
# Secrets on stdin, one NAME=base64 a line: BOOTSTRAP_TOKEN; control planes
#   also CERTIFICATE_KEY, ENCRYPTION_CONFIG and with external etcd ETCD_CA,
#   ETCD_CERT, ETCD_KEY.
#
# Idempotent: a node that already joined (kubelet.conf present) is left alone.
set -euo pipefail

KUBEADM_CONFIG="${KUBEADM_CONFIG:?KUBEADM_CONFIG is required}"
ROLE="${ROLE:?ROLE is required}"
EXTERNAL_ETCD="${EXTERNAL_ETCD:-false}"

declare -A secret=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  secret["${line%%=*}"]="$(printf '%s' "${line#*=}" | base64 -d)"
done
[ -n "${secret[BOOTSTRAP_TOKEN]:-}" ] || { echo "BOOTSTRAP_TOKEN missing on stdin" >&2; exit 1; }

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

if [ "$ROLE" = "control-plane" ]; then
  write_file /etc/kubernetes/enc/encryption.yaml 0600 "${secret[ENCRYPTION_CONFIG]:?ENCRYPTION_CONFIG missing on stdin}"
  if [ "$EXTERNAL_ETCD" = "true" ]; then
    write_file /etc/kubernetes/pki/etcd/ca.crt 0644 "${secret[ETCD_CA]:?ETCD_CA missing on stdin}"
    write_file /etc/kubernetes/pki/apiserver-etcd-client.crt 0644 "${secret[ETCD_CERT]:?ETCD_CERT missing on stdin}"
    write_file /etc/kubernetes/pki/apiserver-etcd-client.key 0600 "${secret[ETCD_KEY]:?ETCD_KEY missing on stdin}"
  fi
fi

if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "${ROLE} already joined: nothing to do"
  exit 0
fi

config="${KUBEADM_CONFIG//@BOOTSTRAP_TOKEN@/${secret[BOOTSTRAP_TOKEN]}}"
config="${config//@CERTIFICATE_KEY@/${secret[CERTIFICATE_KEY]:-}}"
mkdir -p /etc/kubernetes
file="$(mktemp /etc/kubernetes/kubeadm-join.XXXXXX.yaml)"
trap 'rm -f "$file"' EXIT
chmod 0600 "$file"
printf '%s\n' "$config" > "$file"
kubeadm join --config "$file" >&2
echo "${ROLE} joined"
