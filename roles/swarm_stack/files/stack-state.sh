#!/bin/bash
# Ansible managed
#
# The state of a stack's services, for the role's wait until they converged
# (filter swarm_stack_services_settled): three answers of the engine, each
# ended by a line "---":
#   1. `docker stack services`, one JSON object a line (running/wanted tasks);
#   2. `docker service inspect` of them, a JSON array (each last update's state);
#   3. their tasks that should run and are of the service's current spec
#      (the engine's own `_up-to-date` filter, as `docker service update
#      --detach=false` asks), one JSON object a line.
#
# Usage: inception-stack-state <stack>
set -euo pipefail

stack=${1:?usage: inception-stack-state <stack>}

# One listing (a failure stops the script), each line its service's name
# then its JSON: the next two answers ask about the services of the first.
listing=$(docker stack services "$stack" --format '{{.Name}} {{json .}}')
if [ -n "$listing" ]; then
  mapfile -t listed <<<"$listing"
  services=("${listed[@]%% *}")
  printf '%s\n' "${listed[@]#* }"
  echo ---
  docker service inspect "${services[@]}"
  echo ---
  docker service ps --filter desired-state=running --filter _up-to-date=true --format '{{json .}}' \
    "${services[@]}"
else
  echo ---
  echo '[]'
  echo ---
fi
echo ---
