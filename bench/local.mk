## bench/local.mk: the benchmark, run by 'make bench'.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# The benchmark program is built by 'make bench' only: not by 'make all',
# and not by 'make check', where speed is never measured.
EXTRA_PROGRAMS = bench/plbench
bench_plbench_SOURCES = bench/plbench.c bench/bench.h bench/util.c \
  bench/micro.c bench/handoff.c bench/throughput.c bench/spawn.c \
  bench/scaling.c bench/rwlock.c bench/markers.c
bench_plbench_CPPFLAGS = -I$(top_srcdir)/lib
bench_plbench_LDADD = lib/libportalock.la -lpthread -lm
CLEANFILES += bench/plbench$(EXEEXT) bench-results.tsv
EXTRA_DIST += bench/run bench/peers.py

# 'make bench' builds what it measures, then runs the full suite;
# 'make bench BENCHFLAGS=--quick' runs the brief one (CI).
BENCHFLAGS =
bench: all bench/plbench$(EXEEXT)
	$(srcdir)/bench/run --builddir=$(abs_top_builddir) $(BENCHFLAGS)
.PHONY: bench
