/* bigrange.c: a program built without large-file flags locks beyond 2 GiB.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: bigrange BACKEND BITS, with PORTALOCK_BACKEND naming BACKEND
   too (portalock_lock_range uses the default backend); BITS is the
   width of the library's off_t (lockprobe offbits).

   This program is built as a library user builds one, with nothing but
   <portalock.h> and the C library: it includes neither config.h nor the
   test helpers, and it undoes any large-file or time flag the build may
   pass, so that on a 32-bit system its off_t has 32 bits while the
   library's has 64.  It locks byte ranges beyond 2 GiB and 4 GiB, and a
   second process checks through the kernel (F_GETLK) that exactly
   those bytes are locked, and through the library that their
   neighbours are free.  On a 64-bit system the program's and the
   library's off_t agree, and the checks hold all the same.  A library
   built without large-file support (a 32-bit off_t) must refuse what
   is beyond 2^31 - 1 with EOVERFLOW instead.  */

#undef _FILE_OFFSET_BITS
#undef _TIME_BITS
/* struct flock64 and F_GETLK64, for the probe only: they change no type
   that the program passes to the library.  */
#define _LARGEFILE64_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"

#ifdef F_GETLK64
typedef struct flock64 probe_flock;
# define PROBE_GETLK F_GETLK64
#else
typedef struct flock probe_flock;
# define PROBE_GETLK F_GETLK
#endif

#define GiB ((int64_t) 1 << 30)

static int failures;     /* in the probing process */

/* Report one check, as the suite's programs do.  */
static bool
check (bool ok, const char *name, ...)
{
  int error = errno;
  va_list ap;
  va_start (ap, name);
  printf ("%s: ", ok ? "PASS" : "FAIL");
  vprintf (name, ap);
  va_end (ap);
  if (!ok)
    printf (" (errno %d: %s)", error, strerror (error));
  putchar ('\n');
  fflush (stdout);
  failures += !ok;
  errno = error;
  return ok;
}

static void
die (const char *what)
{
  printf ("FAIL: %s (%s)\n", what, strerror (errno));
  exit (1);
}

static enum portalock_backend backend;
static const char *bname;

/* Ask the kernel which lock would stop an exclusive lock of LENGTH
   bytes from START; return its type (F_UNLCK: none) and the range and
   PID of that lock in *FL.  */
static int
getlk (int fd, int64_t start, int64_t length, probe_flock *fl)
{
  memset (fl, 0, sizeof *fl);
  fl->l_type = F_WRLCK;
  fl->l_whence = SEEK_SET;
  fl->l_start = start;
  fl->l_len = length;
  if (fcntl (fd, PROBE_GETLK, fl) != 0)
    die ("F_GETLK");
  return fl->l_type;
}

/* Return 0 if the library can lock LENGTH bytes from START of FD at
   once (and unlock them again), else its errno.  SECONDS 0 with no
   PORTALOCK_NB is one try too.  */
static int
try_range (int fd, int64_t start, int64_t length)
{
  if (portalock_backend_lock (backend, fd, PORTALOCK_EX, start, length, 0)
      != 0)
    return errno;
  if (portalock_backend_lock (backend, fd, PORTALOCK_UN, start, length, 0)
      != 0)
    return -1;
  return 0;
}

/* In a new process with its own open file description of PATH, check
   that the bytes [START, START + 10) are locked by HOLDER (the parent)
   and no others, and that FREE, a range of 10 bytes, is not locked.
   WHERE names START in the reports.  */
static void
probe (const char *path, pid_t holder, int64_t start, const char *where,
       int64_t free)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      failures = 0;
      int fd = open (path, O_RDWR | O_CLOEXEC);
      if (fd < 0)
        die ("open");
      probe_flock fl;
      /* OFD locks have no owning process: F_GETLK says -1.  */
      pid_t owner = backend == PORTALOCK_BACKEND_OFD ? -1 : holder;
      int type = getlk (fd, 0, 0, &fl);
      check (type == F_WRLCK && fl.l_start == start && fl.l_len == 10
             && fl.l_pid == owner,
             "%s: %s: F_GETLK finds the lock on exactly those 10 bytes"
             " (found %jd + %jd, pid %ld)", bname, where,
             (intmax_t) fl.l_start, (intmax_t) fl.l_len, (long) fl.l_pid);
      type = getlk (fd, start - 1, 1, &fl);
      check (type == F_UNLCK && getlk (fd, start + 10, 1, &fl) == F_UNLCK,
             "%s: %s: F_GETLK finds the bytes either side free", bname,
             where);
      check (getlk (fd, free, 10, &fl) == F_UNLCK,
             "%s: %s: F_GETLK finds bytes %jd to %jd free", bname, where,
             (intmax_t) free, (intmax_t) free + 9);
      int before = try_range (fd, start - 1, 1);
      check (before == 0 && try_range (fd, start + 10, 1) == 0,
             "%s: %s: another process locks the bytes either side",
             bname, where);
      int first = try_range (fd, start, 1);
      check (first == EWOULDBLOCK
             && try_range (fd, start + 9, 1) == EWOULDBLOCK,
             "%s: %s: another process's lock of the first or last byte"
             " fails with EWOULDBLOCK (one try, for a timeout of 0)", bname,
             where);
      check (try_range (fd, free, 10) == 0,
             "%s: %s: another process locks bytes %jd to %jd", bname,
             where, (intmax_t) free, (intmax_t) free + 9);
      exit (failures == 0 ? 0 : 1);
    }
  int status;
  if (waitpid (pid, &status, 0) != pid)
    die ("waitpid");
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: the probing process ends with status 0", bname);
}

