#!/usr/bin/env bash
# Runs the fault-injection suite against real processes and prints its table per scenario:
# a split deployment on loopback (3 redis-server, 2 comets, logic, 2 jobs, the Kafka development
# broker, ZeroMQ), clients that reconnect to the other comet, pushes at a fixed rate, and per
# scenario the pushes accepted, delivered, missing and duplicated at the clients.
# Usage: scripts/chaos.sh   (HERALD_TEST_KEEP_LOGS=1 keeps every child's log in the temp directory)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
swift build --build-tests
swift test --skip-build --filter FaultInjectionTests 2>&1 | tee /dev/stderr | grep -E '^\|' || true
