#!/bin/bash
#
# Ansible managed
#
# Creates each missing secret file of the stack with a random password;
# never replaces one that exists (the database was initialised with it).
#   make-secrets.sh DIR FILE...
# credentials.txt holds the two WordPress passwords (wp_admin_password=...,
# wp_user_password=...); every other FILE one password. Only names are
# printed, never a value.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 DIR FILE..." >&2; exit 2; }
dir=$1; shift
umask 077

# 24 letters and digits from the kernel's random source.
random_password() {
  local password
  password=$(head -c 1024 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c 24)
  [ ${#password} -eq 24 ] || { echo "make-secrets: /dev/urandom gave too little" >&2; exit 1; }
  printf '%s' "$password"
}

mkdir -p "$dir"
chmod 0700 "$dir"
for name in "$@"; do
  case "$name" in
    */*|.*|'') echo "make-secrets: '$name' is not a file name" >&2; exit 2 ;;
  esac
  file="$dir/$name"
  [ -e "$file" ] && continue
  # Written beside the file, then renamed: never half a secret.
  if [ "$name" = credentials.txt ]; then
    printf 'wp_admin_password=%s\nwp_user_password=%s\n' "$(random_password)" "$(random_password)" > "$file.partial"
  else
    printf '%s\n' "$(random_password)" > "$file.partial"
  fi
  mv "$file.partial" "$file"
  echo "make-secrets: created $file (mode 0600)"
done
