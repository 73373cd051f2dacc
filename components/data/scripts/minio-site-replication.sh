#!/usr/bin/env bash
# Joins the regions' MinIO tenants into one site-replication group with
# `mc admin replicate add <first> <others...>` (MinIO configures site
# replication from the client side only; only the first site may hold data,
# the others must be empty). Runs in a Kubernetes Job, again whenever the set
# of regions changes; a group that already holds every site is left alone,
# so a retried Job does nothing twice.
#   SITES                 "alias=https://minio.<namespace>.svc.cluster.local ..." (first: the site that may hold data)
#   MINIO_ROOT_USER/_PASSWORD  root credentials of the tenants (from a Secret)
#   CA_FILE               the CA the tenants' certificates come from
set -euo pipefail

: "${SITES:?SITES must list alias=url pairs}" "${CA_FILE:?CA_FILE must name the CA of the tenants}"
: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"

# The image's home may be read-only: mc keeps its config (and trusted CAs) in /tmp.
export MC_CONFIG_DIR=/tmp/mc
mkdir -p "$MC_CONFIG_DIR/certs/CAs"
cp "$CA_FILE" "$MC_CONFIG_DIR/certs/CAs/sovereign-ca.crt"

read -r -a sites <<<"$SITES"
if (( ${#sites[@]} < 2 )); then
  echo "site replication needs two sites or more, got: $SITES" >&2
  exit 2
fi

aliases=()
for site in "${sites[@]}"; do
  alias=${site%%=*}
  url=${site#*=}
  # A tenant may still be starting; the Job's activeDeadlineSeconds bounds the wait.
  until mc alias set "$alias" "$url" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
    echo "waiting for $alias at $url"
    sleep 10
  done
  aliases+=("$alias")
done

info=$(mc admin replicate info "${aliases[0]}" --json)
present=0
for site in "${sites[@]}"; do
  if [[ $info == *"${site#*=}"* ]]; then
    present=$((present + 1))
  fi
done
if [[ $info =~ \"enabled\":[[:space:]]*true ]] && (( present == ${#sites[@]} )); then
  echo "site replication already holds ${aliases[*]}"
  exit 0
fi

mc admin replicate add "${aliases[@]}"
mc admin replicate info "${aliases[0]}"
