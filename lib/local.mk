## lib/local.mk: the library, libportalock.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# Library interface version (current:revision:age) is PORTALOCK_LT_VERSION
# in configure.ac.  Before a release that changes the library:
#  1. the code changed at all:              revision++
#  2. an interface was added, removed or changed: current++, revision = 0
#  3. interfaces were added:                age++
#  4. interfaces were removed or changed:   age = 0
# Never tie it to the package version.
#
# The ABI guard.  lib/abi/libportalock.abi is the ABI of the last
# release (abidw, from a build with -g); 'make abi-check' (run by CI)
# compares the built library with it through the public header.  Added
# functions pass.  Anything else abidiff reports -- a function or
# variable removed, a changed prototype or public type -- fails, until
# the change is deliberate: then follow the rules above (an interface
# removed or changed: current++, revision = 0, age = 0) and record the
# new baseline with 'make abi-update', in the same commit.

# Everything but the public entry points is built once, into a
# convenience library that the tests of internals link directly.
noinst_LTLIBRARIES += lib/libportalock-impl.la
lib_libportalock_impl_la_SOURCES = \
  lib/portalock.h \
  lib/portalock-private.h \
  lib/backend.c \
  lib/deadline.c \
  lib/inode-table.c \
  lib/lock.c \
  lib/object.c \
  lib/selfdeadlock.c \
  lib/selfdeadlock.h \
  lib/method.h \
  lib/method-kernel.c \
  lib/writer-gate.c \
  lib/writer-gate.h \
  lib/method-select.c \
  lib/pidrecord.c \
  lib/atomic.c \
  lib/atomic-place.h \
  lib/semaphore.c \
  lib/sync.c \
  lib/pattern.c \
  lib/holders.c \
  lib/fsprobe.c \
  lib/pending.c \
  lib/pending-notify.h

# Platform seams: one file per answer of a configure probe, never an
# #ifdef inside the code that uses the feature (see m4/portalock-platform.m4).
if HAVE_PROC_LOCKS
lib_libportalock_impl_la_SOURCES += lib/holders-linux.c
else
lib_libportalock_impl_la_SOURCES += lib/holders-none.c
endif
if HAVE_MOUNTINFO
lib_libportalock_impl_la_SOURCES += lib/fsprobe-linux.c
else
lib_libportalock_impl_la_SOURCES += lib/fsprobe-none.c
endif
if PLATFORM_WIN32
lib_libportalock_impl_la_SOURCES += lib/wait-win32.c lib/atomic-win32.c \
  lib/posix-win32.c lib/posix-win32.h lib/method-marker-none.c \
  lib/pending-notify-win32.c
else
lib_libportalock_impl_la_SOURCES += lib/wait.c lib/atomic-posix.c \
  lib/marker.c lib/marker.h lib/marker-record.h lib/marker-readers.c \
  lib/method-marker.c lib/pending-notify-posix.c
if HAVE_THREAD_TIMER
lib_libportalock_impl_la_SOURCES += lib/timer-wait.c
else
lib_libportalock_impl_la_SOURCES += lib/timer-wait-none.c
endif
endif
if BACKEND_FLOCK
lib_libportalock_impl_la_SOURCES += lib/backend-flock.c
endif
if BACKEND_OFD
lib_libportalock_impl_la_SOURCES += lib/backend-ofd.c
endif
if BACKEND_FCNTL
lib_libportalock_impl_la_SOURCES += lib/backend-fcntl.c
endif
if BACKEND_LOCKF
lib_libportalock_impl_la_SOURCES += lib/backend-lockf.c
endif
if BACKEND_WIN32
lib_libportalock_impl_la_SOURCES += lib/backend-win32.c
endif
lib_libportalock_impl_la_CPPFLAGS = -DBUILDING_LIBPORTALOCK -I$(top_srcdir)/lib
lib_libportalock_impl_la_CFLAGS = $(CFLAG_VISIBILITY) $(AM_CFLAGS)

lib_LTLIBRARIES += lib/libportalock.la
include_HEADERS += lib/portalock.h
lib_libportalock_la_SOURCES = lib/version.c
lib_libportalock_la_CPPFLAGS = $(lib_libportalock_impl_la_CPPFLAGS)
lib_libportalock_la_CFLAGS = $(lib_libportalock_impl_la_CFLAGS)
lib_libportalock_la_LIBADD = lib/libportalock-impl.la
lib_libportalock_la_LDFLAGS = -version-info $(PORTALOCK_LT_VERSION) \
  -no-undefined -export-symbols-regex '^portalock_'

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/portalock.pc
EXTRA_DIST += lib/portalock.pc.in
DISTCLEANFILES += lib/portalock.pc

EXTRA_DIST += lib/abi/libportalock.abi
ABIDIFF = abidiff
ABIDW = abidw
abi_library = lib/.libs/libportalock.so
abi_header = $(srcdir)/lib/portalock.h
abi_baseline = $(srcdir)/lib/abi/libportalock.abi

# abidiff's status is a bit set: 1 error, 2 usage error, 4 some change,
# 8 an incompatible change.  A change (4) that the report shows to be
# additions only is compatible; every other change fails.
abi-check: lib/libportalock.la
	@$(ABIDIFF) --fail-no-debug-info --hf1 $(abi_header) \
	  --hf2 $(abi_header) $(abi_baseline) $(abi_library) \
	  >lib/abi-check.txt 2>&1; \
	status=$$?; \
	cat lib/abi-check.txt; \
	if test $$((status & 11)) -ne 0; then \
	  echo "abi-check: incompatible with $(abi_baseline) (abidiff status $$status)" >&2; \
	  exit 1; \
	elif test $$status -ne 0 \
	     && grep -E '[1-9][0-9]* (Removed|Changed)' lib/abi-check.txt >/dev/null; then \
	  echo "abi-check: interfaces changed or removed since $(abi_baseline)" >&2; \
	  exit 1; \
	elif test $$status -ne 0; then \
	  echo "abi-check: compatible: interfaces added"; \
	else \
	  echo "abi-check: the ABI of $(abi_baseline)"; \
	fi

# Record the built library's ABI as the new baseline (a build with -g).
abi-update: lib/libportalock.la
	$(ABIDW) --exported-interfaces-only --no-corpus-path \
	  --no-comp-dir-path --short-locs --drop-private-types \
	  --header-file $(abi_header) --out-file $(abi_baseline) $(abi_library)

CLEANFILES += lib/abi-check.txt
.PHONY: abi-check abi-update
