#!/usr/bin/env bash
# Herald's benchmark suite: for each transport, a fresh `herald serve` and `herald bench` runs for
# burst fan-out, light-traffic latency, idle memory and connection rate; then the 50,000-subscriber
# split deployment (scripts/bench-50k.sh; SKIP_50K=1 leaves it out) and the machine's loopback
# floor (scripts/loopback-floor.py). Prints a table per transport and the table against the targets.
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

field() { grep -- "^$2" "$1" | head -1 | cut -c22-; }

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
  rate=$(echo "$conns" | sed -E 's/.* ([0-9.]+) conn\/s/\1/')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$transport" "$N" "$rate" "$mem" "$tput" "$lost" "$p50" "$p99" "$cpu"
  eval "${transport}_tput=$tput ${transport}_lost=$lost ${transport}_mem=$mem ${transport}_p50=$p50 ${transport}_p99=$p99 ${transport}_rate=$rate"
done

big_tput="not run" big_lost="-" big_conns="-"
if [ -z "${SKIP_50K:-}" ]; then
  scripts/bench-50k.sh 50000 100 tcp >"$out/big" 2>&1 || true
  big_tput=$(field "$out/big" throughput | awk '{print $1}')
  big_lost=$(field "$out/big" messages | sed -E 's/.* ([0-9]+) lost/\1/')
  big_conns=$(field "$out/big" connections | awk '{print $1}')
fi
floor=$(python3 scripts/loopback-floor.py 5000 5 | grep '^floor' | sed -E 's/^floor +//')

# status <value> <op> <target>: "met" when value op target holds (numbers), else "not met".
status() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0); print (v == "" || v ~ /[^0-9.]/) ? "not measured" : (ok ? "met" : "not met") }'; }
kib4=3.906  # 4 KB (4,000 bytes) in KiB
echo
echo "Against the targets ($N subscribers, one room, 128-byte messages; $(nproc) cores):"
echo
printf '| measure | target | measured | status |\n|---|---|---|---|\n'
printf '| burst fan-out, websocket, nothing lost | >= 1,000,000 deliveries/s | %s, %s lost | %s |\n' "$websocket_tput" "$websocket_lost" "$(status "$websocket_tput" '>=' 1000000)"
printf '| burst fan-out, tcp, nothing lost | >= 1,000,000 deliveries/s | %s, %s lost | %s |\n' "$tcp_tput" "$tcp_lost" "$(status "$tcp_tput" '>=' 1000000)"
printf '| memory per idle authenticated connection, tcp | <= 4 KB | %s KiB | %s |\n' "$tcp_mem" "$(status "$tcp_mem" '<=' $kib4)"
printf '| memory per idle authenticated connection, websocket | <= 4 KB | %s KiB | %s |\n' "$websocket_mem" "$(status "$websocket_mem" '<=' $kib4)"
for t in tcp websocket; do
  p50v=$(eval echo "\$${t}_p50") p99v=$(eval echo "\$${t}_p99")
  ok=$( [ "$(status "$p50v" '<=' 15)" = met ] && [ "$(status "$p99v" '<=' 40)" = met ] && echo met || echo "not met" )
  printf '| light traffic 1 msg/s, %s: publish -> receive | p50 <= 15 ms, p99 <= 40 ms | p50 %s ms, p99 %s ms | %s |\n' "$t" "$p50v" "$p99v" "$ok"
done
best_rate=$(printf '%s\n%s\n' "$tcp_rate" "$websocket_rate" | sort -g | tail -1)
printf '| authenticated connections per second | >= 20,000/s | %s/s | %s |\n' "$best_rate" "$(status "$best_rate" '>=' 20000)"
printf '| 50,000 subscribers over three comets, nothing lost | >= 1,000,000 deliveries/s | %s, %s connections, %s lost | %s |\n' "$big_tput" "$big_conns" "$big_lost" "$(status "$big_tput" '>=' 1000000)"
echo
echo "Loopback floor of this machine (scripts/loopback-floor.py): $floor"
