#!/usr/bin/env bash
# Room fan-out of two server binaries, runs alternating, with one load tool: the before/after
# measurement of a change on the push or connection path. Each run starts a fresh `herald serve`
# (the binary's own configuration file), connects N clients into one room over tcp and websocket
# and pushes M messages (`herald bench` of LOAD_BIN), then prints one line per run.
# Usage: scripts/bench-ab.sh A_BIN A_CONFIG B_BIN B_CONFIG [runs=4] [N=10000] [M=300]
#   A_ARGS / B_ARGS: extra `herald bench` arguments for that side's runs (e.g. B_ARGS=--recover).
#   e.g. build the previous commit in a git worktree, then
#   scripts/bench-ab.sh ../before/.build/release/herald ../before/configs/herald.toml \
#                       .build/release/herald configs/herald.toml
set -euo pipefail
cd "$(dirname "$0")/.."
A_BIN=$1 A_CONFIG=$2 B_BIN=$3 B_CONFIG=$4
RUNS=${5:-4} N=${6:-10000} M=${7:-300}
LOAD_BIN=${LOAD_BIN:-$B_BIN}
out=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$out"' EXIT

field() { grep -- "^$2" "$1" | head -1 | cut -c22-; }

printf '| run | binary | transport | conn/s | server KiB/conn | burst deliveries/s | lost | server CPU |\n|---|---|---|---|---|---|---|---|\n'
for run in $(seq "$RUNS"); do
  for side in A B; do
    bin=$([ $side = A ] && echo "$A_BIN" || echo "$B_BIN")
    config=$([ $side = A ] && echo "$A_CONFIG" || echo "$B_CONFIG")
    for transport in tcp websocket; do
      "$bin" serve --config "$config" --log-level error >"$out/server.log" 2>&1 &
      SERVER=$!
      for _ in $(seq 100); do curl -sf http://127.0.0.1:3111/goim/online/total >/dev/null 2>&1 && break; sleep 0.1; done
      extra=$([ $side = A ] && echo "${A_ARGS:-}" || echo "${B_ARGS:-}")
      # shellcheck disable=SC2086  # extra is a list of arguments
      "$LOAD_BIN" bench --transport "$transport" --connections "$N" --sources 4 --messages "$M" --server-pid "$SERVER" $extra >"$out/burst" 2>/dev/null || true
      kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
      SERVER=
      rate=$(field "$out/burst" connections | sed -E 's/.* ([0-9.]+) conn\/s/\1/')
      mem=$(field "$out/burst" "server memory" | awk '{print $1}')
      tput=$(field "$out/burst" throughput | awk '{print $1}')
      lost=$(field "$out/burst" messages | sed -E 's/.* ([0-9]+) lost/\1/')
      cpu=$(field "$out/burst" "server CPU" | awk '{print $1}')
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$run" "$side" "$transport" "$rate" "$mem" "$tput" "$lost" "$cpu"
    done
  done
done
