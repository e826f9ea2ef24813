# portalock-fuzzing.m4: --enable-fuzzing, for the libFuzzer targets.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This file is free software; the portalock authors give unlimited
# permission to copy and/or distribute it, with or without modifications,
# as long as this notice is preserved.

# PORTALOCK_FUZZING
# -----------------
# With --enable-fuzzing (and a compiler that has libFuzzer, such as
# clang), build the whole tree with coverage instrumentation and
# AddressSanitizer/UBSan, and link the fuzz targets (fuzz/) with
# libFuzzer.  Without it the same targets replay their corpus through a
# plain main, so any compiler can run them.  Substitutes FUZZ_CPPFLAGS
# and FUZZ_LDFLAGS for fuzz/local.mk.
AC_DEFUN([PORTALOCK_FUZZING],
[
  AC_ARG_ENABLE([fuzzing],
    [AS_HELP_STRING([--enable-fuzzing],
       [build the fuzz targets with libFuzzer (needs CC=clang)])],
    [], [enable_fuzzing=no])
  FUZZ_CPPFLAGS=
  FUZZ_LDFLAGS=
  AS_IF([test "x$enable_fuzzing" != xno],
    [portalock_fuzz_san="-fsanitize=address,undefined"
     portalock_save_CFLAGS=$CFLAGS
     CFLAGS="$CFLAGS -fsanitize=fuzzer $portalock_fuzz_san"
     AC_CACHE_CHECK([whether $CC can link libFuzzer targets],
       [portalock_cv_libfuzzer],
       [AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n)
{ return d != 0 && n > 0 && d[0] == 0; }]])],
          [portalock_cv_libfuzzer=yes], [portalock_cv_libfuzzer=no])])
     CFLAGS=$portalock_save_CFLAGS
     AS_IF([test "$portalock_cv_libfuzzer" != yes],
       [AC_MSG_ERROR([--enable-fuzzing needs libFuzzer: configure with CC=clang])])
     CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link $portalock_fuzz_san -fno-omit-frame-pointer"
     LDFLAGS="$LDFLAGS $portalock_fuzz_san"
     FUZZ_CPPFLAGS=-DPORTALOCK_LIBFUZZER=1
     FUZZ_LDFLAGS=-fsanitize=fuzzer])
  AC_SUBST([FUZZ_CPPFLAGS])
  AC_SUBST([FUZZ_LDFLAGS])
])
