## tests/redis.mk: tests of libportalock-redis, against a real server.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

EXTRA_DIST += tests/portalock.redis/redis.exp \
  tests/portalock.redis/server.tcl tests/portalock.redis/plock.exp \
  tests/portalock.redis/example.exp tests/redisclient.py

# The test program links the tests' copy of the library, which can pause
# a waiter where a test asks it to.
if BUILD_REDIS
check_PROGRAMS += tests/redislock
tests_redislock_SOURCES = tests/redislock.c
tests_redislock_CPPFLAGS = -I$(top_srcdir)/redis -I$(top_srcdir)/tests \
  $(HIREDIS_CFLAGS)
tests_redislock_LDADD = tests/libtestutil.la \
  redis/libportalock-redis-test.la lib/libportalock.la $(HIREDIS_LIBS) -lm

# What the manual gives for redis-py's locked, owned and reacquire.
check_PROGRAMS += tests/redisquery
tests_redisquery_SOURCES = tests/redisquery.c
tests_redisquery_CPPFLAGS = $(tests_redislock_CPPFLAGS)
tests_redisquery_LDADD = tests/libtestutil.la redis/libportalock-redis.la \
  lib/libportalock.la $(HIREDIS_LIBS)

# The manual's example is built as a user builds it from the installed
# library, with what pkg-config gives (the header's directory and the
# library, not hiredis), and run against the suite's server.
check_PROGRAMS += tests/example-redis
tests_example_redis_SOURCES = doc/examples/redis.c
tests_example_redis_CPPFLAGS = -I$(top_srcdir)/redis
tests_example_redis_LDADD = redis/libportalock-redis.la

# The manual's event loop example for the Redis lock, built the same way.
check_PROGRAMS += tests/example-eventloop-redis
tests_example_eventloop_redis_SOURCES = doc/examples/eventloop-redis.c
tests_example_eventloop_redis_CPPFLAGS = -I$(top_srcdir)/redis
tests_example_eventloop_redis_LDADD = redis/libportalock-redis.la
endif

if BUILD_REDIS
check_PROGRAMS += tests/redisfair
tests_redisfair_SOURCES = tests/redisfair.c
tests_redisfair_CPPFLAGS = $(tests_redislock_CPPFLAGS)
tests_redisfair_LDADD = $(tests_redislock_LDADD)

# Pollable acquisitions (portalock_redis_acquire_start).
check_PROGRAMS += tests/redispending
tests_redispending_SOURCES = tests/redispending.c
tests_redispending_CPPFLAGS = $(tests_redislock_CPPFLAGS)
tests_redispending_LDADD = tests/libtestutil.la \
  redis/libportalock-redis.la lib/libportalock.la $(HIREDIS_LIBS)

# Writer preference: the checks of tests/writerpref.c, on the server.
check_PROGRAMS += tests/redisrw
tests_redisrw_SOURCES = tests/redisrw.c
tests_redisrw_CPPFLAGS = $(tests_redislock_CPPFLAGS)
tests_redisrw_LDADD = tests/libtestutil.la redis/libportalock-redis.la \
  lib/libportalock.la $(HIREDIS_LIBS)
endif
