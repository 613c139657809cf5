#!/bin/bash
#
# Ansible managed
#
# Which member founds the cluster when none runs (galera-entrypoint.sh):
# reads one line per member, "<data rank> <seqno> <node>", and prints the
# node whose data goes furthest: the highest data rank (0 no data, 1 data
# from before Galera, 2 a Galera position), then the highest seqno; on a
# tie the founder's node (the first argument), then the first name.
#
# Usage: galera-rank.sh <founder's node> < members
set -euo pipefail
founder="${1:?usage: galera-rank.sh <founder node> < lines of \"<data rank> <seqno> <node>\"}"
awk -v founder="$founder" 'NF == 3 {print $1, $2, ($3 == founder ? 1 : 0), $3}' \
  | sort -k1,1nr -k2,2nr -k3,3nr -k4,4 \
  | awk 'NR == 1 {print $4}'
