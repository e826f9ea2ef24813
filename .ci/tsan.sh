#!/bin/bash
# .ci/tsan.sh: the CI step for ThreadSanitizer: build the tree with
# -fsanitize=thread in a work directory and run the library's tests.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: .ci/tsan.sh SRCDIR WORKDIR [SUMFILE [BACKEND...]]
#   SRCDIR    a bootstrapped source tree (one with ./configure)
#   WORKDIR   where to build (WORKDIR/tsan) and keep the logs
#   SUMFILE   where to copy portalock.sum (default WORKDIR/tsan.sum);
#             with several backends, BACKEND is put before ".sum"
#   BACKEND   backends to run the tests on (default: the default one)
# Exits 0 if every run passed and ThreadSanitizer reported nothing, 1
# otherwise; the reports are summarised (first frames, counted).

set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 SRCDIR WORKDIR [SUMFILE [BACKEND...]]" >&2
  exit 2
fi
src=$(cd "$1" && pwd) || exit 1
work=$2
mkdir -p "$work/tsan" || exit 1
work=$(cd "$work" && pwd)
build=$work/tsan
sumfile=${3:-$work/tsan.sum}
shift $(( $# < 3 ? $# : 3 ))
backends=${*:-default}

# A work directory configured before is reused (it is slow to
# configure with the sanitizer).
if [ ! -f "$build/config.status" ]; then
  echo "=== tsan: configure with -fsanitize=thread in $build"
  (cd "$build" && "$src/configure" --quiet \
     --enable-werror CFLAGS="-O1 -g -fsanitize=thread" \
     LDFLAGS=-fsanitize=thread) || {
    echo "=== tsan: configure FAILED"
    exit 1
  }
fi
(cd "$build" && make -j2 >/dev/null) || {
  echo "=== tsan: build FAILED"
  exit 1
}

# exitcode=0: a report does not change a program's exit status, since
# every process forked after a report would then fail too and bury the
# report under unrelated FAILs; the reports are counted from the log
# instead, and any report fails this step.  second_deadlock_stack: both
# stacks of a lock-order report.  The suppressions cover only what is
# not portalock's (see the file).
# The per-inode table's fork handler holds every bucket mutex (1,024)
# across a fork, as it must; TSan's deadlock detector can track only 64
# mutexes held at once and aborts the program past that, so it is off.
# Data races are still reported.
tsan_options="halt_on_error=0 exitcode=0 detect_deadlocks=0"
tsan_options="$tsan_options suppressions=$src/.ci/tsan.supp"
status=0
for b in $backends; do
  if [ "$b" = default ]; then
    env_backend=
    sum=$sumfile
  else
    env_backend="PORTALOCK_BACKEND=$b"
    sum=${sumfile%.sum}-$b.sum
  fi
  echo "=== tsan: make check ($b backend)"
  (cd "$build" && env $env_backend TSAN_OPTIONS="$tsan_options" \
     timeout 1800 make check \
     RUNTESTFLAGS="core.exp objects.exp semaphore.exp atomic.exp") \
    >"$work/tsan-$b.log" 2>&1 || status=1
  cp "$build/portalock.sum" "$sum" 2>/dev/null || status=1
  cp "$build/portalock.log" "${sum%.sum}.log" 2>/dev/null
  grep -E '^(FAIL|UNRESOLVED|ERROR):' "$sum"
  reports=$(grep -c 'WARNING: ThreadSanitizer' "$build/portalock.log")
  echo "tsan ($b): $reports ThreadSanitizer reports"
  [ "$reports" -eq 0 ] || status=1
  grep -A3 'WARNING: ThreadSanitizer' "$build/portalock.log" \
    | sed 's/\x1b\[[0-9;]*m//g; s/ (pid=[0-9]*)//; s/ (.*+0x[0-9a-f]*)$//' \
    | grep -E 'WARNING|#0' | sort | uniq -c | sort -rn | head -n 20
  grep -E '^# of' "$sum"
done
exit $status
