/* closerace.c: a close the library makes while a lock object of another
   thread becomes the first holder of the same file's POSIX lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: closerace BACKEND.

   A close of any descriptor of a file drops the process's POSIX
   (fcntl, lockf) locks on it.  The library closes descriptors that may
   share a file with a fcntl or lockf lock object: a flock or OFD
   object's release by close, its unlock-then-close release, and the
   descriptor portalock_pid_record_read reads through.  Each looks
   whether a lock object of the process holds the file through the
   per-inode table, and closes only if none does; a lock object of
   another thread that is granted its first lock on the file between
   the look and the close would lose it to the close, and a third
   process could take it too.

   The window is a few instructions wide, so this program holds it
   open: it defines close itself, and the library, linked as a shared
   library, calls this definition instead of the C library's.  The
   held-up close lets a second thread acquire a fcntl (or lockf) lock
   object on the same file, and waits until that thread either holds
   it ('H': the close would now drop it) or sleeps in a futex, waiting
   inside the library for the close to end (as it must).  Then the
   close goes on; once the second thread holds its lock, a process
   that tries an exclusive lock on the file must be refused.

   With BACKEND flock or ofd, the closing object uses BACKEND and the
   holder a fcntl object: the release by close (before the process
   used the per-inode table at all, and after), the release that
   unlocks and then closes (the descriptor was given out by
   portalock_fd), and a PID record read.  With fcntl or lockf, the
   holder uses BACKEND, and the PID record read is the close.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

int test_close (int fd) __asm__ ("close");

/* The descriptor whose close is to be held up, or -1 once it was.  */
static int target_fd = -1;
/* The held-up close sends 'G' on go; the holder thread answers 'H' on
   held once it holds its lock (or 'E' if it failed).  */
static int go[2], held[2], release_holder[2];
/* The holder thread's id (gettid), for /proc/self/task.  */
static pid_t holder_tid;
/* What the held-up close saw first: 'H' or 'S' (the holder asleep).  */
static char first_seen;

static enum portalock_backend holder_backend;
static int holder_type;
static const char *path;

static void
say (int fd, char c)
{
  IGNORE_RESULT (write (fd, &c, 1));
}

static char
hear (int fd)
{
  char c = 0;
  if (read (fd, &c, 1) != 1)
    return 0;
  return c;
}

static void
make_pipe (int p[2])
{
  if (pipe2 (p, O_CLOEXEC) != 0)
    die ("pipe");
}

/* Wait until the holder holds its lock or sleeps in the library; or
   10 seconds pass (a readiness wait, as await_blocked_waiter's).  */
static char
await_holder (void)
{
  int fl = fcntl (held[0], F_GETFL);
  fcntl (held[0], F_SETFL, fl | O_NONBLOCK);
  char c = 0;
  for (int tries = 0; tries < 10000; tries++)
    {
      if (read (held[0], &c, 1) == 1)
        break;
      if (asleep_in_futex (0, holder_tid))
        {
          c = 'S';
          break;
        }
      usleep (1000);
    }
  fcntl (held[0], F_SETFL, fl);
  return c;
}

