/* forkother.c: forks that the library's fork handlers do not see, or
   see from inside another fork.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: forkother BACKEND.

   1. _Fork (POSIX.1-2024; glibc 2.34 and later) runs no pthread_atfork
      handlers, so the library does not know of the child.  On flock
      and OFD, a lock object's release by close then closes only the
      parent's descriptor, and the child's copy keeps the lock while the
      child lives: the manual says so ("Identity check"), and that a
      portalock_fd (or portalock_stream) call on the object before the
      fork makes its release unlock first.  All are checked: a process
      that tries the lock after the release is refused while such a
      child lives, unless the object's descriptor was given out by
      portalock_fd or portalock_stream; on fcntl
      and lockf (locks the child never had) it gets it at once.

   2. A child handler of the program, registered before the library's
      handlers, runs before the library's child handler, while the
      library's prepare handlers' mutexes are still taken; a fork from
      inside it must neither hang nor break the lock objects of either
      child.  Each child acquires and releases a lock object of BACKEND
      and one of fcntl, and reports; a hang shows as the first child
      asleep in a futex before it reported.  Where the C library's own
      fork cannot do this (musl's waits for its own lock), it is
      UNSUPPORTED.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static enum portalock_backend backend;
static const char *bname;

/* Fork without running the pthread_atfork handlers, as _Fork does.
   Return what fork returns, or -1 with ENOSYS where there is no way.  */
static pid_t
fork_unseen (void)
{
#if defined __GLIBC__ && defined __GLIBC_PREREQ
# if __GLIBC_PREREQ (2, 34)
  return _Fork ();
# endif
#endif
#ifdef SYS_fork
  return syscall (SYS_fork);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* How case 1 gives the descriptor out before the fork.  */
enum expose { EXPOSE_NONE, EXPOSE_FD, EXPOSE_STREAM };

/* Case 1: an object on PATH held, the process forked with _Fork, the
   object released; EXPOSE: what was called before the fork.  */
static void
unseen_fork (const char *path, enum expose expose)
{
  static const char *const hows[] = {
    "without portalock_fd", "after portalock_fd", "after portalock_stream"
  };
  const char *how = hows[expose];
  portalock *lock = new_backend_lock (path, backend);
  portalock_set_timeout (lock, 0);
  if (portalock_acquire (lock) != 0)
    die ("acquire %s", path);
  if ((expose == EXPOSE_FD && portalock_fd (lock) < 0)
      || (expose == EXPOSE_STREAM && portalock_stream (lock) == NULL))
    die ("%s", how);
  int p[2];
  if (pipe (p) != 0)
    die ("pipe");
  pid_t pid = fork_unseen ();
  if (pid < 0)
    {
      unsupported ("%s: _Fork: no fork that runs no handlers here", bname);
      portalock_free (lock);
      return;
    }
  if (pid == 0)
    {
      /* Live, with copies of the descriptors, until told.  */
      char c;
      syscall (SYS_close, p[1]);
      IGNORE_RESULT (read (p[0], &c, 1));
      _exit (0);
    }
  close (p[0]);
  int r = portalock_release (lock);
  int e = probe_lock (path, backend, PORTALOCK_EX, 0, 0);
  bool scoped = (backend == PORTALOCK_BACKEND_FCNTL
                 || backend == PORTALOCK_BACKEND_LOCKF);
  if (scoped || expose != EXPOSE_NONE)
    check (r == 0 && e == 0, "%s: _Fork, %s: the lock is free after the "
           "release while the child lives", bname, how);
  else
    check (r == 0 && e == EWOULDBLOCK, "%s: _Fork, %s: the child's copy "
           "keeps the lock after the release, as documented", bname, how);
  close (p[1]);
  int status;
  if (waitpid (pid, &status, 0) != pid)
    die ("waitpid");
  check (probe_lock (path, backend, PORTALOCK_EX, 0, 0) == 0,
         "%s: _Fork, %s: the lock is free once the child is gone", bname,
         how);
  portalock_free (lock);
}

/* Case 2.  Set: the next child handler of this program forks.  */
static int nest_armed;
/* In the first child: the second child's PID.  In the second: -1.  */
static pid_t nested_pid;

static void
nested_fork (void)
{
  if (!__atomic_exchange_n (&nest_armed, 0, __ATOMIC_SEQ_CST))
    return;
  nested_pid = fork ();
  if (nested_pid == 0)
    nested_pid = -1;
}

/* Acquire and release an object of BACKEND and a fcntl one on PATH.
   Return true if all went well.  */
static bool
use_objects (const char *path)
{
  enum portalock_backend backends[] = { backend, PORTALOCK_BACKEND_FCNTL };
  for (size_t i = 0; i < 2; i++)
    {
      portalock *lock = portalock_new (path);
      if (lock == NULL || portalock_set_backend (lock, backends[i]) != 0
          || portalock_set_timeout (lock, 0) != 0
          || portalock_acquire (lock) != 0 || portalock_release (lock) != 0)
        return false;
      portalock_free (lock);
    }
  return true;
}

/* Wait until REPORTS bytes come on FD, or the process PID sleeps in a
   futex before they did (hung), or 10 seconds pass.  Return the bytes
   read.  */
static size_t
await_reports (int fd, pid_t pid, char *buf, size_t reports)
{
  size_t got = 0;
  for (int tries = 0; tries < 10000 && got < reports; tries++)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      if (poll (&pfd, 1, 1) == 1)
        {
          ssize_t n = read (fd, buf + got, reports - got);
          if (n <= 0)
            break;
          got += n;
          continue;
        }
      if (got == 0 && asleep_in_futex (pid, pid))
        break;
    }
  return got;
}

