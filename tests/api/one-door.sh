#!/usr/bin/env bash
# The `quy` tool goes through the public library only: every cli/*.c
# includes no header of ours but the CLI's own cli.h and options.h, which
# include only <quy.h> and system headers.
# The files still on the bridge (cli/cli.h, "Bridge") are listed here; the
# list shrinks as they move onto quy.h.   one-door.sh SOURCE_DIR
set -u
cd "$1/cli"
BRIDGE='^(cmd_diff|diff_[a-z_]+|cmd_gen|gen_[a-z_]+|cmd_list|cmd_describe)\.c$'
bad=0
for f in *.c; do
  [[ $f =~ $BRIDGE ]] && continue
  other=$(grep -E '^#include "' "$f" | grep -vE '^#include "(cli|options)\.h"$')
  if [ -n "$other" ]; then echo "$f includes: $other"; bad=1; fi
done
for h in cli.h options.h; do
  other=$(grep -E '^#include "' "$h")
  if [ -n "$other" ]; then echo "$h includes: $other"; bad=1; fi
done
[ $bad = 0 ] && echo "cli/: only quy.h (bridge: $(ls | grep -cE "$BRIDGE") files)"
exit $bad
