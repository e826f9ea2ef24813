#!/bin/bash
# .ci/stress.sh: the CI step for 'make stress': build the tree in a work
# directory, run the stress program's quick run, then 'make stress-load'
# (the timing-sensitive tests beside a CPU hog).
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: .ci/stress.sh SRCDIR WORKDIR [STRESSFLAGS]
#   SRCDIR       a bootstrapped source tree (one with ./configure)
#   WORKDIR      where to build (WORKDIR/stress) and keep stress.log and
#                stress-load.log
#   STRESSFLAGS  flags for plstress (default: --quick)
# Exits 0 if every check passed, 1 otherwise.

set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 SRCDIR WORKDIR [STRESSFLAGS]" >&2
  exit 2
fi
src=$(cd "$1" && pwd) || exit 1
work=$2
flags=${3:---quick}
build=$work/stress
mkdir -p "$build" || exit 1
work=$(cd "$work" && pwd)

echo "=== stress: configure and build in $build"
(cd "$build" && "$src/configure" --quiet --enable-werror CFLAGS="-O2 -g" \
   && make -j2 >/dev/null && make stress/plstress >/dev/null) || {
  echo "=== stress: build FAILED"
  exit 1
}

echo "=== stress: make stress STRESSFLAGS=\"$flags\""
# The stress program bounds its own loops; the timeout only keeps a hung
# run from holding CI forever.
(cd "$build" && timeout 1800 make stress STRESSFLAGS="$flags") \
  >"$work/stress.log" 2>&1
status=$?
grep -E '^(FAIL|NOTE):|^  ' "$work/stress.log"
sed -n '/=== plstress summary/,$p' "$work/stress.log"
passes=$(grep -c '^PASS:' "$work/stress.log")
fails=$(grep -c '^FAIL:' "$work/stress.log")
echo "stress: $passes passed, $fails failed (log: $work/stress.log)"

# The test suite under load: the timing-sensitive test programs, run
# over and over beside a CPU hog (stress/load.sh; about three minutes
# on two cores).
echo "=== stress: make stress-load"
(cd "$build" && timeout 900 make stress-load) >"$work/stress-load.log" 2>&1
load_status=$?
grep -E '^(FAIL|  )|^stress-load:' "$work/stress-load.log"
# The reader/writer acceptance counts on the marker methods: 10000
# grants across two FUSE mounts and on a plain directory (make check
# runs 2000 of each: tests/portalock.network/network.exp).
echo "=== stress: rwmarkers 10000 10000"
(cd "$build" && make tests/rwmarkers >/dev/null \
   && cd tests && timeout 1200 ./rwmarkers 10000 10000) \
  >"$work/rwmarkers.log" 2>&1
rw_status=$?
grep -E '^(FAIL|UNSUPPORTED):' "$work/rwmarkers.log"
echo "rwmarkers: $(grep -c '^PASS:' "$work/rwmarkers.log") passed," \
  "$(grep -c '^FAIL:' "$work/rwmarkers.log") failed, exit $rw_status"
[ $status -eq 0 ] && [ "$fails" -eq 0 ] && [ "$passes" -gt 0 ] \
  && [ $load_status -eq 0 ] && [ $rw_status -eq 0 ] \
  && ! grep -q '^FAIL:' "$work/rwmarkers.log" \
  && grep -q '^PASS:' "$work/rwmarkers.log"