int
test_close (int fd)
{
  int want = fd;
  if (fd >= 0
      && __atomic_compare_exchange_n (&target_fd, &want, -1, false,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    {
      say (go[1], 'G');
      first_seen = await_holder ();
    }
  return syscall (SYS_close, fd);
}

/* The second thread: on 'G', acquire a lock object on PATH, say 'H'
   (or 'E'), hold it until told, release.  */
static void *
holder (void *arg)
{
  (void) arg;
  __atomic_store_n (&holder_tid, (pid_t) syscall (SYS_gettid),
                    __ATOMIC_SEQ_CST);
  if (hear (go[0]) != 'G')
    return NULL;
  portalock *lock = new_backend_lock (path, holder_backend);
  portalock_set_flags (lock, holder_type);
  /* No conflict is expected in the kernel: a sleep can only be a wait
     inside the library.  */
  portalock_set_timeout (lock, 0);
  bool ok = portalock_acquire (lock) == 0;
  say (held[1], ok ? 'H' : 'E');
  hear (release_holder[0]);
  portalock_free (lock);
  return NULL;
}

/* Return the lowest descriptor free now: the next open's.  */
static int
next_fd (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die ("open /dev/null");
  syscall (SYS_close, fd);
  return fd;
}

enum closer
{
  RELEASE_BY_CLOSE_FIRST, RELEASE_BY_CLOSE, UNLOCK_THEN_CLOSE,
  PID_RECORD_READ
};

/* The first release by close comes before the process ever used the
   per-inode table (the holder's acquire is its first use), the second
   after.  */
static const char *const closer_names[] = {
  "a release by close, the table unused yet",
  "a release by close, the table used",
  "a release that unlocks, then closes",
  "a PID record read"
};

/* Run one round: the close of CLOSER, made with BACKEND's object.  */
static void
race (enum closer closer, enum portalock_backend backend, const char *bname)
{
  const char *name = closer_names[closer];
  make_pipe (go);
  make_pipe (held);
  make_pipe (release_holder);
  first_seen = 0;
  pthread_t t;
  if (pthread_create (&t, NULL, holder, NULL) != 0)
    die ("pthread_create");
  while (__atomic_load_n (&holder_tid, __ATOMIC_SEQ_CST) == 0)
    sched_yield ();

  portalock *lock = NULL;
  int r;
  if (closer == PID_RECORD_READ)
    {
      __atomic_store_n (&target_fd, next_fd (), __ATOMIC_SEQ_CST);
      pid_t pid;
      r = portalock_pid_record_read (path, &pid);
    }
  else
    {
      lock = new_backend_lock (path, backend);
      portalock_set_flags (lock, PORTALOCK_SH);
      portalock_set_timeout (lock, 0);
      int fd = next_fd ();
      if (portalock_acquire (lock) != 0 || !fd_names (fd, path))
        die ("acquire %s", path);
      if (closer == UNLOCK_THEN_CLOSE && portalock_fd (lock) != fd)
        die ("portalock_fd");
      __atomic_store_n (&target_fd, fd, __ATOMIC_SEQ_CST);
      r = portalock_release (lock);
    }
  /* The held-up close may have heard the holder's answer already.  */
  char c = first_seen == 'H' ? 'H' : hear (held[0]);
  check (r >= 0 && __atomic_load_n (&target_fd, __ATOMIC_SEQ_CST) == -1
         && first_seen == 'S' && c == 'H',
         "%s, %s holder: %s: the close ends before the holder is granted",
         bname, portalock_backend_name (holder_backend), name);
  int e = probe_lock (path, PORTALOCK_BACKEND_FCNTL, PORTALOCK_EX, 0, 0);
  check (c == 'H' && e != 0,
         "%s, %s holder: %s: the holder's lock survives the close "
         "(another process is refused)", bname,
         portalock_backend_name (holder_backend), name);
  say (release_holder[1], 'R');
  pthread_join (t, NULL);
  __atomic_store_n (&holder_tid, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n (&target_fd, -1, __ATOMIC_SEQ_CST);
  portalock_free (lock);
  check (probe_lock (path, PORTALOCK_BACKEND_FCNTL, PORTALOCK_EX, 0, 0) == 0,
         "%s, %s holder: %s: free again after the holder's release", bname,
         portalock_backend_name (holder_backend), name);
  int *pipes[] = { go, held, release_holder };
  for (size_t i = 0; i < sizeof pipes / sizeof *pipes; i++)
    {
      syscall (SYS_close, pipes[i][0]);
      syscall (SYS_close, pipes[i][1]);
    }
}

int
main (int argc, char **argv)
{
  enum portalock_backend backend
    = backend_from_args (argc, argv, 1, "closerace BACKEND");
  if (backend == 0)
    return check_exit ();
  const char *bname = argv[1];
  if (access ("/proc/self/task", R_OK) != 0)
    {
      unsupported ("%s: a close racing a first holder: no "
                   "/proc/self/task to see a thread wait", bname);
      return check_exit ();
    }
  path = test_path ("race");
  write_file (path, "kept\n");
  bool scoped = (backend == PORTALOCK_BACKEND_FCNTL
                 || backend == PORTALOCK_BACKEND_LOCKF);
  holder_backend = scoped ? backend : PORTALOCK_BACKEND_FCNTL;
  holder_type = backend == PORTALOCK_BACKEND_LOCKF ? PORTALOCK_EX
                : PORTALOCK_SH;
  if (!scoped)
    {
      race (RELEASE_BY_CLOSE_FIRST, backend, bname);
      race (RELEASE_BY_CLOSE, backend, bname);
      race (UNLOCK_THEN_CLOSE, backend, bname);
    }
  race (PID_RECORD_READ, backend, bname);
  return check_exit ();
}
