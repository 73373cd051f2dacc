#!/usr/bin/env bash
# Runs where `pulumi up` runs: read a new machine's SSH host key once, for
# machines that cannot be given one before boot (an OVH VPS order has no
# user data). Trust on first use: the key printed here is kept in the
# stack's state and pinned by every later session to the machine.
#
# Parameters (environment):
#   ADDRESS       the machine's public address
#   SSH_PORT      its SSH port
#   WAIT_SECONDS  how long a fresh machine may take to start sshd
# Prints one line: "ssh-ed25519 AAAA...".
set -euo pipefail

ADDRESS="${ADDRESS:?ADDRESS is required}"
SSH_PORT="${SSH_PORT:-22}"
WAIT_SECONDS="${WAIT_SECONDS:-900}"

command -v ssh-keyscan > /dev/null || { echo "ssh-keyscan not found: install openssh-client where pulumi runs" >&2; exit 1; }
deadline=$((SECONDS + WAIT_SECONDS))
while :; do
  line="$(ssh-keyscan -T 10 -t ed25519 -p "$SSH_PORT" "$ADDRESS" 2> /dev/null | grep -m1 ' ssh-ed25519 ' || true)"
  if [ -n "$line" ]; then
    read -r _ kind key _ <<< "$line"
    echo "${kind} ${key}"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "no ed25519 host key from ${ADDRESS}:${SSH_PORT} after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 5
done
