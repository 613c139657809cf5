#!/bin/bash
#
# Ansible managed
#
# One member of the stack's MariaDB Galera cluster (Swarm mode), in front of
# the stack's own MariaDB entrypoint. Before mariadbd starts, the members
# find each other through Docker's DNS (every task of the service, with
# tasks.<service>) and a one-line answer on port 4570 (galera-state.sh):
#
# - a member that finds one Synced joins it (IST, or a full copy by rsync:
#   SST); this is a node coming back to a running cluster;
# - otherwise no cluster runs (a new one, or every node stopped): each member
#   says how far its data goes (its last committed sequence number, read with
#   --wsrep-recover after a crash), and once all INCEPTION_GALERA_MEMBERS
#   answered, the one that goes furthest founds the cluster
#   (--wsrep-new-cluster; on a tie INCEPTION_GALERA_FOUNDER's node, then the
#   first name) and the others join it. Nobody runs a command by hand, and
#   no member founds a cluster while another member could hold a later write.
#
# A member waiting for the others is healthy (galera-healthcheck.sh): Swarm
# names a task in its DNS only once healthy, and the others must find it.
# Nothing inside a pipeline stops reading early (`head`, awk's `exit`): under
# pipefail, the writer it leaves behind dies of SIGPIPE and takes the
# entrypoint with it (exit 141, seen in rolling updates: Swarm then pauses
# the update).
set -euo pipefail

case "${1:-}" in
  mariadbd | mysqld) ;;
  *) exec /usr/local/bin/docker-entrypoint.sh "$@" ;;
esac

datadir=/var/lib/mysql
state_dir=/run/galera
state_port=4570
node="${INCEPTION_GALERA_NODE:?this node, by name (INCEPTION_GALERA_NODE)}"
founder="${INCEPTION_GALERA_FOUNDER:?the founding node, by name (INCEPTION_GALERA_FOUNDER)}"
members="${INCEPTION_GALERA_MEMBERS:?how many members the cluster has (INCEPTION_GALERA_MEMBERS)}"
peers_name="${INCEPTION_GALERA_PEERS:?the DNS name of every member (INCEPTION_GALERA_PEERS)}"
[[ "$members" =~ ^[1-9][0-9]*$ ]] || { echo "galera: INCEPTION_GALERA_MEMBERS must be a count (got '$members')" >&2; exit 1; }

say() { echo "galera: $*"; }

# What this member says of itself (galera-state.sh, galera-healthcheck.sh),
# replaced whole: a reader never finds the file half written.
set_state() {
  echo "$*" > "$state_dir/state.new"
  mv -f "$state_dir/state.new" "$state_dir/state"
}

# This container's address on the stack's network: the interface that does
# not carry the default route (that one is docker_gwbridge, this node's own).
own_address() {
  local outside
  outside=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}')
  ip -4 -o addr show | awk -v outside="$outside" '$2 != "lo" && $2 != outside && !found {sub(/\/.*/, "", $4); print $4; found = 1}'
}

# How far this member's data goes: "<has data> <seqno> [<uuid>:<seqno>]".
# A folder with no data ranks below any data; data from before Galera (no
# grastate.dat) ranks below any Galera position. After a crash, the last
# field is the position read from InnoDB, which the server is started with:
# the cluster keeps its history, and a member that joins needs only what
# it missed (IST), not a full copy.
position() {
  local seqno recovered=""
  if [ ! -e "$datadir/.inception-initialized" ]; then
    echo "0 -1"
    return
  fi
  if [ ! -s "$datadir/grastate.dat" ]; then
    echo "1 -1"
    return
  fi
  seqno=$(sed -n 's/^seqno:[[:space:]]*\(-\{0,1\}[0-9]*\).*/\1/p' "$datadir/grastate.dat")
  if [ "${seqno:--1}" = -1 ]; then
    # A crash: the position is in InnoDB, not in grastate.dat.
    # The server's own options (Galera's checks refuse it without them),
    # and no cluster joined: it prints the position and stops.
    mariadbd --user=mysql --datadir="$datadir" "${options[@]}" --wsrep-cluster-address=gcomm:// \
      --wsrep-recover > "$state_dir/recover.log" 2>&1 || true
    recovered=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
      "$state_dir/recover.log" | tail -n 1)
    seqno=${recovered##*:}
    seqno=${seqno:--1}
    if [ -z "$recovered" ]; then
      # Ranked below any member that knows its position: it founds only on
      # a tie with every other, and says why.
      say "could not read the last committed position from InnoDB:" >&2
      grep -E '\[(ERROR|Warning)\]' "$state_dir/recover.log" | tail -n 5 >&2 || true
    else
      say "recovered the last committed position from InnoDB: $recovered" >&2
    fi
  fi
  echo "2 $seqno $recovered"
}

