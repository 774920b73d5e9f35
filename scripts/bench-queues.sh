#!/usr/bin/env bash
# Measures end-to-end pushes/s (HTTP push API → queue → job → comet → client) for each queue
# backend, same machine, same run: a release server per backend and `herald bench` with a few
# subscribers and closed-loop pushes. Usage: scripts/bench-queues.sh [messages] [push concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-20000}
concurrency=${2:-32}
swift build -c release --product herald >/dev/null
bin=.build/release/herald
base=$((10000 + RANDOM % 20000))  # below the ephemeral range (32768+)
for queue in memory kafka zeromq; do
  config=$(mktemp)
  cat >"$config" <<TOML
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((base + 11))"
[transport.tcp]
listen = ["127.0.0.1:$((base + 1))"]
[transport.websocket]
listen = ["127.0.0.1:$((base + 2))"]
[transport.longpoll]
listen = "127.0.0.1:$((base + 4))"
[queue]
plugin = "$queue"
[queue.kafka]
dev_broker = true
[queue.zeromq]
bind = "tcp://127.0.0.1:$((base + 90))"
TOML
  "$bin" serve --config "$config" &
  server=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$((base + 11))") 2>/dev/null && break
    sleep 0.1
  done
  # The kafka consumer group needs a few seconds for its first assignment.
  [ "$queue" = kafka ] && sleep 5
  echo "== queue: $queue"
  "$bin" bench --transport tcp --target "127.0.0.1:$((base + 1))" --api "127.0.0.1:$((base + 11))" \
    --connections 10 --messages "$messages" --push-concurrency "$concurrency" --server-pid "$server" \
    | grep -E "messages|throughput|latency|server CPU"
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -f "$config"
  base=$((base + 100))
done
