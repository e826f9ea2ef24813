#!/bin/bash
# .ci/fuzz.sh: the CI step for the fuzz targets: build them with clang
# and libFuzzer in a work directory and run each for a few seconds.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: .ci/fuzz.sh SRCDIR WORKDIR [SECONDS]
#   SRCDIR    a bootstrapped source tree (one with ./configure)
#   WORKDIR   where to build (WORKDIR/fuzz); crashing inputs are kept in
#             WORKDIR/fuzz/fuzz-work/TARGET/crash-*
#   SECONDS   run time of each of the four targets (default 12, about a
#             minute in all)
# Needs clang (Debian's ships libFuzzer).  Exits 0 if no target found a
# crash, a leak or a broken promise, 1 otherwise.

set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 SRCDIR WORKDIR [SECONDS]" >&2
  exit 2
fi
src=$(cd "$1" && pwd) || exit 1
work=$2
seconds=${3:-12}
build=$work/fuzz
mkdir -p "$build" || exit 1

echo "=== fuzz: configure with clang --enable-fuzzing in $build"
(cd "$build" && "$src/configure" --quiet --enable-fuzzing CC=clang \
   CFLAGS="-O1 -g -Wall -Wextra" \
   && make -j2 lib/libportalock-impl.la >/dev/null) || {
  echo "=== fuzz: build FAILED"
  exit 1
}

echo "=== fuzz: make fuzz FUZZ_SECONDS=$seconds"
(cd "$build" && make fuzz FUZZ_SECONDS="$seconds")
status=$?
echo "fuzz: $( [ $status -eq 0 ] && echo passed || echo FAILED )"
exit $status
