#!/bin/bash
#
# Ansible managed
#
# Hand Redis its password, then run it as the redis account in the
# foreground. The Docker secret is root's; the password goes into an ACL file
# in memory (a tmpfs) that only redis reads, never onto a command line. Any
# other command (`docker compose run redis bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  redis-server) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=redis
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

password=$(read_secret redis_password)
[[ "$password" =~ ^[^[:space:]]{12,}$ ]] || die "the password must be 12 or more characters with no white space"

# Written as root first, then given to redis: root needs no DAC_OVERRIDE.
install -d -m 0700 /run/redis
( umask 077; printf 'user default on >%s ~* &* +@all\n' "$password" > /run/redis/users.acl )
chown -R redis:redis /run/redis
unset password

exec setpriv --reuid=redis --regid=redis --init-groups "$@"
