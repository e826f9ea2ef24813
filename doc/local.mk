## doc/local.mk: the Texinfo manual and the man pages.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.

info_TEXINFOS += doc/portalock.texi
doc_portalock_TEXINFOS = doc/fdl.texi doc/core.texi doc/objects.texi \
  doc/semaphore.texi doc/atomic.texi doc/tools.texi doc/redis.texi \
  doc/performance.texi doc/portability.texi \
  doc/examples/lock.c doc/examples/rlock.c doc/examples/templock.c \
  doc/examples/pidlock.c doc/examples/semaphore.c doc/examples/atomic.c \
  doc/examples/redis.c doc/eventloop.texi doc/examples/eventloop-poll.c \
  doc/examples/eventloop-uv.c doc/examples/eventloop-glib.c \
  doc/examples/eventloop-win32.c doc/examples/eventloop-redis.c

EXTRA_DIST += doc/demo.sh

# make distcheck builds HTML, which needs no TeX installation.
AM_DISTCHECK_DVI_TARGET = html
doc_portalock_TEXINFOS += doc/reliability.texi doc/windows.texi \
  doc/network.texi doc/rwlocks.texi

# The section 3 man pages: one a family of functions (a node of the
# manual), and a .so link for each other function of the family.
# doc/texi2man3 makes them from the manual's @deftypefun entries, and
# they are kept in the repository, like plock.1, so that a build from
# the tarball needs no Perl.  After a change to an entry (or a new
# function), run 'make update-man3' and commit doc/man3.
# doc/man3/pages.mk lists them, by library.
include doc/man3/pages.mk
dist_man3_MANS = $(man3_core)
if BUILD_REDIS
dist_man3_MANS += $(man3_redis)
endif
EXTRA_DIST += $(man3_redis) doc/texi2man3

update-man3:
	rm -f $(srcdir)/doc/man3/*.3
	$(PERL) $(srcdir)/doc/texi2man3 --version=$(PACKAGE_VERSION) \
	  --output=$(srcdir)/doc/man3 $(srcdir)/doc
PERL = perl
.PHONY: update-man3
# tests/portalock.doc/man3.exp checks the pages against the libraries'
# exported functions and the manual (tests/man3-check.sh).
EXTRA_DIST += tests/man3-check.sh tests/portalock.doc/man3.exp
