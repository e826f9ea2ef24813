/* lastshared.c: the last two shared holders of a temporary lock let go
   at the same moment.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: lastshared BACKEND.

   A shared temporary lock's file goes with its last holder: a releasing
   shared holder tries to make its lock exclusive without waiting, and
   deletes the file if it can.  Where conversions are atomic (ofd,
   fcntl), the last two holders may try at the same moment, each still
   seeing the other, and both fail; so a holder that failed looks once
   more after its unlock, and deletes the file if nobody holds it then.
   This program makes the two tries meet: it defines fcntl itself (the
   library, linked as a shared library, calls it instead of the C
   library's), and when this process's try is refused, it lets a child,
   the other shared holder, release in full before the refusal returns.
   Once both have let go, the file must be gone.  flock converts by
   unlocking first, so there the second try succeeds, and lockf has no
   shared locks: both are reported UNSUPPORTED.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

/* Set: the next refused request for an exclusive lock writes 'R' to
   go[1] and waits for the child's 'D' on done[0].  */
static int armed;
static int go[2], done[2];
/* Whether the child said 'D' in time.  */
static int child_released;

/* Whether CMD asks for a record lock without waiting.  */
static bool
try_record_lock (int cmd)
{
#ifdef F_OFD_SETLK
  if (cmd == F_OFD_SETLK)
    return true;
#endif
  return cmd == F_SETLK;
}

/* The one definition behind the three names: the library calls one,
   depending on how the C library maps large-file calls and, on a
   32-bit system with a 64-bit time_t (_TIME_BITS=64, as armhf), 64-bit
   time calls (__fcntl_time64).  */
static int
interposed_fcntl (int fd, int cmd, va_list ap)
{
  void *arg = va_arg (ap, void *);
  /* A 32-bit system has two calls: the C library's fcntl, with the
     64-bit off_t the library is built with, makes fcntl64, whose
     struct flock64 the older fcntl would read in another layout.  */
#ifdef SYS_fcntl64
  int r = syscall (SYS_fcntl64, fd, cmd, arg);
#else
  int r = syscall (SYS_fcntl, fd, cmd, arg);
#endif
  if (r != 0 && (errno == EAGAIN || errno == EACCES) && armed
      && try_record_lock (cmd) && ((struct flock *) arg)->l_type == F_WRLCK)
    {
      int saved_errno = errno;
      armed = 0;
      char c = 'R';
      struct pollfd p = { .fd = done[0], .events = POLLIN };
      /* The child's release never waits for this process; 10 seconds
         only keep a broken one from hanging the suite.  */
      if (write (go[1], &c, 1) == 1 && poll (&p, 1, 10000) == 1
          && read (done[0], &c, 1) == 1 && c == 'D')
        child_released = 1;
      errno = saved_errno;
    }
  return r;
}

int test_fcntl (int fd, int cmd, ...) __asm__ ("fcntl");
int test_fcntl64 (int fd, int cmd, ...) __asm__ ("fcntl64");
int test_fcntl_time64 (int fd, int cmd, ...) __asm__ ("__fcntl_time64");

int
test_fcntl (int fd, int cmd, ...)
{
  va_list ap;
  va_start (ap, cmd);
  int r = interposed_fcntl (fd, cmd, ap);
  va_end (ap);
  return r;
}

int
test_fcntl64 (int fd, int cmd, ...)
{
  va_list ap;
  va_start (ap, cmd);
  int r = interposed_fcntl (fd, cmd, ap);
  va_end (ap);
  return r;
}

int
test_fcntl_time64 (int fd, int cmd, ...)
{
  va_list ap;
  va_start (ap, cmd);
  int r = interposed_fcntl (fd, cmd, ap);
  va_end (ap);
  return r;
}

/* A shared temporary lock object on PATH with BACKEND.  */
static portalock *
shared_temporary (const char *path, int backend)
{
  portalock *lock = new_backend_lock (path, backend);
  if (portalock_set_flags (lock, PORTALOCK_SH) != 0
      || portalock_set_temporary (lock, true) != 0)
    die ("settings");
  return lock;
}

/* The child: share PATH's temporary lock, say 'H' on DONE, wait for 'R'
   on GO, release, and say 'D'.  */
static void
child (const char *path, int backend)
{
  char c;
  close (go[1]);
  close (done[0]);
  portalock *lock = shared_temporary (path, backend);
  if (portalock_acquire (lock) != 0)
    _exit (1);
  c = 'H';
  if (write (done[1], &c, 1) != 1 || read (go[0], &c, 1) != 1
      || portalock_release (lock) != 0)
    _exit (1);
  c = 'D';
  if (write (done[1], &c, 1) != 1)
    _exit (1);
  _exit (0);
}

int
main (int argc, char **argv)
{
  const char *bname = argv[1];
  int backend = backend_from_args (argc, argv, 1, "lastshared BACKEND");
  if (backend == 0)
    return check_exit ();
  if (strcmp (bname, "ofd") != 0 && strcmp (bname, "fcntl") != 0)
    {
      unsupported ("%s: the last two shared temporary holders let go at "
                   "once: the backend has no atomic conversion", bname);
      return check_exit ();
    }
  const char *path = test_path ("shared.lock");
  portalock *lock = shared_temporary (path, backend);
  if (portalock_acquire (lock) != 0)
    die ("acquire");
  if (pipe (go) != 0 || pipe (done) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    child (path, backend);
  close (go[0]);
  close (done[1]);
  char c;
  if (read (done[0], &c, 1) != 1 || c != 'H')
    die ("the child could not share the lock");

  armed = 1;
  int r = portalock_release (lock);
  check (child_released && r == 0,
         "%s: the last two shared temporary holders let go at once",
         bname);
  check (!exists (path), "%s: ... and the file is gone", bname);
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status)
      || WEXITSTATUS (status) != 0)
    die ("the child failed");
  portalock_free (lock);
  return check_exit ();
}
