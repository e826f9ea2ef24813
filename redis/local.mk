## redis/local.mk: libportalock-redis, locks on a Redis server.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# libportalock-redis's interface version (current:revision:age), kept
# apart from libportalock's.  Before a release that changes the library:
#  1. the code changed at all:              revision++
#  2. an interface was added, removed or changed: current++, revision = 0
#  3. interfaces were added:                age++
#  4. interfaces were removed or changed:   age = 0
# Its first release is 0.3.0 (0.1.0 had no Redis library, and 0.2.0 was
# not released on its own), so it starts at 0:0:0, whatever it gained
# before that release.
PORTALOCK_REDIS_LT_VERSION = 0:0:0

EXTRA_DIST += redis/portalock-redis.pc.in
DISTCLEANFILES += redis/portalock-redis.pc

if BUILD_REDIS
# Everything but the test hook, built once for the installed library and
# the tests' copy, which pauses where a test asks it to.
noinst_LTLIBRARIES += redis/libportalock-redis-impl.la
redis_libportalock_redis_impl_la_SOURCES = \
  redis/portalock-redis.h \
  redis/redis-private.h \
  redis/url.c \
  redis/conn.c \
  redis/sha1.c \
  redis/scripts.c \
  redis/lock.c \
  redis/wait.c \
  redis/pending.c \
  redis/keepalive.c
redis_libportalock_redis_impl_la_CPPFLAGS = -DBUILDING_LIBPORTALOCK_REDIS \
  -I$(top_srcdir)/redis $(HIREDIS_CFLAGS)
redis_libportalock_redis_impl_la_CFLAGS = $(CFLAG_VISIBILITY) $(AM_CFLAGS)
redis_libportalock_redis_impl_la_LIBADD = $(HIREDIS_LIBS) -lpthread -lm

lib_LTLIBRARIES += redis/libportalock-redis.la
include_HEADERS += redis/portalock-redis.h
redis_libportalock_redis_la_SOURCES = redis/hook.c
redis_libportalock_redis_la_CPPFLAGS = \
  $(redis_libportalock_redis_impl_la_CPPFLAGS)
redis_libportalock_redis_la_CFLAGS = $(redis_libportalock_redis_impl_la_CFLAGS)
redis_libportalock_redis_la_LIBADD = redis/libportalock-redis-impl.la
redis_libportalock_redis_la_LDFLAGS = \
  -version-info $(PORTALOCK_REDIS_LT_VERSION) \
  -no-undefined -export-symbols-regex '^portalock_redis_'

check_LTLIBRARIES += redis/libportalock-redis-test.la
redis_libportalock_redis_test_la_SOURCES = redis/hook.c
redis_libportalock_redis_test_la_CPPFLAGS = -DPLR_TEST_HOOKS \
  $(redis_libportalock_redis_impl_la_CPPFLAGS)
redis_libportalock_redis_test_la_CFLAGS = \
  $(redis_libportalock_redis_impl_la_CFLAGS)
redis_libportalock_redis_test_la_LIBADD = redis/libportalock-redis-impl.la

pkgconfig_DATA += redis/portalock-redis.pc

# The benchmark, built by bench/run (make bench) only.
EXTRA_PROGRAMS += bench/plbench-redis
bench_plbench_redis_SOURCES = bench/redis.c
bench_plbench_redis_CPPFLAGS = -I$(top_srcdir)/redis $(HIREDIS_CFLAGS)
bench_plbench_redis_LDADD = redis/libportalock-redis.la $(HIREDIS_LIBS) -lm
CLEANFILES += bench/plbench-redis$(EXEEXT)
endif
EXTRA_DIST += bench/redis-peer.py
