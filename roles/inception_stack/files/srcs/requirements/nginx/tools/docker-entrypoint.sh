#!/bin/bash
#
# Ansible managed
#
# NGINX's set-up as root, then NGINX (its master stays root, its workers run
# as www-data). With the adminer bonus on, the Docker secret adminer_password
# (root's, 0600) becomes the basic-auth file NGINX's workers read at each
# request: in memory (/run is a tmpfs), readable by root and www-data only,
# written by bash's own printf (no command line holds it). Any other command
# (`docker compose run nginx bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  nginx) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=nginx
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

if [ -e "$SECRETS_DIR/adminer_password" ]; then
  [[ "${ADMINER_USER:-}" =~ ^[a-z][a-z0-9_-]{0,31}$ ]] \
    || die "ADMINER_USER must be a lowercase account name (got '${ADMINER_USER:-}')"
  password=$(read_secret adminer_password)
  install -d -m 0750 -o root -g www-data /run/nginx
  # {PLAIN}: NGINX compares as it is; any character but a line break works.
  ( umask 027; printf '%s:{PLAIN}%s\n' "$ADMINER_USER" "$password" > /run/nginx/adminer.htpasswd.new )
  chgrp www-data /run/nginx/adminer.htpasswd.new
  mv /run/nginx/adminer.htpasswd.new /run/nginx/adminer.htpasswd
  unset password
fi

exec "$@"
