#!/bin/bash
#
# Ansible managed
#
# This member's one-line answer to another (galera-entrypoint.sh, on port
# 4570): "synced <node>" once its server is a Synced member of a running
# cluster, else what its entrypoint wrote: "looking <node>" (its first look
# for a running cluster), "waiting <node> <data rank> <seqno>" (none runs),
# "joining <node>" or "founding <node>".
set -uo pipefail
comment=$(/usr/local/bin/galera-local-state.sh 2> /dev/null)
if [ "$comment" = Synced ]; then
  echo "synced ${INCEPTION_GALERA_NODE:-}"
else
  head -n 1 /run/galera/state
fi
