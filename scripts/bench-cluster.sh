#!/usr/bin/env bash
# Measures end-to-end pushes/s through the split deployment (herald logic + herald job + herald comet,
# gRPC between them, zeromq queue, sessions in redis) against the all-in-one `herald serve` on the
# same queue, same machine, same run, with the same `herald bench` load.
# Usage: scripts/bench-cluster.sh [messages] [push concurrency]
#   WORKLOAD=unicast CONNECTIONS=1000: each connection its own user, each push to one user
#   (default: room, 10 connections).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-20000}
concurrency=${2:-32}
source scripts/cluster-common.sh
redis="[router]
plugin = \"redis\"
[router.redis]
addresses = [\"127.0.0.1:$((base + 79))\"]"

bench() { # $1 = label, $2 = server pid
  echo "== $1"
  "$bin" bench --transport tcp --target "127.0.0.1:$((base + 1))" --api "127.0.0.1:$((base + 11))" \
    --workload "${WORKLOAD:-room}" --connections "${CONNECTIONS:-10}" --messages "$messages" --push-concurrency "$concurrency" --server-pid "$2" \
    | grep -E "messages|throughput|latency"
}

cat >"$dir/serve.toml" <<TOML
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((base + 11))"
[transport.tcp]
listen = ["127.0.0.1:$((base + 1))"]
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = "tcp://127.0.0.1:$((base + 90))"
$redis
TOML
"$bin" serve --config "$dir/serve.toml" & serve=$!
wait_port $((base + 11))
bench "herald serve (zeromq, redis router)" "$serve"
kill "$serve"; wait "$serve" 2>/dev/null || true

cat >"$dir/logic.toml" <<TOML
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((base + 11))"
[rpc]
listen = "127.0.0.1:$((base + 19))"
[registry]
interval = "500ms"
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = ""
connect = ["tcp://127.0.0.1:$((base + 91))"]
$redis
TOML
cat >"$dir/job.toml" <<TOML
[log]
level = "warning"
[registry]
interval = "500ms"
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = "tcp://127.0.0.1:$((base + 91))"
$redis
TOML
cat >"$dir/comet.toml" <<TOML
[server]
id = "comet-1"
[log]
level = "warning"
[rpc]
listen = "127.0.0.1:$((base + 9))"
logic = ["127.0.0.1:$((base + 19))"]
[registry]
ttl = "5s"
interval = "500ms"
[transport.tcp]
listen = ["127.0.0.1:$((base + 1))"]
$redis
TOML
"$bin" logic --config "$dir/logic.toml" & pids+=($!)
"$bin" job --config "$dir/job.toml" & pids+=($!)
"$bin" comet --config "$dir/comet.toml" & comet=$!; pids+=($comet)
wait_port $((base + 11)); wait_port $((base + 1))
sleep 2   # the job's next registry read finds the comet
bench "split: herald logic + herald job + herald comet (gRPC, zeromq, redis)" "$comet"
rm -rf "$dir"
