/* createrace.c: a lock object in mode "x" that created its file and was
   then refused the lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: createrace BACKEND.

   Mode "x" creates the lock file (O_CREAT | O_EXCL) and removes it
   again if the acquire then fails, so that a failed acquire leaves no
   file behind.  But if the failure is a lock held elsewhere, another
   process opened the new file between the create and the lock and holds
   its lock: it is using the file, and removing it would let a third
   process create a new file at the path and lock that one too, two
   holders at once.  That moment is held open here: this program defines
   open (and open64) itself, and the library, linked as a shared
   library, calls this definition instead of the C library's.  Right
   after the library's exclusive create, a holder process opens the new
   file and takes its lock; then the library's lock is refused.

   The acquire must fail (EWOULDBLOCK with timeout 0, ETIMEDOUT with a
   timeout), and the file must still be at the path, held: a fresh
   process cannot lock it.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#ifndef O_LARGEFILE
# define O_LARGEFILE 0
#endif

/* Set: the next exclusive create starts HOLDER on the new file before
   it returns.  */
static int armed;
static struct holder holder;
static int backend;
static bool holder_held;

int test_open (const char *path, int flags, ...) __asm__ ("open");
int test_open64 (const char *path, int flags, ...) __asm__ ("open64");

static int
opened (const char *path, int flags, mode_t mode)
{
  int fd = syscall (SYS_openat, AT_FDCWD, path, flags | O_LARGEFILE, mode);
  if (fd >= 0 && armed && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
    {
      int saved_errno = errno;
      armed = 0;
      holder_held = holder_start (&holder, path, backend, PORTALOCK_EX, 0,
                                  0);
      errno = saved_errno;
    }
  return fd;
}

int
test_open (const char *path, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, int);
      va_end (ap);
    }
  return opened (path, flags, mode);
}

int
test_open64 (const char *path, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, int);
      va_end (ap);
    }
  return opened (path, flags, mode);
}

/* Acquire a new mode "x" object on a fresh PATH with timeout SECONDS
   while a holder takes the file it creates; check that it fails with
   ERROR and leaves the holder's file where it is.  */
static void
refused (const char *bname, const char *name, double seconds, int error)
{
  const char *path = test_path (name);
  portalock *lock = new_backend_lock (path, backend);
  if (portalock_set_mode (lock, "x") != 0
      || portalock_set_timeout (lock, seconds) != 0)
    die ("settings");
  armed = 1;
  holder_held = false;
  int r = portalock_acquire (lock);
  int e = errno;
  if (!holder_held)
    die ("%s: the holder could not lock the new file", bname);
  check (r == -1 && e == error, "%s: mode x, timeout %g, the new file "
         "locked by another: %s (%s)", bname, seconds, strerror (error),
         strerror (e));
  struct stat st;
  check (stat (path, &st) == 0 && S_ISREG (st.st_mode),
         "%s: ... the file another holds stays at the path", bname);
  check (probe_lock (path, backend, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: ... and a fresh process cannot lock it", bname);
  holder_release (&holder);
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  const char *bname = argv[1];
  backend = backend_from_args (argc, argv, 1, "createrace BACKEND");
  if (backend == 0)
    return check_exit ();
  refused (bname, "nowait", 0, EWOULDBLOCK);
  refused (bname, "timed", 0.05, ETIMEDOUT);
  return check_exit ();
}
