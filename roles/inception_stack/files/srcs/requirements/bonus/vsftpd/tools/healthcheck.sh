#!/bin/bash
#
# Ansible managed
#
# Healthy when vsftpd greets on its control port.
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/21
read -r -t 5 greeting <&3
[[ "$greeting" == 220* ]]
