#!/usr/bin/env bash
# Regenerates the committed Swift code for proto/ (needs Debian's protobuf-compiler).
# Usage: scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product protoc-gen-swift
out=Sources/HeraldProtocol/Generated
rm -rf "$out" && mkdir -p "$out"
protoc --plugin=protoc-gen-swift=.build/debug/protoc-gen-swift -I proto \
  --swift_out="$out" --swift_opt=Visibility=Public --swift_opt=UseAccessLevelOnImports=true \
  proto/goim/logic/push.proto
echo "generated into $out"
