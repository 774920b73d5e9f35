# Sourced by the split-deployment benchmarks (bench-cluster.sh, bench-50k.sh, bench-failover.sh): a release build,
# a port base below the ephemeral range (32768+, where client sockets live), process bookkeeping
# that stops everything started on exit, and one redis-server at base + 79.
# HERALD_BIN: use that binary instead (CI's smoke runs the debug build it already has).
if [ -n "${HERALD_BIN:-}" ]; then
  bin=$HERALD_BIN
else
  swift build -c release --product herald >/dev/null 2>&1
  bin=.build/release/herald
fi
base=$((10000 + RANDOM % 20000))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
dir=$(mktemp -d)

redis-server --port $((base + 79)) --save "" --appendonly no >/dev/null &
pids+=($!)
wait_port $((base + 79))
