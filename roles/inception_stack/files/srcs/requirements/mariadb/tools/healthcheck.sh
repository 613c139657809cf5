#!/bin/bash
#
# Ansible managed
#
# Healthy only when the real server is serving: initialisation finished,
# InnoDB ready (asked over the socket, as root), and port 3306 listening for
# WordPress. The port is read from the kernel's table: a probe connection
# would fill the log with refused logins.
set -euo pipefail
[ -e /var/lib/mysql/.inception-initialized ] || exit 1
innodb=$(mariadb --protocol=socket --user=root --batch --skip-column-names \
  -e "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'InnoDB'")
case "$innodb" in YES|DEFAULT) ;; *) exit 1 ;; esac
# 0CEA is 3306; state 0A is LISTEN.
grep -qsE '^ *[0-9]+: [0-9A-F]+:0CEA [0-9A-F]+:0000 0A ' /proc/net/tcp /proc/net/tcp6
