#!/bin/sh
# demo.sh: a short tour of plock and punlock, from the top of a built tree.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.

set -e
bin=${PLOCK_BIN:-./src}
plock=$bin/plock
punlock=$bin/punlock
dir=$(mktemp -d "${TMPDIR:-/tmp}/portalock-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
lock=$dir/backup.lock

say () { printf '\n$ %s\n' "$*"; }

echo "portalock demo: $("$plock" --version | head -n 1)"

say "plock $lock    # a lone FILE: a holder keeps the lock"
"$plock" "$lock"
echo "exit status $?"

say "plock -n $lock echo hi    # someone holds it: fail at once"
status=0
"$plock" -n "$lock" echo hi || status=$?
echo "exit status $status"

say "plock -n -E 75 $lock echo hi"
status=0
"$plock" -n -E 75 "$lock" echo hi || status=$?
echo "exit status $status"

say "plock --holder $lock"
"$plock" --holder "$lock"

say "punlock $lock"
"$punlock" "$lock"
echo "exit status $?"

say "plock -n $lock echo 'free again: running under the lock'"
"$plock" -n "$lock" echo "free again: running under the lock"

say "( plock -n 9 && echo 'in critical section' ) 9>$dir/fd.lock"
( "$plock" -n 9 && echo "in critical section" ) 9>"$dir/fd.lock"
