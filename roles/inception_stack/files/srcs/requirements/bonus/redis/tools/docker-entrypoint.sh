#!/bin/bash
#
# Ansible managed
#
# Hand Redis its password, then run it as the redis account in the
# foreground. The Docker secret is root's; the password goes into an ACL file
# in memory (a tmpfs) that only redis reads, never onto a command line.
set -euo pipefail

secret=/run/secrets/redis_password
[ -s "$secret" ] || { echo "redis: the Docker secret redis_password is missing or empty" >&2; exit 1; }
password=$(tr -d '\n' < "$secret")
[[ "$password" =~ ^[^[:space:]]{12,}$ ]] || { echo "redis: the password must be 12 or more characters with no white space" >&2; exit 1; }

# Written as root first, then given to redis: root needs no DAC_OVERRIDE.
install -d -m 0700 /run/redis
( umask 077; printf 'user default on >%s ~* &* +@all\n' "$password" > /run/redis/users.acl )
chown -R redis:redis /run/redis
unset password

exec setpriv --reuid=redis --regid=redis --init-groups "$@"
