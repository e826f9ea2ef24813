## tests/network.mk: kernel locks on network file systems, and the probe.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/fusemounts
EXTRA_DIST += tests/portalock.network/network.exp

tests_fusemounts_SOURCES = tests/fusemounts.c
tests_fusemounts_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_fusemounts_LDADD = $(TESTS_LIBS)
