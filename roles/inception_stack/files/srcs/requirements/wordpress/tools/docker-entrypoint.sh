#!/bin/bash
#
# Ansible managed
#
# Prepare the WordPress volume and the site, then run php-fpm in the
# foreground. Every step is done once and skipped when already done, so a
# restart never touches a live site. Any other command (`docker compose run
# wordpress bash`) runs as it is, with no set-up.
set -euo pipefail

case "${1:-}" in
  php-fpm*) ;;
  *) exec "$@" ;;
esac

ENTRYPOINT_NAME=wordpress
# shellcheck source-path=SCRIPTDIR source=secrets.sh
. /usr/local/lib/inception/secrets.sh

webroot=/var/www/html
runtime_secrets=/run/inception

require_secret db_password
require_secret credentials

# The WordPress version a tree of WordPress's files carries.
wordpress_version() { sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p" "$1/wp-includes/version.php"; }

# Writes each of WordPress's core files (wp-content left out) from the tree
# $1 into the tree $2 where the bytes differ. On GlusterFS (Swarm mode) every
# write goes to each node's brick, and a release changes a part of the
# ~2,500 files: comparing them first took the Swarm tier's upgrade job
# (one file changed) from 71 s to 19 s under load. A folder where a file
# belongs stops it (`cp -T`), as a copy of the whole tree would. Regular
# files only: the image's tree holds no links (its Dockerfile resolves them).
copy_changed_core_files() {
  local from=$1 to=$2 file
  (cd "$from" && find . -path ./wp-content -prune -o -type d -print0) | (cd "$to" && xargs -0 mkdir -p)
  (cd "$from" && find . -path ./wp-content -prune -o -type f -print0) |
    while IFS= read -r -d '' file; do
      # A file the site lacks fails cmp too (its message is expected, so
      # silenced) and is copied.
      cmp -s "$from/$file" "$to/$file" 2>/dev/null || cp -pT "$from/$file" "$to/$file"
    done
}

# 1. The files: copied into an empty volume once. An image with a newer
# WordPress than the site's replaces the core files (never wp-content:
# uploads, plugins and themes stay) and wp-install.php upgrades the database;
# the tree's upgrade.sh backed the site up first. An older one never starts.
if [ ! -e "$webroot/wp-includes/version.php" ]; then
  echo "wordpress: copying WordPress into the volume"
  cp -a /usr/src/wordpress/. "$webroot/"
  chown -R www-data:www-data "$webroot"
else
  site_version=$(wordpress_version "$webroot")
  image_version=$(wordpress_version /usr/src/wordpress)
  if [ -z "$site_version" ] || [ -z "$image_version" ]; then
    die "cannot read WordPress's version (wp-includes/version.php)"
  fi
  if version_lt "$image_version" "$site_version"; then
    die "this image's WordPress $image_version is older than the site's $site_version: refusing to start, nothing was changed (use an image of $site_version or newer, or restore a backup taken before the upgrade)"
  elif version_lt "$site_version" "$image_version"; then
    echo "wordpress: replacing WordPress $site_version's core files with $image_version's (wp-content is kept)"
    copy_changed_core_files /usr/src/wordpress "$webroot"
    find "$webroot" -path "$webroot/wp-content" -prune -o ! -user www-data -exec chown www-data:www-data {} +
    export WP_UPGRADED_FROM="$site_version"
  fi
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

# 3. The object cache drop-in and the must-use plugins that keep excerpts,
# comment lists, and the post list's months, counts and authors, and the one
# that shows Site Health NGINX's page cache, belong to the image: refreshed at
# every start.
install -d -o www-data -g www-data -m 0755 "$webroot/wp-content/mu-plugins"
for own in object-cache.php mu-plugins/inception-excerpts.php mu-plugins/inception-comments.php \
  mu-plugins/inception-months.php mu-plugins/inception-counts.php mu-plugins/inception-authors.php \
  mu-plugins/inception-site-health.php; do
  if ! cmp -s "/usr/local/lib/inception/${own#mu-plugins/}" "$webroot/wp-content/$own"; then
    install -o www-data -g www-data -m 0644 "/usr/local/lib/inception/${own#mu-plugins/}" "$webroot/wp-content/$own"
  fi
done

# 4. The database password for php-fpm's workers: the Docker secret is
# root-only, so root copies it for www-data into memory (a tmpfs).
install -d -o root -g www-data -m 0750 "$runtime_secrets"
install -o root -g www-data -m 0440 /run/secrets/db_password "$runtime_secrets/db_password"
# Redis's password likewise, when the Redis bonus service is on.
if [ -s /run/secrets/redis_password ]; then
  install -o root -g www-data -m 0440 /run/secrets/redis_password "$runtime_secrets/redis_password"
fi

# 5. The database. Compose starts MariaDB and this container together, so the
# copy above overlaps MariaDB's first initialisation; after a reboot Docker
# starts every container at once. Wait, bounded by the start period both
# services have, while the database cannot be reached at all (a client error,
# 20xx: no server yet); any other answer, even a refusal, goes on to
# wp-install, which says what is wrong. The question is the healthcheck's, as
# www-data with WordPress's own credentials.
database_state() { setpriv --reuid=www-data --regid=www-data --init-groups php /usr/local/lib/inception/health.php || true; }
db_wait_s=300
db_deadline=$((SECONDS + db_wait_s))
db_state=$(database_state)
while [[ "$db_state" =~ error\ 20[0-9][0-9] ]]; do
  [ "$SECONDS" -lt "$db_deadline" ] || die "the database did not answer within $db_wait_s s ($db_state)"
  sleep 1
  db_state=$(database_state)
done

# 6. The site: installed once (a no-op when it already is), as www-data.
WP_ADMIN_PASSWORD=$(read_secret_key credentials wp_admin_password)
WP_USER_PASSWORD=$(read_secret_key credentials wp_user_password)
export WP_ADMIN_PASSWORD WP_USER_PASSWORD
setpriv --reuid=www-data --regid=www-data --init-groups \
  php /usr/local/lib/inception/wp-install.php
unset WP_ADMIN_PASSWORD WP_USER_PASSWORD

exec "$@"
