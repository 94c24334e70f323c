#!/usr/bin/env bash
# Starts ami-sim on a free port and runs every example against it.
set -euo pipefail
cd "$(dirname "$0")"
sim=${1:-../target/release/ami-sim}
out=$(mktemp)
"$sim" --listen 127.0.0.1:0 --quiet > "$out" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "ami-sim did not start" >&2; exit 1; }
echo "== ami-sim listening on 127.0.0.1:$port"
args=(127.0.0.1 "$port" admin admin)

echo "== login_ping"; ./login_ping "${args[@]}"
echo "== monitor (3 s, while originate runs)"
./monitor "${args[@]}" 3 > monitor.out &
monitor_pid=$!
sleep 0.5
echo "== originate"; ./originate "${args[@]}"
echo "== poll_loop"; ./poll_loop "${args[@]}" 5
wait $monitor_pid
grep -q "^Event: OriginateResponse" monitor.out || { echo "monitor saw no OriginateResponse" >&2; exit 1; }
echo "== monitor saw $(grep -c '^Event: ' monitor.out) events, e.g.:"; grep '^Event: ' monitor.out | head -8
rm -f monitor.out
echo "== all examples ran"
