#!/usr/bin/env bash
# The `quy` tool goes through the public library only: every cli/*.c
# includes no header of ours but cli.h, and cli.h includes only <quy.h>.
# The files still on the bridge (cli/cli.h, "Bridge") are listed here; the
# list shrinks as they move onto quy.h.   one-door.sh SOURCE_DIR
set -u
cd "$1/cli"
BRIDGE='^(cmd_diff|diff_[a-z_]+|cmd_gen|gen_[a-z_]+|cmd_list|cmd_prove)\.c$'
bad=0
for f in *.c; do
  [[ $f =~ $BRIDGE ]] && continue
  other=$(grep -E '^#include "' "$f" | grep -v '^#include "cli.h"$')
  if [ -n "$other" ]; then echo "$f includes: $other"; bad=1; fi
done
other=$(grep -E '^#include ' cli.h | grep -vE '^#include <(quy|stdbool|stddef)\.h>$')
if [ -n "$other" ]; then echo "cli.h includes: $other"; bad=1; fi
[ $bad = 0 ] && echo "cli/: only quy.h (bridge: $(ls | grep -cE "$BRIDGE") files)"
exit $bad
