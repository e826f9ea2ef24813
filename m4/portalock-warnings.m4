# portalock-warnings.m4: the warning flags of the project's own code.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This file is free software; the portalock authors give unlimited
# permission to copy and/or distribute it, with or without modifications,
# as long as this notice is preserved.

# PORTALOCK_WARNINGS
# ------------------
# Set WARN_CFLAGS to the warnings the project's own files (lib/, src/*.c,
# tests/, bench/, doc/examples/) are kept clean of, and WERROR_CFLAGS to
# -Werror with --enable-werror.  Neither enters CFLAGS: configure's
# probes run with the user's flags alone (a probe that fails on a warning
# answers wrongly), and gnulib's files (src/gl) build with the flags
# gnulib expects.  The makefiles add both to the project's targets only.
AC_DEFUN([PORTALOCK_WARNINGS],
[
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror],
       [treat compiler warnings in portalock's own files as errors])],
    [], [enable_werror=no])
  AS_CASE([$enable_werror],
    [yes|no], [],
    [AC_MSG_ERROR([bad value '$enable_werror' for --enable-werror])])

  WARN_CFLAGS=
  for portalock_w in -Wall -Wextra; do
    AS_VAR_PUSHDEF([portalock_cv], [portalock_cv_cc_flag$portalock_w])
    AC_CACHE_CHECK([whether $CC accepts $portalock_w], [portalock_cv],
      [portalock_save_CFLAGS=$CFLAGS
       CFLAGS="$CFLAGS $portalock_w -Werror"
       AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[]], [[]])],
         [AS_VAR_SET([portalock_cv], [yes])],
         [AS_VAR_SET([portalock_cv], [no])])
       CFLAGS=$portalock_save_CFLAGS])
    AS_VAR_IF([portalock_cv], [yes],
      [WARN_CFLAGS="$WARN_CFLAGS $portalock_w"])
    AS_VAR_POPDEF([portalock_cv])
  done
  WARN_CFLAGS=${WARN_CFLAGS# }
  AC_SUBST([WARN_CFLAGS])

  WERROR_CFLAGS=
  AS_IF([test "$enable_werror" = yes], [WERROR_CFLAGS=-Werror])
  AC_SUBST([WERROR_CFLAGS])
])
