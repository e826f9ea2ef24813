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

tests_fusemounts_SOURCES = tests/fusemounts.c tests/fuseharness.c \
  tests/fuseharness.h
tests_fusemounts_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_fusemounts_LDADD = $(TESTS_LIBS)

# The marker and lease locks are internal (lib/marker.c) and tested
# through their seams (host identity, heartbeat faults): link the
# library's objects directly.
check_PROGRAMS += tests/marker
tests_marker_SOURCES = tests/marker.c tests/fuseharness.c \
  tests/fuseharness.h
tests_marker_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_marker_LDADD = tests/libtestutil.la lib/libportalock-impl.la

# Lock objects with every method (kernel, strict, lease, auto), on a
# plain directory and across two mounts: linked with the library's
# objects for the marker module's host identity seam.
check_PROGRAMS += tests/objmethod
tests_objmethod_SOURCES = tests/objmethod.c tests/fuseharness.c \
  tests/fuseharness.h
tests_objmethod_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_objmethod_LDADD = tests/libtestutil.la lib/libportalock-impl.la -lm

# plock --method across two FUSE mounts, and a lock lost while held:
# runs the built plock and punlock.
check_PROGRAMS += tests/plockmethods
tests_plockmethods_SOURCES = tests/plockmethods.c tests/fuseharness.c \
  tests/fuseharness.h
tests_plockmethods_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_plockmethods_LDADD = $(TESTS_LIBS)

# plock --verify on a directory and across the two mounts.
check_PROGRAMS += tests/verifymounts
tests_verifymounts_SOURCES = tests/verifymounts.c tests/fuseharness.c \
  tests/fuseharness.h
tests_verifymounts_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_verifymounts_LDADD = $(TESTS_LIBS)

# Shared locks on the marker methods: reader markers, the two-phase
# writer acquire, eviction, generations, on a plain directory and
# across two mounts; linked with the library's objects for the marker
# module's seams.
check_PROGRAMS += tests/rwmarkers
tests_rwmarkers_SOURCES = tests/rwmarkers.c tests/fuseharness.c \
  tests/fuseharness.h
tests_rwmarkers_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_builddir)
tests_rwmarkers_LDADD = tests/libtestutil.la lib/libportalock-impl.la \
  $(LIBS)
