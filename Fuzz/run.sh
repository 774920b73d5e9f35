#!/usr/bin/env bash
# Builds the libFuzzer target with the fuzzer and address sanitizers and runs it for a bounded
# time over the seed corpus. Exits non-zero on any crash. Usage: Fuzz/run.sh [seconds] (default 60)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
swift build --build-path .build -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product HeraldFuzz
work=$(mktemp -d)
cp corpus/* "$work/"
trap 'rm -rf "$work"' EXIT
./.build/debug/HeraldFuzz "$work" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1
echo "fuzzing: no crash in ${seconds}s"
