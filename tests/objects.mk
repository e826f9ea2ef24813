## tests/objects.mk: tests of the lock objects (lib/object.c and family).
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/objlock tests/objpid tests/objnfs tests/forkrelease \
  tests/closerace tests/forkother tests/convertlost tests/lastshared \
  tests/createrace tests/writerpref
EXTRA_DIST += tests/portalock.objects/objects.exp

tests_objlock_SOURCES = tests/objlock.c
tests_objlock_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_objlock_LDADD = $(TESTS_LIBS)

# forkrelease defines close and sched_yield, which the library then
# calls instead of the C library's (see the file).
tests_forkrelease_SOURCES = tests/forkrelease.c
tests_forkrelease_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_forkrelease_LDADD = $(TESTS_LIBS)

# closerace defines close, which the library then calls instead of the
# C library's (see the file).
tests_closerace_SOURCES = tests/closerace.c
tests_closerace_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_closerace_LDADD = $(TESTS_LIBS)

# convertlost defines flock, which the library then calls instead of
# the C library's (see the file).
tests_convertlost_SOURCES = tests/convertlost.c
tests_convertlost_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_convertlost_LDADD = $(TESTS_LIBS)

# lastshared defines fcntl, which the library then calls instead of
# the C library's (see the file).
tests_lastshared_SOURCES = tests/lastshared.c
tests_lastshared_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_lastshared_LDADD = $(TESTS_LIBS)

# createrace defines open, which the library then calls instead of the
# C library's (see the file).
tests_createrace_SOURCES = tests/createrace.c
tests_createrace_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_createrace_LDADD = $(TESTS_LIBS)

tests_writerpref_SOURCES = tests/writerpref.c
tests_writerpref_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_writerpref_LDADD = $(TESTS_LIBS)

tests_forkother_SOURCES = tests/forkother.c
tests_forkother_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_forkother_LDADD = $(TESTS_LIBS)

tests_objnfs_SOURCES = tests/objnfs.c
tests_objnfs_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_objnfs_LDADD = $(TESTS_LIBS)

tests_objpid_SOURCES = tests/objpid.c
tests_objpid_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_objpid_LDADD = $(TESTS_LIBS)

# The manual's example programs are built and run by the suite, so they
# cannot go stale.
check_PROGRAMS += tests/example-lock tests/example-rlock \
  tests/example-templock tests/example-pidlock
EXTRA_DIST += doc/examples/lock.c doc/examples/rlock.c \
  doc/examples/templock.c doc/examples/pidlock.c

tests_example_lock_SOURCES = doc/examples/lock.c
tests_example_lock_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_lock_LDADD = lib/libportalock.la

tests_example_rlock_SOURCES = doc/examples/rlock.c
tests_example_rlock_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_rlock_LDADD = lib/libportalock.la

tests_example_templock_SOURCES = doc/examples/templock.c
tests_example_templock_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_templock_LDADD = lib/libportalock.la

tests_example_pidlock_SOURCES = doc/examples/pidlock.c
tests_example_pidlock_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_pidlock_LDADD = lib/libportalock.la

# Pollable acquisitions (lib/pending.c).
check_PROGRAMS += tests/pending
EXTRA_DIST += tests/portalock.objects/pending.exp
tests_pending_SOURCES = tests/pending.c
tests_pending_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_pending_LDADD = $(TESTS_LIBS)

# portalock_pending_handle, which only Windows has (tests/win32.mk runs
# this program's Windows checks).
check_PROGRAMS += tests/pendinghandle
EXTRA_DIST += tests/portalock.objects/pendinghandle.exp
tests_pendinghandle_SOURCES = tests/pendinghandle.c
tests_pendinghandle_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_pendinghandle_LDADD = $(TESTS_LIBS)

# The chapter "Event loops": one program on poll(2), libuv and GLib.
# The last two are built only where configure found the loop (they are
# examples: the library links neither).
check_PROGRAMS += tests/example-eventloop-poll
EXTRA_DIST += doc/examples/eventloop-poll.c doc/examples/eventloop-uv.c \
  doc/examples/eventloop-glib.c tests/portalock.objects/eventloop.exp
tests_example_eventloop_poll_SOURCES = doc/examples/eventloop-poll.c
tests_example_eventloop_poll_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_eventloop_poll_LDADD = lib/libportalock.la
if HAVE_LIBUV
check_PROGRAMS += tests/example-eventloop-uv
tests_example_eventloop_uv_SOURCES = doc/examples/eventloop-uv.c
tests_example_eventloop_uv_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_eventloop_uv_CFLAGS = $(AM_CFLAGS) $(LIBUV_CFLAGS)
tests_example_eventloop_uv_LDADD = lib/libportalock.la $(LIBUV_LIBS)
endif
if HAVE_GLIB
check_PROGRAMS += tests/example-eventloop-glib
tests_example_eventloop_glib_SOURCES = doc/examples/eventloop-glib.c
tests_example_eventloop_glib_CPPFLAGS = -I$(top_srcdir)/lib
tests_example_eventloop_glib_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_example_eventloop_glib_LDADD = lib/libportalock.la $(GLIB_LIBS)
endif
