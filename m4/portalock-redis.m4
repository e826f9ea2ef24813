# portalock-redis.m4: find hiredis for libportalock-redis.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This file is free software; the portalock authors give unlimited
# permission to copy and/or distribute it, with or without modifications,
# as long as this notice is preserved.

# PORTALOCK_REDIS
# ---------------
# --with-redis=auto|yes|no: build libportalock-redis (locks on a Redis
# server) if hiredis is found by pkg-config (auto, the default), or fail
# without it (yes), or not at all (no).  Sets HIREDIS_CFLAGS, HIREDIS_LIBS,
# the conditional BUILD_REDIS and portalock_redis (yes or no) for the summary.
AC_DEFUN([PORTALOCK_REDIS],
[
  AC_REQUIRE([PKG_PROG_PKG_CONFIG])
  AC_ARG_WITH([redis],
    [AS_HELP_STRING([--with-redis=auto|yes|no],
       [build libportalock-redis, locks on a Redis server, with hiredis
        (default: auto, if hiredis is found)])],
    [], [with_redis=auto])
  AS_CASE([$with_redis],
    [auto|yes|no], [],
    [AC_MSG_ERROR([--with-redis takes auto, yes or no, not '$with_redis'])])
  portalock_redis=no
  AS_IF([test "$with_redis" != no],
    [PKG_CHECK_MODULES([HIREDIS], [hiredis >= 0.13],
       [portalock_redis=yes],
       [AS_IF([test "$with_redis" = yes],
          [AC_MSG_ERROR([--with-redis=yes, but hiredis was not found:
$HIREDIS_PKG_ERRORS
(on Debian: apt-get install libhiredis-dev)])])])
     # pkg-config speaks for the system's compiler; another one (musl-gcc,
     # a cross compiler) may not find or link that hiredis.
     AS_IF([test $portalock_redis = yes],
       [AC_MSG_CHECKING([whether $CC can build with hiredis])
        portalock_save_CFLAGS=$CFLAGS
        portalock_save_LIBS=$LIBS
        CFLAGS="$CFLAGS $HIREDIS_CFLAGS"
        LIBS="$HIREDIS_LIBS $LIBS"
        AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <hiredis/hiredis.h>]],
                          [[redisFree (redisConnectUnix ("/"));]])],
          [], [portalock_redis=no])
        CFLAGS=$portalock_save_CFLAGS
        LIBS=$portalock_save_LIBS
        AC_MSG_RESULT([$portalock_redis])
        AS_IF([test $portalock_redis = no && test "$with_redis" = yes],
          [AC_MSG_FAILURE([--with-redis=yes, but $CC cannot build with hiredis])])])])
  AM_CONDITIONAL([BUILD_REDIS], [test $portalock_redis = yes])
])
