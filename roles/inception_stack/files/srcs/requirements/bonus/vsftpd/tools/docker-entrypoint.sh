#!/bin/bash
#
# Ansible managed
#
# Make the FTP account from the Docker secrets, in memory, then run vsftpd in
# the foreground. The password goes to db_load on its standard input: never
# on a command line, never on disk. Any other command (`docker compose run
# vsftpd bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  vsftpd) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=vsftpd
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

require_secret ftp_password
[[ "${FTP_USER:-}" =~ ^[a-z][a-z0-9_-]{0,31}$ ]] || die "FTP_USER must be a lowercase account name (got '${FTP_USER:-}')"

install -d -m 0755 /run/vsftpd /run/vsftpd/empty
rm -f /run/vsftpd/users.db
# db_load -T reads a backslash as an escape: each one is doubled to stay itself.
password=$(read_secret ftp_password)
( umask 077; printf '%s\n%s\n' "$FTP_USER" "${password//\\/\\\\}" \
    | db_load -T -t hash /run/vsftpd/users.db )
unset password

exec "$@"
