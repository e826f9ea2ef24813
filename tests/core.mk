## tests/core.mk: tests of the descriptor level and its internals.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/lockcore tests/inodetable tests/lockprobe \
  tests/settle tests/waithelper tests/plockwait tests/deadline
EXTRA_DIST += tests/portalock.core/core.exp

tests_lockcore_SOURCES = tests/lockcore.c
tests_lockcore_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_lockcore_LDADD = $(TESTS_LIBS)

# It defines the lock system calls itself, which the shared library then
# calls: it must link the library as a shared library.
tests_settle_SOURCES = tests/settle.c
tests_settle_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_settle_LDADD = $(TESTS_LIBS)

# It defines clock_gettime itself, as settle the lock calls.
tests_deadline_SOURCES = tests/deadline.c
tests_deadline_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_deadline_LDADD = $(TESTS_LIBS)

tests_waithelper_SOURCES = tests/waithelper.c
tests_waithelper_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_waithelper_LDADD = $(TESTS_LIBS)

tests_plockwait_SOURCES = tests/plockwait.c
tests_plockwait_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_plockwait_LDADD = $(TESTS_LIBS)

tests_lockprobe_SOURCES = tests/lockprobe.c
tests_lockprobe_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_lockprobe_LDADD = lib/libportalock.la

# The per-inode table is internal: link the library's objects directly.
tests_inodetable_SOURCES = tests/inodetable.c
tests_inodetable_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_inodetable_LDADD = tests/libtestutil.la lib/libportalock-impl.la
