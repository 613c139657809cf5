#!/bin/bash
# The reference stack's WordPress: the files copied into the volume once, a
# wp-config.php from the environment; the site is installed by the benchmark
# through WordPress's own install page.
set -euo pipefail

if [ ! -f /var/www/html/wp-load.php ]; then
  cp -a /usr/src/wordpress/. /var/www/html/
fi
if [ ! -f /var/www/html/wp-config.php ]; then
  salts=$(for key in AUTH SECURE_AUTH LOGGED_IN NONCE; do
    for kind in KEY SALT; do
      printf "define('%s_%s', '%s');\n" "$key" "$kind" "$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    done
  done)
  cat > /var/www/html/wp-config.php <<PHP
<?php
define('DB_NAME', '${WORDPRESS_DB_NAME}');
define('DB_USER', '${WORDPRESS_DB_USER}');
define('DB_PASSWORD', '${WORDPRESS_DB_PASSWORD}');
define('DB_HOST', '${WORDPRESS_DB_HOST}');
define('DB_CHARSET', 'utf8mb4');
${salts}
\$table_prefix = 'wp_';
if (!defined('ABSPATH')) { define('ABSPATH', __DIR__ . '/'); }
require_once ABSPATH . 'wp-settings.php';
PHP
fi
chown -R www-data:www-data /var/www/html
exec php-fpm8.2 --nodaemonize
