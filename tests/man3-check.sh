#!/bin/sh
# man3-check.sh: every exported function has a man page and a manual entry.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: man3-check.sh SRCDIR BUILDDIR
#
# Prints one "PASS: ...", "FAIL: ..." or "UNSUPPORTED: ..." line a check
# (tests/portalock.doc/man3.exp turns them into results):
#  (a) every function the built shared libraries export (nm -D) has a
#      page in doc/man3 (a page or a .so link) and a @deftypefun entry;
#  (b) the committed pages are what doc/texi2man3 makes from the manual
#      now (needs perl);
#  (c) man --warnings has nothing to say about any page (needs man).

srcdir=$1
builddir=$2
docs=$srcdir/doc
pages=$docs/man3

# (a) Every exported function is documented twice over.
libs=
for so in "$builddir/lib/.libs/libportalock.so" \
          "$builddir/redis/.libs/libportalock-redis.so"; do
  [ -f "$so" ] && libs="$libs $so"
done
if [ -z "$libs" ]; then
  echo "UNSUPPORTED: exported functions: no shared library was built"
elif ! nm --version >/dev/null 2>&1; then
  echo "UNSUPPORTED: exported functions: nm is missing"
else
  for so in $libs; do
    lib=$(basename "$so" .so)
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TWi]$/ { print $3 }')
    if [ -z "$syms" ]; then
      echo "FAIL: $lib: nm -D lists no function"
      continue
    fi
    for sym in $syms; do
      missing=
      [ -f "$pages/$sym.3" ] || missing="no page doc/man3/$sym.3"
      if ! grep -q "^@deftypefunx* .*[ }]$sym (" "$docs"/*.texi; then
        missing="${missing:+$missing, }no @deftypefun entry"
      fi
      if [ -z "$missing" ]; then
        echo "PASS: $lib: $sym has a page and a manual entry"
      else
        echo "FAIL: $lib: $sym: $missing"
      fi
    done
  done
fi

# (b) The pages are up to date with the manual.
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
            "$builddir/config.h" 2>/dev/null)
if ! perl -e 1 >/dev/null 2>&1; then
  echo "UNSUPPORTED: pages up to date: perl is missing"
elif [ -z "$version" ]; then
  echo "FAIL: pages up to date: no PACKAGE_VERSION in $builddir/config.h"
else
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/man3-check.XXXXXX") || exit 1
  if ! perl "$docs/texi2man3" --version="$version" --output="$tmp" "$docs" \
       >"$tmp.err" 2>&1; then
    echo "FAIL: pages up to date: texi2man3 failed: $(head -n 1 "$tmp.err")"
  elif diff -r "$pages" "$tmp" >"$tmp.diff" 2>&1; then
    echo "PASS: pages up to date with the manual"
  else
    cat "$tmp.diff"
    echo "FAIL: pages up to date with the manual (make update-man3):" \
      $(diff -rq "$pages" "$tmp" 2>&1 | sed "s|$tmp|new|" | head -n 5)
  fi
  rm -rf "$tmp" "$tmp.err" "$tmp.diff"
fi

# (c) man has no warning about any page.  A .so link is read from doc/,
# where man3/PAGE.3 names its target.
if ! man --version >/dev/null 2>&1; then
  echo "UNSUPPORTED: man --warnings: man is missing"
else
  for page in "$pages"/*.3; do
    name=$(basename "$page")
    out=$(cd "$docs" && LC_ALL=C.UTF-8 MANWIDTH=80 \
            man --warnings -E UTF-8 -l "man3/$name" 2>&1 >/dev/null)
    if [ -z "$out" ]; then
      echo "PASS: man --warnings: $name"
    else
      echo "$out"
      echo "FAIL: man --warnings: $name: $(echo "$out" | head -n 1)"
    fi
  done
fi
exit 0