/* The checks for a library whose off_t has BITS < 64 bits: the last
   bytes it can name lock, and a range beyond them fails with
   EOVERFLOW, not at an offset cut short.  */
static void
narrow (int fd, int bits)
{
  int64_t max = ((int64_t) 1 << (bits - 1)) - 1;
  check (portalock_backend_lock (backend, fd, PORTALOCK_EX, max - 9, 10, 0)
         == 0
         && portalock_backend_lock (backend, fd, PORTALOCK_UN, max - 9, 10,
                                    0) == 0,
         "%s: %d-bit library: the last 10 bytes below 2^%d lock", bname,
         bits, bits - 1);
  errno = 0;
  check (portalock_backend_lock (backend, fd, PORTALOCK_EX, max - 9, 11, 0)
         == -1 && errno == EOVERFLOW,
         "%s: %d-bit library: a range past 2^%d - 1 fails with EOVERFLOW",
         bname, bits, bits - 1);
  errno = 0;
  check (portalock_lock_range (fd, PORTALOCK_EX, 3 * GiB, 10, 0) == -1
         && errno == EOVERFLOW,
         "%s: %d-bit library: a start of 3 GiB fails with EOVERFLOW", bname,
         bits);
  errno = 0;
  check (portalock_lock_range (fd, PORTALOCK_EX, 0, 4 * GiB + 100, 0) == -1
         && errno == EOVERFLOW,
         "%s: %d-bit library: a length of 4 GiB + 100 fails with EOVERFLOW",
         bname, bits);
  printf ("UNSUPPORTED: %s: ranges beyond 2 GiB: the library's off_t has"
          " %d bits (configure --disable-largefile)\n", bname, bits);
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fputs ("usage: bigrange BACKEND BITS\n", stderr);
      return 2;
    }
  int bits = atoi (argv[2]);
  bname = argv[1];
  int b = portalock_backend_from_name (bname);
  if (b <= PORTALOCK_BACKEND_DEFAULT)
    {
      fprintf (stderr, "bigrange: no backend %s\n", bname);
      return 2;
    }
  backend = b;
  if (!portalock_backend_available (backend))
    {
      printf ("UNSUPPORTED: %s: not built here\n", bname);
      return 0;
    }
  if (portalock_default_backend () != backend)
    {
      fprintf (stderr, "bigrange: PORTALOCK_BACKEND must be %s\n", bname);
      return 2;
    }
  printf ("bigrange: this program's off_t has %d bits\n",
          (int) (sizeof (off_t) * 8));

  const char *dir = getenv ("TMPDIR");
  char path[4096];
  snprintf (path, sizeof path, "%s/bigrange.XXXXXX",
            dir != NULL && *dir != '\0' ? dir : "/tmp");
  int fd = mkstemp (path);
  if (fd < 0)
    die ("mkstemp");
  pid_t self = getpid ();
  if (bits < 64)
    {
      narrow (fd, bits);
      close (fd);
      unlink (path);
      return 0;
    }

  /* 3 GiB does not fit a 32-bit off_t; 4 GiB + 100 would come out as
     100 if it were cut to 32 bits, so byte 100 must stay free.  */
  int64_t s3 = 3 * GiB, s4 = 4 * GiB + 100;
  if (check (portalock_backend_lock (backend, fd, PORTALOCK_EX
                                     | PORTALOCK_NB, s3, 10, 0) == 0,
             "%s: portalock_backend_lock locks 10 bytes at 3 GiB", bname))
    probe (path, self, s3, "3 GiB", 100);
  check (portalock_lock_range (fd, PORTALOCK_UN, s3, 10, 0) == 0,
         "%s: portalock_lock_range unlocks them", bname);
  if (check (portalock_lock_range (fd, PORTALOCK_EX | PORTALOCK_NB, s4, 10,
                                   0) == 0,
             "%s: portalock_lock_range locks 10 bytes at 4 GiB + 100",
             bname))
    probe (path, self, s4, "4 GiB + 100", s3);
  check (portalock_backend_lock (backend, fd, PORTALOCK_UN, s4, 10, 0) == 0,
         "%s: portalock_backend_lock unlocks them", bname);

  /* The largest offsets: the last byte that a 64-bit off_t names can be
     locked; a range that ends beyond it cannot.  */
  errno = 0;
  check (portalock_backend_lock (backend, fd, PORTALOCK_EX, INT64_MAX, 2, 0)
         == -1 && errno == EOVERFLOW,
         "%s: a range past 2^63 - 1 fails with EOVERFLOW", bname);
  check (portalock_backend_lock (backend, fd, PORTALOCK_EX, INT64_MAX, 1, 0)
         == 0
         && portalock_backend_lock (backend, fd, PORTALOCK_UN, INT64_MAX, 1,
                                    0) == 0,
         "%s: the byte at 2^63 - 1 locks and unlocks", bname);
  errno = 0;
  check (portalock_lock_range (fd, PORTALOCK_EX, -3 * GiB, 10, 0) == -1
         && errno == EINVAL,
         "%s: a start of -3 GiB fails with EINVAL", bname);

  close (fd);
  unlink (path);
  return 0;
}
