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

# Everything but the public entry points is built once, into a
# convenience library that the tests of internals link directly.
noinst_LTLIBRARIES += lib/libportalock-impl.la
lib_libportalock_impl_la_SOURCES = \
  lib/portalock.h \
  lib/portalock-private.h \
  lib/backend.c \
  lib/inode-table.c \
  lib/lock.c \
  lib/wait.c \
  lib/timer-wait.c \
  lib/object.c \
  lib/holders.c \
  lib/pidrecord.c \
  lib/semaphore.c \
  lib/atomic.c \
  lib/sync.c \
  lib/pattern.c
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
