#!/bin/bash
#
# Ansible managed
#
# One backup of the site into $BACKUP_DIR/<UTC time>/ (default /backups, the
# volume bound to the data folder): the database (mariadb-dump,
# one consistent transaction) and the WordPress files. Written under a
# temporary name and renamed when complete, so a folder without ".partial"
# is always a whole backup. The newest BACKUP_KEEP backups are kept.
set -euo pipefail

die() { echo "backup: $*" >&2; exit 1; }

[ -s /run/secrets/db_password ] || die "the Docker secret db_password is missing or empty"
# shellcheck source=/dev/null
. /etc/inception/backup.env
keep=$BACKUP_KEEP
dir=$BACKUP_DIR
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number, at least 1 (got '$keep')"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$dir/.partial-$stamp"
trap 'rm -rf "$partial" /run/backup/client.cnf' EXIT

# The password goes to mariadb-dump in an option file in memory, never on a
# command line.
install -d -m 0700 /run/backup
install -d -m 0755 "$dir"
install -d -m 0700 "$partial"
( umask 077; printf '[client]\nhost=mariadb\nuser=%s\npassword=%s\n' \
    "${MYSQL_USER:?}" "$(tr -d '\n' < /run/secrets/db_password)" > /run/backup/client.cnf )

mariadb-dump --defaults-extra-file=/run/backup/client.cnf --single-transaction --quick \
  --no-tablespaces "${MYSQL_DATABASE:?}" | gzip > "$partial/database.sql.gz"
tar -C /var/www/html -czf "$partial/wordpress-files.tar.gz" .
chmod 0600 "$partial"/*
mv "$partial" "$dir/$stamp"
echo "backup: $dir/$stamp ($(du -sh "$dir/$stamp" | cut -f1))"

# Only whole backups are counted; the oldest beyond $keep go.
find "$dir" -mindepth 1 -maxdepth 1 -type d -name '20*' | sort | head -n "-$keep" | xargs -r rm -rf
