#!/usr/bin/env bash
# Install, configure and start one etcd member; join the cluster safely.
#
# Parameters (environment):
#   ETCD_NAME              this member's name (the node name)
#   MESH_IP                the member's mesh IP: the only address it listens on
#   CLUSTER                every member of the spec, one "name mesh_ip" a line
#   INITIAL_CLUSTER_TOKEN  token of the cluster's first bootstrap
#   DATA_DIR               etcd's data directory
#   ETCD_CONFIG            etcd.conf.yml without the initial-* settings (config.py)
#   CLIENT_PORT/PEER_PORT  2379 / 2380
#   ETCD_VERSION           Debian package version to install (empty: the distribution's)
#   AIRGAP, ARTIFACTS_DIR  true: install etcd/etcdctl from ${ARTIFACTS_DIR}/etcd/
#   CONF_DIR               /etc/etcd (overridden only by the tests)
# Secrets on stdin, one NAME=base64 a line: CA, SERVER_CERT, SERVER_KEY,
#   PEER_CERT, PEER_KEY, CLIENT_CERT, CLIENT_KEY (the health-check client).
#
# Membership: a member with data just (re)starts. A member without data asks
# the other members: if none answers, the cluster is being bootstrapped
# (initial-cluster-state new, every member of the spec); if a healthy
# cluster answers, it is added with `etcdctl member add` (replacing a stale
# entry of the same peer URL first; retried while etcd refuses it for a
# member that just reconnected) and starts with state existing; a cluster
# that answers without quorum is never joined. A re-run with the
# same inputs changes nothing and never restarts a healthy member.
# stdout: one summary line; key material is never printed.
set -euo pipefail
# Failures inside $(...) (join_or_bootstrap) must stop the script too.
shopt -s inherit_errexit

ETCD_NAME="${ETCD_NAME:?ETCD_NAME is required}"
MESH_IP="${MESH_IP:?MESH_IP is required}"
CLUSTER="${CLUSTER:?CLUSTER is required}"
INITIAL_CLUSTER_TOKEN="${INITIAL_CLUSTER_TOKEN:?INITIAL_CLUSTER_TOKEN is required}"
DATA_DIR="${DATA_DIR:?DATA_DIR is required}"
ETCD_CONFIG="${ETCD_CONFIG:?ETCD_CONFIG is required}"
CLIENT_PORT="${CLIENT_PORT:-2379}"
PEER_PORT="${PEER_PORT:-2380}"
ETCD_VERSION="${ETCD_VERSION:-}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"

CONF_DIR="${CONF_DIR:-/etc/etcd}"
PKI="${CONF_DIR}/pki"
CONF="${CONF_DIR}/etcd.conf.yml"
INITIAL="${CONF_DIR}/initial-cluster.yml"
STAMP="${CONF_DIR}/applied.sha256"
PIDFILE=/run/etcd/etcd.pid
LOG="/var/log/etcd-${ETCD_NAME}.log"
UNIT=/etc/systemd/system/etcd-member.service

declare -A secret=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  secret["${line%%=*}"]="$(printf '%s' "${line#*=}" | base64 -d)"
done
for name in CA SERVER_CERT SERVER_KEY PEER_CERT PEER_KEY CLIENT_CERT CLIENT_KEY; do
  [ -n "${secret[$name]:-}" ] || { echo "${name} missing on stdin" >&2; exit 1; }
done

has_systemd() { [ -d /run/systemd/system ]; }

# A member with data on another pinned version is refused before anything
# is touched: every member runs this at once (see etcd's upgrade guides: one
# member at a time, after a snapshot). The distribution's version (no
# ETCD_VERSION) and air-gapped binaries are taken as they are.
refuse_other_version() {
  local have
  [ -n "$ETCD_VERSION" ] && [ "$AIRGAP" != "true" ] && [ -d "${DATA_DIR}/member" ] || return 0
  have="$(dpkg-query -W -f='${Version}' etcd-server 2> /dev/null || true)"
  if [ -n "$have" ] && [[ "$have" != "$ETCD_VERSION"* ]]; then
    echo "etcd ${ETCD_NAME}: this member runs etcd-server ${have} and the version asked is ${ETCD_VERSION}:" \
      "refusing to change the version of every member at once. Upgrade one member at a time (etcd's" \
      "upgrade guide, after a snapshot), then set the version to the one installed. Nothing was changed." >&2
    exit 1
  fi
}

install_etcd() {
  refuse_other_version
  if command -v etcd > /dev/null && command -v etcdctl > /dev/null; then return; fi
  if [ "$AIRGAP" = "true" ]; then
    for bin in etcd etcdctl; do
      [ -x "${ARTIFACTS_DIR}/etcd/${bin}" ] || { echo "air-gap: ${ARTIFACTS_DIR}/etcd/${bin} is missing" >&2; exit 1; }
      install -m 0755 "${ARTIFACTS_DIR}/etcd/${bin}" "/usr/local/bin/${bin}"
    done
    return
  fi
  local server=etcd-server client=etcd-client
  if [ -n "$ETCD_VERSION" ]; then server="etcd-server=${ETCD_VERSION}*"; client="etcd-client=${ETCD_VERSION}*"; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$server" "$client" > /dev/null
  # Debian's own unit starts a single-member etcd on localhost: not ours.
  if has_systemd; then systemctl disable --now etcd.service > /dev/null 2>&1 || true; fi
}

# write_file PATH MODE CONTENT: only when different; "changed" when written.
write_file() {
  local content
  content="$(printf '%s' "$3")"
  mkdir -p "$(dirname "$1")"
  if [ -f "$1" ] && [ "$(cat "$1")" = "$content" ] && [ "$(stat -c %a "$1")" = "${2#0}" ]; then return; fi
  install -m "$2" /dev/null "$1"
  printf '%s\n' "$content" > "$1"
}

client_url() { printf 'https://%s:%s' "$1" "$CLIENT_PORT"; }
peer_url() { printf 'https://%s:%s' "$1" "$PEER_PORT"; }

ctl() {
  ETCDCTL_API=3 etcdctl --cacert "${PKI}/ca.crt" --cert "${PKI}/healthcheck-client.crt" \
    --key "${PKI}/healthcheck-client.key" --dial-timeout=3s --command-timeout=5s "$@"
}

running_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && [ -r "/proc/${pid}/comm" ] && [ "$(cat "/proc/${pid}/comm")" = "etcd" ] || return 1
  printf '%s' "$pid"
}

