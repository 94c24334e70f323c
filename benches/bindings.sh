#!/usr/bin/env bash
# bindings.sh PORT: events per second into C, Python and Go against the same
# ami-sim, one after the other in one run (`make bench-bindings`).
set -euo pipefail
cd "$(dirname "$0")/.."
port=$1
n=${EVENTS:-200000}
echo "events of ~500 bytes into each language ($n per measure, same ami-sim):"
target/release/c_bench "$port" "$n" 1000 | grep -E "raw read|C callback"
(cd bindings/python && python3 bench.py "$port" "$n")
# asyncio: beside panoramisk when it is installed (pip install panoramisk)
(cd bindings/python && python3 bench_asyncio.py "$port" 20000)
(cd bindings/go && go run -tags ami_checkout ./bench "$port" "$n")
