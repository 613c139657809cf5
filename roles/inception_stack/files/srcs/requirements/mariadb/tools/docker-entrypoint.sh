#!/bin/bash
#
# Ansible managed
#
# Initialise the database exactly once, then run mariadbd in the foreground.
#
# The first start creates the system tables, the WordPress database and its
# account with `mariadbd --bootstrap`: SQL on stdin, networking off, no server
# left running in the background, and no password ever written to a file.
# A marker written last says the initialisation finished. Any other command
# (`docker compose run mariadb bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  mariadbd | mysqld) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=mariadb
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

datadir=/var/lib/mysql
marker="$datadir/.inception-initialized"

# A value inside a single-quoted SQL string.
sql_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"; }

# A database or account name: the inventory's pre-flight allows only these.
check_name() {
  [[ "$2" =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "$1 must be 1-32 letters, digits or _ (got '$2')"
}

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
  touch "$marker"
  chown mysql:mysql "$marker"
  echo "mariadb: initialised"
fi

exec "$@"
