#!/bin/bash
# The reference stack's NGINX: a self-signed certificate made at the first
# start (never in an image layer), then NGINX in the foreground.
set -euo pipefail

if [ ! -f /etc/nginx/ssl/reference.key ]; then
  install -d -m 0700 /etc/nginx/ssl
  openssl req -x509 -nodes -newkey rsa:2048 -days 30 -subj "/CN=${DOMAIN_NAME}" \
    -keyout /etc/nginx/ssl/reference.key -out /etc/nginx/ssl/reference.crt 2> /dev/null
fi
exec nginx -g 'daemon off;'
