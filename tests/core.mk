## tests/core.mk: tests of the descriptor level and its internals.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/lockcore tests/inodetable tests/lockprobe \
  tests/settle tests/waithelper tests/plockwait tests/fsprobe \
  tests/deadline
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

# Whether the suite runs under a user-mode emulator, for the .exp files
# (portalock_emulator in tests/lib/portalock.exp).
check_PROGRAMS += tests/emulator
tests_emulator_SOURCES = tests/emulator.c
tests_emulator_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_emulator_LDADD = $(TESTS_LIBS)

tests_lockprobe_SOURCES = tests/lockprobe.c
tests_lockprobe_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_lockprobe_LDADD = lib/libportalock.la

# The per-inode table is internal: link the library's objects directly.
tests_inodetable_SOURCES = tests/inodetable.c
tests_inodetable_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_inodetable_LDADD = tests/libtestutil.la lib/libportalock-impl.la

# The file system probe is tested through its internal seam, which takes
# the mount table to read: link the library's objects directly.
tests_fsprobe_SOURCES = tests/fsprobe.c
tests_fsprobe_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_fsprobe_LDADD = tests/libtestutil.la lib/libportalock-impl.la

# The public interface is the same for every program's flags
# (interface.exp).  These programs are built as a library user builds
# one: they include neither config.h, whose _FILE_OFFSET_BITS is the
# library's, nor the test helpers.
check_PROGRAMS += tests/bigrange tests/headertypes-32 tests/headertypes-64
EXTRA_DIST += tests/portalock.core/interface.exp

tests_bigrange_SOURCES = tests/bigrange.c
tests_bigrange_CPPFLAGS = -I$(top_srcdir)/lib
tests_bigrange_LDADD = lib/libportalock.la

tests_headertypes_32_SOURCES = tests/headertypes.c
tests_headertypes_32_CPPFLAGS = -I$(top_srcdir)/lib -I$(top_srcdir)/redis \
  -DTEST_FILE_OFFSET_BITS=32
tests_headertypes_64_SOURCES = tests/headertypes.c
tests_headertypes_64_CPPFLAGS = -I$(top_srcdir)/lib -I$(top_srcdir)/redis \
  -DTEST_FILE_OFFSET_BITS=64 -DTEST_TIME_BITS=64
