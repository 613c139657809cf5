#!/bin/bash
#
# Ansible managed
#
# How this stack's entrypoints read Docker secrets: written once in the role
# (shared/tools/secrets.sh) and copied into the tools/ of every service that
# has an entrypoint, since each image builds from its own folder. Sourced by
# the entrypoint, which names itself first:
#   ENTRYPOINT_NAME=mariadb
#   . /usr/local/lib/inception/secrets.sh
# A value is never printed: messages name the secret, not what it holds.
# The entrypoints' other shared helpers live here too: die and version_lt.

SECRETS_DIR=${SECRETS_DIR:-/run/secrets}

# Stop the container with a message naming the service.
die() {
  echo "${ENTRYPOINT_NAME:-entrypoint}: $*" >&2
  exit 1
}

# Stop unless the secret NAME is mounted and not empty.
require_secret() {
  [ -s "$SECRETS_DIR/$1" ] || die "the Docker secret $1 is missing or empty ($SECRETS_DIR/$1)"
}

# The value of the secret NAME, without its trailing newline.
read_secret() {
  require_secret "$1"
  tr -d '\n' < "$SECRETS_DIR/$1"
}

# The value of KEY in the secret NAME, a file of key=value lines, read
# without sourcing it (a value may hold any character but a newline).
read_secret_key() {
  local value
  require_secret "$1"
  value=$(sed -n "s/^$2=//p" "$SECRETS_DIR/$1" | head -n 1)
  [ -n "$value" ] || die "the Docker secret $1 has no $2"
  printf '%s' "$value"
}

# True when version $1 comes before version $2 (Debian's and upstream's
# dotted numbers: 6.1.9 < 6.8.3, 10.11.19 < 11.8.3).
version_lt() {
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]
}
