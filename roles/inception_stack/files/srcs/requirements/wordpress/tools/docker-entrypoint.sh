#!/bin/bash
#
# Ansible managed
#
# Prepare the WordPress volume and the site, then run php-fpm in the
# foreground. Every step is done once and skipped when already done, so a
# restart never touches a live site.
set -euo pipefail

webroot=/var/www/html
runtime_secrets=/run/inception

die() { echo "wordpress: $*" >&2; exit 1; }

# credentials.txt holds key=value lines; read one value without sourcing it.
credential() {
  local value
  value=$(sed -n "s/^$1=//p" /run/secrets/credentials | head -n 1)
  [ -n "$value" ] || die "the Docker secret credentials has no $1"
  printf '%s' "$value"
}

[ -s /run/secrets/db_password ] || die "the Docker secret db_password is missing or empty"
[ -s /run/secrets/credentials ] || die "the Docker secret credentials is missing or empty"

# 1. The files: copied into an empty volume once, never again.
if [ ! -e "$webroot/wp-includes/version.php" ]; then
  echo "wordpress: copying WordPress into the volume"
  cp -a /usr/src/wordpress/. "$webroot/"
  chown -R www-data:www-data "$webroot"
fi

# 2. Salts: random, made once, kept with the site.
if [ ! -e "$webroot/wp-salts.php" ]; then
  # PHP code: its $variables are PHP's, not the shell's.
  # shellcheck disable=SC2016
  php -r '
    $keys = ["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
             "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"];
    $out = "<?php\n// Made once at first start; keep it with the site.\n";
    foreach ($keys as $key) {
        $out .= sprintf("define(%s, %s);\n", var_export($key, true), var_export(bin2hex(random_bytes(32)), true));
    }
    file_put_contents("/var/www/html/wp-salts.php.partial", $out);
  '
  chown www-data:www-data "$webroot/wp-salts.php.partial"
  chmod 0640 "$webroot/wp-salts.php.partial"
  mv "$webroot/wp-salts.php.partial" "$webroot/wp-salts.php"
fi

# 3. The object cache drop-in belongs to the image: refreshed at every start.
if ! cmp -s /usr/local/lib/inception/object-cache.php "$webroot/wp-content/object-cache.php"; then
  install -o www-data -g www-data -m 0644 /usr/local/lib/inception/object-cache.php \
    "$webroot/wp-content/object-cache.php"
fi

# 4. The database password for php-fpm's workers: the Docker secret is
# root-only, so root copies it for www-data into memory (a tmpfs).
install -d -o root -g www-data -m 0750 "$runtime_secrets"
install -o root -g www-data -m 0440 /run/secrets/db_password "$runtime_secrets/db_password"
# Redis's password likewise, when the Redis bonus service is on.
if [ -s /run/secrets/redis_password ]; then
  install -o root -g www-data -m 0440 /run/secrets/redis_password "$runtime_secrets/redis_password"
fi

# 5. The site: installed once (a no-op when it already is), as www-data.
WP_ADMIN_PASSWORD=$(credential wp_admin_password)
WP_USER_PASSWORD=$(credential wp_user_password)
export WP_ADMIN_PASSWORD WP_USER_PASSWORD
setpriv --reuid=www-data --regid=www-data --init-groups \
  php /usr/local/lib/inception/wp-install.php
unset WP_ADMIN_PASSWORD WP_USER_PASSWORD

exec "$@"
