#!/bin/bash
#
# Ansible managed
#
# Runs between building the images and starting them (`make up`, and the
# playbook): when the wordpress or mariadb image carries a newer WordPress or
# MariaDB than the site, it
#   - keeps the images the containers run now (tagged <service>:<tag>-before-upgrade),
#   - stops what uses the data (NGINX keeps running) and copies both data
#     folders into DATA_DIR/backups/pre-upgrade-<UTC time>,
#   - starts MariaDB on its new image and upgrades its data once
#     (mariadb-upgrade, in the running server, WordPress still stopped), then
#     WordPress, whose entrypoint replaces the core files and upgrades its
#     database, and waits until both are healthy;
#   - if that fails, puts the copied folders back, starts the images it kept,
#     and exits 1: the site is as it was. The new images stay, tagged
#     <service>:<tag>-failed-upgrade: the playbook's next run builds them
#     again and tries once more, as `make` always does.
# An image older than the site is refused before the data is touched: the
# images the containers run get their names back (a later `compose up`
# recreates nothing), the refused ones are kept as <service>:<tag>-failed-upgrade.
#   upgrade.sh DATA_DIR TAG
# with COMPOSE set to the tree's compose command, and UPGRADE_TIMEOUT (900 s)
# the seconds each new image may take to become healthy (mariadb-upgrade of a
# large site takes a while). Nothing to do: no output.
set -euo pipefail

die() { echo "upgrade: $*" >&2; exit 1; }
say() { echo "upgrade: $*"; }

