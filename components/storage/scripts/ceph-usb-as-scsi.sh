#!/usr/bin/env bash
# Present USB disks to Ceph as SCSI disks (seed 001: OSDs on USB sticks).
#
# Parameters (environment):
#   ACTION     apply (install the udev rule) or remove (delete it)
#   RULE_FILE  where the rule lives (/etc/udev/rules.d/...)
#
# ceph-volume (run by Rook's OSD prepare job) rejects a device whose udev
# property ID_BUS is "usb". The rule below rewrites that property to "scsi"
# for whole USB disks once the persistent-storage rules (60-*) have set it,
# so the by-id links keep their usb-... names and only the bus reported to
# ceph-volume changes. Partitions and non-USB disks are left alone.
# Idempotent: the rule is rewritten only when it differs, and udev is
# reloaded and re-triggered for block devices only then. Without udevadm
# (a container, a test host) the file is still written and the reload is
# skipped with a message. Prints one line.
set -euo pipefail

ACTION="${ACTION:?ACTION is required (apply or remove)}"
RULE_FILE="${RULE_FILE:?RULE_FILE is required}"

reload_udev() {
  if ! command -v udevadm > /dev/null 2>&1; then
    echo "udevadm not found: rule ${1} without a udev reload" >&2
    return 0
  fi
  udevadm control --reload-rules
  udevadm trigger --subsystem-match=block --action=change
  udevadm settle --timeout=30 || true
}

case "$ACTION" in
  apply)
    rule="$(mktemp)"
    trap 'rm -f "$rule"' EXIT
    cat > "$rule" << 'RULE'
# sovereign-cloud: USB disks reported as SCSI so that ceph-volume accepts them
# as OSD devices (it rejects ID_BUS=usb). Written by ceph-usb-as-scsi.sh.
ACTION=="add|change", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_BUS}=="usb", ENV{ID_BUS}="scsi"
RULE
    if [ -f "$RULE_FILE" ] && cmp -s "$rule" "$RULE_FILE"; then
      echo "udev rule ${RULE_FILE} already in place"
      exit 0
    fi
    mkdir -p "$(dirname "$RULE_FILE")"
    install -m 0644 "$rule" "$RULE_FILE"
    reload_udev installed
    echo "udev rule ${RULE_FILE} installed: USB disks appear as SCSI"
    ;;
  remove)
    if [ ! -e "$RULE_FILE" ]; then
      echo "udev rule ${RULE_FILE} already absent"
      exit 0
    fi
    rm -f "$RULE_FILE"
    reload_udev removed
    echo "udev rule ${RULE_FILE} removed"
    ;;
  *)
    echo "ACTION must be apply or remove, got ${ACTION}" >&2
    exit 2
    ;;
esac
