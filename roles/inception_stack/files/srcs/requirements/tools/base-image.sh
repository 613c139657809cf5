#!/bin/bash
#
# Ansible managed
#
# Makes sure the base image every Dockerfile starts FROM is here:
#   base-image.sh IMAGE ARCHIVE
# kept when present; else pulled where a registry answers; else loaded from
# ARCHIVE (a `docker save` of it) when there is one; else a message says how
# to get it.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 IMAGE ARCHIVE" >&2; exit 2; }
image=$1 archive=$2

docker image inspect "$image" > /dev/null 2>&1 && exit 0
echo "base-image: $image is missing: pulling it"
if timeout 300 docker pull --quiet "$image"; then
  exit 0
fi
if [ -s "$archive" ]; then
  echo "base-image: no registry answers: loading $archive"
  docker load --quiet --input "$archive"
  exit 0
fi
cat >&2 <<MESSAGE
base-image: $image cannot be had: no registry answers and there is no saved
copy at $archive. On a machine that has the image, run
  docker save $image | gzip > debian-bookworm.tar.gz
copy that file to $archive and run make again.
MESSAGE
exit 1
