#!/bin/bash
#
# Ansible managed
#
# Make the FTP account from the Docker secrets, in memory, then run vsftpd in
# the foreground. The password goes to db_load on its standard input: never
# on a command line, never on disk.
set -euo pipefail

die() { echo "vsftpd: $*" >&2; exit 1; }

[ -s /run/secrets/ftp_password ] || die "the Docker secret ftp_password is missing or empty"
[[ "${FTP_USER:-}" =~ ^[a-z][a-z0-9_-]{0,31}$ ]] || die "FTP_USER must be a lowercase account name (got '${FTP_USER:-}')"

install -d -m 0755 /run/vsftpd /run/vsftpd/empty
rm -f /run/vsftpd/users.db
( umask 077; printf '%s\n%s\n' "$FTP_USER" "$(tr -d '\n' < /run/secrets/ftp_password)" \
    | db_load -T -t hash /run/vsftpd/users.db )

exec "$@"
