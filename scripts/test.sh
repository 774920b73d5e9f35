#!/usr/bin/env bash
# Runs Herald's whole test suite on a fresh Debian machine: installs what the tests need,
# builds, and runs every test. Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the build and tests use (Swift itself must already be installed).
packages=(pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

swift build --build-tests
swift test --skip-build "$@"
