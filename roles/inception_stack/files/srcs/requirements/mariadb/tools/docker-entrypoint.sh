#!/bin/bash
#
# Ansible managed
#
# Initialise the database exactly once, refuse a data folder a newer server
# wrote, then run mariadbd in the foreground. A folder an older server wrote
# is served, and upgraded once by `docker exec mariadb docker-entrypoint.sh
# upgrade-data` (the tree's upgrade.sh, while WordPress is stopped): in the
# running server, so nothing runs in the background here.
#
# The first start creates the system tables, the WordPress database and its
# account with `mariadbd --bootstrap`: SQL on stdin, networking off, no server
# left running in the background, and no password ever written to a file.
# A marker written last says the initialisation finished. Any other command
# (`docker compose run mariadb bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  mariadbd | mysqld | upgrade-data) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=mariadb
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

datadir=/var/lib/mysql
marker="$datadir/.inception-initialized"
# The version of the server that last ran this data folder.
version_mark="$datadir/.inception-server-version"
server_version=$(mariadbd --version | sed -n 's/.* Ver \([0-9][0-9.]*\).*/\1/p')
[ -n "$server_version" ] || die "cannot read this server's version from mariadbd --version"

# A value inside a single-quoted SQL string.
sql_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"; }

# The data folder's version: our mark, else what mariadb-upgrade (or
# mariadb-install-db) last wrote, else (neither) this server's.
data_version() {
  local file
  for file in "$version_mark" "$datadir/mariadb_upgrade_info" "$datadir/mysql_upgrade_info"; do
    if [ -s "$file" ]; then
      sed -n '1s/^\([0-9][0-9.]*\).*/\1/p' "$file"
      return
    fi
  done
  echo "$server_version"
}

# mariadb-upgrade in the running server (over its socket, as root), then the
# mark. Its line is the caller's (upgrade.sh's, in make's or the playbook's
# output): a docker exec cannot write to the daemon's log.
upgrade_data() {
  local from
  from=$(data_version)
  if ! version_lt "$from" "$server_version"; then
    echo "mariadb: the data folder is MariaDB $from's already: nothing to upgrade"
    return
  fi
  mariadb-upgrade --user=root --silent || die "mariadb-upgrade from $from to $server_version failed (see above)"
  printf '%s\n' "$server_version" > "$version_mark"
  chown mysql:mysql "$version_mark"
  echo "mariadb: upgraded the data folder from MariaDB $from to $server_version"
}

# A database or account name: the inventory's pre-flight allows only these.
check_name() {
  [[ "$2" =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "$1 must be 1-32 letters, digits or _ (got '$2')"
}

# In the running container (docker exec): no set-up, the server runs already.
if [ "$1" = upgrade-data ]; then
  upgrade_data
  exit 0
fi

install -d -o mysql -g mysql -m 0755 /run/mysqld
chown mysql:mysql "$datadir"
# Files another image's mysql account made (another uid) become this one's.
# Only names are read (no file contents): quick for a WordPress database.
if [ -n "$(find "$datadir" -mindepth 1 \( ! -user mysql -o ! -group mysql \) -print -quit)" ]; then
  echo "mariadb: giving $datadir back to the mysql account"
  chown -R mysql:mysql "$datadir"
fi

if [ ! -e "$marker" ]; then
  if [ -n "$(ls -A "$datadir")" ]; then
    die "$datadir holds files but no $(basename "$marker"): an earlier initialisation did not finish. Nothing was changed; move that folder's content away to initialise afresh."
  fi
  check_name MYSQL_DATABASE "${MYSQL_DATABASE:-}"
  check_name MYSQL_USER "${MYSQL_USER:-}"
  # Here, not only inside $(...) below, where a failure would end only the subshell.
  require_secret db_root_password
  require_secret db_password
  root_password=$(sql_string "$(read_secret db_root_password)")
  user_password=$(sql_string "$(read_secret db_password)")

  echo "mariadb: initialising $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=socket > /dev/null
  mariadbd --user=mysql --datadir="$datadir" --bootstrap --skip-networking <<SQL
USE mysql;
FLUSH PRIVILEGES;
-- root: local only (socket as the system's root, or its password). No root@'%'.
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('${root_password}');
DELETE FROM mysql.global_priv WHERE User = '';
CREATE DATABASE \`${MYSQL_DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${user_password}';
GRANT ALL PRIVILEGES ON \`${MYSQL_DATABASE}\`.* TO '${MYSQL_USER}'@'%';
FLUSH PRIVILEGES;
SQL
  unset root_password user_password
  printf '%s\n' "$server_version" > "$version_mark"
  touch "$marker"
  chown mysql:mysql "$version_mark" "$marker"
  echo "mariadb: initialised"
fi

# A data folder a newer server wrote is never opened by an older one; one an
# older server wrote is served, and upgraded by upgrade-data (above).
written_by=$(data_version)
if version_lt "$server_version" "$written_by"; then
  die "this image's MariaDB $server_version is older than the MariaDB $written_by that wrote $datadir: refusing to start, nothing was changed (use an image of $written_by or newer, or restore a backup taken before the upgrade)"
elif version_lt "$written_by" "$server_version"; then
  echo "mariadb: MariaDB $server_version on a data folder MariaDB $written_by wrote: the tree's upgrade.sh upgrades it (mariadb-upgrade)"
elif [ ! -s "$version_mark" ]; then
  printf '%s\n' "$server_version" > "$version_mark"
  chown mysql:mysql "$version_mark"
fi

exec "$@"
