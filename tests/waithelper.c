/* waithelper.c: tests of the helper thread that timed waits keep.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* A thread's timed waits share one helper thread, kept parked between
   waits: these checks see it in /proc/self/task.  Repeated waits must
   not add threads, and must reuse the same one; a forked child must
   not count on its parent's helper; a thread that exits takes its
   helper with it, and so does one that calls
   portalock_drop_wait_helper.  The waits are made to block for real: a
   holder process has the lock, and is told to let go once the kernel
   lists the waiter in /proc/locks.  Where there is no /proc, the checks
   are UNSUPPORTED.

   A thread that pthread_join has joined may still be listed in
   /proc/self/task for a moment (the kernel wakes the joiner before it
   takes the thread off the list), and so may a helper the library has
   joined.  So the test's own threads are waited for until they are
   gone, by ID, and a check that helpers went waits (at most 10 s) for
   the list to come back to what it was: readiness waits.  A helper
   that stays keeps the list from ever matching, and the check fails.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static const char *bname;      /* the backend under test */

/* The IDs of this process's threads, in *IDS (at most MAX), sorted;
   return how many there are.  */
static int
thread_ids (long *ids, int max)
{
  DIR *d = opendir ("/proc/self/task");
  if (d == NULL)
    die ("/proc/self/task");
  int n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.' && n < max)
      {
        long id = atol (e->d_name);
        int i = n++;
        while (i > 0 && ids[i - 1] > id)
          {
            ids[i] = ids[i - 1];
            i--;
          }
        ids[i] = id;
      }
  closedir (d);
  return n;
}

static bool
same_ids (const long *a, int na, const long *b, int nb)
{
  return na == nb && memcmp (a, b, na * sizeof *a) == 0;
}

/* Wait until this process's threads are those of WANT (NWANT of them),
   or 10 seconds pass.  Store the last list in *IDS (at most MAX) and
   return its length.  */
static int
await_ids (const long *want, int nwant, long *ids, int max)
{
  double give_up = now () + 10;
  int n;
  while (!same_ids (want, nwant, ids, n = thread_ids (ids, max))
         && now () < give_up)
    usleep (2000);
  return n;
}

struct releaser
{
  const char *path;
  struct holder *holder;
};

/* Let the holder go once a waiter is blocked on PATH.  */
static void *
release_when_blocked (void *arg)
{
  struct releaser *r = arg;
  await_blocked_waiter (r->path);
  holder_release (r->holder);
  return (void *) (intptr_t) thread_id ();
}

/* Make a timed wait (30 s) on PATH in the calling thread that has to
   block: a holder has the lock until the wait is seen blocked.  Return
   the wait's result (errno set).  */
static int
blocking_timed_wait (const char *path)
{
  struct holder h;
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  struct releaser r = { path, &h };
  pthread_t t;
  pthread_create (&t, NULL, release_when_blocked, &r);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("open %s", path);
  int result = portalock_lock_timeout (fd, PORTALOCK_EX, 30);
  int error = errno;
  void *tid;
  pthread_join (t, &tid);
  /* Only the helper may be left when this returns.  */
  if (!await_thread_gone ((intptr_t) tid))
    die ("%s: a joined thread is still listed after 10 s", bname);
  /* Closing the descriptor releases the lock on every backend.  */
  close (fd);
  errno = error;
  return result;
}

/* Repeated timed waits in one thread use one helper, kept between
   them: the threads of the process stay the same ones.  */
static void
test_reuse (const char *path)
{
  enum { WAITS = 5, MAX = 64 };
  long before[MAX], first[MAX], now_ids[MAX];
  int nbefore = thread_ids (before, MAX);
  bool ok = blocking_timed_wait (path) == 0;
  int nfirst = thread_ids (first, MAX);
  check (ok && nfirst == nbefore + 1,
         "%s: a timed wait keeps one helper thread (%d threads, %d before)",
         bname, nfirst, nbefore);
  bool same = true;
  for (int i = 1; i < WAITS; i++)
    {
      ok &= blocking_timed_wait (path) == 0;
      int n = thread_ids (now_ids, MAX);
      same &= same_ids (first, nfirst, now_ids, n);
    }
  check (ok && same, "%s: %d more timed waits reuse that helper: no thread "
         "added, none replaced", bname, WAITS - 1);
}

/* portalock_drop_wait_helper ends the calling thread's helper: the
   thread list loses one thread, of those it had; a second call does
   nothing; the next timed wait starts a new helper.  */
