## tests/tools.mk: tests of plock and punlock.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# The .exp files drive the built tools (src/plock, src/punlock) directly.
EXTRA_DIST += tests/portalock.tools/tools.tcl \
  tests/portalock.tools/flock-compat.exp tests/portalock.tools/holder.exp \
  tests/portalock.tools/punlock.exp tests/portalock.tools/command.exp \
  tests/portalock.tools/badinput.exp tests/portalock.tools/sessions.exp \
  tests/portalock.tools/datasafety.exp tests/portalock.tools/pidinterop.exp \
  tests/portalock.tools/flock-diff.exp tests/portalock.tools/fault.exp \
  tests/portalock.tools/probe.exp tests/portalock.tools/methods.exp \
  tests/portalock.tools/prefer.exp

# fault.exp runs tests/fault/plock: plock's own objects, linked with
# tests/plockfault.c, which defines flock and open (see the file).  It
# is named plock so that its messages are plock's.
check_PROGRAMS += tests/fault/plock
tests_fault_plock_SOURCES = tests/plockfault.c
tests_fault_plock_CPPFLAGS = $(TOOLS_CPPFLAGS)
tests_fault_plock_LDADD = $(src_plock_OBJECTS) $(src_plock_LDADD)

# A module preloaded into punlock to replace a file under it
# (tests/punlockshim.c); built as a shared object for LD_PRELOAD.
check_LTLIBRARIES += tests/punlockshim.la
tests_punlockshim_la_SOURCES = tests/punlockshim.c
tests_punlockshim_la_LDFLAGS = -module -avoid-version -shared \
  -rpath $(abs_builddir)/tests
