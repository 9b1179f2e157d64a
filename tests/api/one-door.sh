#!/usr/bin/env bash
# The `quy` tool goes through the public library only: every cli/*.c
# includes no header of ours but the CLI's own cli.h and options.h, which
# include only <quy.h> and system headers; cli/ has no other header.
# (`grep -l '#include "' cli/*.c` shows no internal header.)   one-door.sh SOURCE_DIR
set -u
cd "$1/cli"
bad=0
for f in *.c; do
  other=$(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | grep -vE '^#include "(cli|options)\.h"$')
  if [ -n "$other" ]; then echo "$f includes: $other"; bad=1; fi
done
for h in *.h; do
  case $h in
    cli.h|options.h) ;;
    *) echo "cli/$h: a header of its own in cli/ (declare it in cli.h, or put it behind quy.h)"; bad=1; continue ;;
  esac
  other=$(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$h")
  if [ -n "$other" ]; then echo "$h includes: $other"; bad=1; fi
  angled=$(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$h" | grep -vE '<(quy|stdbool|stddef|stdint|stdio|stdlib|string)\.h>')
  if [ -n "$angled" ]; then echo "$h includes: $angled"; bad=1; fi
done
[ $bad = 0 ] && echo "cli/: only quy.h ($(ls *.c | wc -l) files)"
exit $bad
