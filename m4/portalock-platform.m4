# portalock-platform.m4: probe the system features beyond POSIX.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This file is free software; the portalock authors give unlimited
# permission to copy and/or distribute it, with or without modifications,
# as long as this notice is preserved.

# PORTALOCK_LINUX_EXTRAS
# ----------------------
# Offer --disable-linux-extras, which makes every probe of a Linux-only
# feature answer "no", so that the fallbacks that other POSIX systems
# get are built and tested on Linux too.  Must come before the probes
# (PORTALOCK_BACKENDS, PORTALOCK_PLATFORM).
AC_DEFUN([PORTALOCK_LINUX_EXTRAS],
[
  AC_ARG_ENABLE([linux-extras],
    [AS_HELP_STRING([--disable-linux-extras],
       [build as for a POSIX system without Linux's extras: no OFD locks,
        /proc/locks, /proc/self/mountinfo, pidfds, prctl or per-thread
        timers (for testing the fallbacks)])],
    [], [enable_linux_extras=yes])
  AS_CASE([$enable_linux_extras],
    [yes|no], [],
    [AC_MSG_ERROR([bad value '$enable_linux_extras' for --enable-linux-extras])])
  AS_IF([test "$enable_linux_extras" = no],
    [portalock_cv_ofd=no
     portalock_cv_proc_locks=no
     portalock_cv_mountinfo=no
     portalock_cv_pidfd=no
     portalock_cv_prctl=no
     portalock_cv_thread_timer=no])
])

# PORTALOCK_LINK_WINPTHREAD
# -------------------------
# On a Windows host, link mingw-w64's POSIX threads (winpthread) into
# the DLL and the programs instead of importing them from
# libwinpthread-1.dll: that DLL belongs to the compiler, 'make install'
# does not install it, and a user who copies the installed files gets
# "libwinpthread-1.dll not found".  Linked in, libportalock-0.dll and
# plock.exe need only the system's DLLs (KERNEL32, msvcrt) and each
# other.  The library's threads are its own (no pthread type crosses
# its interface), so the copy in the DLL and any copy in a program do
# not meet.  -Bstatic, -lwinpthread and -Bdynamic reach the linker in
# this order, after the objects (libtool keeps -Wl arguments in order),
# so only winpthread is taken from a static archive; the -lpthread that
# AC_SEARCH_LIBS found (the DLL's import library) is dropped from LIBS.
AC_DEFUN([PORTALOCK_LINK_WINPTHREAD],
[
  AS_IF([test $portalock_cv_win32_host = yes],
    [portalock_static_libs=`AS_ECHO([" $LIBS "]) dnl
       | sed 's/ -lpthread / /g; s/^  *//; s/  *$//'`
     portalock_static_libs="${portalock_static_libs:+$portalock_static_libs }dnl
-Wl,-Bstatic,-lwinpthread,-Bdynamic"
     AC_CACHE_CHECK([whether winpthread links statically],
       [portalock_cv_static_winpthread],
       [portalock_save_LIBS=$LIBS
        LIBS=$portalock_static_libs
        AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <pthread.h>]],
            [[static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
              return pthread_mutex_lock (&m);]])],
          [portalock_cv_static_winpthread=yes],
          [portalock_cv_static_winpthread=no])
        LIBS=$portalock_save_LIBS])
     AS_IF([test $portalock_cv_static_winpthread = yes],
       [LIBS=$portalock_static_libs
        AC_DEFINE([PORTALOCK_STATIC_WINPTHREAD], [1],
          [Define if winpthread is linked statically (a Windows host).])],
       [AC_MSG_WARN([winpthread cannot be linked statically: the installed
         programs will need libwinpthread-1.dll beside them])])])
])

