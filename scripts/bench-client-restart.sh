#!/usr/bin/env bash
# A server restart under N HeraldClient instances (the Swift client library) in one process:
# `herald client-bench` runs `herald serve` (history in redis) itself, connects the clients to
# room bench://restart with recovery on, pushes messages at a fixed rate, SIGKILLs the server
# after a third of them and starts it again. Prints how long the clients took to come back and
# whether each got every message once, in order. Exits 1 unless every client came back,
# recovered, and got every message once, in order (the times are printed, not judged).
# Usage: scripts/bench-client-restart.sh [transport=tcp] [N=1000] [messages=60] [rate=20]
set -euo pipefail
cd "$(dirname "$0")/.."
transport=${1:-tcp} n=${2:-1000} messages=${3:-60} rate=${4:-20}
ulimit -n "$(ulimit -Hn)"
source scripts/cluster-common.sh
cat >"$dir/serve.toml" <<TOML
[server]
id = "restart"
[log]
level = "error"
[logic]
listen = "127.0.0.1:$((base + 11))"
[transport.tcp]
listen = "127.0.0.1:$((base + 1))"
[transport.websocket]
listen = "127.0.0.1:$((base + 2))"
[history]
enabled = true
store = "redis"
[history.redis]
addresses = ["127.0.0.1:$((base + 79))"]
TOML
case $transport in
  tcp) target="tcp://127.0.0.1:$((base + 1))" ;;
  websocket) target="ws://127.0.0.1:$((base + 2))/sub" ;;
  *) echo "transport: tcp or websocket" >&2; exit 2 ;;
esac
"$bin" client-bench --config "$dir/serve.toml" --target "$target" --api "127.0.0.1:$((base + 11))" \
  --clients "$n" --messages "$messages" --rate "$rate" --require-clean
