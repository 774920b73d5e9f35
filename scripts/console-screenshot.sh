#!/usr/bin/env bash
# Takes docs/images/console.png and one screenshot per view (console-cluster.png, -traffic,
# -rooms, -queues, -migration): `herald serve` on the migration queue in dual-write (Kafka's
# development broker and ZeroMQ) with the console on, 300 clients in a room and pushes at a steady
# rate from `herald bench`, and headless Chromium's screenshots of /admin after half a minute.
# Usage: scripts/console-screenshot.sh [output=docs/images/console.png]   (HERALD_BIN: the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/images/console.png}
bin=${HERALD_BIN:-.build/release/herald}
[ -x "$bin" ] || swift build -c release --product herald >/dev/null
base=$((10000 + RANDOM % 20000))
dir=$(mktemp -d)
token=screenshot-token-0123456789
cat >"$dir/herald.toml" <<TOML
[server]
id = "comet-1"
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((base + 11))"
admin_token = "$token"
[comet]
online_report_interval = "1s"
[transport.tcp]
listen = ["127.0.0.1:$((base + 1))"]
[history]
enabled = true
[queue]
plugin = "migration"
[queue.migration]
primary = "kafka"
secondary = "zeromq"
phase = "dual-write"
[queue.migration.kafka]
dev_broker = true
[queue.migration.zeromq]
bind = "tcp://127.0.0.1:$((base + 90))"
TOML
"$bin" serve --config "$dir/herald.toml" & server=$!
load=
trap 'kill $server ${load:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$((base + 11))") 2>/dev/null && break; sleep 0.1; done
"$bin" bench --target "127.0.0.1:$((base + 1))" --api "127.0.0.1:$((base + 11))" --connections 300 \
  --messages 4000 --rate 100 --drain-timeout 10 >/dev/null 2>&1 & load=$!
sleep 25
mkdir -p "$(dirname "$out")"
shot() {  # shot <file> <window size> <fragment>
  local profile
  profile=$(mktemp -d)
  chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$profile" \
    --hide-scrollbars --window-size="$2" --virtual-time-budget=8000 --screenshot="$PWD/$1" \
    "http://127.0.0.1:$((base + 11))/admin#token=$token&$3" >/dev/null 2>&1
  rm -rf "$profile"
  echo "wrote $1"
}
shot "$out" 1400,900 "room=bench%3A%2F%2F1&mids=1,2,99999"
for view in cluster traffic rooms queues migration; do
  shot "${out%.png}-$view.png" 1000,560 "view=$view&room=bench%3A%2F%2F1&mids=1,2,99999"
done
