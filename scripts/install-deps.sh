#!/usr/bin/env bash
# Installs the Debian packages Herald needs (Swift itself must already be installed).
# Usage: scripts/install-deps.sh [build|test|bench]   (default: build)
#   build: pkg-config and the C libraries the plugins link (librdkafka-dev, libzmq3-dev, libhiredis-dev)
#   test:  also kcat and protobuf-compiler (to produce a goim PushMsg without Herald's code)
#          redis-server (the redis router tests start their own instances)
#          chromium (the browser demo test) and openssl (the TLS tests make a test certificate)
#          prometheus (its promtool checks and unit-tests deploy/prometheus/herald-alerts.yml)
#   bench: also nginx with the nchan module (the peer scripts/bench-unicast.sh measures beside Herald)
set -euo pipefail
packages=(pkg-config librdkafka-dev libzmq3-dev libhiredis-dev)
if [ "${1:-build}" = test ] || [ "${1:-build}" = bench ]; then
  packages+=(kcat protobuf-compiler redis-server chromium openssl prometheus)
fi
if [ "${1:-build}" = bench ]; then
  packages+=(nginx-light libnginx-mod-nchan)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
