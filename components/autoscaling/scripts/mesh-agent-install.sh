#!/usr/bin/env bash
# Install the mesh registry agent of a node and run it once: mesh-sync.sh
# every SYNC_SECONDS and, on autoscaled nodes, mesh-register.sh (the Lease
# renewal) every RENEW_SECONDS and mesh-leave.sh at shutdown.
#
# Parameters (environment):
#   SYNC_SCRIPT      the rendered mesh-sync.sh
#   REGISTER_SCRIPT  the rendered mesh-register.sh ("" on static nodes)
#   LEAVE_SCRIPT     the rendered mesh-leave.sh ("" on static nodes)
#   SYNC_SECONDS     15
#   RENEW_SECONDS    20 (a third of the lease)
#   LIB_DIR          /usr/local/lib/sovereign/mesh (tests override it)
# Without systemd (containers, test hosts) the agent is a background loop
# with a pidfile. Exits non-zero when the first sync fails (the timer stays:
# it retries), so a missing permission shows at `pulumi up`.
set -euo pipefail

SYNC_SCRIPT="${SYNC_SCRIPT:?SYNC_SCRIPT is required}"
REGISTER_SCRIPT="${REGISTER_SCRIPT:-}"
LEAVE_SCRIPT="${LEAVE_SCRIPT:-}"
SYNC_SECONDS="${SYNC_SECONDS:-15}"
RENEW_SECONDS="${RENEW_SECONDS:-20}"
LIB_DIR="${LIB_DIR:-/usr/local/lib/sovereign/mesh}"

has_systemd() { [ -d /run/systemd/system ]; }
umask 077
mkdir -p "$LIB_DIR"
changed=false

# put FILE CONTENT: written only when different.
put() {
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    printf '%s\n' "$2" > "$1"
    chmod 0700 "$1"
    changed=true
  fi
}

put "${LIB_DIR}/mesh-sync.sh" "$SYNC_SCRIPT"
[ -z "$REGISTER_SCRIPT" ] || put "${LIB_DIR}/mesh-register.sh" "$REGISTER_SCRIPT"
[ -z "$LEAVE_SCRIPT" ] || put "${LIB_DIR}/mesh-leave.sh" "$LEAVE_SCRIPT"

# unit NAME SCRIPT SECONDS: a oneshot service and its timer.
timer_unit() {
  put "/etc/systemd/system/sovereign-$1.service" "$(printf '%s\n' '[Unit]' "Description=sovereign-cloud $1" \
    'After=network-online.target' '' '[Service]' 'Type=oneshot' "ExecStart=/bin/bash $2")"
  put "/etc/systemd/system/sovereign-$1.timer" "$(printf '%s\n' '[Unit]' "Description=sovereign-cloud $1 every $3 s" '' \
    '[Timer]' 'OnBootSec=5s' "OnUnitActiveSec=$3s" 'AccuracySec=1s' '' '[Install]' 'WantedBy=timers.target')"
}

if has_systemd; then
  umask 022
  timer_unit mesh-sync "${LIB_DIR}/mesh-sync.sh" "$SYNC_SECONDS"
  units=(sovereign-mesh-sync.timer)
  if [ -n "$REGISTER_SCRIPT" ]; then
    timer_unit mesh-register "${LIB_DIR}/mesh-register.sh" "$RENEW_SECONDS"
    units+=(sovereign-mesh-register.timer)
  fi
  if [ -n "$LEAVE_SCRIPT" ]; then
    # Stopped at shutdown while the network is still up (After=network-online).
    put /etc/systemd/system/sovereign-mesh-leave.service "$(printf '%s\n' '[Unit]' \
      'Description=sovereign-cloud mesh registry release at shutdown' 'After=network-online.target' '' \
      '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' 'ExecStart=/bin/true' \
      "ExecStop=/bin/bash ${LIB_DIR}/mesh-leave.sh" '' '[Install]' 'WantedBy=multi-user.target')"
    units+=(sovereign-mesh-leave.service)
  fi
  if [ "$changed" = "true" ]; then systemctl daemon-reload; fi
  systemctl enable --now --quiet "${units[@]}"
else
  pidfile=/run/sovereign-mesh-agent.pid
  running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; }
  if running && [ "$changed" = "true" ]; then
    kill "$(cat "$pidfile")"
    rm -f "$pidfile"
  fi
  if ! running; then
    loop="while sleep ${SYNC_SECONDS}; do"
    [ -z "$REGISTER_SCRIPT" ] || loop+=" bash ${LIB_DIR}/mesh-register.sh > /dev/null 2>&1;"
    loop+=" bash ${LIB_DIR}/mesh-sync.sh > /dev/null 2>&1; done"
    setsid bash -c "$loop" < /dev/null > /dev/null 2>&1 &
    echo $! > "$pidfile"
  fi
fi
bash "${LIB_DIR}/mesh-sync.sh"