is_running() {
  if has_systemd; then systemctl is-active --quiet etcd-member.service; else running_pid > /dev/null; fi
}

start_member() {
  local etcd_bin
  etcd_bin="$(command -v etcd)"
  if has_systemd; then
    write_file "$UNIT" 0644 "[Unit]
Description=etcd member ${ETCD_NAME} (sovereign-cloud)
After=network-online.target wg-quick@wg0.service
Wants=network-online.target

[Service]
Type=notify
ExecStart=${etcd_bin} --config-file ${CONF}
Restart=always
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target"
    systemctl daemon-reload
    systemctl enable etcd-member.service > /dev/null 2>&1
    # --no-block: a bootstrapping member waits for its peers' quorum.
    systemctl restart --no-block etcd-member.service
  else
    # No systemd (containers, test hosts): a detached daemon with a pidfile.
    stop_member
    mkdir -p "$(dirname "$PIDFILE")"
    setsid nohup "$etcd_bin" --config-file "$CONF" >> "$LOG" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
  fi
}

stop_member() {
  local pid
  if has_systemd; then systemctl stop etcd-member.service 2> /dev/null || true; return; fi
  pid="$(running_pid)" || return 0
  kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2> /dev/null || true
}

wait_healthy() {
  for _ in $(seq 120); do
    if ctl --endpoints "$(client_url "$MESH_IP")" endpoint health > /dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "etcd member ${ETCD_NAME} did not become healthy; see ${LOG} or journalctl -u etcd-member" >&2
  return 1
}

# The other members' client endpoints, and name lookups by mesh IP.
declare -A name_of=()
others=()
while read -r member_name member_ip; do
  [ -n "$member_name" ] || continue
  name_of["$member_ip"]="$member_name"
  if [ "$member_name" != "$ETCD_NAME" ]; then others+=("$(client_url "$member_ip")"); fi
done <<< "$CLUSTER"

# first_other ETCDCTL_ARGS...: the first other member for which the etcdctl
# command succeeds (`endpoint health`: healthy; `member list`: answering).
first_other() {
  local ep
  for ep in "${others[@]}"; do
    if ctl --endpoints "$ep" "$@" > /dev/null 2>&1; then printf '%s' "$ep"; return 0; fi
  done
  return 1
}

# initial-cluster from a member list ("id, status, name, peer urls, client urls, learner").
initial_from_list() {
  # Unstarted members have an empty name field.
  local id _status name peers ip entries=()
  while IFS=", " read -r id _status name peers _; do
    [ -n "$id" ] || continue
    ip="${peers#https://}"; ip="${ip%:*}"
    name="${name_of[$ip]:-${name:-member-${id}}}"
    entries+=("${name}=${peers}")
  done <<< "$1"
  local IFS=,
  printf '%s' "${entries[*]}"
}

# etcd's own check (strict-reconfig-check) wants every member connected for
# the last 5 s: right after a member (re)started, `member add` is refused
# with "unhealthy cluster" for a few seconds. Retry that, nothing else, for
# up to 30 attempts (as etcd-member-remove.sh does for a removal).
add_member() {
  local ep="$1" attempt error
  for attempt in $(seq 30); do
    if error="$(ctl --endpoints "$ep" member add "$ETCD_NAME" --peer-urls "$(peer_url "$MESH_IP")" 2>&1 > /dev/null)"; then
      return 0
    fi
    case "$error" in
      *"unhealthy cluster"*) ;;
      *) echo "etcd: adding ${ETCD_NAME} failed: ${error}" >&2; exit 1 ;;
    esac
    if [ "$attempt" -eq 30 ]; then
      echo "etcd: ${ETCD_NAME} not added: the cluster stayed unhealthy for etcd (every member must be connected): ${error}" >&2
      exit 1
    fi
    echo "etcd ${ETCD_NAME}: member add refused (etcdserver: unhealthy cluster), attempt ${attempt}; retrying" >&2
    sleep 1
  done
}

