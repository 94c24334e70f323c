#!/usr/bin/env bash
# run-examples.sh PORT: runs every example against the AMI server on
# 127.0.0.1:PORT (`make run` starts ami-sim for it through with-sim.sh).
set -euo pipefail
cd "$(dirname "$0")"
port=$1
echo "== ami-sim listening on 127.0.0.1:$port"
args=(127.0.0.1 "$port" admin admin)

echo "== login_ping"; ./login_ping "${args[@]}"
echo "== login_ping over HTTP (/rawman, cookie), port $AMI_HTTP_PORT"
./login_ping --http /rawman 127.0.0.1 "$AMI_HTTP_PORT" admin admin
echo "== login_ping over HTTP (/arawman, Digest)"
./login_ping --http /arawman 127.0.0.1 "$AMI_HTTP_PORT" admin admin
echo "== monitor (3 s, while originate runs)"
./monitor "${args[@]}" 3 > monitor.out &
monitor_pid=$!
sleep 0.5
echo "== originate"; ./originate "${args[@]}"
echo "== poll_loop"; ./poll_loop "${args[@]}" 5
echo "== resilient (reconnect and keepalive on, 2 s)"; ./resilient "${args[@]}" 2 --reconnect --keepalive 1000
wait $monitor_pid
grep -q "^Event: OriginateResponse" monitor.out || { echo "monitor saw no OriginateResponse" >&2; exit 1; }
echo "== monitor saw $(grep -c '^Event: ' monitor.out) events, e.g.:"; grep '^Event: ' monitor.out | head -8
rm -f monitor.out
echo "== all examples ran"