[ $# -eq 2 ] || die "usage: upgrade.sh DATA_DIR TAG"
data=$1 tag=$2
: "${COMPOSE:?COMPOSE must be the compose command of the tree}"
timeout=${UPGRADE_TIMEOUT:-900}

version_lt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]; }
first_version() { sed -n '1s/^\([0-9][0-9.]*\).*/\1/p'; }
# The version a WordPress version.php on standard input names.
wordpress_version() { sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p"; }

# What the site holds: read from its folders (nothing yet: a new site).
site_wordpress=$(wordpress_version 2> /dev/null < "$data/wordpress/wp-includes/version.php" || true)
site_mariadb=""
for file in .inception-server-version mariadb_upgrade_info mysql_upgrade_info; do
  if [ -s "$data/mariadb/$file" ]; then
    site_mariadb=$(first_version < "$data/mariadb/$file")
    break
  fi
done
# An earlier attempt's images, kept to be tried again: done with them.
forget_failed_attempts() {
  local service
  for service in mariadb wordpress; do
    docker image rm "$service:$tag-failed-upgrade" > /dev/null 2>&1 || true
  done
}

# Refused: the containers' own images get their names back, the refused
# ones are set aside, so that whoever runs next (make, the playbook) sees the
# refusal again instead of starting them.
refuse() {
  local service running
  for service in mariadb wordpress; do
    running=$(docker inspect --format '{{.Image}}' "$service" 2> /dev/null) || continue
    if [ "$(docker image inspect --format '{{.Id}}' "$service:$tag")" != "$running" ]; then
      docker tag "$service:$tag" "$service:$tag-failed-upgrade"
      docker tag "$running" "$service:$tag"
    fi
  done
  die "$*"
}

if [ -z "$site_wordpress$site_mariadb" ]; then
  forget_failed_attempts
  exit 0
fi

# What the images carry, read from the images themselves (no network).
image_wordpress=$(docker run --rm --network none --entrypoint cat "wordpress:$tag" \
  /usr/src/wordpress/wp-includes/version.php | wordpress_version)
image_mariadb=$(docker run --rm --network none --entrypoint mariadbd "mariadb:$tag" --version |
  sed -n 's/.* Ver \([0-9][0-9.]*\).*/\1/p')
if [ -z "$image_wordpress" ] || [ -z "$image_mariadb" ]; then
  die "cannot read the versions the images wordpress:$tag and mariadb:$tag carry"
fi

jumps=()
for pair in "WordPress:wordpress:$site_wordpress:$image_wordpress" "MariaDB:mariadb:$site_mariadb:$image_mariadb"; do
  IFS=: read -r name service site image <<< "$pair"
  [ -n "$site" ] || continue
  if version_lt "$image" "$site"; then
    refuse "the image $service:$tag carries $name $image, older than the site's $name $site: nothing was changed, the containers keep the images they run (build the images of $site or newer)"
  elif version_lt "$site" "$image"; then
    jumps+=("$name $site to $image")
  fi
done
if [ ${#jumps[@]} -eq 0 ]; then
  forget_failed_attempts
  exit 0
fi
summary=$(printf '%s, ' "${jumps[@]}")
summary=${summary%, }
say "upgrading $summary"

# The images the containers run now, to come back to.
kept=()
for service in mariadb wordpress; do
  if image=$(docker inspect --format '{{.Image}}' "$service" 2> /dev/null); then
    docker tag "$image" "$service:$tag-before-upgrade"
    kept+=("$service")
  fi
done

# Only what writes the data stops; NGINX answers 502 meanwhile.
running=$($COMPOSE ps --services --status running)
writers=()
for service in wordpress vsftpd backup mariadb; do
  grep -qx "$service" <<< "$running" && writers+=("$service")
done
[ ${#writers[@]} -eq 0 ] || $COMPOSE stop "${writers[@]}" > /dev/null

stamp=$(date -u +%Y%m%dT%H%M%SZ)
backup="$data/backups/pre-upgrade-$stamp"
install -d -m 0700 "$data/backups" "$data/backups/.partial-pre-upgrade-$stamp"
for folder in mariadb wordpress; do
  tar -C "$data/$folder" -czf "$data/backups/.partial-pre-upgrade-$stamp/$folder-files.tar.gz" .
done
printf '%s\n' "$summary" > "$data/backups/.partial-pre-upgrade-$stamp/versions"
mv "$data/backups/.partial-pre-upgrade-$stamp" "$backup"
say "copied the data folders into $backup"

# NGINX looked WordPress's address up when it started: the new container may
# have another.
restart_nginx() {
  if grep -qx nginx <<< "$running"; then
    $COMPOSE restart nginx > /dev/null
  fi
}

# One service on its new image, until healthy (what it depends on is healthy
# already; --no-deps would give it another configuration hash, and the next
# `compose up` would recreate it). A restart means its entrypoint failed: with
# restart: unless-stopped it would loop, and `compose up --wait` would wait for
# good.
start_and_watch() {
  local service=$1 state deadline=$((SECONDS + timeout))
  $COMPOSE up --detach --no-build "$service" > /dev/null || return 1
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(docker inspect --format '{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$service") || return 1
    case $state in
      "running 0 healthy") return 0 ;;
      "running 0 "* | "created 0 "*) sleep 2 ;;
      *) echo "upgrade: $service failed on its new image ($state)" >&2; return 1 ;;
    esac
  done
  echo "upgrade: $service was not healthy within $timeout s" >&2
  return 1
}

put_back() {
  say "the upgrade failed: putting the data back from $backup"
  $COMPOSE stop mariadb wordpress > /dev/null || true
  for folder in mariadb wordpress; do
    find "$data/$folder" -mindepth 1 -delete
    tar -C "$data/$folder" --same-owner -xzpf "$backup/$folder-files.tar.gz"
  done
  if [ ${#kept[@]} -eq 2 ]; then
    for service in "${kept[@]}"; do
      docker tag "$service:$tag" "$service:$tag-failed-upgrade"
      docker tag "$service:$tag-before-upgrade" "$service:$tag"
    done
    $COMPOSE up --detach --no-build --wait --wait-timeout "$timeout" > /dev/null ||
      die "the previous images did not start again either: see 'make logs'"
    restart_nginx
    for service in "${kept[@]}"; do
      docker image rm "$service:$tag-before-upgrade" > /dev/null
    done
    die "the upgrade failed (see 'make logs'): the site is back as it was, on the images it ran before"
  fi
  die "the upgrade failed (see 'make logs'): the data is back as it was; build the previous images and run 'make'"
}

if ! start_and_watch mariadb || ! docker exec mariadb docker-entrypoint.sh upgrade-data ||
  ! start_and_watch wordpress; then
  put_back
fi
restart_nginx
# WordPress's own line, with both versions, for whoever reads this run.
docker logs wordpress 2>&1 | grep '^wp-install: upgraded' | tail -n 1 || true
for service in "${kept[@]}"; do
  docker image rm "$service:$tag-before-upgrade" > /dev/null
done
forget_failed_attempts
say "upgraded $summary; the copy taken before: $backup"
