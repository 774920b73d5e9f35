#!/usr/bin/env bash
# Builds Herald (release) and runs the all-in-one gateway on the embedded default:
# tcp :3101, websocket :3102/sub, HTTP push API :3111. Usage: scripts/serve.sh [herald serve options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
swift build -c release --product herald
exec .build/release/herald serve --config configs/herald.toml "$@"
