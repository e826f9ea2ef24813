## src/local.mk: the tools, plock and punlock.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

# The tools take GNU conventions from gnulib (src/gl).  gnulib's own
# files get their include path from AM_CPPFLAGS; every other target sets
# its own CPPFLAGS, so only gnulib and the tools see gnulib's headers.
AM_CPPFLAGS += -I$(top_builddir)/src/gl -I$(top_srcdir)/src/gl
TOOLS_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib
# libm for ceil (LT_LIB_M), then what gnulib's modules need on some
# systems (gnulib-tool --extract-recursive-link-directive; empty on glibc).
TOOLS_LIBS = lib/libportalock.la src/gl/libgnu.la $(LIBM) \
  $(LIB_HARD_LOCALE) $(LIB_MBRTOWC) $(LIB_SETLOCALE_NULL) $(LTLIBINTL)

if PLATFORM_WIN32
# gnulib's replacement objects for Windows (gl_LTLIBOBJS: stat-w32.c,
# ...) are built by the generic rule, which has no per-target flags:
# give them gnulib's warning flags, which end in -Wno-error, through a
# target-specific variable (GNU make, which the cross build uses).
$(gl_LTLIBOBJS): AM_CFLAGS += $(GL_CFLAG_GNULIB_WARNINGS)

# Windows: the command forms only (plock-win32.c says why); no punlock.
bin_PROGRAMS += src/plock
src_plock_SOURCES = src/plock-win32.c src/duration.c src/duration.h \
  src/version-info.c src/version-info.h
src_plock_CPPFLAGS = $(TOOLS_CPPFLAGS)
src_plock_LDADD = $(TOOLS_LIBS)
else
bin_PROGRAMS += src/plock src/punlock

# What both tools share: durations, signal names, the release of a held
# lock (plock -u FILE is punlock FILE), the holder's name, and the
# checks made before a file is written into or deleted.
tools_shared_sources = src/duration.c src/duration.h \
  src/signame.c src/signame.h src/release.c src/release.h \
  src/holder.c src/holder.h src/lockfile.c src/lockfile.h \
  src/prefer-writers.c src/prefer-writers.h \
  src/filecheck.c src/filecheck.h src/marker-tool.c src/marker-tool.h \
  src/method-lock.c src/method-lock.h \
  src/version-info.c src/version-info.h src/process.h

# Platform seams (m4/portalock-platform.m4): one file per probe's answer.
if HAVE_PRCTL
tools_shared_sources += src/process-linux.c
else
tools_shared_sources += src/process-none.c
endif
if HAVE_PIDFD
tools_shared_sources += src/pidfd-linux.c
else
tools_shared_sources += src/pidfd-none.c
endif

# The Redis seam (plock --redis, punlock --redis): redis-lock.c with
# libportalock-redis, else redis-none.c, which says it is not built.
tools_shared_sources += src/redis-tool.h
TOOLS_REDIS_LIBS =
if BUILD_REDIS
tools_shared_sources += src/redis-lock.c
TOOLS_CPPFLAGS += -I$(top_srcdir)/redis
TOOLS_REDIS_LIBS += redis/libportalock-redis.la
else
tools_shared_sources += src/redis-none.c
endif

# plock: main and the command line in plock.c, one file per form.
src_plock_SOURCES = src/plock.c src/plock.h src/form-command.c \
  src/form-hold.c src/form-test.c src/form-redis.c src/form-verify.c \
  $(tools_shared_sources)
src_plock_CPPFLAGS = $(TOOLS_CPPFLAGS)
src_plock_LDADD = $(TOOLS_REDIS_LIBS) $(TOOLS_LIBS)

src_punlock_SOURCES = src/punlock.c $(tools_shared_sources)
src_punlock_CPPFLAGS = $(TOOLS_CPPFLAGS)
src_punlock_LDADD = $(TOOLS_REDIS_LIBS) $(TOOLS_LIBS)
endif

# The man pages describe what is installed: on Windows, the page of its
# plock (doc/win32/plock.1, installed as plock.1) and no punlock.1.
if PLATFORM_WIN32
dist_man_MANS += doc/win32/plock.1
else
dist_man_MANS += doc/plock.1 doc/punlock.1
endif
EXTRA_DIST += doc/plock.1 doc/punlock.1 doc/win32/plock.1
EXTRA_DIST += doc/plock.x doc/punlock.x doc/win32/plock.x

# The man pages are made from --help by help2man and kept in the
# repository, so a build from the tarball needs no help2man.  After a
# change to --help, run 'make update-man' and commit the pages; in a
# Windows build it makes doc/win32/plock.1, running plock.exe under the
# test runner (Wine).
if PLATFORM_WIN32
update-man: src/plock$(EXEEXT)
	$(AM_V_at)rm -f doc/plock-runner
	$(AM_V_at)$(MKDIR_P) doc
	$(AM_V_at)printf '%s\n' '#!/bin/sh' \
	  'WINEDEBUG=-all; export WINEDEBUG' \
	  'WINEPREFIX="$(abs_builddir)/tests/wineprefix"; export WINEPREFIX' \
	  '"$(PORTALOCK_TEST_RUNNER)" "$(abs_builddir)/src/.libs/plock$(EXEEXT)" "$$@" | tr -d "\015"' \
	  >doc/plock-runner && chmod +x doc/plock-runner
	WINEPATH='Z:$(abs_builddir)/lib/.libs' \
	$(HELP2MAN) --no-info --include=$(srcdir)/doc/win32/plock.x \
	  --name="run a command while holding a file lock (Windows)" \
	  --output=$(srcdir)/doc/win32/plock.1 doc/plock-runner
	$(AM_V_at)rm -f doc/plock-runner
else
update-man: src/plock$(EXEEXT) src/punlock$(EXEEXT)
	$(HELP2MAN) --no-info --include=$(srcdir)/doc/plock.x \
	  --name="take a file lock from the shell" \
	  --output=$(srcdir)/doc/plock.1 src/plock$(EXEEXT)
	$(HELP2MAN) --no-info --include=$(srcdir)/doc/punlock.x \
	  --name="release a lock that plock keeps" \
	  --output=$(srcdir)/doc/punlock.1 src/punlock$(EXEEXT)
endif
HELP2MAN = help2man
.PHONY: update-man
