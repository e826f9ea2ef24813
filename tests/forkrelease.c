/* forkrelease.c: a fork in one thread while another thread releases a
   lock object by closing its descriptor.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: forkrelease BACKEND.

   On flock and OFD, a lock object whose descriptor is the only one of
   its open file description releases by closing it alone.  A fork in
   another thread after the release has decided so, but before its
   close, would give the child a copy of the descriptor, and the copy
   would keep the lock after the release.  The library closes that race
   (release_by_close in lib/method-kernel.c): a release sees a fork under way
   and unlocks explicitly, or the fork's prepare handler waits until the
   close is done.  The window is a few instructions wide, so this program
   holds it open: it defines close and sched_yield itself, and the
   library, linked as a shared library, calls these definitions instead
   of the C library's.

   1. The fork comes after the release's check: the release's close of
      the object's descriptor starts the fork in another thread, and
      waits until either the fork's prepare handler waits for it (it
      calls sched_yield: 'Y') or the forked child runs ('F', the race
      lost).  The child must not keep the lock.
   2. The release comes while a fork is under way: a prepare handler of
      this program, which runs after the library's, lets the release go
      and holds the fork until the release's close, or until the release
      waits for the fork (in a futex: the per-inode table's mutexes,
      which the fork holds, lie between a release and its close); the
      close waits until the child runs.  The release must have unlocked
      before it closed, so that the child's copy holds nothing.

   In both a third process must get the lock at once while the child is
   alive, still holding its copies of the descriptors.  fcntl and lockf
   release through the per-inode table, whose mutexes a fork takes, and
   a POSIX lock is not inherited over fork: they are reported
   UNSUPPORTED.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static enum portalock_backend backend;
static const char *bname;

/* The descriptor whose close is to be held up, or -1 once it was.  */
static int target_fd = -1;
/* The held-up close writes 'C' to start[1], then reads what happened
   first from seen[0]: 'Y' from sched_yield, 'F' from the child.  */
static int start[2], seen[2];
/* The child exits when this pipe is closed.  */
static int child_exit[2];
/* Set: the next sched_yield writes 'Y'.  */
static int yield_armed;
/* Set: the next fork's prepare handler of this program writes 'P' to
   prepared[1] and waits for the close's 'C'.  */
static int prepare_armed;
static int prepared[2];
/* The thread that releases (the main thread's gettid).  */
static pid_t releaser_tid;

int test_close (int fd) __asm__ ("close");
int test_sched_yield (void) __asm__ ("sched_yield");

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

/* The byte the held-up close heard.  */
static char first_seen;

