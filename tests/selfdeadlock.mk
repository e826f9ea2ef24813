## tests/selfdeadlock.mk: a thread's wait for its own lock (EDEADLK), and
## the questions a lock object answers (held, depth).
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/selfdeadlock
EXTRA_DIST += tests/portalock.objects/selfdeadlock.exp

tests_selfdeadlock_SOURCES = tests/selfdeadlock.c
tests_selfdeadlock_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_selfdeadlock_LDADD = $(TESTS_LIBS)
