#!/usr/bin/env bash
# Stop and remove the local API load balancer (the node leaves the cluster).
# Idempotent: a node without it is left as it is.
set -euo pipefail

pidfile=/run/sovereign-api-lb.pid
unit=/etc/systemd/system/sovereign-api-lb.service

if [ -d /run/systemd/system ] && [ -f "$unit" ]; then
  systemctl disable --now sovereign-api-lb.service > /dev/null 2>&1 || true
  rm -f "$unit"
  systemctl daemon-reload
elif [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
  kill "$(cat "$pidfile")"
fi
rm -f "$pidfile" /etc/sovereign/api-lb.cfg
echo "api-lb: removed"
