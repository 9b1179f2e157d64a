#!/usr/bin/env bash
# Configure and build into build/ (or $1), after installing what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD=${1:-build}
shift || true
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
