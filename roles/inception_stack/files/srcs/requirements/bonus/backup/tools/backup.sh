#!/bin/bash
#
# Ansible managed
#
# One backup of the site into $BACKUP_DIR/<UTC time>/ (default /backups, the
# volume bound to the data folder): the database (mariadb-dump,
# one consistent transaction) and the WordPress files. Written under a
# temporary name and renamed when complete, so a folder without ".partial"
# is always a whole backup. The newest BACKUP_KEEP backups are kept.
# Each run leaves its outcome in $BACKUP_DIR/.last-run ("ok <time>" or
# "failed <time> <reason>"), which the healthcheck reads.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/inception/backup.env
keep=$BACKUP_KEEP
dir=$BACKUP_DIR
password_file=${DB_PASSWORD_FILE:-/run/secrets/db_password}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$dir/.partial-$stamp"
options=""
outcome="failed $(date -u +%s) the run stopped before it finished"

finish() {
  local status=$?
  [ -z "$options" ] || rm -f "$options"
  # Only a run that held the lock cleans up and reports: a refused second
  # run (whose folder name may be the first one's) touches nothing.
  if [ "${locked:-no}" = yes ]; then
    rm -rf "$partial"
    [ "$status" -eq 0 ] && outcome="ok $(date -u +%s)"
    printf '%s\n' "$outcome" > "$dir/.last-run.partial" && mv "$dir/.last-run.partial" "$dir/.last-run"
  fi
}
trap finish EXIT
die() {
  echo "backup: $*" >&2
  outcome="failed $(date -u +%s) $*"
  exit 1
}

[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number, at least 1 (got '$keep')"
install -d -m 0700 /run/backup
install -d -m 0755 "$dir"

# One run at a time: a second one (cron while `make backup` runs) stops here.
exec 9> /run/backup/lock
flock --nonblock 9 || { echo "backup: another backup is running; this one stops" >&2; exit 1; }
locked=yes
# A run killed half-way left its temporary folder: no run is active now.
find "$dir" -mindepth 1 -maxdepth 1 -type d -name '.partial-*' -exec rm -rf {} +

[ -s "$password_file" ] || die "the Docker secret db_password is missing or empty"
install -d -m 0700 "$partial"

# The password goes to mariadb-dump in an option file of this run, in memory,
# never on a command line. Quoted, with \ and " escaped, so that every
# character a password may hold (# ' " \ $ % ;) reaches the server as it is.
options=$(mktemp /run/backup/client.XXXXXX)
password=$(tr -d '\n' < "$password_file")
password=${password//\\/\\\\}
password=${password//\"/\\\"}
printf '[client]\nhost=mariadb\nuser="%s"\npassword="%s"\n' "${MYSQL_USER:?}" "$password" > "$options"
unset password

mariadb-dump --defaults-extra-file="$options" --single-transaction --quick \
  --no-tablespaces "${MYSQL_DATABASE:?}" | gzip > "$partial/database.sql.gz" ||
  die "mariadb-dump failed"
# tar exits 1 when a file changed while it was read (a visitor's upload, a
# cache file): the archive is still whole, so the night's backup is kept.
tar_status=0
tar -C /var/www/html --warning=no-file-changed -czf "$partial/wordpress-files.tar.gz" . || tar_status=$?
case $tar_status in
  0) ;;
  1) echo "backup: some files changed while they were read; kept as read" >&2 ;;
  *) die "tar failed (exit $tar_status)" ;;
esac
chmod 0600 "$partial"/*
mv "$partial" "$dir/$stamp"
echo "backup: $dir/$stamp ($(du -sh "$dir/$stamp" | cut -f1))"

# Only whole backups are counted; the oldest beyond $keep go.
find "$dir" -mindepth 1 -maxdepth 1 -type d -name '20*' | sort | head -n "-$keep" | xargs -r rm -rf
