#!/bin/bash
# stress/load.sh: run the timing-sensitive test programs over and over
# beside a CPU hog, for 'make stress-load'.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: stress/load.sh BUILDDIR [SCALE]
#   BUILDDIR  a build directory whose test programs are built
#   SCALE     multiplies every program's number of runs (default 1)
#
# The suite must pass on a loaded machine: continuous integration runs
# two lanes at once on two cores.  The programs here are the ones whose
# checks wait for threads, processes or deadlines: waithelper (kept
# helper threads, counted in /proc/self/task), lockcore with helper
# threads and with a timer signal (hand-off, EINTR, timeouts), objlock
# (the lock objects' waits), forkrelease (a fork racing a release),
# closerace (a close racing another thread's first fcntl lock),
# forkother (forks the fork handlers do not see), convertlost and
# lastshared (races forced by interposed calls), settle (a deadline
# racing a grant) and objmethod (lock objects with every method, across
# two FUSE mounts: marker waits that poll, heartbeats, lost leases).  Each runs ROUNDS times per
# backend while nproc + 1 busy loops compete for the processors.  A run
# fails if it exits non-zero, reports a FAIL, reports nothing, or takes
# longer than two minutes.  Exits 0 if every run passed, 1 otherwise.

set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILDDIR [SCALE]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
scale=${2:-1}
case $scale in
  '' | *[!0-9]*) echo "$0: SCALE must be a number" >&2; exit 2 ;;
esac
cd "$build" || exit 2

hogs=
stop_hogs () {
  local pid
  for pid in $hogs; do
    kill "$pid" 2>/dev/null
  done
  for pid in $hogs; do
    wait "$pid" 2>/dev/null
  done
  hogs=
}
out=
cleanup () {
  stop_hogs
  [ -z "$out" ] || rm -f "$out"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

n=$(nproc 2>/dev/null || echo 2)
for _ in $(seq $((n + 1))); do
  yes >/dev/null &
  hogs="$hogs $!"
done

runs=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/portalock-load.XXXXXX") || exit 1

# run ROUNDS LABEL ENV... -- PROGRAM ARGS...: run PROGRAM ROUNDS*SCALE
# times with the environment ENV.
run () {
  local rounds=$(($1 * scale)) label=$2
  shift 2
  local env=()
  while [ "$1" != -- ]; do
    env+=("$1")
    shift
  done
  shift
  local i bad=0 start=$SECONDS
  for ((i = 1; i <= rounds; i++)); do
    runs=$((runs + 1))
    env "${env[@]}" timeout -s KILL 120 "$@" </dev/null >"$out" 2>&1
    local status=$?
    if [ $status -ne 0 ] || grep -q '^FAIL:' "$out" \
         || ! grep -q -E '^(PASS|UNSUPPORTED):' "$out"; then
      bad=$((bad + 1))
      failed=$((failed + 1))
      echo "FAIL: $label, run $i of $rounds (exit status $status):"
      grep -E '^FAIL:' "$out" | sed 's/^/  /'
      [ $status -eq 0 ] || tail -n 5 "$out" | sed 's/^/  | /'
    fi
  done
  echo "$label: $rounds runs, $bad failed ($((SECONDS - start)) s)"
}

start=$SECONDS
echo "=== stress-load: $((n + 1)) busy loops on $n processors, scale $scale"
for b in flock ofd fcntl lockf; do
  run 20 "waithelper $b" PORTALOCK_BACKEND=$b -- tests/waithelper
done
for b in flock ofd; do
  run 30 "forkrelease $b" -- tests/forkrelease $b
done
for b in flock ofd fcntl lockf; do
  run 6 "lockcore $b" PORTALOCK_BACKEND=$b -- \
    tests/lockcore tests/lockprobe
  run 3 "lockcore $b timer" PORTALOCK_BACKEND=$b -- \
    tests/lockcore tests/lockprobe timer
  run 3 "objlock $b" -- tests/objlock $b tests/lockprobe
done
for b in flock ofd fcntl lockf; do
  run 20 "closerace $b" -- tests/closerace $b
  run 10 "forkother $b" -- tests/forkother $b
  run 10 "convertlost $b" -- tests/convertlost $b
  run 10 "lastshared $b" -- tests/lastshared $b
done
run 2 settle -- tests/settle
run 4 objmethod -- tests/objmethod
echo "stress-load: $runs runs, $failed failed ($((SECONDS - start)) s)"
[ $failed -eq 0 ]