# PORTALOCK_PLATFORM
# ------------------
# Probe the features the library and the tools use where they exist and
# do without elsewhere.  Each one chooses a file (an Automake
# conditional), never an #ifdef inside the code that uses it.
AC_DEFUN([PORTALOCK_PLATFORM],
[
  AC_REQUIRE([AC_USE_SYSTEM_EXTENSIONS])
  AC_REQUIRE([AC_CANONICAL_HOST])
  AC_REQUIRE([PORTALOCK_LINUX_EXTRAS])

  # Windows (mingw-w64): its own files for waiting, processes and the
  # tools' command form, chosen by the host's name.
  AC_CACHE_CHECK([for a Windows host], [portalock_cv_win32_host],
    [AS_CASE([$host_os],
       [mingw*|windows*], [portalock_cv_win32_host=yes],
       [portalock_cv_win32_host=no])])
  AM_CONDITIONAL([PLATFORM_WIN32], [test $portalock_cv_win32_host = yes])
  AS_IF([test $portalock_cv_win32_host = yes],
    [AC_DEFINE([PORTALOCK_POSIX_WIN32], [1],
       [Define to build the library's POSIX file calls on Windows calls.])])
  PORTALOCK_LINK_WINPTHREAD
  # A cross build's test programs run under a runner: Wine for Windows
  # (PORTALOCK_TEST_RUNNER=... overrides; empty: the tests that need it
  # are UNSUPPORTED).  The C runtime's winpthread DLL must be found too.
  AC_ARG_VAR([PORTALOCK_TEST_RUNNER],
    [the program that runs the test programs of a cross build (wine64)])
  PORTALOCK_TEST_DLLPATH=
  PORTALOCK_WINESERVER=
  AS_IF([test $portalock_cv_win32_host = yes],
    [AS_IF([test "$cross_compiling" = yes && test -z "${PORTALOCK_TEST_RUNNER+set}"],
       [AC_PATH_PROGS([PORTALOCK_TEST_RUNNER], [wine64 wine], [],
          [$PATH:/usr/lib/wine])])
     AS_IF([test -n "$PORTALOCK_TEST_RUNNER"],
       [portalock_wine_dir=`AS_DIRNAME(["$PORTALOCK_TEST_RUNNER"])`
        AC_PATH_PROGS([PORTALOCK_WINESERVER], [wineserver wineserver64], [],
          [$portalock_wine_dir:$PATH:/usr/lib/wine])])
     portalock_dll=`$CC -print-file-name=libwinpthread-1.dll 2>/dev/null`
     AS_IF([test -f "$portalock_dll"],
       [PORTALOCK_TEST_DLLPATH=`AS_DIRNAME(["$portalock_dll"])`])])
  AC_SUBST([PORTALOCK_TEST_DLLPATH])
  AC_SUBST([PORTALOCK_WINESERVER])

  AH_BOTTOM([/* The library's portable code on Windows: lib/posix-win32.h.  */
#if PORTALOCK_POSIX_WIN32 && defined BUILDING_LIBPORTALOCK
# include "posix-win32.h"
#endif])

  # /proc/locks and /proc/PID/fdinfo: only a Linux kernel has them, and a
  # cross-compiler cannot look, so the host's name decides.
  AC_CACHE_CHECK([for /proc/locks], [portalock_cv_proc_locks],
    [AS_CASE([$host_os],
       [linux*], [portalock_cv_proc_locks=yes],
       [portalock_cv_proc_locks=no])])
  AM_CONDITIONAL([HAVE_PROC_LOCKS], [test $portalock_cv_proc_locks = yes])
  AS_IF([test $portalock_cv_proc_locks = yes],
    [AC_DEFINE([HAVE_PROC_LOCKS], [1],
       [Define if /proc/locks lists the kernel's file locks.])])

  # statfs(2) and /proc/self/mountinfo, for the file system probe: Linux
  # only, so again the host's name decides.
  AC_CACHE_CHECK([for statfs and /proc/self/mountinfo], [portalock_cv_mountinfo],
    [AS_CASE([$host_os],
       [linux*], [portalock_cv_mountinfo=yes],
       [portalock_cv_mountinfo=no])])
  AM_CONDITIONAL([HAVE_MOUNTINFO], [test $portalock_cv_mountinfo = yes])
  AS_IF([test $portalock_cv_mountinfo = yes],
    [AC_DEFINE([HAVE_MOUNTINFO], [1],
       [Define if statfs(2) and /proc/self/mountinfo describe file systems.])])

  # pidfd_open(2) and pidfd_send_signal(2), through syscall(2): the C
  # library may lack wrappers.
  AC_CACHE_CHECK([for pidfd_open and pidfd_send_signal], [portalock_cv_pidfd],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <sys/syscall.h>
#include <unistd.h>]],
       [[return syscall (SYS_pidfd_open, 1, 0) < 0
                || syscall (SYS_pidfd_send_signal, -1, 0, 0, 0) < 0;]])],
       [portalock_cv_pidfd=yes], [portalock_cv_pidfd=no])])
  AM_CONDITIONAL([HAVE_PIDFD], [test $portalock_cv_pidfd = yes])
  AS_IF([test $portalock_cv_pidfd = yes],
    [AC_DEFINE([HAVE_PIDFD], [1], [Define if pidfd_open(2) exists.])])

  # prctl(2): a process's name and its parent-death signal.
  AC_CACHE_CHECK([for prctl with PR_SET_PDEATHSIG and PR_SET_NAME],
    [portalock_cv_prctl],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <signal.h>
#include <sys/prctl.h>]],
       [[return prctl (PR_SET_PDEATHSIG, SIGKILL)
                + prctl (PR_SET_NAME, "x");]])],
       [portalock_cv_prctl=yes], [portalock_cv_prctl=no])])
  AM_CONDITIONAL([HAVE_PRCTL], [test $portalock_cv_prctl = yes])
  AS_IF([test $portalock_cv_prctl = yes],
    [AC_DEFINE([HAVE_PRCTL], [1],
       [Define if prctl(2) sets a process's name and parent-death signal.])])

  # A POSIX timer that signals one thread (SIGEV_THREAD_ID), for
  # portalock_set_timeout_signal.  struct sigevent names the thread in
  # sigev_notify_thread_id (musl, newer glibc) or only in glibc's
  # private member (_sigev_un._tid); the answer is the member's name.
  AC_CACHE_CHECK([for per-thread timer signals (SIGEV_THREAD_ID)],
    [portalock_cv_thread_timer],
    [portalock_cv_thread_timer=no
     for portalock_m in sigev_notify_thread_id _sigev_un._tid; do
       AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <signal.h>
#include <time.h>]],
         [[struct sigevent sev = { 0 };
           timer_t t;
           sev.sigev_notify = SIGEV_THREAD_ID;
           sev.$portalock_m = 0;
           return timer_create (CLOCK_MONOTONIC, &sev, &t);]])],
         [portalock_cv_thread_timer=$portalock_m; break])
     done])
  AM_CONDITIONAL([HAVE_THREAD_TIMER], [test $portalock_cv_thread_timer != no])
  AS_IF([test $portalock_cv_thread_timer != no],
    [AC_DEFINE([HAVE_THREAD_TIMER], [1],
       [Define if timer_create(2) can signal one thread (SIGEV_THREAD_ID).])
     AC_DEFINE_UNQUOTED([PORTALOCK_SIGEV_THREAD_ID], [$portalock_cv_thread_timer],
       [The member of struct sigevent that names a SIGEV_THREAD_ID thread.])])
  AC_CHECK_FUNCS([gettid eventfd pipe2])

  # The test suite's answers (tests/features.exp); ofd comes from
  # PORTALOCK_BACKENDS.
  portalock_features=
  for portalock_f in proc_locks mountinfo ofd pidfd prctl thread_timer; do
    eval portalock_have=\$portalock_cv_$portalock_f
    AS_IF([test "$portalock_have" != no],
      [portalock_features="$portalock_features $portalock_f"])
  done
  portalock_features=${portalock_features# }
  AC_SUBST([PORTALOCK_FEATURES], [$portalock_features])

  # For configure's summary: what is really built.  The Linux extras
  # exist on a Linux host only (elsewhere every probe answers no), and
  # a Windows host builds plock's command forms and no punlock.
  AS_CASE([$enable_linux_extras:$host_os],
    [no:*], [portalock_linux_extras="no (--disable-linux-extras)"],
    [*:linux*], [portalock_linux_extras=yes],
    [portalock_linux_extras="no (not a Linux host)"])
  AS_IF([test $portalock_cv_win32_host = yes],
    [portalock_tools="plock$EXEEXT (command forms only), no punlock"
     AS_IF([test "$portalock_cv_static_winpthread" = yes],
       [portalock_tools="$portalock_tools; winpthread linked in"],
       [portalock_tools="$portalock_tools; needs libwinpthread-1.dll"])],
    [portalock_tools="plock, punlock"])
])