static void
test_drop (const char *path)
{
  enum { MAX = 64 };
  long with[MAX], now_ids[MAX];
  if (blocking_timed_wait (path) != 0)
    die ("%s: timed wait", bname);
  int nwith = thread_ids (with, MAX);
  errno = EILSEQ;
  int r = portalock_drop_wait_helper ();
  check (r == 0 && errno == EILSEQ,
         "%s: portalock_drop_wait_helper returns 0, errno kept", bname);
  /* The helper is joined, but may be listed for a moment more.  */
  int n = await_thread_count (nwith - 1);
  thread_ids (now_ids, MAX);
  bool subset = true;
  for (int i = 0; i < n && i < MAX; i++)
    {
      bool found = false;
      for (int j = 0; j < nwith; j++)
        found |= now_ids[i] == with[j];
      subset &= found;
    }
  check (n == nwith - 1 && subset,
         "%s: portalock_drop_wait_helper ends the thread's helper "
         "(%d threads, %d before)", bname, n, nwith);
  r = portalock_drop_wait_helper ();
  check (r == 0 && thread_ids (now_ids, MAX) == nwith - 1,
         "%s: portalock_drop_wait_helper without a helper does nothing",
         bname);
  bool ok = blocking_timed_wait (path) == 0;
  n = thread_ids (now_ids, MAX);
  check (ok && n == nwith, "%s: the next timed wait starts a new helper "
         "(%d threads)", bname, n);
}

/* A child forked after a timed wait has none of its parent's threads,
   the helper included: its own timed waits must work.  */
static void
test_fork (const char *path)
{
  if (blocking_timed_wait (path) != 0)
    die ("%s: timed wait", bname);
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      /* A wait that used the parent's helper would never be granted and
         then never end: give up, and fail, after a minute.  */
      alarm (60);
      int r = blocking_timed_wait (path);
      long ids[8];
      int n = thread_ids (ids, 8);
      /* 1: the wait failed; 2: it worked, with other threads than its
         own and its helper.  */
      _exit (r != 0 ? 1 : n != 2 ? 2 : 0);
    }
  int status;
  waitpid (pid, &status, 0);
  const char *emulator = test_emulator ();
  if (emulator == NULL)
    check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
           "%s: a child forked after a timed wait makes its own timed wait "
           "(status %#x)", bname, status);
  else
    {
      /* The emulator starts threads of its own in the child.  */
      check (WIFEXITED (status) && WEXITSTATUS (status) != 1,
             "%s: a child forked after a timed wait makes its own timed "
             "wait (status %#x)", bname, status);
      unsupported ("%s: a forked child's threads: %s, whose own threads "
                   "are listed too", bname, emulator);
    }
}

static void *
waiting_thread (void *arg)
{
  const char *path = arg;
  return (void *) (intptr_t) (blocking_timed_wait (path) == 0);
}

/* A thread that made a timed wait and exits leaves no helper behind.  */
static void
test_thread_exit (const char *path)
{
  enum { MAX = 64 };
  long before[MAX], after[MAX];
  int nbefore = thread_ids (before, MAX);
  bool ok = true;
  for (int i = 0; i < 3; i++)
    {
      pthread_t t;
      void *result;
      pthread_create (&t, NULL, waiting_thread, (void *) path);
      pthread_join (t, &result);
      ok &= result != NULL;
    }
  int nafter = await_ids (before, nbefore, after, MAX);
  check (ok && same_ids (before, nbefore, after, nafter),
         "%s: threads that made a timed wait and exited leave no helper "
         "(%d threads, %d before)", bname, nafter, nbefore);
}

static void *
first_thread (void *arg)
{
  (void) arg;
  return (void *) (intptr_t) thread_id ();
}

int
main (void)
{
  bname = portalock_backend_name (PORTALOCK_BACKEND_DEFAULT);
  const char *wanted = getenv ("PORTALOCK_BACKEND");
  if (wanted != NULL && *wanted != '\0' && strcmp (wanted, bname) != 0)
    {
      unsupported ("%s: not built here", wanted);
      return check_exit ();
    }
  if (access ("/proc/self/task", R_OK) != 0 || access ("/proc/locks", R_OK)
      != 0)
    {
      unsupported ("%s: kept helper threads: no /proc to see them", bname);
      return check_exit ();
    }
  /* A sanitizer starts a thread of its own along with the program's
     first one: count after a first thread has come and gone.  */
  pthread_t first;
  void *first_id;
  pthread_create (&first, NULL, first_thread, NULL);
  pthread_join (first, &first_id);
  await_thread_gone ((intptr_t) first_id);

  const char *path = test_path ("waithelper");
  test_thread_exit (path);
  test_reuse (path);
  test_drop (path);
  test_fork (path);
  unlink (path);
  return check_exit ();
}
