#!/usr/bin/env bash
# On one K3s node, drained by the step before: replace the binary with
# K3S_VERSION, restart K3s and wait until it serves again; if it does not,
# put the previous binary back and restart that (the node serves at its old
# version) and fail, which stops the rolling upgrade.
#
# Parameters (environment):
#   K3S_VERSION     the target, e.g. v1.32.1+k3s1
#   K3S_ROLE        server | agent
#   INSTALL_SCRIPT  k3s-install.sh rendered for K3S_VERSION with UPGRADE=true
#                   (download and checksum, or the air-gapped artifacts)
#   WAIT_SECONDS    how long the restarted K3s may take to serve
#   HEALTHZ_URL     the kubelet's health endpoint (default http://127.0.0.1:10248/healthz)
#   K3S_BIN, K3S_ETC, RUN_DIR, LOG_DIR  locations (overridden only by the tests)
#
# Refuses, before anything changes, a skipped minor version or a
# downgrade. A node without K3s configured (not in the cluster yet) or
# already at K3S_VERSION is left alone. Idempotent. Prints one line.
set -euo pipefail

K3S_VERSION="${K3S_VERSION:?K3S_VERSION is required}"
K3S_ROLE="${K3S_ROLE:?K3S_ROLE is required}"
INSTALL_SCRIPT="${INSTALL_SCRIPT:?INSTALL_SCRIPT is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
HEALTHZ_URL="${HEALTHZ_URL:-http://127.0.0.1:10248/healthz}"
bin="${K3S_BIN:-/usr/local/bin/k3s}"
etc="${K3S_ETC:-/etc/rancher/k3s}"
run_dir="${RUN_DIR:-/run}"
log_dir="${LOG_DIR:-/var/log}"

case "$K3S_ROLE" in
  server) service=k3s ;;
  agent) service=k3s-agent ;;
  *) echo "K3S_ROLE must be server or agent, got ${K3S_ROLE}" >&2; exit 1 ;;
esac

installed_version() { "$bin" --version 2> /dev/null | awk 'NR==1 {print $3}'; }

# k3s-node.sh compares this file: written here, its next run sees no change
# and does not restart K3s a second time.
record_version() { printf '%s\n' "$K3S_VERSION" > "${etc}/.sovereign-version"; }

if [ ! -x "$bin" ] || [ ! -f "${etc}/config.yaml" ]; then
  echo "k3s ${K3S_ROLE}: not in the cluster yet, nothing to upgrade"
  exit 0
fi
installed="$(installed_version)"
if [ "$installed" = "$K3S_VERSION" ]; then
  record_version
  echo "k3s ${K3S_ROLE}: already at ${K3S_VERSION}"
  exit 0
fi

# "1 31 4 2" from v1.31.4+k3s2; the same rule as components/cluster/upgrade/versions.py.
fields() { sed -E 's/^v?([0-9]+)\.([0-9]+)\.([0-9]+)(\+k3s([0-9]+))?.*$/\1 \2 \3 \5/' <<< "$1"; }
read -r -a old <<< "$(fields "$installed")"
read -r -a new <<< "$(fields "$K3S_VERSION")"
if [ $((new[1] * 1000000 + new[2] * 1000 + ${new[3]:-0})) -lt $((old[1] * 1000000 + old[2] * 1000 + ${old[3]:-0})) ] \
  || [ "${new[0]}" != "${old[0]}" ] || [ "${new[1]}" -gt $((old[1] + 1)) ]; then
  echo "k3s: this node runs ${installed}; ${K3S_VERSION} would skip a minor version or go back: refused," \
    "one minor version at a time and never down. Nothing was changed." >&2
  exit 1
fi

has_systemd() { [ -d /run/systemd/system ]; }

main_pid() {
  if has_systemd; then
    systemctl show -p MainPID --value "$service"
  else
    cat "${run_dir}/${service}.pid" 2> /dev/null || true
  fi
}

# Running, not exited (an exited child stays a zombie until its parent reaps it).
alive() { kill -0 "$1" 2> /dev/null && ! grep -q '^State:.*zombie' "/proc/${1}/status" 2> /dev/null; }

restart() {
  if has_systemd; then
    # --no-block: a server is "active" only once etcd caught up; waited for below.
    systemctl restart --no-block "$service"
    return
  fi
  local pid
  pid="$(main_pid)"
  if [ -n "$pid" ] && alive "$pid"; then
    kill "$pid"
    for _ in $(seq 30); do
      if alive "$pid"; then sleep 1; fi
    done
    if alive "$pid"; then kill -9 "$pid"; fi
  fi
  nohup "$bin" "$K3S_ROLE" >> "${log_dir}/${service}.log" 2>&1 &
  echo $! > "${run_dir}/${service}.pid"
}

# A new process (not the old one still answering), running the wanted
# binary, whose kubelet is healthy and, on a server, whose API server (etcd
# included) is ready: the next server in the chain may restart only then.
serving() {
  local pid
  pid="$(main_pid)"
  [ -n "$pid" ] && [ "$pid" != "0" ] && [ "$pid" != "$1" ] && alive "$pid" || return 1
  [ "$(installed_version)" = "$2" ] || return 1
  curl -fsk --max-time 5 "$HEALTHZ_URL" > /dev/null 2>&1 || return 1
  [ "$K3S_ROLE" = "agent" ] || "$bin" kubectl --kubeconfig "${etc}/k3s.yaml" get --raw /readyz > /dev/null 2>&1
}

# restart_and_wait VERSION SECONDS
restart_and_wait() {
  local before deadline=$((SECONDS + $2))
  before="$(main_pid)"
  restart
  until serving "$before" "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 3
  done
}

cp -p "$bin" "${bin}.previous"
bash -c "$INSTALL_SCRIPT" > /dev/null
if ! restart_and_wait "$K3S_VERSION" "$WAIT_SECONDS"; then
  install -m 0755 "${bin}.previous" "$bin"
  if restart_and_wait "$installed" "$WAIT_SECONDS"; then state="it serves at ${installed} again"; else
    state="and ${installed} did not come back either: check '${service}' on this node"
  fi
  echo "k3s ${K3S_ROLE}: ${K3S_VERSION} did not serve within ${WAIT_SECONDS}s; the previous binary was put" \
    "back, ${state}. The upgrade stops here; the nodes after this one were not touched." >&2
  exit 1
fi
record_version
rm -f "${bin}.previous"
echo "k3s ${K3S_ROLE}: upgraded ${installed} -> ${K3S_VERSION}"
