#!/usr/bin/env bash
# On the first control plane, for one joining node: valid join credentials
# now and until that node has joined.
#
# Parameters (environment):
#   STEP             mark: the node is about to join (create/update of
#                    <c>-<node>-join-credentials); forget: it left the spec
#   NODE_NAME        the joining node
#   ROLE             control-plane | worker (control planes also need the
#                    uploaded control-plane certificates)
#   REFRESH_SCRIPT   the rendered kubeadm-join-refresh.sh (installed, run now
#                    and every REFRESH_SECONDS while a join is pending)
#   REFRESH_SECONDS  the timer's period (1800)
#   STATE_DIR        pending joins and the token (/etc/kubernetes/sovereign-joins)
#   UNIT_DIR         systemd units (/etc/systemd/system)
# Secrets on stdin (mark), one NAME=base64 a line: BOOTSTRAP_TOKEN.
#
# kubeadm's join credentials expire: the bootstrap token after its TTL and
# the uploaded certificates two hours after the upload. This step runs
# before every run of the node's join (Pulumi re-runs both on the same
# changes) and refreshes them; the mark it leaves keeps the refresher's
# timer refreshing them until the node's member command, after a successful
# join, clears it. A join that failed and is retried the next day therefore
# still finds valid credentials. Idempotent. Prints one line, with the time.
set -euo pipefail

STEP="${STEP:?STEP is required (mark or forget)}"
NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
STATE_DIR="${STATE_DIR:-/etc/kubernetes/sovereign-joins}"
UNIT_DIR="${UNIT_DIR:-/etc/systemd/system}"
REFRESH_SECONDS="${REFRESH_SECONDS:-1800}"
UNIT=sovereign-kubeadm-join-refresh

if [ "$STEP" = "forget" ]; then
  rm -f "${STATE_DIR}/pending/${NODE_NAME}"
  echo "join credentials: ${NODE_NAME} no longer pending"
  exit 0
fi
[ "$STEP" = "mark" ] || { echo "STEP must be mark or forget, got ${STEP}" >&2; exit 1; }
ROLE="${ROLE:?ROLE is required}"
case "$ROLE" in
  control-plane | worker) ;;
  *) echo "ROLE must be control-plane or worker, got ${ROLE}" >&2; exit 1 ;;
esac
REFRESH_SCRIPT="${REFRESH_SCRIPT:?REFRESH_SCRIPT is required}"

token=""
while IFS= read -r line; do
  case "${line%%=*}" in
    BOOTSTRAP_TOKEN) token="$(printf '%s' "${line#*=}" | base64 -d)" ;;
  esac
done
[ -n "$token" ] || { echo "BOOTSTRAP_TOKEN missing on stdin" >&2; exit 1; }

# write_file PATH MODE CONTENT: only when different, and atomically (a
# running refresh.sh keeps reading the file it started with); sets changed=true.
changed=false
write_file() {
  local content tmp
  content="$(printf '%s' "$3")"
  if [ -f "$1" ] && [ "$(cat "$1")" = "$content" ]; then return 0; fi
  mkdir -p "$(dirname "$1")"
  tmp="$(mktemp "$1.XXXXXX")"
  chmod "$2" "$tmp"
  printf '%s\n' "$content" > "$tmp"
  mv -f "$tmp" "$1"
  changed=true
}

umask 077
mkdir -p "${STATE_DIR}/pending"
# Under the refresher's lock: a refresher that finds nothing pending stops
# the timer, so marking and (re)starting the timer must not interleave with it.
exec 9> "${STATE_DIR}/lock"
flock 9
write_file "${STATE_DIR}/token" 0600 "$token"
write_file "${STATE_DIR}/refresh.sh" 0700 "$REFRESH_SCRIPT"
write_file "${STATE_DIR}/pending/${NODE_NAME}" 0600 "$ROLE"
changed=false
write_file "${UNIT_DIR}/${UNIT}.service" 0644 "[Unit]
Description=Keep kubeadm join credentials valid while joins are pending (sovereign-cloud)
[Service]
Type=oneshot
ExecStart=${STATE_DIR}/refresh.sh"
write_file "${UNIT_DIR}/${UNIT}.timer" 0644 "[Unit]
Description=Refresh kubeadm join credentials every ${REFRESH_SECONDS}s while joins are pending
[Timer]
OnActiveSec=${REFRESH_SECONDS}
OnUnitActiveSec=${REFRESH_SECONDS}
[Install]
WantedBy=timers.target"
if [ "$changed" = "true" ]; then
  systemctl daemon-reload
  systemctl enable --quiet "${UNIT}.timer"
  systemctl restart "${UNIT}.timer"
elif ! systemctl is-active --quiet "${UNIT}.timer"; then
  systemctl enable --now --quiet "${UNIT}.timer"
fi
exec 9>&-

refreshed="$("${STATE_DIR}/refresh.sh")"
# The time makes every run's output new: the member command re-runs on it.
echo "${NODE_NAME} (${ROLE}): pending since $(date -u +%Y-%m-%dT%H:%M:%S.%NZ); ${refreshed}"
