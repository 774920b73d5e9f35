#!/usr/bin/env bash
# Builds and runs Herald's micro-benchmarks (release), counting allocations with the preloaded
# malloc interposer. Usage: Benchmarks/run.sh [filter]
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product HeraldMicroBenchmarks
lib=$(find -L .build/release -name 'libMallocInterposerSwift.so' | head -1)
LD_PRELOAD="$PWD/$lib" .build/release/HeraldMicroBenchmarks "$@"