/* Return true if the C library lets a child handler fork (musl's fork,
   for one, waits for ever for its own lock).  Called before the library
   registers its handlers, so that only the C library's fork is
   tried.  */
static bool
libc_forks_in_handlers (void)
{
  int rep[2];
  if (pipe (rep) != 0)
    die ("pipe");
  __atomic_store_n (&nest_armed, 1, __ATOMIC_SEQ_CST);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (rep[0]);
      IGNORE_RESULT (write (rep[1], "n", 1));
      int status;
      if (nested_pid > 0)
        waitpid (nested_pid, &status, 0);
      _exit (0);
    }
  __atomic_store_n (&nest_armed, 0, __ATOMIC_SEQ_CST);
  close (rep[1]);
  char buf[2];
  size_t got = await_reports (rep[0], pid, buf, 2);
  if (got < 2)
    kill (pid, SIGKILL);
  int status;
  waitpid (pid, &status, 0);
  close (rep[0]);
  return got == 2;
}

static void
fork_in_child_handler (const char *path, const char *path2)
{
  /* The per-inode table's handlers are registered, its mutexes used.  */
  if (!use_objects (path))
    die ("lock objects before the fork");
  int rep[2];
  if (pipe (rep) != 0)
    die ("pipe");
  __atomic_store_n (&nest_armed, 1, __ATOMIC_SEQ_CST);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  __atomic_store_n (&nest_armed, 0, __ATOMIC_SEQ_CST);
  if (pid == 0)
    {
      /* Each child its own file: their tries do not wait.  */
      close (rep[0]);
      bool ok = use_objects (nested_pid < 0 ? path2 : path);
      char c = nested_pid < 0 ? (ok ? 'g' : 'G') : (ok ? 'c' : 'C');
      IGNORE_RESULT (write (rep[1], &c, 1));
      int status;
      if (nested_pid > 0)
        waitpid (nested_pid, &status, 0);
      _exit (0);
    }
  close (rep[1]);
  char buf[2] = { 0, 0 };
  size_t got = await_reports (rep[0], pid, buf, 2);
  bool child_ok = memchr (buf, 'c', got) != NULL;
  bool grandchild_ok = memchr (buf, 'g', got) != NULL;
  check (got > 0, "%s: a fork in a child handler registered before the "
         "library's does not hang", bname);
  check (child_ok && grandchild_ok, "%s: a fork in a child handler: lock "
         "objects work in both children", bname);
  if (got == 0)
    kill (pid, SIGKILL);
  int status;
  waitpid (pid, &status, 0);
  close (rep[0]);
}

int
main (int argc, char **argv)
{
  /* Before the library registers its handlers: see case 2.  */
  if (pthread_atfork (NULL, NULL, nested_fork) != 0)
    die ("pthread_atfork");
  bname = argv[1];
  backend = backend_from_args (argc, argv, 1, "forkother BACKEND");
  if (backend == 0)
    return check_exit ();
  bool proc = access ("/proc/self/task", R_OK) == 0;
  bool nests = proc && libc_forks_in_handlers ();
  const char *path = test_path ("fork");
  write_file (path, "kept\n");
  unseen_fork (path, EXPOSE_NONE);
  unseen_fork (path, EXPOSE_FD);
  unseen_fork (path, EXPOSE_STREAM);
  if (!proc)
    unsupported ("%s: a fork in a child handler: no /proc to see a hang",
                 bname);
  else if (!nests)
    unsupported ("%s: a fork in a child handler: the C library's fork "
                 "does not allow it", bname);
  else
    {
      const char *path2 = test_path ("fork2");
      write_file (path2, "kept\n");
      fork_in_child_handler (path, path2);
    }
  return check_exit ();
}
