#!/usr/bin/env bash
# Runs Herald's whole test suite on a fresh Debian machine: installs what the tests need,
# builds, and runs every test. Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test

swift build --build-tests
# Two suites run on their own after the rest: the fault-injection suite starts a whole split
# deployment (nine processes) per test, and the connection-cost suite floods a server with
# thousands of sockets and measures its memory. Each runs alone: their load would distort the
# timing of the suites running in parallel, and the others' load their memory figures.
swift test --skip-build --skip 'FaultInjectionTests|ConnectionCostTests' "$@"
swift test --skip-build --filter FaultInjectionTests "$@"
swift test --skip-build --filter ConnectionCostTests "$@"

# Smoke of the load tool against a real server: a few hundred connections, zero loss required.
bin=.build/debug/herald
port_base=$((10000 + RANDOM % 20000))  # below the ephemeral range (32768+), where client sockets live
config=$(mktemp)
cat >"$config" <<TOML
[log]
level = "warning"
[logic]
listen = "127.0.0.1:$((port_base + 11))"
[transport.tcp]
listen = ["127.0.0.1:$((port_base + 1))"]
[transport.websocket]
listen = ["127.0.0.1:$((port_base + 2))"]
TOML
"$bin" serve --config "$config" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$config"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$((port_base + 11))") 2>/dev/null && break
  sleep 0.1
done
for transport in tcp websocket; do
  port=$((port_base + 1)); [ "$transport" = websocket ] && port=$((port_base + 2))
  "$bin" bench --transport "$transport" --target "127.0.0.1:$port" --api "127.0.0.1:$((port_base + 11))" \
    --connections 300 --messages 50 --drain-timeout 20 --server-pid "$server" --require-no-loss
done
echo "bench smoke: no loss"

# A comet killed under load (split deployment, history in redis): its clients reconnect to the
# other comet and recover; the load tool exits 1 unless every client recovered every message once.
for transport in tcp websocket; do
  HERALD_BIN=$bin scripts/bench-failover.sh "$transport" 300 60 20 20
done
echo "failover smoke: every client recovered, no loss, no duplicate"

# A server restart (SIGKILL, history in redis) under the Swift client library: every HeraldClient
# comes back within its backoff bound and recovers every message once, in order, or this exits 1.
for transport in tcp websocket; do
  HERALD_BIN=$bin scripts/bench-client-restart.sh "$transport" 300 45 15
done
echo "client restart smoke: every client back within its backoff bound, no loss, no duplicate"

# Fuzzing for a bounded time: the packet decoder, the auth token and PushMsg under libFuzzer + ASan.
Fuzz/run.sh 60
