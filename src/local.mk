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
TOOLS_LIBS = lib/libportalock.la src/gl/libgnu.la
