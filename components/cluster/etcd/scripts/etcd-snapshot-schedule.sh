#!/usr/bin/env bash
# Install the snapshot script and run it on a schedule: cron when present,
# else a systemd timer, else (no systemd: containers, test hosts) a
# detached loop with a pidfile.
#
# Parameters (environment):
#   SNAPSHOT_SCRIPT   the rendered etcd-snapshot.sh
#   SCHEDULE          cron schedule, e.g. "0 */6 * * *"
#   INTERVAL_SECONDS  the same schedule as a period (timer and loop)
#   S3                true: credentials on stdin (S3_ACCESS_KEY, S3_SECRET_KEY, base64)
#   ETCDCTL_ENV       /etc/etcd/etcdctl.env to write (kubeadm's stacked etcd: its
#                     certificates, 127.0.0.1); empty: etcd-member.sh wrote it
#   INSTALL_ETCDCTL   true: install etcdctl when missing (Debian etcd-client,
#                     or ${ARTIFACTS_DIR}/etcd/etcdctl when AIRGAP is true)
# stdout: the scheduler used.
set -euo pipefail

SNAPSHOT_SCRIPT="${SNAPSHOT_SCRIPT:?SNAPSHOT_SCRIPT is required}"
SCHEDULE="${SCHEDULE:?SCHEDULE is required}"
INTERVAL_SECONDS="${INTERVAL_SECONDS:?INTERVAL_SECONDS is required}"
S3="${S3:-false}"
ETCDCTL_ENV="${ETCDCTL_ENV:-}"
INSTALL_ETCDCTL="${INSTALL_ETCDCTL:-false}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"

SCRIPT=/etc/etcd/etcd-snapshot.sh
LOOP_PID=/run/etcd/snapshot-loop.pid
LOG=/var/log/etcd-snapshot-"$(hostname)".log

declare -A secret=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  secret["${line%%=*}"]="$(printf '%s' "${line#*=}" | base64 -d)"
done

changed=false
write_file() {
  local content
  content="$(printf '%s' "$3")"
  mkdir -p "$(dirname "$1")"
  if [ -f "$1" ] && [ "$(cat "$1")" = "$content" ]; then return; fi
  install -m "$2" /dev/null "$1"
  printf '%s\n' "$content" > "$1"
  changed=true
}

install_etcdctl() {
  if command -v etcdctl > /dev/null; then return; fi
  if [ "$AIRGAP" = true ]; then
    [ -x "${ARTIFACTS_DIR}/etcd/etcdctl" ] || { echo "air-gap: ${ARTIFACTS_DIR}/etcd/etcdctl is missing" >&2; exit 1; }
    install -m 0755 "${ARTIFACTS_DIR}/etcd/etcdctl" /usr/local/bin/etcdctl
    return
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-client > /dev/null
}

umask 077
if [ "$INSTALL_ETCDCTL" = true ]; then install_etcdctl; fi
if [ -n "$ETCDCTL_ENV" ]; then write_file /etc/etcd/etcdctl.env 0644 "$ETCDCTL_ENV"; fi
write_file "$SCRIPT" 0700 "$SNAPSHOT_SCRIPT"
if [ "$S3" = true ]; then
  # %q: the file is sourced, so a quote or $ in a key must stay data.
  write_file /etc/etcd/s3.env 0600 "S3_ACCESS_KEY=$(printf '%q' "${secret[S3_ACCESS_KEY]:?S3_ACCESS_KEY missing on stdin}")
S3_SECRET_KEY=$(printf '%q' "${secret[S3_SECRET_KEY]:?S3_SECRET_KEY missing on stdin}")"
fi

if command -v cron > /dev/null && [ -d /etc/cron.d ]; then
  write_file /etc/cron.d/etcd-snapshot 0644 "# sovereign-cloud: etcd snapshots
${SCHEDULE} root ${SCRIPT} >> ${LOG} 2>&1"
  echo cron
elif [ -d /run/systemd/system ]; then
  write_file /etc/systemd/system/etcd-snapshot.service 0644 "[Unit]
Description=etcd snapshot (sovereign-cloud)
[Service]
Type=oneshot
ExecStart=${SCRIPT}"
  write_file /etc/systemd/system/etcd-snapshot.timer 0644 "[Unit]
Description=etcd snapshots every ${INTERVAL_SECONDS}s
[Timer]
OnBootSec=${INTERVAL_SECONDS}
OnUnitActiveSec=${INTERVAL_SECONDS}
[Install]
WantedBy=timers.target"
  systemctl daemon-reload
  systemctl enable --now etcd-snapshot.timer > /dev/null 2>&1
  echo systemd-timer
else
  # The period lives in the loop's command line only: record it, so a new
  # schedule restarts the loop like a new script does.
  write_file /etc/etcd/etcd-snapshot.interval 0644 "$INTERVAL_SECONDS"
  pid="$(cat "$LOOP_PID" 2> /dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
    [ "$changed" = true ] || { echo loop; exit 0; }
    kill "$pid"
  fi
  mkdir -p "$(dirname "$LOOP_PID")"
  setsid nohup bash -c "while sleep ${INTERVAL_SECONDS}; do ${SCRIPT}; done" >> "$LOG" 2>&1 < /dev/null &
  echo $! > "$LOOP_PID"
  echo loop
fi
