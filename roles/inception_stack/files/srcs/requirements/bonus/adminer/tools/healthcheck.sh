#!/bin/bash
#
# Ansible managed
#
# Healthy when php-fpm answers a FastCGI request on the port NGINX uses.
set -euo pipefail
reply=$(SCRIPT_NAME=/ping SCRIPT_FILENAME=/ping REQUEST_METHOD=GET cgi-fcgi -bind -connect 127.0.0.1:9000)
[[ "$reply" == *pong* ]]
