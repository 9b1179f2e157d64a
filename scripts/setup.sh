#!/usr/bin/env bash
# Install every build and test dependency of Quy from Debian's packages.
# Idempotent: when everything is present it only checks (well under a second).
set -euo pipefail

PACKAGES=(
  cmake gcc make pkg-config
  re2c bison            # lexer and parser generators
  liblua5.4-dev         # Lua 5.4 (hooks, and the benchmark's Lua baseline)
  libjansson-dev        # JSON records and output
  libcsv-dev            # CSV records
  libxxhash-dev         # hashing record ids in batch steps
  libcmocka-dev         # unit tests
  valgrind              # tests/parser: uninitialised reads (parser-01)
  clang libclang-rt-14-dev  # tests/fuzz (libFuzzer) and the ThreadSanitizer build of tests/api/test_threads.c
  python3               # the ctypes test of libquy (tests/api/binding.py)
  libz3-dev             # the Z3 SMT solver (quy prove)
  libutf8proc-dev       # Unicode: --locality folding, NFC of record strings
  jq                    # builds the corpus of the worked 124 → 366 diff (docs/diff-124-366)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
