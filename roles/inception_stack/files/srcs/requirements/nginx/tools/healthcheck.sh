#!/bin/bash
#
# Ansible managed
#
# Healthy when NGINX accepts connections on 443.
exec 3<>/dev/tcp/127.0.0.1/443
