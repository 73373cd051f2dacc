#!/usr/bin/env bash
# The delete path of the node baseline (pulumi destroy, or the node leaving
# the spec): the settings baseline.sh wrote go, swap lines it disabled come
# back (active again at the next boot). Installed packages stay: other
# software on the machine may use them.
#
# Parameters (environment):
#   ETC_DIR  /etc; a sandbox directory in unit tests
set -euo pipefail

ETC_DIR="${ETC_DIR:-/etc}"
has_systemd() { [ -d /run/systemd/system ]; }

removed=()
for file in ssh/sshd_config.d/90-sovereign.conf modules-load.d/90-sovereign.conf sysctl.d/90-sovereign.conf; do
  if [ -e "${ETC_DIR}/${file}" ]; then
    rm -f "${ETC_DIR}/${file}"
    removed+=("$file")
  fi
done
if [ -f "${ETC_DIR}/fstab" ] && grep -q '  # disabled by sovereign-cloud$' "${ETC_DIR}/fstab"; then
  sed -i -E 's/^# (.*)  # disabled by sovereign-cloud$/\1/' "${ETC_DIR}/fstab"
  removed+=("fstab swap comment")
fi
if has_systemd && [[ " ${removed[*]-} " == *" ssh/"* ]]; then
  systemctl reload ssh 2> /dev/null || systemctl reload sshd || true
fi
echo "baseline: removed${removed[*]:+ ${removed[*]}}"
