#!/usr/bin/env bash
# Set-up shared by the README commands: system packages and the venv.
# Sourced, not executed. Idempotent: a second run installs nothing.

# Debian packages the tests and validators use (test hosts, cloud-init
# schema, shellcheck, nft -c, graphviz for the topology picture, etcd).
# shellcheck disable=SC2034 # used by scripts/test, which sources this file
SYSTEM_PACKAGES=(
  wireguard-tools wireguard-go openssh-server openssh-client nftables iproute2
  iputils-ping tcpdump netcat-openbsd procps cloud-init shellcheck graphviz
  etcd-server etcd-client haproxy unattended-upgrades systemd-timesyncd curl ca-certificates sudo
  postgresql
)

ensure_system_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "note: missing Debian packages (${missing[*]}); tests that need them will skip" >&2
    return 0
  fi
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv REQUIREMENTS_FILE: .venv with exactly those pins installed.
ensure_venv() {
  local requirements="$1" stamp
  [ -x .venv/bin/python ] || python3 -m venv .venv
  stamp="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)-$requirements"
  if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
    echo "installing Python packages from $requirements" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$stamp" > .venv/.installed
  fi
}