join_or_bootstrap() {
  local ep list mine id clients state initial
  if ep="$(first_other endpoint health)"; then
    list="$(ctl --endpoints "$ep" member list)"
    echo "etcd ${ETCD_NAME}: healthy cluster at ${ep}, members: $(paste -sd';' <<< "$list")" >&2
    mine="$(grep -F ", $(peer_url "$MESH_IP")," <<< "$list" || true)"
    if [ -n "$mine" ]; then
      IFS=', ' read -r id _ _ _ clients _ <<< "$mine"
      if [ -n "$clients" ]; then
        # Our peer URL has served clients before, yet there is no data
        # here: the node was replaced. Drop the stale member, then add.
        ctl --endpoints "$ep" member remove "$id" > /dev/null
        mine=""
      fi
      # Else: listed but never started (a late initial member, or added
      # by an earlier attempt): start with state existing.
    fi
    if [ -z "$mine" ]; then add_member "$ep"; fi
    list="$(ctl --endpoints "$ep" member list)"
    state=existing
    initial="$(initial_from_list "$list")"
  elif ep="$(first_other member list)"; then
    echo "etcd: ${ep} answers but the cluster has no quorum; refusing to join ${ETCD_NAME} (restore quorum first)" >&2
    exit 1
  else
    # Nobody answers: the cluster's first bootstrap, every member of the spec.
    state=new
    local entries=() member_name member_ip
    while read -r member_name member_ip; do
      [ -n "$member_name" ] && entries+=("${member_name}=$(peer_url "$member_ip")")
    done <<< "$CLUSTER"
    initial="$(IFS=,; printf '%s' "${entries[*]}")"
  fi
  write_file "$INITIAL" 0644 "initial-cluster: ${initial}
initial-cluster-state: ${state}
initial-cluster-token: ${INITIAL_CLUSTER_TOKEN}"
  if [ "$state" = new ]; then echo bootstrapped; else echo joined; fi
}

umask 077
install_etcd
write_file "${PKI}/ca.crt" 0644 "${secret[CA]}"
write_file "${PKI}/server.crt" 0644 "${secret[SERVER_CERT]}"
write_file "${PKI}/server.key" 0600 "${secret[SERVER_KEY]}"
write_file "${PKI}/peer.crt" 0644 "${secret[PEER_CERT]}"
write_file "${PKI}/peer.key" 0600 "${secret[PEER_KEY]}"
write_file "${PKI}/healthcheck-client.crt" 0644 "${secret[CLIENT_CERT]}"
write_file "${PKI}/healthcheck-client.key" 0600 "${secret[CLIENT_KEY]}"
# For operators: `set -a; . /etc/etcd/etcdctl.env; set +a; etcdctl member list`.
write_file "${CONF_DIR}/etcdctl.env" 0644 "ETCDCTL_API=3
ETCDCTL_ENDPOINTS=$(client_url "$MESH_IP")
ETCDCTL_CACERT=${PKI}/ca.crt
ETCDCTL_CERT=${PKI}/healthcheck-client.crt
ETCDCTL_KEY=${PKI}/healthcheck-client.key"

action=unchanged
if [ ! -d "${DATA_DIR}/member" ]; then
  mkdir -p "$DATA_DIR"
  chmod 0700 "$DATA_DIR"
  stop_member
  action="$(join_or_bootstrap)"
elif [ ! -f "$INITIAL" ]; then
  # Data without our bootstrap record (e.g. restored): etcd ignores initial-*.
  write_file "$INITIAL" 0644 "initial-cluster-state: existing
initial-cluster-token: ${INITIAL_CLUSTER_TOKEN}"
fi
write_file "$CONF" 0644 "${ETCD_CONFIG}
$(cat "$INITIAL")"

stamp="$(cat "$CONF" "${PKI}"/* | sha256sum | cut -d' ' -f1)"
if is_running && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ]; then
  echo "etcd ${ETCD_NAME}: unchanged"
  exit 0
fi
quorum_elsewhere=false
if first_other endpoint health > /dev/null; then quorum_elsewhere=true; fi
if is_running; then [ "$action" != unchanged ] || action=restarted; else [ "$action" != unchanged ] || action=started; fi
start_member
printf '%s\n' "$stamp" > "$STAMP"
# Wait when the member can be healthy on its own terms: the rest of the
# cluster has quorum, or it is the only member. A bootstrapping member
# waits for its peers instead (the cluster health gate checks them all).
if [ "$quorum_elsewhere" = true ] || [ "${#others[@]}" -eq 0 ]; then wait_healthy; fi
echo "etcd ${ETCD_NAME}: ${action}"
