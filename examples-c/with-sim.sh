#!/usr/bin/env bash
# with-sim.sh AMI_SIM PROGRAM [ARGS...]: runs PROGRAM PORT ARGS... against a
# fresh ami-sim on a free port, then stops the simulator. The simulator's
# HTTP side (/rawman, /arawman) is on AMI_HTTP_PORT, in the environment.
set -euo pipefail
sim=$1; shift
out=$(mktemp)
"$sim" --listen 127.0.0.1:0 --http 127.0.0.1:0 --quiet > "$out" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "^http on" "$out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
export AMI_HTTP_PORT=$(sed -n 's/^http on .*:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "ami-sim did not start" >&2; exit 1; }
prog=$1; shift
"$prog" "$port" "$@"
