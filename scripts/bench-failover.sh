#!/usr/bin/env bash
# A comet killed under load: N clients in one room, opted into recovery, on comet A of a split
# deployment (logic, job, two comets; zeromq queue; sessions and history in redis). Messages are
# pushed at a fixed rate; before message K, comet A gets SIGKILL and every client reconnects to
# comet B at once, naming its room position. Prints how long until all had their recovery reply,
# and what reached the clients (received once, missing, duplicates). Exits 1 if anything was lost.
# Usage: scripts/bench-failover.sh [transport=tcp] [N=10000] [messages=400] [rate=20] [K=150]
# HISTORY_EXTRA adds lines to [history] (e.g. HISTORY_EXTRA="recover_limit = 5" shows a failed recovery counted).
set -euo pipefail
cd "$(dirname "$0")/.."
transport=${1:-tcp} n=${2:-10000} messages=${3:-400} rate=${4:-20} kill_after=${5:-150}
# N clients plus their reconnections in the load tool: as many files as this shell may open.
ulimit -n "$(ulimit -Hn)"
source scripts/cluster-common.sh
shared="[router]
plugin = \"redis\"
[router.redis]
addresses = [\"127.0.0.1:$((base + 79))\"]
[history]
enabled = true
store = \"redis\"
max_messages = 2000
${HISTORY_EXTRA:-}
[history.redis]
addresses = [\"127.0.0.1:$((base + 79))\"]"
registry='[registry]
ttl = "2s"
interval = "300ms"'

cat >"$dir/logic.toml" <<TOML
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((base + 11))"
[rpc]
listen = "127.0.0.1:$((base + 19))"
$registry
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = ""
connect = ["tcp://127.0.0.1:$((base + 91))"]
$shared
TOML
cat >"$dir/job.toml" <<TOML
[log]
level = "warning"
$registry
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = "tcp://127.0.0.1:$((base + 91))"
$shared
TOML
comet_config() { # $1 = id, $2 = port offset
  cat <<TOML
[server]
id = "$1"
[log]
level = "warning"
[comet]
public_addresses = ["127.0.0.1"]
[rpc]
listen = "127.0.0.1:$((base + $2 + 9))"
logic = ["127.0.0.1:$((base + 19))"]
$registry
[transport.tcp]
listen = ["127.0.0.1:$((base + $2 + 1))"]
[transport.websocket]
listen = ["127.0.0.1:$((base + $2 + 2))"]
$shared
TOML
}
comet_config comet-a 0 >"$dir/comet-a.toml"
comet_config comet-b 20 >"$dir/comet-b.toml"

"$bin" logic --config "$dir/logic.toml" & pids+=($!)
# Logic's RPC port before the comets (as bench-50k.sh does): a comet whose first connection
# attempt found no logic waits out gRPC's reconnect backoff. In one CI run without this wait, 110
# of 300 clients were closed at auth.
wait_port $((base + 19)) || { echo "logic's rpc port $((base + 19)) did not open" >&2; exit 1; }
"$bin" job --config "$dir/job.toml" & pids+=($!)
"$bin" comet --config "$dir/comet-a.toml" & comet_a=$!; pids+=($comet_a)
"$bin" comet --config "$dir/comet-b.toml" & comet_b=$!; pids+=($comet_b)
for port in $((base + 11)) $((base + 1)) $((base + 2)) $((base + 21)) $((base + 22)); do
  wait_port "$port" || { echo "nothing listens on port $port" >&2; exit 1; }
done
registered=
for _ in $(seq 150); do  # both comets registered with logic
  nodes=$(curl -s "http://127.0.0.1:$((base + 11))/goim/nodes/instances" || true)
  [[ $nodes == *'"comet-a"'* && $nodes == *'"comet-b"'* ]] && { registered=yes; break; }
  sleep 0.2
done
[ -n "$registered" ] || { echo "the comets did not register within 30 s: $nodes" >&2; exit 1; }
port_a=$((base + 1)) port_b=$((base + 21))
[ "$transport" = websocket ] && port_a=$((base + 2)) port_b=$((base + 22))
echo "== $n $transport clients on comet A ($comet_a), killed before message $kill_after of $messages at $rate/s; reconnect to comet B ($comet_b)"
"$bin" bench --transport "$transport" --target "127.0.0.1:$port_a" --api "127.0.0.1:$((base + 11))" \
  --connections "$n" --messages "$messages" --rate "$rate" --kill-comet "$comet_a" --kill-after "$kill_after" \
  --failover-to "127.0.0.1:$port_b" --require-no-loss
rm -rf "$dir"
