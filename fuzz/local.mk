## fuzz/local.mk: fuzz targets for the parsers of outside input.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# One target per parser that reads what someone else wrote: durations
# (the tools' arguments), PID records (lock files), /proc/locks and
# fdinfo lines, lock-object modes.  With ./configure --enable-fuzzing
# (CC=clang) they are libFuzzer programs; otherwise each replays the
# inputs it is given, so any build can run the corpus.
FUZZ_TARGETS = duration pidrecord holders mode
fuzz_bins = fuzz/fuzz-duration fuzz/fuzz-pidrecord fuzz/fuzz-holders \
  fuzz/fuzz-mode
EXTRA_PROGRAMS += $(fuzz_bins)
CLEANFILES += $(fuzz_bins)
fuzz_common = fuzz/fuzz.h fuzz/util.c
FUZZ_ALL_CPPFLAGS = $(FUZZ_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_srcdir)/fuzz

fuzz_fuzz_duration_SOURCES = fuzz/duration.c src/duration.c src/duration.h \
  $(fuzz_common)
fuzz_fuzz_duration_CPPFLAGS = $(FUZZ_ALL_CPPFLAGS) -I$(top_srcdir)/src
fuzz_fuzz_duration_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_duration_LDADD = -lm

fuzz_fuzz_pidrecord_SOURCES = fuzz/pidrecord.c $(fuzz_common)
fuzz_fuzz_pidrecord_CPPFLAGS = $(FUZZ_ALL_CPPFLAGS)
fuzz_fuzz_pidrecord_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_pidrecord_LDADD = lib/libportalock-impl.la

fuzz_fuzz_holders_SOURCES = fuzz/holders.c $(fuzz_common)
fuzz_fuzz_holders_CPPFLAGS = $(FUZZ_ALL_CPPFLAGS)
fuzz_fuzz_holders_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_holders_LDADD = lib/libportalock-impl.la

fuzz_fuzz_mode_SOURCES = fuzz/mode.c $(fuzz_common)
fuzz_fuzz_mode_CPPFLAGS = $(FUZZ_ALL_CPPFLAGS)
fuzz_fuzz_mode_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_mode_LDADD = lib/libportalock-impl.la

# The seed corpus: a few valid and broken inputs per target.
EXTRA_DIST += fuzz/corpus

# 'make fuzz' runs each target for FUZZ_SECONDS with libFuzzer, starting
# from the seed corpus; what it learns goes to fuzz-work/ in the build
# tree, never into the sources; a crashing input is saved there as
# fuzz-work/TARGET/crash-*.  Without --enable-fuzzing it replays the
# seed corpus.  'make fuzz-replay' replays it in any build.
FUZZ_SECONDS = 15
FUZZFLAGS =
fuzz: $(fuzz_bins)
	@status=0; \
	for t in $(FUZZ_TARGETS); do \
	  if test -n "$(FUZZ_LDFLAGS)"; then \
	    mkdir -p fuzz-work/$$t/new && \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
	    ./fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	      -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	      -artifact_prefix=fuzz-work/$$t/ $(FUZZFLAGS) \
	      fuzz-work/$$t/new $(srcdir)/fuzz/corpus/$$t \
	      >fuzz-work/$$t.log 2>&1; \
	    r=$$?; \
	    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
	      fuzz-work/$$t.log | sed "s|^|  $$t: |"; \
	  else \
	    ./fuzz/fuzz-$$t $(srcdir)/fuzz/corpus/$$t; r=$$?; \
	  fi; \
	  if test $$r -ne 0; then \
	    echo "FAIL: fuzz $$t (exit $$r)"; \
	    test -f fuzz-work/$$t.log && tail -n 40 fuzz-work/$$t.log; \
	    status=1; \
	  else \
	    echo "PASS: fuzz $$t"; \
	  fi; \
	done; \
	exit $$status
fuzz-replay: $(fuzz_bins)
	@status=0; \
	for t in $(FUZZ_TARGETS); do \
	  if test -n "$(FUZZ_LDFLAGS)"; then \
	    ./fuzz/fuzz-$$t -runs=0 $(srcdir)/fuzz/corpus/$$t >/dev/null 2>&1; \
	  else \
	    ./fuzz/fuzz-$$t $(srcdir)/fuzz/corpus/$$t >/dev/null; \
	  fi || { echo "FAIL: fuzz-replay $$t"; status=1; continue; }; \
	  echo "PASS: fuzz-replay $$t"; \
	done; \
	exit $$status
clean-local: clean-fuzz-work
clean-fuzz-work:
	rm -rf fuzz-work
.PHONY: fuzz fuzz-replay clean-fuzz-work
