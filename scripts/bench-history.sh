#!/usr/bin/env bash
# What history costs. Three measurements with one `herald` binary (release build recommended):
#  1. room fan-out to N connections (tcp and websocket): history off, on (goim clients), and on
#     with every connection opted into recovery — scripts/bench-ab.sh, alternating.
#  2. memory per stored message: M messages of SIZE bytes into one stream of the memory store
#     (server RSS before and after) and of the redis store (redis-server's used_memory).
# Usage: scripts/bench-history.sh [BIN=.build/release/herald] [runs=2] [N=10000] [M=300] [STORED=50000] [SIZE=128]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/herald} RUNS=${2:-2} N=${3:-10000} M=${4:-300} STORED=${5:-50000} SIZE=${6:-128}
work=$(mktemp -d)
SERVER= REDIS=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; [ -n "$REDIS" ] && kill "$REDIS" 2>/dev/null; rm -rf "$work"' EXIT

history_config() {  # $1 = store, $2 = extra [history] lines
  cat configs/herald.toml
  printf '\n[history]\nenabled = true\nstore = "%s"\n%s\n' "$1" "$2"
}
history_config memory "" >"$work/history.toml"

echo "## 1. room fan-out, $N connections, $M messages: A = history off, B = history on (goim clients)"
scripts/bench-ab.sh "$BIN" configs/herald.toml "$BIN" "$work/history.toml" "$RUNS" "$N" "$M"
echo
echo "## 1b. A = history off, B = history on and every connection opted into recovery (--recover)"
B_ARGS=--recover scripts/bench-ab.sh "$BIN" configs/herald.toml "$BIN" "$work/history.toml" "$RUNS" "$N" "$M"
echo

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_api() { for _ in $(seq 100); do curl -sf http://127.0.0.1:3111/goim/online/total >/dev/null 2>&1 && break; sleep 0.1; done; }
store_messages() {  # pushes STORED messages of SIZE bytes to room bench://1 (one subscriber receives them)
  "$BIN" bench --transport tcp --connections 1 --messages "$STORED" --size "$SIZE" --push-concurrency 16 >/dev/null 2>&1
}

echo "## 2. memory per stored message ($STORED messages of $SIZE bytes in one stream)"
history_config memory "max_messages = 1000000
max_age = \"1h\"
[history.memory]
max_bytes = 4294967296" >"$work/memory.toml"
"$BIN" serve --config "$work/memory.toml" --log-level error >"$work/server.log" 2>&1 &
SERVER=$!
wait_api
"$BIN" bench --transport tcp --connections 1 --messages 200 >/dev/null 2>&1  # warm up
before=$(rss_kib "$SERVER")
store_messages
after=$(rss_kib "$SERVER")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
awk -v b="$before" -v a="$after" -v n="$STORED" 'BEGIN { printf "memory store: server RSS %d -> %d KiB: %.0f bytes per stored message\n", b, a, (a - b) * 1024 / n }'

port=$((20000 + RANDOM % 5000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >/dev/null 2>&1 &
REDIS=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
history_config redis "max_messages = 1000000
max_age = \"1h\"
[history.redis]
addresses = [\"127.0.0.1:$port\"]" >"$work/redis.toml"
"$BIN" serve --config "$work/redis.toml" --log-level error >"$work/server.log" 2>&1 &
SERVER=$!
wait_api
"$BIN" bench --transport tcp --connections 1 --messages 200 >/dev/null 2>&1
before=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
store_messages
after=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
awk -v b="$before" -v a="$after" -v n="$STORED" 'BEGIN { printf "redis store: used_memory %d -> %d bytes: %.0f bytes per stored message\n", b, a, (a - b) / n }'
