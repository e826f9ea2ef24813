/* deadline.c: a timed wait whose deadline falls on a whole second.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* A deadline is the monotonic clock's time plus the timeout, with the
   nanoseconds carried into the seconds.  When they add up to exactly
   one second, the carry must still be made: a timespec of 1000000000
   nanoseconds is invalid, and the waits that take it as a deadline
   refuse it (pthread_cond_timedwait, timer_settime: EINVAL).  The
   clock hardly ever reads so that the sum is exact, so this program
   makes it: it defines clock_gettime itself, which the library, linked
   as a shared library, calls instead of the C library's.  Once armed,
   the monotonic clock reads half a second past a whole second, and
   never later than the true time; a timeout of 0.5 s then ends exactly
   on a whole second, which has already passed.  The wait, on a lock
   another process holds, must end with ETIMEDOUT.  A deadline left
   invalid instead makes the helper thread's wait fail with EINVAL
   without end, and the wait never returns (the suite's time limit then
   fails it).  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <sys/syscall.h>

static int armed;

/* The library calls clock_gettime, or on a 32-bit system with a 64-bit
   time_t (_TIME_BITS=64, as armhf) __clock_gettime64: both are this
   definition.  */
int test_clock_gettime (clockid_t clock, struct timespec *ts)
  __asm__ ("clock_gettime");
int test_clock_gettime64 (clockid_t clock, struct timespec *ts)
  __asm__ ("__clock_gettime64");

int
test_clock_gettime64 (clockid_t clock, struct timespec *ts)
{
  return test_clock_gettime (clock, ts);
}

int
test_clock_gettime (clockid_t clock, struct timespec *ts)
{
#ifdef SYS_clock_gettime64
  /* A 32-bit system's call for a 64-bit time_t.  */
  long r = sizeof ts->tv_sec == 8
    ? syscall (SYS_clock_gettime64, clock, ts)
    : syscall (SYS_clock_gettime, clock, ts);
#else
  long r = syscall (SYS_clock_gettime, clock, ts);
#endif
  if (r == 0 && clock == CLOCK_MONOTONIC
      && __atomic_load_n (&armed, __ATOMIC_SEQ_CST))
    {
      /* Half a second past a whole second, at or before the true
         time.  */
      if (ts->tv_nsec < 500000000L)
        ts->tv_sec--;
      ts->tv_nsec = 500000000L;
    }
  return r;
}

int
main (void)
{
  enum portalock_backend backends[] =
    { PORTALOCK_BACKEND_FLOCK, PORTALOCK_BACKEND_OFD, PORTALOCK_BACKEND_FCNTL,
      PORTALOCK_BACKEND_LOCKF };
  const char *path = test_path ("deadline");
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("open %s", path);
  for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
    {
      const char *name = portalock_backend_name (backends[i]);
      if (!portalock_backend_available (backends[i]))
        {
          unsupported ("%s: a deadline on a whole second (not built)", name);
          continue;
        }
      struct holder h;
      if (!holder_start (&h, path, backends[i], PORTALOCK_EX, 0, 0))
        die ("holder");
      __atomic_store_n (&armed, 1, __ATOMIC_SEQ_CST);
      errno = 0;
      int r = portalock_backend_lock (backends[i], fd, PORTALOCK_EX, 0, 0,
                                      0.5);
      int e = errno;
      __atomic_store_n (&armed, 0, __ATOMIC_SEQ_CST);
      errno = e;
      check (failed_with (r != 0, ETIMEDOUT),
             "%s: a timed wait whose deadline falls on a whole second: "
             "ETIMEDOUT", name);
      holder_release (&h);
    }
  close (fd);
  unlink (path);
  return check_exit ();
}
#else
int
main (void)
{
  unsupported ("a deadline on a whole second (needs an interposed "
               "clock_gettime)");
  return check_exit ();
}
#endif
