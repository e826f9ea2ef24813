/* testutil.c: the reporting and file helpers of the test programs,
   the same on every system.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The process helpers (holders, probes, the temporary directory) differ
   by system: testutil-posix.c and testutil-win32.c.  */

#include <config.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"

static int reported;
static int failed;

static void
vreport (const char *kind, const char *name, va_list ap, int error)
{
  printf ("%s: ", kind);
  vprintf (name, ap);
  if (error)
    printf (" (errno %d, %s)", error, strerror (error));
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
  failed += !ok;
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

int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  if (d == NULL)
    return -1;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  closedir (d);
  return n;
}

int
backend_from_args (int argc, char **argv, int nargs, const char *usage)
{
  if (argc != nargs + 1)
    die ("usage: %s", usage);
  int b = portalock_backend_from_name (argv[1]);
  if (b <= 0)
    die ("no backend %s", argv[1]);
  if (!portalock_backend_available (b))
    {
      unsupported ("%s: not built here", argv[1]);
      return 0;
    }
  return b;
}

portalock *
new_backend_lock (const char *path, int backend)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, backend) != 0)
    die ("portalock_new %s", path);
  return lock;
}

void
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_BINARY, 0644);
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t) strlen (text)
      || close (fd) != 0)
    die ("write %s", path);
}

bool
has_text (const char *path, const char *text)
{
  char buf[1024];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_BINARY);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp (buf, text) == 0;
}
