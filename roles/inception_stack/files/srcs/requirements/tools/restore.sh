#!/bin/bash
#
# Ansible managed
#
# Brings the site back from one backup of the backup service (a folder with
# database.sql.gz and wordpress-files.tar.gz), or from the copy upgrade.sh
# takes before an upgrade (mariadb-files.tar.gz and wordpress-files.tar.gz:
# both data folders, put back with every service that uses them stopped):
#   restore.sh BACKUP DATA_DIR DATABASE
# with COMPOSE set to the tree's compose command. It refuses a folder that is
# not a whole backup before touching anything; brings the stack up first when
# it is not (after `make fclean` and `make wipe-data`: a fresh site, whose
# database accounts the restored data then uses); stops only what writes the
# site (WordPress, FTP, the backup service); empties and reloads the database
# as MariaDB's root over its socket; replaces the WordPress files; empties the
# object caches (Redis here, APCu by php-fpm's restart) and starts them again,
# then restarts NGINX (which looks their addresses up at its start).
set -euo pipefail

die() { echo "restore: $*" >&2; exit 1; }
say() { echo "restore: $*"; }

[ $# -eq 3 ] || die "usage: make restore BACKUP=<a backup folder, e.g. $2/backups/<UTC time>>"
backup=${1%/} data=$2 database=$3
: "${COMPOSE:?COMPOSE must be the compose command of the tree}"

# A whole backup, or nothing is touched.
[ -d "$backup" ] || die "'$backup' is not a folder"
case "$(basename "$backup")" in
  .partial-*) die "'$backup' is a backup that never finished (.partial): pick another" ;;
esac
# A copy of the data folders (upgrade.sh's): put back as it was taken, with
# whatever images the tree builds now (those of the site's versions, after
# going back to the previous tree).
if [ -e "$backup/mariadb-files.tar.gz" ]; then
  for folder in mariadb wordpress; do
    tar -tzf "$backup/$folder-files.tar.gz" > /dev/null 2>&1 ||
      die "'$backup' is not a whole copy of the data folders: $folder-files.tar.gz is missing or damaged"
  done
  say "putting back the data folders from $backup"
  $COMPOSE stop > /dev/null
  for folder in mariadb wordpress; do
    find "$data/$folder" -mindepth 1 -delete
    tar -C "$data/$folder" --same-owner -xzpf "$backup/$folder-files.tar.gz"
  done
  # Bounded: an image older than the data refuses to start and would loop.
  $COMPOSE up --detach --wait --wait-timeout 900 > /dev/null ||
    die "the services did not become healthy on the data put back (see 'make logs')"
  say "done: the site is as it was at $(basename "$backup")"
  exit 0
fi

for file in database.sql.gz wordpress-files.tar.gz; do
  [ -s "$backup/$file" ] || die "'$backup' is not a whole backup: $file is missing or empty"
done
gzip --test "$backup/database.sql.gz" 2> /dev/null || die "'$backup/database.sql.gz' is damaged (gzip)"
# The dump's first lines (zcat stops early, hence no pipefail here).
header=$(set +o pipefail; zcat "$backup/database.sql.gz" | head -c 4096)
grep -q -- '-- MariaDB dump' <<< "$header" || die "'$backup/database.sql.gz' is not a dump of mariadb-dump"
tar -tzf "$backup/wordpress-files.tar.gz" > /dev/null 2>&1 ||
  die "'$backup/wordpress-files.tar.gz' is damaged (tar)"
tar -tzf "$backup/wordpress-files.tar.gz" ./wp-settings.php > /dev/null 2>&1 ||
  die "'$backup/wordpress-files.tar.gz' holds no WordPress (no wp-settings.php)"

say "restoring $backup"
# Up first: MariaDB must run, with its accounts (a wiped machine gets a fresh site).
$COMPOSE up --detach --wait > /dev/null
running=$($COMPOSE ps --services --status running)
writers=()
for service in wordpress vsftpd backup; do
  grep -qx "$service" <<< "$running" && writers+=("$service")
done
say "stopping ${writers[*]} (the others keep running)"
$COMPOSE stop "${writers[@]}" > /dev/null

say "loading the database"
docker exec -i mariadb mariadb --batch <<SQL
DROP DATABASE IF EXISTS \`$database\`;
CREATE DATABASE \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
zcat "$backup/database.sql.gz" | docker exec -i mariadb mariadb --batch "$database"

say "replacing the WordPress files in $data/wordpress"
find "$data/wordpress" -mindepth 1 -delete
tar -C "$data/wordpress" --same-owner -xzpf "$backup/wordpress-files.tar.gz"

# WordPress is stopped: nothing refills Redis with what the old site cached.
if grep -qx redis <<< "$running"; then
  docker exec redis sh -c 'REDISCLI_AUTH=$(cat /run/secrets/redis_password) exec redis-cli FLUSHALL' > /dev/null
  say "emptied Redis"
fi
say "starting ${writers[*]} (php-fpm starts with an empty APCu)"
$COMPOSE up --detach > /dev/null
# NGINX looked its upstreams up when it started; containers started again
# together may have each other's former addresses.
if grep -qx nginx <<< "$running"; then
  $COMPOSE restart nginx > /dev/null
  say "restarted nginx, which finds them at their new addresses"
fi
$COMPOSE up --detach --wait > /dev/null
say "done: the site is as it was at $(basename "$backup")"
