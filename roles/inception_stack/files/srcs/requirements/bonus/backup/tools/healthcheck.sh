#!/bin/bash
#
# Ansible managed
#
# Healthy when cron runs as PID 1, the backups folder can be written, the
# last run did not fail, and the newest backup is no older than the schedule
# allows (its longest gap, BACKUP_INTERVAL, plus time for the run itself).
# A container up for less than that is not held to it: a fresh install, or a
# machine that was off for a week, is healthy until its first run is due.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/inception/backup.env

[[ "$(cat /proc/1/comm)" == cron ]] || { echo "cron is not PID 1"; exit 1; }
[ -w "$BACKUP_DIR" ] || { echo "$BACKUP_DIR cannot be written"; exit 1; }

if [ -s "$BACKUP_DIR/.last-run" ]; then
  read -r outcome when reason < "$BACKUP_DIR/.last-run" || true
  if [ "$outcome" = failed ]; then
    echo "the last backup failed at $(date -u -d "@$when" '+%F %T UTC'): ${reason:-no reason given}"
    exit 1
  fi
fi

interval=${BACKUP_INTERVAL:?}
# The run's own time: an hour at most, less for schedules shorter than that.
allowed=$((interval + (interval < 3600 ? interval : 3600)))
now=$(date -u +%s)
# PID 1's start: the boot time plus its start in clock ticks (field 22).
boot=$(awk '/^btime/ { print $2 }' /proc/stat)
stat=$(cat /proc/1/stat)
# After the command's ")" come the fields from the third on: 22 is at 19.
read -r -a fields <<< "${stat##*) }"
started=$((boot + fields[19] / $(getconf CLK_TCK)))
[ $((now - started)) -ge "$allowed" ] || exit 0

newest=$(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20*' -printf '%f\n' | sort | tail -n 1)
[ -n "$newest" ] || { echo "no backup yet, though one was due"; exit 1; }
# 20261202T031500Z -> 2026-12-02 03:15:00 UTC
made=$(date -u -d "${newest:0:4}-${newest:4:2}-${newest:6:2} ${newest:9:2}:${newest:11:2}:${newest:13:2}" +%s)
age=$((now - made))
[[ $age -le $allowed ]] || { echo "the newest backup ($newest) is older than the schedule allows"; exit 1; }
