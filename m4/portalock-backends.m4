# portalock-backends.m4: probe the file-locking primitives.  -*- Autoconf -*-
#
# Copyright (C) 2026 The portalock authors.
#
# This file is free software; the portalock authors give unlimited
# permission to copy and/or distribute it, with or without modifications,
# as long as this notice is preserved.

# PORTALOCK_BACKENDS
# ------------------
# Find which of flock(2), Linux open-file-description locks, POSIX fcntl
# record locks, lockf(3) and Windows' LockFileEx the platform has; compile
# a backend for each; choose the default from --with-lock-backend.
AC_DEFUN([PORTALOCK_BACKENDS],
[
  AC_REQUIRE([AC_USE_SYSTEM_EXTENSIONS])
  portalock_backends=

  AC_CACHE_CHECK([for flock], [portalock_cv_flock],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <sys/file.h>]],
       [[return flock (0, LOCK_EX | LOCK_NB);]])],
       [portalock_cv_flock=yes], [portalock_cv_flock=no])])

  AC_CACHE_CHECK([for open file description locks (F_OFD_SETLK)],
    [portalock_cv_ofd],
    [AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <fcntl.h>]],
       [[struct flock fl = { 0 };
         return fcntl (0, F_OFD_SETLKW, &fl) + F_OFD_SETLK + F_OFD_GETLK;]])],
       [portalock_cv_ofd=yes], [portalock_cv_ofd=no])])

  AC_CACHE_CHECK([for POSIX record locks (F_SETLK)], [portalock_cv_fcntl],
    [AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <fcntl.h>]],
       [[struct flock fl = { 0 };
         fl.l_type = F_WRLCK;
         return fcntl (0, F_SETLKW, &fl) + F_SETLK + F_GETLK;]])],
       [portalock_cv_fcntl=yes], [portalock_cv_fcntl=no])])

  AC_CACHE_CHECK([for lockf], [portalock_cv_lockf],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <unistd.h>]],
       [[return lockf (0, F_TLOCK, 0);]])],
       [portalock_cv_lockf=yes], [portalock_cv_lockf=no])])

  # Windows (mingw-w64): LockFileEx.  The host's name decides, as the
  # platform's other seams (wait-win32.c, ...) go with it.
  AC_CACHE_CHECK([for Windows file locks (LockFileEx)], [portalock_cv_win32],
    [AS_CASE([$host_os],
       [mingw*|windows*], [portalock_cv_win32=yes],
       [portalock_cv_win32=no])])

  # The ofd and lockf backends make their requests through the fcntl one.
  AS_IF([test $portalock_cv_fcntl != yes],
    [portalock_cv_ofd=no; portalock_cv_lockf=no])

  for portalock_b in flock ofd fcntl lockf win32; do
    eval portalock_have=\$portalock_cv_$portalock_b
    if test "$portalock_have" = yes; then
      portalock_backends="$portalock_backends $portalock_b"
    fi
  done
  portalock_backends=${portalock_backends# }
  AS_IF([test -z "$portalock_backends"],
    [AC_MSG_ERROR([no file-locking primitive found (flock, fcntl, lockf, LockFileEx)])])

  AS_IF([test $portalock_cv_flock = yes],
    [AC_DEFINE([HAVE_BACKEND_FLOCK], [1], [Define if flock(2) exists.])])
  AS_IF([test $portalock_cv_ofd = yes],
    [AC_DEFINE([HAVE_BACKEND_OFD], [1],
       [Define if open file description locks exist.])])
  AS_IF([test $portalock_cv_fcntl = yes],
    [AC_DEFINE([HAVE_BACKEND_FCNTL], [1], [Define if F_SETLK exists.])])
  AS_IF([test $portalock_cv_lockf = yes],
    [AC_DEFINE([HAVE_BACKEND_LOCKF], [1], [Define if lockf(3) exists.])])
  AS_IF([test $portalock_cv_win32 = yes],
    [AC_DEFINE([HAVE_BACKEND_WIN32], [1],
       [Define if Windows' LockFileEx is the locking primitive.])])
  AM_CONDITIONAL([BACKEND_WIN32], [test $portalock_cv_win32 = yes])
  AM_CONDITIONAL([BACKEND_FLOCK], [test $portalock_cv_flock = yes])
  AM_CONDITIONAL([BACKEND_OFD], [test $portalock_cv_ofd = yes])
  AM_CONDITIONAL([BACKEND_FCNTL], [test $portalock_cv_fcntl = yes])
  AM_CONDITIONAL([BACKEND_LOCKF], [test $portalock_cv_lockf = yes])

  AC_ARG_WITH([lock-backend],
    [AS_HELP_STRING([--with-lock-backend=auto|flock|ofd|fcntl|lockf|win32],
       [the default locking primitive (auto: flock, else fcntl, else lockf,
        else win32)])],
    [], [with_lock_backend=auto])
  AC_MSG_CHECKING([for the default lock backend])
  case $with_lock_backend in
    auto)
      for portalock_b in flock fcntl lockf win32; do
        eval portalock_have=\$portalock_cv_$portalock_b
        if test "$portalock_have" = yes; then
          portalock_default_backend=$portalock_b
          break
        fi
      done ;;
    flock|ofd|fcntl|lockf|win32)
      eval portalock_have=\$portalock_cv_$with_lock_backend
      AS_IF([test "$portalock_have" != yes],
        [AC_MSG_ERROR([backend '$with_lock_backend' is not available here (available: $portalock_backends)])])
      portalock_default_backend=$with_lock_backend ;;
    *)
      AC_MSG_ERROR([bad value '$with_lock_backend' for --with-lock-backend (auto, flock, ofd, fcntl, lockf or win32)]) ;;
  esac
  AC_MSG_RESULT([$portalock_default_backend])
  portalock_default_enum=`echo "PORTALOCK_BACKEND_$portalock_default_backend" | tr a-z A-Z`
  AC_DEFINE_UNQUOTED([PORTALOCK_CONFIGURED_BACKEND], [$portalock_default_enum],
    [The backend chosen at configure time.])
  AC_SUBST([PORTALOCK_DEFAULT_BACKEND], [$portalock_default_backend])

  # The default lock method of lock objects (PORTALOCK_METHOD_DEFAULT
  # when the environment does not name one).
  AC_ARG_WITH([lock-method],
    [AS_HELP_STRING([--with-lock-method=kernel|strict|lease|auto],
       [the default method of lock objects (default: kernel); marker
        methods exist on POSIX systems only])],
    [], [with_lock_method=kernel])
  AC_MSG_CHECKING([for the default lock method])
  case $with_lock_method in
    kernel|strict|lease|auto) ;;
    *)
      AC_MSG_ERROR([bad value '$with_lock_method' for --with-lock-method (kernel, strict, lease or auto)]) ;;
  esac
  AS_IF([test $with_lock_method != kernel && test $portalock_cv_win32 = yes],
    [AC_MSG_ERROR([--with-lock-method=$with_lock_method: marker methods do not exist on Windows])])
  AC_MSG_RESULT([$with_lock_method])
  portalock_default_method=$with_lock_method
  portalock_method_enum=`echo "PORTALOCK_METHOD_$with_lock_method" | tr a-z A-Z`
  AC_DEFINE_UNQUOTED([PORTALOCK_CONFIGURED_METHOD], [$portalock_method_enum],
    [The lock method chosen at configure time.])
])
