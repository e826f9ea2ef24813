/* testutil-win32.c: the reporting helpers of testutil.h, on Windows.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The test programs that share their checks with POSIX and are built
   for Windows (tests/win32.mk) link this file instead of testutil.c.
   It carries out the reporting part of testutil.h, the same lines the
   DejaGnu harness reads; the process helpers (holders, probes, fork)
   are POSIX-shaped, and a program that needs them is not built for
   Windows.  */

#include <config.h>

#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reported;

static void
vreport (const char *kind, const char *name, va_list ap, int error)
{
  printf ("%s: ", kind);
  vprintf (name, ap);
  if (error)
    printf (" (errno %d)", error);
  putchar ('\n');
  fflush (stdout);
}

bool
check (bool ok, const char *name, ...)
{
  int error = errno;
  va_list ap;
  va_start (ap, name);
  vreport (ok ? "PASS" : "FAIL", name, ap, ok ? 0 : error);
  va_end (ap);
  reported++;
  errno = error;
  return ok;
}

void
unsupported (const char *name, ...)
{
  va_list ap;
  va_start (ap, name);
  vreport ("UNSUPPORTED", name, ap, 0);
  va_end (ap);
  reported++;
}

int
check_exit (void)
{
  return reported > 0 ? 0 : 1;
}

void
die (const char *what, ...)
{
  int error = errno;
  va_list ap;
  va_start (ap, what);
  vreport ("FAIL", what, ap, error);
  va_end (ap);
  exit (1);
}

bool
fails_with (int r, int error)
{
  return r == -1 && errno == error;
}

bool
failed_with (bool failed, int error)
{
  return failed && errno == error;
}

FILE *
command_output (const char *const *argv, pid_t *pid)
{
  (void) pid;
  errno = ENOSYS;
  die ("running %s: not carried out on Windows", argv[0]);
}

bool
command_succeeded (FILE *in, pid_t pid)
{
  (void) in;
  (void) pid;
  return false;
}
