#!/usr/bin/env bash
# As an integrator would: install the build into a temporary prefix, build
# docs/examples/rate.c against it twice — with pkg-config and with
# find_package(quy) — and run both from a folder with no rulesets in it and
# no QUY_RULESETS: they must find the installed rulesets, resolve Chợ Chu on
# 2024-12-01 to cho-chu-2024, rate and explain, and print the same thing.
#   install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$(realpath "$1") SRC=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null
unset QUY_RULESETS
cd "$T"
libdir=$(dirname "$(find "$P" -name 'libquy.so' | head -1)")

# 1. pkg-config (the shared library; its dependencies come with it)
PKG_CONFIG_PATH=$libdir/pkgconfig cc -Wall -Werror "$SRC/docs/examples/rate.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs quy) -Wl,-rpath,"$libdir" -o rate-pc
# ... and static, with the private dependencies
cc -Wall -Werror "$SRC/docs/examples/rate.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --static --cflags quy) "$libdir/libquy.a" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --static --libs-only-l quy | sed 's/-lquy//') -o rate-static

# 2. find_package(quy)
cmake -S "$SRC/docs/examples" -B cmk -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build cmk >/dev/null

./rate-pc >out-pc
./rate-static >out-static
cmk/rate >out-cmake
cmp out-pc out-cmake
# (a static program outside the prefix finds the rulesets elsewhere: the
# line naming the file may differ, nothing else)
diff <(grep -v '^ruleset ' out-pc) <(grep -v '^ruleset ' out-static)
# the soname, and only quy_ symbols exported
objdump -p "$libdir/libquy.so" | grep -q 'SONAME *libquy\.so\.[0-9]'
if nm -D --defined-only "$libdir/libquy.so" | awk '{print $3}' | grep -v '^quy_' | grep -q .; then
  echo "libquy.so exports more than quy_*"; exit 1
fi
grep -q "ruleset cho-chu-2024 2024 from $P/share/quy/rulesets/cho-chu-2024/cho-chu-2024.quy" out-pc
grep -q '^DV-1: httnv — Hoàn thành tốt nhiệm vụ' out-pc
grep -q '^DV-2: rejected \[missing_field\]' out-pc
grep -q '^decided by hoan_thanh_tot' out-pc
grep -q '^explanation:' out-pc
# the installed quy finds the installed rulesets too
"$P/bin/quy" test cho-chu-2024 2>err | tail -1
grep -q "from $P/share/quy/rulesets/cho-chu-2024/cho-chu-2024.quy" err
# the guide quotes this very file
sed -n '/<!-- rate.c: begin -->/,/<!-- rate.c: end -->/p' "$SRC/docs/integration-guide.md" | sed '1,2d' | head -n -2 >guide-rate.c
cmp guide-rate.c "$SRC/docs/examples/rate.c"
cat out-pc
