#!/bin/bash
# .ci/windows.sh: the CI step for the Windows build: cross-compile with
# mingw-w64, run the Windows test suite under Wine, install, and run the
# installed programs from a directory of their own.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: .ci/windows.sh SRCDIR WORKDIR [SUMFILE]
#   SRCDIR   a bootstrapped source tree (one with ./configure)
#   WORKDIR  where to build (WORKDIR/windows) and keep the logs
#   SUMFILE  where to copy portalock.sum (default WORKDIR/windows.sum)
# Needs the Debian packages gcc-mingw-w64-x86-64 and wine64.  Exits 0 if
# the build and every test passed, 1 otherwise.

set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 SRCDIR WORKDIR [SUMFILE]" >&2
  exit 2
fi
src=$(cd "$1" && pwd) || exit 1
work=$2
mkdir -p "$work/windows" || exit 1
work=$(cd "$work" && pwd)
build=$work/windows
sumfile=${3:-$work/windows.sum}
host=x86_64-w64-mingw32

if ! command -v $host-gcc >/dev/null 2>&1; then
  echo "=== windows: $host-gcc missing (apt-get install gcc-mingw-w64-x86-64)"
  exit 1
fi

echo "=== windows: configure --host=$host and build in $build"
(cd "$build" && "$src/configure" --quiet --host=$host --enable-werror \
   CFLAGS="-O2 -g" && make -j2 >"$work/windows-build.log" 2>&1) || {
  tail -40 "$work/windows-build.log" 2>/dev/null
  echo "=== windows: build FAILED"
  exit 1
}
for f in lib/.libs/libportalock-0.dll lib/.libs/libportalock.dll.a \
         lib/portalock.pc src/.libs/plock.exe; do
  [ -f "$build/$f" ] || { echo "=== windows: $f was not built"; exit 1; }
done

# configure's summary must say what is built for Windows: no Linux
# extras, plock.exe's command forms and no punlock.
echo "=== windows: the configure summary"
summary=$(sed -n '/^  portalock .* configured$/,/libFuzzer/p' "$build/config.log")
echo "$summary" | grep -E 'Linux extras|tools:'
if echo "$summary" | grep -Eq '^ *Linux extras: *no' \
   && echo "$summary" | grep -Eq '^ *tools: *plock\.exe .*no punlock'; then
  summary_ok=0
else
  echo "=== windows: the configure summary does not say what is built"
  summary_ok=1
fi

echo "=== windows: make check (under Wine)"
# The suite bounds each program; the timeout only keeps a hung Wine from
# holding CI forever.
(cd "$build" && timeout 900 make check) >"$work/windows-check.log" 2>&1
status=$?
cp "$build/portalock.sum" "$sumfile" 2>/dev/null
grep -E '^(FAIL|UNRESOLVED|UNSUPPORTED|ERROR):' "$build/portalock.sum"
passes=$(grep -c '^PASS:' "$build/portalock.sum" 2>/dev/null)
fails=$(grep -cE '^(FAIL|UNRESOLVED|ERROR):' "$build/portalock.sum" 2>/dev/null)
echo "windows: ${passes:-0} passed, ${fails:-0} failed (log: $work/windows-check.log)"

# The installed files, run from a directory holding only them, with no
# WINEPATH (tests/installcheck-win32.sh): they must need no DLL that
# is not installed, and get man pages for what is installed only.
echo "=== windows: make install, then make installcheck (under Wine)"
dest=$work/windows-install
rm -rf "$dest"
(cd "$build" && make install DESTDIR="$dest" >"$work/windows-install.log" 2>&1 \
   && timeout 300 make installcheck DESTDIR="$dest") \
  >>"$work/windows-install.log" 2>&1
installed=$?
grep -E '^(PASS|FAIL|UNSUPPORTED): installed' "$work/windows-install.log"
[ $installed -eq 0 ] || echo "=== windows: the install check FAILED (log: $work/windows-install.log)"

[ $status -eq 0 ] && [ "${fails:-1}" -eq 0 ] && [ "${passes:-0}" -gt 0 ] \
  && [ $summary_ok -eq 0 ] && [ $installed -eq 0 ]
