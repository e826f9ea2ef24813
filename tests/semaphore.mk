## tests/semaphore.mk: tests of semaphores and atomic writes.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/atomic tests/example-atomic
EXTRA_DIST += tests/portalock.semaphore/atomic.exp

tests_atomic_SOURCES = tests/atomic.c
tests_atomic_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_atomic_LDADD = $(TESTS_LIBS)

# atomicsys defines openat, fsync and renameat2, which the library then
# calls instead of the C library's (see the file).
check_PROGRAMS += tests/atomicsys
tests_atomicsys_SOURCES = tests/atomicsys.c
tests_atomicsys_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_atomicsys_LDADD = $(TESTS_LIBS)

# The manual's example programs are built and run by the suite, so they
# cannot go stale.
tests_example_atomic_SOURCES = doc/examples/atomic.c
tests_example_atomic_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_atomic_LDADD = lib/libportalock.la

check_PROGRAMS += tests/semaphore tests/example-semaphore
EXTRA_DIST += tests/portalock.semaphore/semaphore.exp

tests_semaphore_SOURCES = tests/semaphore.c
tests_semaphore_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_semaphore_LDADD = $(TESTS_LIBS)

tests_example_semaphore_SOURCES = doc/examples/semaphore.c
tests_example_semaphore_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_semaphore_LDADD = lib/libportalock.la
