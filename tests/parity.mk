## tests/parity.mk: tests of portalocker parity and interoperability.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

check_PROGRAMS += tests/parity tests/slotname tests/interop
EXTRA_DIST += tests/portalock.objects/parity.exp \
  tests/portalock.interop/interop.exp \
  tests/portalock.tools/sync.exp

tests_parity_SOURCES = tests/parity.c
tests_parity_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_parity_LDADD = $(TESTS_LIBS)

# The pattern formatter is internal: link the library's objects directly.
tests_slotname_SOURCES = tests/slotname.c
tests_slotname_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_slotname_LDADD = tests/libtestutil.la lib/libportalock-impl.la

tests_interop_SOURCES = tests/interop.c
tests_interop_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_interop_LDADD = $(TESTS_LIBS)
