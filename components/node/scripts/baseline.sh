#!/usr/bin/env bash
# OS baseline for a Kubernetes node: the packages the node scripts need,
# hardened SSH, kernel modules and sysctls, swap off, time sync, automatic
# security updates.
#
# Parameters (environment; lists are one item a line):
#   NODE_NAME           for messages
#   SSH_PORT            port sshd listens on (22)
#   PACKAGES            Debian packages the node scripts need; "a|b" is met
#                       by either, and installs a when neither is installed
#   AIRGAP              true: install only pre-staged packages, never download
#   ARTIFACTS_DIR       pre-staged files; node/*.deb: the missing packages and
#                       their missing dependencies, for dpkg -i
#   CLOUD_INIT_TIMEOUT  seconds to wait for cloud-init's first boot (900)
#   APT_RETRY_SECONDS   pause between the 3 tries of a failed apt-get (15)
#
# Packages: only the missing ones are installed (apt-get, non-interactive),
# so a node whose image or cloud-init already has them installs nothing.
# Cloud nodes with user data first wait for cloud-init, which installs the
# same packages at first boot (no race on dpkg). Nodes cloud-init does not
# serve (OVH VPS, existing hosts) get them here.
#
# Test only, never set by the program:
#   SOVEREIGN_TEST_HOST  true on the project's test hosts, set by their sshd
#                        (tests/testhosts): network namespaces sharing the
#                        machine's kernel and /usr. Machine-wide changes are
#                        skipped (modprobe, non-network sysctls, swapoff) and
#                        nothing is installed (it would land on the machine
#                        itself: the machine must have every package).
#                        Per-namespace settings (net.* sysctls) still apply.
#   ETC_DIR              /etc; a sandbox directory in unit tests
#
# Idempotent: prints "changed" only when something was changed.
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
SSH_PORT="${SSH_PORT:-22}"
PACKAGES="${PACKAGES:-}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"
CLOUD_INIT_TIMEOUT="${CLOUD_INIT_TIMEOUT:-900}"
APT_RETRY_SECONDS="${APT_RETRY_SECONDS:-15}"
SOVEREIGN_TEST_HOST="${SOVEREIGN_TEST_HOST:-false}"
ETC_DIR="${ETC_DIR:-/etc}"

changes=()
skipped=()
has_systemd() { [ -d /run/systemd/system ]; }
test_host() { [ "$SOVEREIGN_TEST_HOST" = "true" ]; }

# write_file PATH: stdin becomes PATH when different; records a change.
write_file() {
  local path="$1" tmp
  tmp="$(mktemp)"
  cat > "$tmp"
  if cmp -s "$tmp" "$path" 2>/dev/null; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  install -m 644 "$tmp" "$path"
  rm -f "$tmp"
  changes+=("$path")
}

# -- packages -------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2> /dev/null | grep -q "install ok installed"; }

# The first alternative of every requirement none of whose alternatives is installed.
missing_packages() {
  local requirement alternative
  local -a alternatives
  while read -r requirement; do
    [ -n "$requirement" ] || continue
    IFS='|' read -r -a alternatives <<< "$requirement"
    for alternative in "${alternatives[@]}"; do
      if installed "$alternative"; then continue 2; fi
    done
    echo "${alternatives[0]}"
  done <<< "$PACKAGES"
}

# Alternatives nobody needs: the uninstalled ones of requirements already met
# (a staged chrony stays out when systemd-timesyncd keeps the time).
unneeded_alternatives() {
  local requirement alternative other
  local -a alternatives
  while read -r requirement; do
    [[ "$requirement" == *"|"* ]] || continue
    IFS='|' read -r -a alternatives <<< "$requirement"
    for alternative in "${alternatives[@]}"; do
      installed "$alternative" || continue
      for other in "${alternatives[@]}"; do
        installed "$other" || echo "$other"
      done
      break
    done
  done <<< "$PACKAGES"
}

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2
}

# A fresh machine's own apt timers may hold apt's locks for a while: retry.
install_online() {
  local attempt
  for attempt in 1 2 3; do
    if apt_get update && apt_get install --no-install-recommends "$@"; then return 0; fi
    [ "$attempt" -lt 3 ] || break
    echo "apt-get failed (attempt ${attempt}); retrying in ${APT_RETRY_SECONDS}s" >&2
    sleep "$APT_RETRY_SECONDS"
  done
  return 1
}

