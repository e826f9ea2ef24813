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
#
# pkg-config may describe the build machine's libraries, not the host's
# (a cross build without a pkg-config of its own): a library counts only
# if a program links with what pkg-config said.
AC_DEFUN([PORTALOCK_EVENTLOOP_LINKS],
[
  AS_IF([test $portalock_$1 = yes],
    [portalock_save_CFLAGS=$CFLAGS
     portalock_save_LIBS=$LIBS
     CFLAGS="$CFLAGS $$2_CFLAGS"
     LIBS="$$2_LIBS $LIBS"
     AC_MSG_CHECKING([whether $1 links for the host])
     AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <$3>]], [[$4]])],
       [AC_MSG_RESULT([yes])],
       [AC_MSG_RESULT([no])
        portalock_$1=no])
     CFLAGS=$portalock_save_CFLAGS
     LIBS=$portalock_save_LIBS])
])

AC_DEFUN([PORTALOCK_EVENTLOOPS],
[
  PKG_CHECK_MODULES([LIBUV], [libuv], [portalock_libuv=yes],
                    [portalock_libuv=no])
  PKG_CHECK_MODULES([GLIB], [glib-2.0], [portalock_glib=yes],
                    [portalock_glib=no])
  PORTALOCK_EVENTLOOP_LINKS([libuv], [LIBUV], [uv.h],
                            [return uv_loop_init (0);])
  PORTALOCK_EVENTLOOP_LINKS([glib], [GLIB], [glib.h],
                            [return g_main_context_default () == 0;])
  AM_CONDITIONAL([HAVE_LIBUV], [test $portalock_libuv = yes])
  AM_CONDITIONAL([HAVE_GLIB], [test $portalock_glib = yes])
  portalock_eventloops="poll"
  AS_IF([test $portalock_libuv = yes],
    [portalock_eventloops="$portalock_eventloops libuv"])
  AS_IF([test $portalock_glib = yes],
    [portalock_eventloops="$portalock_eventloops glib"])
])
