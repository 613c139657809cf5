#!/bin/bash
# Returns once this node's brick of a GlusterFS volume is online. When every
# node boots at once, glusterd starts its bricks only after it has met its
# peers; a FUSE mount made before any brick is up fails for good (systemd
# does not try again). The volume's mount at boot waits for this.
#
# Usage: gluster-brick-online VOLUME ADDRESS:PATH
set -euo pipefail

volume="${1:?usage: gluster-brick-online VOLUME ADDRESS:PATH}"
brick="${2:?usage: gluster-brick-online VOLUME ADDRESS:PATH}"

# The status is read whole, then searched: a reader that stopped at the first
# match (grep -q) could leave gluster writing into a closed pipe, and under
# pipefail its SIGPIPE would count as "not online" for good.
brick_online() {
  local status
  status=$(gluster --mode=script volume status "$volume" "$brick" --xml 2>/dev/null) || return 1
  [[ "$status" == *'<status>1</status>'* ]]
}

until brick_online; do
  sleep 2
done
