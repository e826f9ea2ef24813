## stress/local.mk: the reliability suite: 'make stress' and 'make fuzz'.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# The stress program is built by 'make stress' only: not by 'make all',
# and not by 'make check', whose run it would lengthen by minutes.
EXTRA_PROGRAMS += stress/plstress
stress_plstress_SOURCES = stress/plstress.c
stress_plstress_CPPFLAGS = $(TESTS_CPPFLAGS)
stress_plstress_LDADD = $(TESTS_LIBS) -lpthread
CLEANFILES += stress/plstress$(EXEEXT)

# 'make stress' runs the full run (many minutes);
# 'make stress STRESSFLAGS=--quick' the CI one (a minute or two).
# See 'stress/plstress --help' for --procs, --threads, --count, ...
STRESSFLAGS =
stress: all stress/plstress$(EXEEXT)
	./stress/plstress$(EXEEXT) $(STRESSFLAGS)
.PHONY: stress

# 'make stress-load' runs the timing-sensitive test programs over and
# over beside a CPU hog (stress/load.sh says which, and how often);
# STRESS_LOAD_SCALE multiplies the number of runs.
STRESS_LOAD_SCALE = 1
stress-load: all $(check_PROGRAMS)
	bash $(srcdir)/stress/load.sh $(abs_builddir) $(STRESS_LOAD_SCALE)
.PHONY: stress-load

include $(top_srcdir)/fuzz/local.mk
EXTRA_DIST += stress/load.sh .ci/stress.sh .ci/fuzz.sh .ci/tsan.sh .ci/tsan.supp
