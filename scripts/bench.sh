#!/usr/bin/env bash
# Herald's benchmark suite: for each transport, a fresh `herald serve` and `herald bench` runs for
# burst fan-out, light-traffic latency, idle memory and connection rate; prints a table.
# Usage: scripts/bench.sh [connections (10000)] [burst messages (300)]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
M=${2:-300}
BIN=${HERALD_BIN:-.build/release/herald}
[ -n "${HERALD_BIN:-}" ] || swift build -c release --product herald >&2
out=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$out"' EXIT

run_server() {
  "$BIN" serve --config configs/herald.toml --log-level error >"$out/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:3111/goim/online/total >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}

field() { grep -F -- "$2" "$1" | head -1 | cut -c22-; }

printf '| transport | connections | conn/s | server KiB/conn | burst deliveries/s | lost | light p50 ms | light p99 ms | server CPU (burst) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for transport in tcp websocket; do
  run_server
  "$BIN" bench --transport "$transport" --connections "$N" --sources 4 --messages "$M" --server-pid "$SERVER" >"$out/burst" 2>/dev/null
  "$BIN" bench --transport "$transport" --connections "$N" --sources 4 --messages 10 --rate 1 --server-pid "$SERVER" >"$out/light" 2>/dev/null
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  conns=$(field "$out/burst" connections)
  mem=$(field "$out/burst" "server memory" | awk '{print $1}')
  tput=$(field "$out/burst" throughput | awk '{print $1}')
  lost=$(field "$out/burst" messages | sed -E 's/.* ([0-9]+) lost/\1/')
  p50=$(field "$out/light" "latency (ms)" | awk '{print $2}')
  p99=$(field "$out/light" "latency (ms)" | awk '{print $6}')
  cpu=$(field "$out/burst" "server CPU" | awk '{print $1}')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$transport" "$N" "$(echo "$conns" | sed -E 's/.* ([0-9.]+) conn\/s/\1/')" "$mem" "$tput" "$lost" "$p50" "$p99" "$cpu"
done
