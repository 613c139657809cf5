#!/bin/bash
#
# Ansible managed
#
# Hand Redis its password, then run it as the redis account in the
# foreground. The Docker secret is root's; the password's digest goes into an ACL
# file in memory (a tmpfs) that only redis reads, never onto a command line. Any
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

# The ACL file holds the password's SHA-256, not the password: Redis splits
# an ACL line as its own command line does, so a quote or a backslash in a
# clear-text password would break the line. printf is bash's own: no argv.
# Written as root first, then given to redis: root needs no DAC_OVERRIDE.
install -d -m 0700 /run/redis
digest=$(printf '%s' "$password" | sha256sum)
# The account may run only what its clients use: the object cache (GET, SET,
# SETEX, DEL, FLUSHDB, and ECHO, with which phpredis checks a kept
# connection before reusing it: refused, every request opened a new
# connection), the healthcheck (PING), the restore (FLUSHALL) and the
# look inside the docs and tests show (INFO, DBSIZE, SCAN, TTL). No CONFIG,
# no KEYS, no EVAL, no DEBUG, no MODULE.
commands='-@all +get +set +setex +del +flushdb +echo +flushall +ping +info +dbsize +scan +ttl'
( umask 077; printf 'user default on #%s ~* &* %s\n' "${digest%% *}" "$commands" > /run/redis/users.acl )
chown -R redis:redis /run/redis
unset password digest commands

exec setpriv --reuid=redis --regid=redis --init-groups "$@"
