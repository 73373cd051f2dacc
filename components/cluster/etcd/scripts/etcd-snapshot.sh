#!/usr/bin/env bash
# Take an etcd snapshot (on the leader only, so the cluster makes one per
# schedule), keep the newest RETENTION locally and upload it to
# S3-compatible storage when configured.
#
# Parameters (environment):
#   ETCD_NAME      this member
#   SNAPSHOT_DIR   where snapshots are kept on the node
#   RETENTION      how many local snapshots to keep
#   S3_ENDPOINT    e.g. https://s3.fr-par.scw.cloud (empty: local only)
#   S3_BUCKET, S3_REGION, S3_FOLDER, S3_SKIP_SSL_VERIFY
#   FORCE          true: snapshot even on a follower (manual runs, tests)
# S3 credentials: /etc/etcd/s3.env (0600, S3_ACCESS_KEY / S3_SECRET_KEY).
# stdout: the snapshot path, or "not leader".
set -euo pipefail

ETCD_NAME="${ETCD_NAME:?ETCD_NAME is required}"
SNAPSHOT_DIR="${SNAPSHOT_DIR:?SNAPSHOT_DIR is required}"
RETENTION="${RETENTION:-28}"
S3_ENDPOINT="${S3_ENDPOINT:-}"
S3_BUCKET="${S3_BUCKET:-}"
S3_REGION="${S3_REGION:-us-east-1}"
S3_FOLDER="${S3_FOLDER:-etcd-snapshots}"
S3_SKIP_SSL_VERIFY="${S3_SKIP_SSL_VERIFY:-false}"
FORCE="${FORCE:-false}"

set -a
# shellcheck disable=SC1091  # written by etcd-member.sh, or etcd-snapshot-schedule.sh (stacked etcd)
. /etc/etcd/etcdctl.env
set +a

# "endpoint status -w simple": endpoint, id, version, db size, is leader, ...
if [ "$FORCE" != true ] && [ "$(etcdctl endpoint status -w simple | awk -F', ' '{print $5}')" != true ]; then
  echo "not leader"
  exit 0
fi

umask 077
mkdir -p "$SNAPSHOT_DIR"
file="${SNAPSHOT_DIR}/etcd-${ETCD_NAME}-$(date -u +%Y%m%dT%H%M%SZ).db"
etcdctl snapshot save "${file}.part" > /dev/null
mv "${file}.part" "$file"
etcdctl snapshot status "$file" > /dev/null  # a readable snapshot or an error

# Local retention: newest first, drop the rest.
find "$SNAPSHOT_DIR" -maxdepth 1 -name "etcd-*.db" -printf '%T@ %p\n' | sort -rn \
  | tail -n +"$((RETENTION + 1))" | cut -d' ' -f2- | xargs -r rm -f

if [ -n "$S3_ENDPOINT" ]; then
  # shellcheck disable=SC1091  # written by etcd-snapshot-schedule.sh
  . /etc/etcd/s3.env
  insecure=()
  if [ "$S3_SKIP_SSL_VERIFY" = true ]; then insecure=(--insecure); fi
  # curl signs the request itself (SigV4): no extra tool on the node. S3
  # requires the payload digest in x-amz-content-sha256, which curl 7.88
  # (Debian 12) does not send for an upload (it signs the digest of an empty
  # body instead); given as a header, curl signs that value.
  curl -fsS "${insecure[@]}" --aws-sigv4 "aws:amz:${S3_REGION}:s3" \
    -H "x-amz-content-sha256: $(sha256sum "$file" | cut -d' ' -f1)" \
    --user "${S3_ACCESS_KEY:?}:${S3_SECRET_KEY:?}" -T "$file" \
    "${S3_ENDPOINT%/}/${S3_BUCKET}/${S3_FOLDER}/$(basename "$file")"
fi
echo "$file"
