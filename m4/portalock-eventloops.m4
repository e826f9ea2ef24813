# portalock-eventloops.m4: libuv and GLib for the event loop examples.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.

# PORTALOCK_EVENTLOOPS
# --------------------
# The manual's event loop examples (doc/examples/eventloop-*.c) run on
# libuv and on GLib where pkg-config finds them; without them those
# examples are not built and their tests say UNSUPPORTED.  Only the
# examples link them, never the library.
AC_DEFUN([PORTALOCK_EVENTLOOPS],
[
  PKG_CHECK_MODULES([LIBUV], [libuv], [portalock_libuv=yes],
                    [portalock_libuv=no])
  PKG_CHECK_MODULES([GLIB], [glib-2.0], [portalock_glib=yes],
                    [portalock_glib=no])
  AM_CONDITIONAL([HAVE_LIBUV], [test $portalock_libuv = yes])
  AM_CONDITIONAL([HAVE_GLIB], [test $portalock_glib = yes])
  portalock_eventloops="poll"
  AS_IF([test $portalock_libuv = yes],
    [portalock_eventloops="$portalock_eventloops libuv"])
  AS_IF([test $portalock_glib = yes],
    [portalock_eventloops="$portalock_eventloops glib"])
])
