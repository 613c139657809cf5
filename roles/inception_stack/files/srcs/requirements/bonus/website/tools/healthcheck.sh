#!/bin/bash
#
# Ansible managed
#
# Healthy when the page is served.
set -euo pipefail
exec busybox wget -q -O /dev/null http://127.0.0.1:8080/index.html
