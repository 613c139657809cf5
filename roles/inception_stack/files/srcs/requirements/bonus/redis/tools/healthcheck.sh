#!/bin/bash
#
# Ansible managed
#
# Healthy when Redis answers an authenticated PING (the password goes through
# the environment, never on the command line).
set -euo pipefail
REDISCLI_AUTH=$(tr -d '\n' < /run/secrets/redis_password)
export REDISCLI_AUTH
[[ "$(redis-cli -h 127.0.0.1 ping)" == PONG ]]
