#!/bin/sh
# The mail worker of the PaaS-style example: any command can be an app. It "sends" each mail in
# spool/mail by moving it to spool/sent, and stops cleanly on SIGTERM.
spool="${SPOOL:-spool}"
mkdir -p "$spool/mail" "$spool/sent"
echo "mail worker up: TYPE=$TYPE pid $$"
trap 'echo "mail worker: SIGTERM, stopping"; exit 0' TERM
while :; do
  for mail in "$spool"/mail/*.txt; do
    [ -e "$mail" ] || continue
    mv "$mail" "$spool/sent/" && echo "sent $(basename "$mail" .txt)"
  done
  sleep 0.1
done
