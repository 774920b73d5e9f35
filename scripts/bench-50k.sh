#!/usr/bin/env bash
# 50,000 subscribers over three comet processes (the per-process open-file limit here is 20,000):
# redis, herald logic, herald job (zeromq) and three herald comet processes, loaded by
# `herald bench --processes 3` (three load processes, one room spanning the comets, burst pushes).
# Usage: scripts/bench-50k.sh [connections] [messages] [transport]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-50000}
messages=${2:-100}
transport=${3:-tcp}
source scripts/cluster-common.sh
common="[log]
level = \"${LOG_LEVEL:-warning}\"
[registry]
ttl = \"10s\"
interval = \"1s\"
[router]
plugin = \"redis\"
[router.redis]
addresses = [\"127.0.0.1:$((base + 79))\"]"

cat >"$dir/logic.toml" <<TOML
$common
[logic]
listen = "127.0.0.1:$((base + 11))"
[rpc]
listen = "127.0.0.1:$((base + 19))"
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = ""
connect = ["tcp://127.0.0.1:$((base + 91))"]
TOML
cat >"$dir/job.toml" <<TOML
$common
[queue]
plugin = "zeromq"
[queue.zeromq]
bind = "tcp://127.0.0.1:$((base + 91))"
TOML
"$bin" logic --config "$dir/logic.toml" & pids+=($!)
"$bin" job --config "$dir/job.toml" & pids+=($!)
wait_port $((base + 19))
targets=()
comets=()
for i in 1 2 3; do
  port=$((base + 100 * i))
  cat >"$dir/comet-$i.toml" <<TOML
$common
[server]
id = "comet-$i"
threads = 1
[comet]
handshake_timeout = "60s"
[rpc]
listen = "127.0.0.1:$((port + 9))"
logic = ["127.0.0.1:$((base + 19))"]
[transport.tcp]
listen = ["127.0.0.1:$((port + 1))"]
[transport.websocket]
listen = ["127.0.0.1:$((port + 2))"]
TOML
  "$bin" comet --config "$dir/comet-$i.toml" & pids+=($!); comets+=(--server-pid "$!")
  if [ "$transport" = tcp ]; then targets+=("127.0.0.1:$((port + 1))"); else targets+=("127.0.0.1:$((port + 2))"); fi
done
for t in "${targets[@]}"; do wait_port "${t##*:}"; done
sleep 2   # the job's next registry read finds all three comets
IFS=,; list="${targets[*]}"; unset IFS
echo "== $connections $transport subscribers over 3 comets (split deployment), $messages messages of 128 B"
echo "api 127.0.0.1:$((base + 11))"; "$bin" bench --transport "$transport" --targets "$list" --api "127.0.0.1:$((base + 11))" \
  --connections "$connections" --processes "${PROCESSES:-3}" --sources 8 --messages "$messages" --push-concurrency 16 --connect-concurrency "${CONNECT_CONCURRENCY:-500}" \
  "${comets[@]}" 2>&1 | grep -vE "^  received"
rm -rf "$dir"