int
test_close (int fd)
{
  int want = fd;
  if (fd >= 0
      && __atomic_compare_exchange_n (&target_fd, &want, -1, false,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    {
      say (start[1], 'C');
      first_seen = hear (seen[0]);
    }
  return syscall (SYS_close, fd);
}

int
test_sched_yield (void)
{
  if (__atomic_exchange_n (&yield_armed, 0, __ATOMIC_SEQ_CST))
    say (seen[1], 'Y');
  return syscall (SYS_sched_yield);
}

/* Wait until the held-up close says 'C' on start[0], or the releasing
   thread waits for the fork in a futex; or 10 seconds pass (a readiness
   wait).  */
static void
await_close_or_wait (void)
{
  int fl = fcntl (start[0], F_GETFL);
  fcntl (start[0], F_SETFL, fl | O_NONBLOCK);
  char c;
  for (int tries = 0; tries < 10000; tries++)
    {
      if (read (start[0], &c, 1) == 1 || asleep_in_futex (0, releaser_tid))
        break;
      usleep (1000);
    }
  fcntl (start[0], F_SETFL, fl);
}

/* Registered before the library's handlers, so that it runs after
   theirs: the fork is under way when it lets the release go.  */
static void
hold_fork (void)
{
  if (__atomic_exchange_n (&prepare_armed, 0, __ATOMIC_SEQ_CST))
    {
      say (prepared[1], 'P');
      await_close_or_wait ();
    }
}

static void
make_pipe (int p[2])
{
  if (pipe2 (p, O_CLOEXEC) != 0)
    die ("pipe");
}

/* The forking thread: in case 1, wait for the close's 'C' first.  */
static void *
forker (void *arg)
{
  bool after_close = *(bool *) arg;
  if (after_close)
    {
      hear (start[0]);
      __atomic_store_n (&yield_armed, 1, __ATOMIC_SEQ_CST);
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      say (seen[1], 'F');
      close (child_exit[1]);
      hear (child_exit[0]);
      _exit (0);
    }
  __atomic_store_n (&yield_armed, 0, __ATOMIC_SEQ_CST);
  return (void *) (intptr_t) pid;
}

/* Hold LOCK on PATH and return its descriptor, found without
   portalock_fd (which would make the release unlock): the lowest one
   free before the acquire.  */
static int
acquire_noting_fd (portalock *lock, const char *path)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die ("open /dev/null");
  syscall (SYS_close, fd);
  if (portalock_acquire (lock) != 0 || !fd_names (fd, path))
    die ("acquire %s", path);
  return fd;
}

/* Run case 1 (AFTER_CLOSE) or 2 on PATH, holding TEXT.  */
static void
race (const char *path, const char *text, bool after_close)
{
  const char *name = after_close ? "a fork between the release's check "
    "and its close" : "a release while a fork is under way";
  portalock *lock = new_backend_lock (path, backend);
  portalock_set_timeout (lock, 0);
  make_pipe (start);
  make_pipe (seen);
  make_pipe (child_exit);
  make_pipe (prepared);
  int fd = acquire_noting_fd (lock, path);
  __atomic_store_n (&target_fd, fd, __ATOMIC_SEQ_CST);
  if (!after_close)
    __atomic_store_n (&prepare_armed, 1, __ATOMIC_SEQ_CST);

  pthread_t t;
  if (pthread_create (&t, NULL, forker, &after_close) != 0)
    die ("pthread_create");
  if (!after_close && hear (prepared[0]) != 'P')
    die ("prepare handler");
  int r = portalock_release (lock);
  void *result;
  pthread_join (t, &result);
  pid_t pid = (pid_t) (intptr_t) result;
  if (pid < 0)
    die ("fork");

  check (r == 0 && first_seen == (after_close ? 'Y' : 'F'),
         "%s: %s: %s", bname, name, after_close
         ? "the fork waits for the close" : "the child was forked while "
         "the descriptor was open");
  check (probe_lock (path, backend, PORTALOCK_EX, 0, 0) == 0
         && has_text (path, text),
         "%s: %s: the lock is free for a third process while the child "
         "lives with its copies", bname, name);
  close (child_exit[1]);
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: %s: the child exits", bname, name);
  close (start[0]);
  close (start[1]);
  close (seen[0]);
  close (seen[1]);
  close (child_exit[0]);
  close (prepared[0]);
  close (prepared[1]);
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  /* Before the library registers its own handlers: see hold_fork.  */
  if (pthread_atfork (hold_fork, NULL, NULL) != 0)
    die ("pthread_atfork");
  releaser_tid = (pid_t) syscall (SYS_gettid);
  bname = argv[1];
  backend = backend_from_args (argc, argv, 1, "forkrelease BACKEND");
  if (backend == 0)
    return check_exit ();
  if (strcmp (bname, "flock") != 0 && strcmp (bname, "ofd") != 0)
    {
      unsupported ("%s: forks racing a release by close: the backend "
                   "releases through the per-inode table", bname);
      return check_exit ();
    }
  const char *path = test_path ("race");
  const char *text = "kept\n";
  write_file (path, text);
  race (path, text, true);
  race (path, text, false);
  return check_exit ();
}
