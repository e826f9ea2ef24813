## tests/local.mk: the DejaGnu test suite, run by 'make check'.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

AUTOMAKE_OPTIONS = dejagnu
DEJATOOL = portalock
RUNTESTDEFAULTFLAGS = --tool portalock --srcdir $$srcdir/tests
EXTRA_DEJAGNU_SITE_CONFIG = $(srcdir)/tests/site-extra.exp tests/features.exp
EXTRA_DIST += tests/site-extra.exp tests/config/unix.exp \
  tests/lib/portalock.exp tests/portalock.package/version.exp
CLEANFILES += portalock.sum portalock.log site.bak tests/features.exp

# What configure found (m4/portalock-platform.m4), for the .exp files: a
# test of a missing feature is UNSUPPORTED, not FAIL.  The C test
# programs read the same answers from config.h.
tests/features.exp: Makefile
	$(AM_V_GEN)$(MKDIR_P) tests && { \
	  echo '# What configure found; made by tests/local.mk.'; \
	  echo 'set portalock_features {$(PORTALOCK_FEATURES)}'; \
	  echo 'set portalock_test_runner {$(PORTALOCK_TEST_RUNNER)}'; \
	  echo 'set portalock_wineserver {$(PORTALOCK_WINESERVER)}'; \
	  echo 'set portalock_test_dllpath {$(PORTALOCK_TEST_DLLPATH)}'; \
	  echo 'set portalock_exeext {$(EXEEXT)}'; \
	  echo 'set portalock_package_version {$(PACKAGE_VERSION)}'; \
	  echo 'proc portalock_have { feature } {'; \
	  echo '    global portalock_features'; \
	  echo '    return [expr {[lsearch -exact $$portalock_features $$feature] >= 0}]'; \
	  echo '}'; \
	} >$@-t && mv $@-t $@

# Automake only warns when runtest is missing; a suite that did not run
# must not pass.
check-local:
	@if ! $(RUNTEST) --version >/dev/null 2>&1; then \
	  echo "make check: DejaGnu's runtest is missing (apt-get install dejagnu)" >&2; \
	  exit 1; \
	fi

check_LTLIBRARIES =
TESTS_CPPFLAGS = -I$(top_srcdir)/lib -I$(top_srcdir)/tests
TESTS_LIBS = tests/libtestutil.la lib/libportalock.la

EXTRA_DIST += tests/portalock.win32/win32.exp .ci/windows.sh
# The Wine prefix of a Windows build's run (tests/lib/portalock.exp).
clean-local: clean-wineprefix
clean-wineprefix:
	-rm -rf tests/wineprefix
.PHONY: clean-wineprefix
EXTRA_DIST += tests/installcheck-win32.sh
if PLATFORM_WIN32
# Windows: its own tests, run under Wine (tests/win32.mk); the POSIX
# programs (fork, /proc, signals) are not built.
include tests/win32.mk

# 'make installcheck' (after 'make install', with the same DESTDIR):
# the installed programs run from a directory that holds them alone,
# and the man pages describe what is installed.
installcheck-local:
	OBJDUMP='$(OBJDUMP)' RUNNER='$(PORTALOCK_TEST_RUNNER)' \
	WINESERVER='$(PORTALOCK_WINESERVER)' \
	WINEPREFIX='$(abs_builddir)/tests/wineprefix' \
	  $(SHELL) $(srcdir)/tests/installcheck-win32.sh \
	  '$(DESTDIR)$(bindir)' '$(DESTDIR)$(man1dir)' '$(PACKAGE_VERSION)'
else
# The test programs share a small reporting and process-helper library.
check_LTLIBRARIES += tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil-posix.c \
  tests/testutil.h
tests_libtestutil_la_CPPFLAGS = -I$(top_srcdir)/lib

include tests/core.mk
include tests/objects.mk
include tests/selfdeadlock.mk
include tests/semaphore.mk
include tests/tools.mk
include tests/parity.mk
include tests/redis.mk
include tests/network.mk
endif
