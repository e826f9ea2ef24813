/* convertlost.c: a conversion that loses the old lock and cannot take
   it back.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: convertlost BACKEND.

   flock(2) converts a lock by unlocking it first, so a conversion that
   is refused for a conflict has lost the old lock.  The library then
   takes the old lock back if nobody took the file meanwhile; if
   somebody did, the object holds nothing any more, and must say so.
   That second case needs another process to take the file in the
   moment between the refusal and the retake, so this program holds
   the moment open: it defines flock itself, and the library, linked
   as a shared library, calls this definition instead of the C
   library's.  When the object's conversion to exclusive is refused,
   it lets a child, which shares the file and then asks for an
   exclusive lock, take the file before the refusal returns.

   The conversion must then fail with EWOULDBLOCK, the object must hold
   nothing (portalock_fd: EBADF; portalock_release: 1), and once the
   child is gone, another process must find the file free.  Only flock
   converts by unlocking: the other backends are reported
   UNSUPPORTED.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

/* Set: the next refused flock (LOCK_EX | LOCK_NB) writes 'G' to go[1]
   and waits for the child's 'X' on taken[0].  */
static int armed;
static int go[2], taken[2];
/* Whether the child said 'X' in time.  */
static int child_took;

int test_flock (int fd, int op) __asm__ ("flock");

int
test_flock (int fd, int op)
{
  int r = syscall (SYS_flock, fd, op);
  if (r != 0 && errno == EWOULDBLOCK && armed && op == (LOCK_EX | LOCK_NB))
    {
      int saved_errno = errno;
      armed = 0;
      char c = 'G';
      struct pollfd p = { .fd = taken[0], .events = POLLIN };
      /* The child's exclusive lock is granted at once if the refusal
         dropped this process's shared lock; 10 seconds only keep a
         kernel that does not from hanging the suite.  */
      if (write (go[1], &c, 1) == 1 && poll (&p, 1, 10000) == 1
          && read (taken[0], &c, 1) == 1 && c == 'X')
        child_took = 1;
      errno = saved_errno;
    }
  return r;
}

/* The child: share PATH, say 'S' on SAID, wait for 'G' on GO, ask for
   an exclusive lock, say 'X' once granted, and hold it until GO is
   closed.  */
static void
child (const char *path)
{
  char c;
  close (go[1]);
  close (taken[0]);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || syscall (SYS_flock, fd, LOCK_SH) != 0)
    _exit (1);
  c = 'S';
  if (write (taken[1], &c, 1) != 1 || read (go[0], &c, 1) != 1
      || syscall (SYS_flock, fd, LOCK_EX) != 0)
    _exit (1);
  c = 'X';
  if (write (taken[1], &c, 1) != 1)
    _exit (1);
  while (read (go[0], &c, 1) > 0)
    ;
  _exit (0);
}

int
main (int argc, char **argv)
{
  const char *bname = argv[1];
  int backend = backend_from_args (argc, argv, 1, "convertlost BACKEND");
  if (backend == 0)
    return check_exit ();
  if (strcmp (bname, "flock") != 0)
    {
      unsupported ("%s: a conversion that loses the old lock: the backend "
                   "converts without unlocking first", bname);
      return check_exit ();
    }
  const char *path = test_path ("lost");
  portalock *lock = new_backend_lock (path, backend);
  if (portalock_set_flags (lock, PORTALOCK_SH) != 0
      || portalock_acquire (lock) != 0)
    die ("acquire");
  if (pipe (go) != 0 || pipe (taken) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    child (path);
  close (go[0]);
  close (taken[1]);
  char c;
  if (read (taken[0], &c, 1) != 1 || c != 'S')
    die ("the child could not share the file");

  armed = 1;
  int r = portalock_convert (lock, PORTALOCK_EX | PORTALOCK_NB);
  int error = errno;
  if (!child_took)
    unsupported ("%s: a conversion that loses the old lock: the refused "
                 "conversion kept it", bname);
  else
    {
      check (r == -1 && error == EWOULDBLOCK,
             "%s: a refused conversion whose old lock was taken: "
             "EWOULDBLOCK", bname);
      check (fails_with (portalock_fd (lock), EBADF),
             "%s: ... and the object holds nothing", bname);
      check (portalock_release (lock) == 1,
             "%s: ... so a release has nothing to let go", bname);
    }
  close (go[1]);
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status)
      || WEXITSTATUS (status) != 0)
    die ("the child failed");
  if (child_took)
    check (probe_lock (path, backend, PORTALOCK_EX, 0, 0) == 0,
           "%s: ... and the file is free once the child is gone", bname);
  portalock_free (lock);
  return check_exit ();
}
