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
  doc/examples/redis.c

EXTRA_DIST += doc/demo.sh

# make distcheck builds HTML, which needs no TeX installation.
AM_DISTCHECK_DVI_TARGET = html
doc_portalock_TEXINFOS += doc/reliability.texi doc/windows.texi \
  doc/network.texi
