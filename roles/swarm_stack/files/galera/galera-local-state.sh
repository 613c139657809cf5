#!/bin/bash
#
# Ansible managed
#
# This member's state in the cluster, as its server says it (Synced, Donor/
# Desynced, Joining...): for galera-state.sh and galera-healthcheck.sh.
# Fails when the server does not answer on its socket within 2 s.
set -euo pipefail
mariadb --protocol=socket --user=root --batch --skip-column-names --connect-timeout=2 \
  -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'" | cut -f2
