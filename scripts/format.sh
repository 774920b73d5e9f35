#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format
# (generated protobuf code excluded). Usage: scripts/format.sh [--check]
#   --check: change nothing; list what does not conform and exit 1 if anything does (CI runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
files() {
  find Sources Plugins Tests Benchmarks/Sources Fuzz/Sources -name '*.swift' \
    -not -path '*/Generated/*' -not -path '*/.build/*' -print0
}
if [ "${1:-}" = --check ]; then
  files | xargs -0 swift format lint --strict --parallel
  echo "format check: every file conforms to .swift-format"
else
  files | xargs -0 swift format format --in-place --parallel
fi
