## tests/objects.mk: tests of the lock objects (lib/object.c and family).
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/objlock tests/objpid
EXTRA_DIST += tests/portalock.objects/objects.exp

tests_objlock_SOURCES = tests/objlock.c
tests_objlock_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_objlock_LDADD = $(TESTS_LIBS)

tests_objpid_SOURCES = tests/objpid.c
tests_objpid_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_objpid_LDADD = $(TESTS_LIBS)
