#!/usr/bin/env bash
# The delete of the cluster's health gate (<c>-health), on the first member:
# mark the etcd cluster as being destroyed as a whole.
#
# Parameters (environment):
#   CONF_DIR  /etc/etcd (overridden only by the tests)
#
# Pulumi deletes the gate only when the whole ExternalEtcd goes (pulumi
# destroy, or etcd removed from the spec), before any of its members, and
# the first member is removed last. etcd-member-remove.sh wipes a member
# that no other member answers only when it finds this mark; etcd-health.sh
# (the gate's create/update) clears it, so a cluster gated again is not
# torn down by an old mark.
set -euo pipefail

CONF_DIR="${CONF_DIR:-/etc/etcd}"

if [ ! -d "$CONF_DIR" ]; then
  echo "etcd teardown: ${CONF_DIR} is absent, nothing to mark"
  exit 0
fi
printf 'the cluster health gate was deleted at %s: the whole etcd cluster is being destroyed\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "${CONF_DIR}/teardown"
echo "etcd teardown: marked on this member"
