#!/bin/bash
# The reference stack's MariaDB: Debian's defaults; the database and its
# account made at the first start (Debian's package already made the system
# tables in the image).
set -euo pipefail

[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql > /dev/null
if [ ! -d "/var/lib/mysql/${MYSQL_DATABASE}" ]; then
  cat > /tmp/init.sql <<SQL
CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE}\`;
CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${MYSQL_DATABASE}\`.* TO '${MYSQL_USER}'@'%';
SQL
  chown mysql:mysql /tmp/init.sql
  exec mariadbd --user=mysql --init-file=/tmp/init.sql
fi
exec mariadbd --user=mysql