# Every staged .deb whose package is not installed yet (the missing ones
# and their dependencies); nothing is downloaded.
install_staged() {
  local deb name unneeded
  local -a debs=()
  unneeded="$(unneeded_alternatives)"
  for deb in "${ARTIFACTS_DIR}"/node/*.deb; do
    [ -e "$deb" ] || continue
    name="$(dpkg-deb -f "$deb" Package)"
    installed "$name" && continue
    grep -qxF "$name" <<< "$unneeded" && continue
    debs+=("$deb")
  done
  if [ "${#debs[@]}" -eq 0 ]; then
    echo "air-gapped install: no package in ${ARTIFACTS_DIR}/node for: $*" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive dpkg -i --force-confdef --force-confold "${debs[@]}" >&2
}

packages() {
  if ! command -v dpkg-query > /dev/null; then
    echo "note: no dpkg here; make sure these are installed: $(tr '\n' ' ' <<< "$PACKAGES")" >&2
    return 0
  fi
  local -a missing
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -gt 0 ] || return 0
  if test_host; then
    echo "test host: missing ${missing[*]}; test hosts share /usr with the machine, so install them there" \
      "(scripts/lib/setup.sh SYSTEM_PACKAGES), never per host" >&2
    exit 1
  fi
  if [ "$AIRGAP" = "true" ]; then install_staged "${missing[@]}"; else install_online "${missing[@]}"; fi
  local still
  still="$(missing_packages | tr '\n' ' ')"
  if [ -n "$still" ]; then
    echo "packages still missing after the install: ${still}" >&2
    exit 1
  fi
  changes+=("packages: ${missing[*]}")
}

# A cloud node's user data installs packages at first boot: let it finish
# first. Present but not in use on this boot ("not run", "disabled"): no
# wait, it would never end.
wait_for_cloud_init() {
  command -v cloud-init > /dev/null || return 0
  local status rc=0
  status="$(cloud-init status 2> /dev/null || true)"
  case "$status" in
    *"not run"* | *"not started"* | *disabled*) return 0 ;;
  esac
  timeout "$CLOUD_INIT_TIMEOUT" cloud-init status --wait > /dev/null 2>&1 || rc=$?
  case "$rc" in
    0) ;;
    124) echo "warning: cloud-init still runs after ${CLOUD_INIT_TIMEOUT}s; going on" >&2 ;;
    *) echo "warning: cloud-init ended with errors (${rc}); missing packages are installed here" >&2 ;;
  esac
}

# -- system settings -------------------------------------------------------------

harden_ssh() {
  if write_file "${ETC_DIR}/ssh/sshd_config.d/90-sovereign.conf" <<CONF
# Managed by sovereign-cloud: keys only.
Port ${SSH_PORT}
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
CONF
  then
    if command -v sshd > /dev/null && ! sshd -t; then
      echo "sshd rejects the hardened config; reverting" >&2
      rm -f "${ETC_DIR}/ssh/sshd_config.d/90-sovereign.conf"
      exit 1
    fi
    # Without systemd there is no unit to reload; sshd picks the drop-in
    # up at its next start.
    if has_systemd; then systemctl reload ssh 2> /dev/null || systemctl reload sshd; fi
  fi
}

kernel_modules() {
  write_file "${ETC_DIR}/modules-load.d/90-sovereign.conf" <<'CONF' || true
overlay
br_netfilter
CONF
  local module
  for module in overlay br_netfilter; do
    [ -d "/sys/module/${module}" ] && continue
    # The kernel is the machine's: a test host must not load modules into it.
    if test_host; then skipped+=("modprobe ${module}"); continue; fi
    modprobe "$module" 2> /dev/null || echo "warning: cannot load ${module} here (container?)" >&2
  done
}

# net.* settings belong to the network namespace; the others (fs.inotify.*)
# are machine-wide.
per_namespace() { [[ "$1" == net.* ]]; }

kernel_settings() {
  local file="${ETC_DIR}/sysctl.d/90-sovereign.conf" key equals value
  if write_file "$file" <<'CONF'
# Managed by sovereign-cloud: what Kubernetes networking needs.
net.ipv4.ip_forward = 1
net.ipv6.conf.all.forwarding = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
CONF
  then
    while read -r key equals value; do
      if [ -z "$key" ] || [ "${key:0:1}" = "#" ] || [ "$equals" != "=" ]; then continue; fi
      if test_host && ! per_namespace "$key"; then skipped+=("sysctl ${key}"); continue; fi
      # -e: bridge settings only exist once br_netfilter is loaded.
      sysctl -q -e -w "${key}=${value}" > /dev/null || true
    done < "$file"
  fi
}

swap_off() {
  if [ -n "$(swapon --noheadings 2> /dev/null)" ]; then
    # Swap is the machine's, not a test host's.
    if test_host; then
      skipped+=("swapoff")
    else
      swapoff -a
      changes+=("swap")
    fi
  fi
  if grep -Eq '^[^#].*\sswap\s' "${ETC_DIR}/fstab" 2> /dev/null; then
    sed -i -E 's/^([^#].*\sswap\s.*)$/# \1  # disabled by sovereign-cloud/' "${ETC_DIR}/fstab"
    changes+=("${ETC_DIR}/fstab")
  fi
}

time_sync() {
  if ! has_systemd; then
    echo "note: no systemd, time sync is left to the host" >&2
    return 0
  fi
  if installed chrony; then
    if ! systemctl is-active --quiet chrony; then
      systemctl enable --now chrony > /dev/null 2>&1
      changes+=("chrony")
    fi
  elif [ "$(timedatectl show -p NTP --value 2> /dev/null)" != "yes" ]; then
    timedatectl set-ntp true
    changes+=("ntp")
  fi
}

security_updates() {
  if ! installed unattended-upgrades; then
    echo "note: unattended-upgrades is not installed; security updates are not automatic" >&2
    return 0
  fi
  write_file "${ETC_DIR}/apt/apt.conf.d/20auto-upgrades" <<'CONF' || true
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
CONF
}

wait_for_cloud_init
packages
harden_ssh
kernel_modules
kernel_settings
swap_off
time_sync
security_updates

if [ "${#skipped[@]}" -gt 0 ]; then
  echo "test host: machine-wide changes skipped: ${skipped[*]}" >&2
fi
if [ "${#changes[@]}" -eq 0 ]; then
  echo "baseline ${NODE_NAME}: unchanged"
else
  echo "baseline ${NODE_NAME}: changed (${changes[*]})"
fi