# Every other member's one-line answer (galera-state.sh), after its address.
ask_members() {
  local address
  for address in $(getent ahosts "$peers_name" | awk '{print $1}' | sort -u); do
    [ "$address" = "$own" ] && continue
    timeout 3 socat -T 2 - "TCP:$address:$state_port,connect-timeout=2" < /dev/null 2> /dev/null \
      | sed -n "1s/^/$address /p" || true
  done
}

install -d -m 0755 "$state_dir"
own=$(own_address)
[ -n "$own" ] || { echo "galera: no address on the stack's network" >&2; exit 1; }
options=(--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so
  --wsrep-cluster-name=inception --wsrep-node-name="$node" --wsrep-node-address="$own"
  --wsrep-sst-method=rsync --wsrep-provider-options="gcache.size=64M;pc.recovery=FALSE"
  --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2)
# The data folder belongs to the mysql account before anything reads it.
chown mysql:mysql "$datadir"
read -r has_data seqno recovered < <(position)
if [ -n "$recovered" ]; then
  options+=(--wsrep-start-position="$recovered")
fi
# Not "waiting" (healthy) before a first look found no running cluster: a
# member restarted in a rolling update must not look healthy to Swarm, which
# would stop the next one before this one joined.
set_state looking "$node"
socat TCP-LISTEN:"$state_port",reuseaddr,fork EXEC:/usr/local/bin/galera-state.sh &
say "$node ($own): data rank $has_data, position $seqno; looking for the other members"

said=""
while :; do
  answers=$(ask_members)
  synced=$(awk '$2 == "synced" {print $1}' <<< "$answers" | paste -sd, -)
  if [ -n "$synced" ]; then
    say "joining the running cluster through $synced"
    if [ ! -e "$datadir/.inception-initialized" ]; then
      # The state transfer brings the data; the marks say it is this
      # server's (the transfer skips the folder's loose files).
      mariadbd --version | sed -n 's/.* Ver \([0-9][0-9.]*\).*/\1/p' > "$datadir/.inception-server-version"
      touch "$datadir/.inception-initialized"
      chown mysql:mysql "$datadir/.inception-server-version" "$datadir/.inception-initialized"
    fi
    set_state joining "$node"
    exec /usr/local/bin/docker-entrypoint.sh "$@" "${options[@]}" --wsrep-cluster-address="gcomm://$synced"
  fi
  set_state waiting "$node" "$has_data" "$seqno"
  founding=$(awk '$2 == "founding" {print $3}' <<< "$answers" | paste -sd, -)
  waiting=$(awk '$2 == "waiting" {print $4, $5, $3}' <<< "$answers")
  count=$(($(grep -c . <<< "$waiting" || true) + 1))
  if [ -n "$founding" ]; then
    message="$founding founds the cluster; waiting for it"
  elif [ "$count" -ge "$members" ]; then
    best=$(printf '%s\n%s %s %s\n' "$waiting" "$has_data" "$seqno" "$node" | /usr/local/bin/galera-rank.sh "$founder")
    if [ "$best" = "$node" ]; then
      say "all $members members answered and this one goes furthest: founding the cluster"
      [ -s "$datadir/grastate.dat" ] && sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$datadir/grastate.dat"
      set_state founding "$node"
      exec /usr/local/bin/docker-entrypoint.sh "$@" "${options[@]}" --wsrep-new-cluster --wsrep-cluster-address=gcomm://
    fi
    message="$best founds the cluster; waiting for it"
  else
    message="$count of $members members answer; waiting for the others"
  fi
  [ "$message" = "$said" ] || say "$message"
  said=$message
  sleep 1
done
