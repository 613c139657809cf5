#!/bin/bash
#
# Ansible managed
#
# Healthy while waiting for the other members (Swarm names a task in its DNS
# only once healthy, and the others must find it), then only as a member
# that serves: the stack's own checks (initialised, InnoDB, port 3306), and
# Synced, or Donor while it sends a copy to a member that joins. A view
# change keeps a member Synced: it does not fail the check.
set -euo pipefail
case "$(head -n 1 /run/galera/state 2> /dev/null)" in
  waiting\ *) exit 0 ;;
esac
/usr/local/bin/healthcheck.sh
comment=$(/usr/local/bin/galera-local-state.sh)
[[ "$comment" == Synced || "$comment" == Donor/Desynced ]]
