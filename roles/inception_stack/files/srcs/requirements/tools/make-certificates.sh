#!/bin/bash
#
# Ansible managed
#
# The local CA and the server certificate NGINX serves, with openssl; what
# exists is kept (a browser may already trust the CA).
#   make-certificates.sh DIR DOMAIN
# DIR gets ca.key, ca.csr, ca.crt (a CA that may only sign names under
# DOMAIN, and no IP address) and server.key, server.csr, server.crt (for
# DOMAIN, 397 days, browsers' limit): the files and modes the playbook's role
# writes, so that whichever runs first makes them and the other keeps them.
# (The playbook then keeps the CA's key on its controller only: a tree it
# provisioned has no ca.key, and needs none until the certificate is renewed.)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 DIR DOMAIN" >&2; exit 2; }
dir=$1 domain=$2
case "$domain" in
  *[!a-z0-9.-]*|''|.*|*.) echo "make-certificates: '$domain' is not a domain name" >&2; exit 2 ;;
esac
command -v openssl > /dev/null || { echo "make-certificates: openssl is missing" >&2; exit 1; }

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"

config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<CONFIG
[req]
distinguished_name = subject
[subject]
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:$domain, excluded;IP:0.0.0.0/0.0.0.0, excluded;IP:::/::
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$domain
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CONFIG

new_key() {  # FILE CURVE
  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1.partial" 2> /dev/null
  mv "$1.partial" "$1"
  echo "make-certificates: created $dir/$1"
}

# A serial number of 127 random bits, as the CA/Browser Forum asks.
serial() { echo "0x$(openssl rand -hex 16 | sed 's/^./7/')"; }

if [ ! -e ca.crt ]; then
  [ -e ca.key ] || new_key ca.key P-384
  openssl req -new -config "$config" -key ca.key -subj "/CN=Inception local CA" -out ca.csr
  openssl x509 -req -in ca.csr -signkey ca.key -days 3650 -set_serial "$(serial)" \
    -extfile "$config" -extensions ca -out ca.crt.partial 2> /dev/null
  mv ca.crt.partial ca.crt
  echo "make-certificates: created $dir/ca.crt (the local CA, for $domain only)"
fi
if [ ! -e server.crt ]; then
  [ -e ca.key ] || {
    echo "make-certificates: no server certificate, and no key for the CA in $dir/ca.crt (the playbook" \
      "that provisioned this tree keeps it on its controller): run the playbook again, or remove" \
      "$dir/ca.crt to make a new CA here (browsers must then trust the new one)" >&2
    exit 1
  }
  [ -e server.key ] || new_key server.key P-256
  openssl req -new -config "$config" -key server.key -subj "/CN=$domain" -out server.csr
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -days 397 -set_serial "$(serial)" \
    -extfile "$config" -extensions server -out server.crt.partial 2> /dev/null
  mv server.crt.partial server.crt
  echo "make-certificates: created $dir/server.crt for $domain"
fi
for private in ca.key ca.csr server.key server.csr; do
  [ ! -e "$private" ] || chmod 0600 "$private"
done
chmod 0644 ca.crt server.crt
