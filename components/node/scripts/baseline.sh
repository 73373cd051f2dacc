#!/usr/bin/env bash
# OS baseline for a Kubernetes node: hardened SSH, kernel modules and
# sysctls, swap off, time sync, automatic security updates.
#
# Parameters (environment):
#   NODE_NAME      for messages
#   SSH_PORT       port sshd listens on (22)
#   ALLOW_INSTALL  true to apt-get install missing packages (default false:
#                  cloud-init installs them on cloud nodes)
#
# Idempotent: prints "changed" only when something was changed.
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
SSH_PORT="${SSH_PORT:-22}"
ALLOW_INSTALL="${ALLOW_INSTALL:-false}"

changes=()
has_systemd() { [ -d /run/systemd/system ]; }

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

harden_ssh() {
  if write_file /etc/ssh/sshd_config.d/90-sovereign.conf <<CONF
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
      rm -f /etc/ssh/sshd_config.d/90-sovereign.conf
      exit 1
    fi
    # Without systemd there is no unit to reload; sshd picks the drop-in
    # up at its next start.
    if has_systemd; then systemctl reload ssh 2> /dev/null || systemctl reload sshd; fi
  fi
}

kernel_modules() {
  write_file /etc/modules-load.d/90-sovereign.conf <<'CONF' || true
overlay
br_netfilter
CONF
  local module
  for module in overlay br_netfilter; do
    [ -d "/sys/module/${module}" ] && continue
    modprobe "$module" 2> /dev/null || echo "warning: cannot load ${module} here (container?)" >&2
  done
}

kernel_settings() {
  if write_file /etc/sysctl.d/90-sovereign.conf <<'CONF'
# Managed by sovereign-cloud: what Kubernetes networking needs.
net.ipv4.ip_forward = 1
net.ipv6.conf.all.forwarding = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
CONF
  then
    # -e: bridge settings only exist once br_netfilter is loaded.
    sysctl -q -e -p /etc/sysctl.d/90-sovereign.conf || true
  fi
}

swap_off() {
  if [ -n "$(swapon --noheadings 2> /dev/null)" ]; then
    swapoff -a
    changes+=("swap")
  fi
  if grep -Eq '^[^#].*\sswap\s' /etc/fstab 2> /dev/null; then
    sed -i -E 's/^([^#].*\sswap\s.*)$/# \1  # disabled by sovereign-cloud/' /etc/fstab
    changes+=("/etc/fstab")
  fi
}

time_sync() {
  if ! has_systemd; then
    echo "note: no systemd, time sync is left to the host" >&2
    return 0
  fi
  if [ "$(timedatectl show -p NTP --value 2> /dev/null)" != "yes" ]; then
    timedatectl set-ntp true
    changes+=("ntp")
  fi
}

security_updates() {
  if ! dpkg-query -W -f='${Status}' unattended-upgrades 2> /dev/null | grep -q "install ok installed"; then
    if [ "$ALLOW_INSTALL" = "true" ] && command -v apt-get > /dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unattended-upgrades > /dev/null
      changes+=("unattended-upgrades")
    else
      echo "note: unattended-upgrades is not installed; security updates are not automatic" >&2
      return 0
    fi
  fi
  write_file /etc/apt/apt.conf.d/20auto-upgrades <<'CONF' || true
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
CONF
}

harden_ssh
kernel_modules
kernel_settings
swap_off
time_sync
security_updates

if [ "${#changes[@]}" -eq 0 ]; then
  echo "baseline ${NODE_NAME}: unchanged"
else
  echo "baseline ${NODE_NAME}: changed (${changes[*]})"
fi
