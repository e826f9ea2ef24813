## tests/win32.mk: tests of the Windows build, run under Wine.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# Test programs shared with POSIX: their helpers, with the process ones
# of Windows (holders and probes run tests/w32holder, beside them).
check_LTLIBRARIES += tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil-win32.c \
  tests/testutil.h tests/w32child.h tests/w32holder.h
tests_libtestutil_la_CPPFLAGS = -I$(top_srcdir)/lib

# The Windows programs: their other processes are copies of themselves
# (w32child.h).
check_PROGRAMS += tests/win32lock
tests_win32lock_SOURCES = tests/win32lock.c
tests_win32lock_CPPFLAGS = -I$(top_srcdir)/lib
tests_win32lock_LDADD = tests/libtestutil.la lib/libportalock.la

check_PROGRAMS += tests/win32atomic
tests_win32atomic_SOURCES = tests/win32atomic.c
tests_win32atomic_CPPFLAGS = -I$(top_srcdir)/lib
tests_win32atomic_LDADD = tests/libtestutil.la lib/libportalock.la

check_PROGRAMS += tests/w32holder
tests_w32holder_SOURCES = tests/w32holder.c tests/w32holder.h
tests_w32holder_CPPFLAGS = -I$(top_srcdir)/lib
tests_w32holder_LDADD = lib/libportalock.la

check_PROGRAMS += tests/slotname
tests_slotname_SOURCES = tests/slotname.c
tests_slotname_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
# The library's objects call winpthread; libtool puts the static
# winpthread of LIBS (m4/portalock-platform.m4) before the convenience
# archive in a program's link, so this test program imports it instead.
tests_slotname_LDADD = tests/libtestutil.la lib/libportalock-impl.la \
  -lpthread

# The manual's example of atomic writes, as the POSIX suite runs it.
check_PROGRAMS += tests/example-atomic
tests_example_atomic_SOURCES = doc/examples/atomic.c
tests_example_atomic_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_atomic_LDADD = lib/libportalock.la

# objlock and objpid: the POSIX suite's tests of lock objects and of PID
# records, built for Windows (their fork- and /proc-based checks are
# UNSUPPORTED there).
check_PROGRAMS += tests/objlock
tests_objlock_SOURCES = tests/objlock.c
tests_objlock_CPPFLAGS = -I$(top_srcdir)/lib
tests_objlock_LDADD = tests/libtestutil.la lib/libportalock.la

check_PROGRAMS += tests/objpid
tests_objpid_SOURCES = tests/objpid.c
tests_objpid_CPPFLAGS = -I$(top_srcdir)/lib
tests_objpid_LDADD = tests/libtestutil.la lib/libportalock.la

# semaphore and atomic: the POSIX suite's programs, their checks that
# need fork, signals or /proc reported UNSUPPORTED; semaphore's holders
# in other processes are copies of itself (w32child.h).
check_PROGRAMS += tests/semaphore tests/atomic
tests_semaphore_SOURCES = tests/semaphore.c
tests_semaphore_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_semaphore_LDADD = tests/libtestutil.la lib/libportalock.la -lpthread
tests_atomic_SOURCES = tests/atomic.c
tests_atomic_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_atomic_LDADD = tests/libtestutil.la lib/libportalock.la

# lockcore and settle: the POSIX suite's descriptor-level calls and
# timed-wait answers, on the win32 backend.
check_PROGRAMS += tests/lockcore tests/settle
tests_lockcore_SOURCES = tests/lockcore.c
tests_lockcore_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_lockcore_LDADD = tests/libtestutil.la lib/libportalock.la
tests_settle_SOURCES = tests/settle.c
tests_settle_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_settle_LDADD = tests/libtestutil.la lib/libportalock.la

# Only the Windows tests run in a Windows build.
AM_RUNTESTFLAGS = --directory portalock.win32

# Pollable acquisitions, waited for through their event HANDLEs: with
# other processes holding, cancels, cancels raced with releases, and
# semaphores (its children are copies of itself, w32child.h).
check_PROGRAMS += tests/pendinghandle
tests_pendinghandle_SOURCES = tests/pendinghandle.c
tests_pendinghandle_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_pendinghandle_LDADD = tests/libtestutil.la lib/libportalock.la

# The manual's event loop example for Windows (WaitForMultipleObjects
# and a waitable timer), run as eventloop.exp runs the POSIX ones.
check_PROGRAMS += tests/example-eventloop-win32
EXTRA_DIST += doc/examples/eventloop-win32.c
tests_example_eventloop_win32_SOURCES = doc/examples/eventloop-win32.c
tests_example_eventloop_win32_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_eventloop_win32_LDADD = lib/libportalock.la
