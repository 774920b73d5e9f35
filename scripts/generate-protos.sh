#!/usr/bin/env bash
# Regenerates the committed Swift code for proto/ (needs Debian's protobuf-compiler).
#   proto/goim/logic/push.proto            -> Sources/HeraldProtocol/Generated (the queue payload)
#   proto/goim/{protocol,comet,logic}      -> Sources/HeraldRPC/Generated (gRPC messages and services)
# Usage: scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
plugins=(--plugin=protoc-gen-swift=.build/debug/protoc-gen-swift --plugin=protoc-gen-grpc-swift-2=.build/debug/protoc-gen-grpc-swift-2)
swift_opts=(--swift_opt=Visibility=Public --swift_opt=UseAccessLevelOnImports=true)

out=Sources/HeraldProtocol/Generated
rm -rf "$out" && mkdir -p "$out"
protoc "${plugins[@]}" -I proto --swift_out="$out" "${swift_opts[@]}" proto/goim/logic/push.proto

out=Sources/HeraldRPC/Generated
rm -rf "$out" && mkdir -p "$out"
protoc "${plugins[@]}" -I proto --swift_out="$out" "${swift_opts[@]}" \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public --grpc-swift-2_opt=UseAccessLevelOnImports=true \
  proto/goim/protocol/protocol.proto proto/goim/comet/comet.proto proto/goim/logic/logic.proto
echo "generated into Sources/HeraldProtocol/Generated and $out"
