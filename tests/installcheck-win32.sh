#!/bin/sh
# installcheck-win32.sh: check that the installed Windows programs run
# from the install tree alone, and that the installed man pages
# describe what is installed.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: installcheck-win32.sh BINDIR MAN1DIR VERSION
#   BINDIR   the installed bin directory (with DESTDIR)
#   MAN1DIR  the installed man1 directory (with DESTDIR)
#   VERSION  the package's version, which plock --version must name
# Environment: RUNNER (wine64), WINESERVER (its server, optional),
# WINEPREFIX (the Wine prefix to run in), OBJDUMP (the host's objdump).
# 'make installcheck' runs it in a Windows build.  Prints PASS and FAIL
# lines; exits 0 if all passed, 1 if any failed, 77 if no Windows
# program can run here.
#
# The programs are copied into a new directory holding nothing else and
# run there with WINEPATH unset, as a user who copies the installed
# files runs them: a DLL they need that is not installed makes Wine
# fail to start them.

set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 BINDIR MAN1DIR VERSION" >&2
  exit 2
fi
bindir=$1
man1dir=$2
version=$3
failed=0

pass () { echo "PASS: installed: $*"; }
fail () { echo "FAIL: installed: $*"; failed=1; }

if [ -z "${RUNNER:-}" ]; then
  echo "UNSUPPORTED: installed: no runner (Wine) for Windows programs"
  exit 77
fi
if [ ! -f "$bindir/plock.exe" ] || [ ! -f "$bindir/libportalock-0.dll" ]; then
  fail "$bindir lacks plock.exe or libportalock-0.dll (make install first)"
  exit 1
fi

# What each installed program and DLL imports: Windows' own DLLs, or
# DLLs installed beside it.
for f in "$bindir"/*.exe "$bindir"/*.dll; do
  [ -f "$f" ] || continue
  name=${f##*/}
  dlls=$(${OBJDUMP:-objdump} -p "$f" | sed -n 's/^[[:space:]]*DLL Name: //p')
  if [ -z "$dlls" ]; then
    fail "$name: $OBJDUMP lists no imported DLL"
    continue
  fi
  missing=
  for dll in $dlls; do
    case $(echo "$dll" | tr 'A-Z' 'a-z') in
      kernel32.dll | msvcrt.dll | ntdll.dll | advapi32.dll | user32.dll \
      | ws2_32.dll | shell32.dll | ole32.dll | bcrypt.dll | ucrtbase.dll \
      | api-ms-win-*) ;;
      *) [ -f "$bindir/$dll" ] || missing="$missing $dll" ;;
    esac
  done
  if [ -z "$missing" ]; then
    pass "$name imports only Windows' DLLs and installed ones"
  else
    fail "$name imports DLLs that are not installed:$missing"
  fi
done

# A directory with the installed programs and nothing else.
dir=$(mktemp -d "${TMPDIR:-/tmp}/portalock-installed.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
for f in "$bindir"/*; do
  [ -f "$f" ] && cp "$f" "$dir/"
done
unset WINEPATH
WINEDEBUG=-all
export WINEDEBUG
# Wine's server outlives the call that starts it: keep one up for these
# runs, with no pipe of ours open, and stop it at the end.
if [ -n "${WINESERVER:-}" ]; then
  "$WINESERVER" -p </dev/null >/dev/null 2>&1
  trap '"$WINESERVER" -k </dev/null >/dev/null 2>&1; rm -rf "$dir"' EXIT
fi

# run ARG...: run the copied plock.exe in $dir; its status in $status,
# its output (carriage returns cut) in $dir/out and $dir/err.  Output
# goes to files, not pipes, which a Wine service could keep open.
run () {
  (cd "$dir" && "$RUNNER" "$dir/plock.exe" "$@" \
     </dev/null >"$dir/out.raw" 2>"$dir/err.raw")
  status=$?
  tr -d '\r' <"$dir/out.raw" >"$dir/out"
  tr -d '\r' <"$dir/err.raw" >"$dir/err"
}

run --version
if [ $status -eq 0 ] \
   && [ "$(sed -n 1p "$dir/out")" = "plock (portalock) $version" ]; then
  pass "plock.exe --version runs from a directory of its own"
else
  fail "plock.exe --version: status $status, output: $(cat "$dir/out" "$dir/err")"
fi

printf 'content\n' >"$dir/data.lock"
run data.lock cmd.exe /c echo hi
if [ $status -eq 0 ] && [ "$(cat "$dir/out")" = hi ]; then
  pass "plock.exe FILE COMMAND runs COMMAND"
else
  fail "plock.exe FILE COMMAND: status $status, output: $(cat "$dir/out" "$dir/err")"
fi
run data.lock -c "echo hi"
if [ $status -eq 0 ] && [ "$(cat "$dir/out")" = hi ]; then
  pass "plock.exe FILE -c STRING runs STRING"
else
  fail "plock.exe FILE -c STRING: status $status, output: $(cat "$dir/out" "$dir/err")"
fi
# A second plock, started by the first while it holds the lock, meets
# the lock: the copies lock for real.
run data.lock plock.exe -n data.lock cmd.exe /c exit 0
if [ $status -eq 1 ]; then
  pass "plock.exe -n meets the lock another plock.exe holds"
else
  fail "plock.exe -n under another plock.exe: status $status (want 1), $(cat "$dir/err")"
fi
if [ "$(cat "$dir/data.lock")" = content ]; then
  pass "plock.exe leaves the lock file's content as it was"
else
  fail "plock.exe changed the lock file's content"
fi

# Man pages: one for each installed program, and only for those; and
# a program's page lists only options its --help lists.
for page in "$man1dir"/*.1; do
  [ -f "$page" ] || continue
  name=${page##*/}
  name=${name%.1}
  if [ -f "$bindir/$name.exe" ]; then
    pass "man1/$name.1 describes an installed program"
  else
    fail "man1/$name.1 is installed, but not $name.exe"
  fi
done
for f in "$bindir"/*.exe; do
  [ -f "$f" ] || continue
  name=${f##*/}
  name=${name%.exe}
  page=$man1dir/$name.1
  if [ ! -f "$page" ]; then
    fail "$name.exe is installed without man1/$name.1"
    continue
  fi
  (cd "$dir" && "$RUNNER" "$dir/$name.exe" --help \
     </dev/null >"$dir/help" 2>/dev/null)
  # The options the page's DESCRIPTION (help2man's copy of --help)
  # lists.
  extra=
  for opt in $(sed -n '/^\.SH DESCRIPTION/,/^\.SH /p' "$page" \
                 | sed 's/\\-/-/g' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qw -- "$opt" "$dir/help" || extra="$extra $opt"
  done
  if [ -z "$extra" ]; then
    pass "man1/$name.1 lists only options of the installed $name.exe"
  else
    fail "man1/$name.1 lists options $name.exe does not have:$extra"
  fi
done

exit $failed
