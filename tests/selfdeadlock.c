/* selfdeadlock.c: a thread that would wait for its own lock fails at once
   with EDEADLK, and nothing else does; portalock_held and
   portalock_depth.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: selfdeadlock BACKEND.

   Every wait that must fail is given the default timeout (5 seconds),
   so that a broken detection shows as a FAIL (ETIMEDOUT), not a hang.
   Every wait that must succeed waits for a release that the test makes
   once it has seen the waiter blocked (in /proc/locks, or asleep in a
   futex in the library), never after a pause.  The lock files hold
   data, which must still be there at the end.  */

#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#define DATA "data that no lock may change\n"

static enum portalock_backend backend;
static const char *bname;

/* A fresh file holding DATA.  */
static const char *
data_file (const char *name)
{
  const char *path = test_path (name);
  write_file (path, DATA);
  return path;
}

/* A new object on PATH with FLAGS, the default timeout.  */
static portalock *
new_lock (const char *path, int flags)
{
  portalock *lock = new_backend_lock (path, backend);
  if (portalock_set_flags (lock, flags) != 0)
    die ("set flags");
  return lock;
}

/* Acquire LOCK, which must succeed.  */
static void
must_acquire (portalock *lock, const char *what)
{
  if (portalock_acquire (lock) != 0)
    die ("%s: acquire %s", bname, what);
}

/* Return true if TID (of this process) or any process waits for PATH:
   asleep in a futex (a wait in the library: the per-inode table, a
   timed wait's helper) or listed as a blocked request in /proc/locks.
   Return at once if DONE's result is in (the waiter did not wait).  */
static bool
await_waiter (const char *path, pid_t pid, pid_t tid, int done)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return false;
  char needle[64];
  snprintf (needle, sizeof needle, ":%llu ", (unsigned long long) st.st_ino);
  for (int tries = 0; tries < 10000; tries++)
    {
      struct pollfd p = { .fd = done, .events = POLLIN };
      if (poll (&p, 1, 0) > 0)
        return false;
      if (tid > 0 && asleep_in_futex (pid, tid))
        return true;
      FILE *f = fopen ("/proc/locks", "r");
      if (f != NULL)
        {
          char line[512];
          bool seen = false;
          while (!seen && fgets (line, sizeof line, f) != NULL)
            seen = (strstr (line, "->") != NULL
                    && strstr (line, needle) != NULL);
          fclose (f);
          if (seen)
            return true;
        }
      usleep (1000);
    }
  return false;
}

/* The same thread: a conflicting second object fails at once.  */
static void
test_same_thread (int first, int second, const char *what)
{
  if (backend == PORTALOCK_BACKEND_LOCKF
      && (first == PORTALOCK_SH || second == PORTALOCK_SH))
    {
      unsupported ("%s: %s: lockf has no shared locks", bname, what);
      return;
    }
  const char *path = data_file ("same");
  portalock *a = new_lock (path, first), *b = new_lock (path, second);
  must_acquire (a, "first");
  check (fails_with (portalock_acquire (b), EDEADLK) && !portalock_held (b)
         && portalock_fd (b) == -1,
         "%s: %s in one thread: EDEADLK, the second not held", bname, what);
  check (portalock_held (a) && portalock_depth (a) == 1
         && probe_lock (path, backend, PORTALOCK_EX, 0, 0) != 0,
         "%s: %s: the first still held after the EDEADLK", bname, what);

  /* A try does not wait: the lock is only held.  */
  portalock_set_timeout (b, 0);
  check (fails_with (portalock_acquire (b), EWOULDBLOCK),
         "%s: %s, timeout 0: EWOULDBLOCK, not EDEADLK", bname, what);
  portalock_set_timeout (b, 5);
  portalock_set_fail_when_locked (b, true);
  check (fails_with (portalock_acquire (b), EWOULDBLOCK),
         "%s: %s, fail_when_locked: EWOULDBLOCK", bname, what);
  portalock_set_fail_when_locked (b, false);

  /* Once the first is released, the second is taken.  */
  check (portalock_release (a) == 0 && portalock_acquire (b) == 0
         && portalock_held (b),
         "%s: %s: taken once the first is released", bname, what);
  check (fails_with (portalock_acquire (a), EDEADLK),
         "%s: %s: and then the other way round: EDEADLK", bname, what);
  portalock_free (a);
  portalock_free (b);
  check (has_text (path, DATA), "%s: %s: the file's data is intact", bname,
         what);
}

/* Two shared objects do not conflict; a conversion of one to exclusive
   waits for the other, held by the same thread: EDEADLK, the shared
   lock kept.  */
static void
test_shared (void)
{
  if (backend == PORTALOCK_BACKEND_LOCKF)
    {
      unsupported ("%s: shared objects: lockf has no shared locks", bname);
      return;
    }
  const char *path = data_file ("shared");
  portalock *a = new_lock (path, PORTALOCK_SH);
  portalock *b = new_lock (path, PORTALOCK_SH);
  portalock_set_mode (b, "r+");
  check (portalock_acquire (a) == 0 && portalock_acquire (b) == 0
         && portalock_held (a) && portalock_held (b),
         "%s: two shared objects in one thread: both held", bname);
  check (fails_with (portalock_convert (b, PORTALOCK_EX), EDEADLK)
         && portalock_held (b),
         "%s: converting one to exclusive: EDEADLK, still held", bname);
  check (portalock_release (a) == 0
         && probe_lock (path, backend, PORTALOCK_EX, 0, 0) != 0
         && probe_lock (path, backend, PORTALOCK_SH, 0, 0) == 0,
         "%s: after the EDEADLK the converted object still holds its "
         "shared lock", bname);
  check (portalock_convert (b, PORTALOCK_EX) == 0,
         "%s: converted once the other is released", bname);
  check (fails_with (portalock_acquire (a), EDEADLK),
         "%s: a shared acquire after the conversion: EDEADLK", bname);
  check (portalock_convert (b, PORTALOCK_SH) == 0
         && portalock_acquire (a) == 0,
         "%s: after converting back to shared: the other acquires", bname);
  portalock_free (a);
  portalock_free (b);
  check (has_text (path, DATA), "%s: shared: the file's data is intact",
         bname);
}

/* The file was replaced: another inode, no conflict.  */
static void
test_replaced (void)
{
  const char *path = data_file ("replaced");
  const char *other = data_file ("replacement");
  portalock *a = new_lock (path, PORTALOCK_EX);
  portalock *b = new_lock (path, PORTALOCK_EX);
  must_acquire (a, "before the rename");
  if (rename (other, path) != 0)
    die ("rename");
  check (portalock_acquire (b) == 0 && portalock_held (b),
         "%s: the file replaced since: the new file is taken", bname);
  portalock_free (a);
  portalock_free (b);
}

/* The same object acquired again is no deadlock: an RLock counts.  */
static void
test_queries (void)
{
  const char *path = data_file ("queries");
  portalock *lock = new_lock (path, PORTALOCK_EX);
  check (!portalock_held (lock) && portalock_depth (lock) == 0
         && !portalock_held (NULL) && portalock_depth (NULL) == 0,
         "%s: a new object, NULL: not held, depth 0", bname);
  check (portalock_acquire (lock) == 0 && portalock_held (lock)
         && portalock_depth (lock) == 1,
         "%s: acquired: held, depth 1", bname);
  check (portalock_acquire (lock) == 0 && portalock_depth (lock) == 1,
         "%s: a Lock acquired again: depth still 1", bname);
  check (portalock_release (lock) == 0 && !portalock_held (lock)
         && portalock_depth (lock) == 0,
         "%s: released: not held, depth 0", bname);

  portalock_set_reentrant (lock, true);
  bool up = true;
  for (unsigned i = 1; i <= 3; i++)
    up &= portalock_acquire (lock) == 0 && portalock_depth (lock) == i;
  check (up, "%s: an RLock acquired three times: depth 1, 2, 3", bname);
  bool down = true;
  for (unsigned i = 3; i > 0; i--)
    down &= (portalock_held (lock) && portalock_depth (lock) == i
             && portalock_release (lock) == 0);
  check (down && !portalock_held (lock) && portalock_depth (lock) == 0,
         "%s: released three times: depth 3, 2, 1, then not held", bname);
  portalock_free (lock);
}

/* Another thread.  */
struct waiter
{
  portalock *lock;
  int ready[2];       /* the waiter writes its thread ID */
  int done[2];        /* and a byte once its acquire returned */
  bool *released;
  int result, error;
  bool after_release;
};

static void *
wait_thread (void *arg)
{
  struct waiter *w = arg;
  pid_t tid = thread_id ();
  IGNORE_RESULT (write (w->ready[1], &tid, sizeof tid));
  w->result = portalock_acquire (w->lock);
  w->error = errno;
  w->after_release = __atomic_load_n (w->released, __ATOMIC_SEQ_CST);
  IGNORE_RESULT (write (w->done[1], "", 1));
  return NULL;
}

static void
start_waiter (struct waiter *w, pthread_t *t)
{
  if (pipe (w->ready) != 0 || pipe (w->done) != 0)
    die ("pipe");
  if (pthread_create (t, NULL, wait_thread, w) != 0)
    die ("pthread_create");
}

static void
end_waiter (struct waiter *w, pthread_t t)
{
  pthread_join (t, NULL);
  close (w->ready[0]);
  close (w->ready[1]);
  close (w->done[0]);
  close (w->done[1]);
  errno = w->error;
}

/* A lock another thread holds is waited for, however the first thread
   took it.  */
static void
test_other_thread (int first, int second, const char *what)
{
  if (backend == PORTALOCK_BACKEND_LOCKF
      && (first == PORTALOCK_SH || second == PORTALOCK_SH))
    {
      unsupported ("%s: %s: lockf has no shared locks", bname, what);
      return;
    }
  const char *path = data_file ("threads");
  portalock *a = new_lock (path, first), *b = new_lock (path, second);
  portalock_set_timeout (b, -1);
  must_acquire (a, "in the main thread");
  bool released = false;
  struct waiter w = { .lock = b, .released = &released };
  pthread_t t;
  start_waiter (&w, &t);
  pid_t tid;
  if (read (w.ready[0], &tid, sizeof tid) != sizeof tid)
    die ("read");
  await_waiter (path, 0, tid, w.done[0]);
  __atomic_store_n (&released, true, __ATOMIC_SEQ_CST);
  portalock_release (a);
  end_waiter (&w, t);
  check (w.result == 0 && w.after_release && portalock_held (b),
         "%s: %s in two threads: the second waits, and is granted after "
         "the release", bname, what);
  portalock_free (a);
  portalock_free (b);
}

/* Releases from another thread than the acquirer's: the acquirer holds
   nothing any more, and may take the file through another object.  */
static void *
acquire_thread (void *arg)
{
  portalock *lock = arg;
  return (void *) (intptr_t) (portalock_acquire (lock) == 0);
}

static void *
release_thread (void *arg)
{
  portalock *lock = arg;
  return (void *) (intptr_t) (portalock_release (lock) == 0);
}

static void
test_released_elsewhere (void)
{
  const char *path = data_file ("elsewhere");
  portalock *a = new_lock (path, PORTALOCK_EX);
  portalock *b = new_lock (path, PORTALOCK_EX);
  portalock *c = new_lock (path, PORTALOCK_EX);
  must_acquire (a, "in the main thread");
  /* A thread takes B after the main thread's release of A, and ends
     still holding it.  */
  check (portalock_release (a) == 0, "%s: release", bname);
  pthread_t t;
  void *ok;
  if (pthread_create (&t, NULL, acquire_thread, b) != 0)
    die ("pthread_create");
  pthread_join (t, &ok);
  check (ok != NULL && portalock_held (b) && portalock_depth (b) == 1,
         "%s: an object acquired by a thread that ended: held", bname);
  /* B is noted as the ended thread's, whose record outlives it until
     this release frees it; the main thread then takes the file through
     C.  */
  check (portalock_release (b) == 0 && portalock_acquire (c) == 0,
         "%s: released by another thread than the acquirer's: the "
         "releaser acquires again", bname);

  /* The main thread acquired C; another thread releases it; the main
     thread then holds nothing.  */
  if (pthread_create (&t, NULL, release_thread, c) != 0)
    die ("pthread_create");
  pthread_join (t, NULL);
  check (!portalock_held (c) && portalock_acquire (a) == 0,
         "%s: an object released by another thread: its acquirer may "
         "take the file again through another object", bname);
  portalock_free (a);
  portalock_free (b);
  portalock_free (c);
}

/* A forked child holds none of its parent's locks: its acquire of the
   file waits for the parent, as any other process's does.  */
static void
test_fork (void)
{
  const char *path = data_file ("fork");
  portalock *a = new_lock (path, PORTALOCK_EX);
  must_acquire (a, "in the parent");
  int done[2], report[2];
  if (pipe (done) != 0 || pipe (report) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (done[0]);
      close (report[0]);
      /* A's copy here is not held: the lock is the parent's.  */
      char q = !portalock_held (a) && portalock_depth (a) == 0 ? 'q' : 'Q';
      IGNORE_RESULT (write (report[1], &q, 1));
      portalock *b = new_lock (path, PORTALOCK_EX);
      portalock_set_timeout (b, -1);
      int r = portalock_acquire (b);
      int e = errno;
      char c = r == 0 ? 'L' : e == EDEADLK ? 'D' : 'E';
      IGNORE_RESULT (write (done[1], &c, 1));
      /* The child's own object is held, depth 1; A's copy could be
         acquired again only once the child lets go of B: EDEADLK
         meanwhile.  */
      q = (portalock_held (b) && portalock_depth (b) == 1
           && fails_with (portalock_acquire (a), EDEADLK)) ? 'q' : 'Q';
      IGNORE_RESULT (write (report[1], &q, 1));
      _exit (0);
    }
  close (done[1]);
  close (report[1]);
  char q1 = 0, q2 = 0, c = 0;
  IGNORE_RESULT (read (report[0], &q1, 1));
  check (q1 == 'q', "%s: in a forked child, the parent's held object: "
         "not held, depth 0", bname);
  check (portalock_held (a) && portalock_depth (a) == 1,
         "%s: in the parent after the fork: held, depth 1", bname);
  await_waiter (path, pid, 0, done[0]);
  portalock_release (a);
  IGNORE_RESULT (read (done[0], &c, 1));
  check (c == 'L', "%s: a forked child's acquire of the parent's file "
         "waits and is granted, no EDEADLK (%c)", bname, c);
  IGNORE_RESULT (read (report[0], &q2, 1));
  check (q2 == 'q', "%s: in the child, its own object: held, depth 1; "
         "the inherited one then EDEADLK", bname);
  int status;
  waitpid (pid, &status, 0);
  close (done[0]);
  close (report[0]);
  portalock_free (a);
}

/* Another process holds the file: an ordinary wait.  */
static void
test_other_process (void)
{
  const char *path = data_file ("process");
  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    die ("holder");
  portalock *a = new_lock (path, PORTALOCK_EX);
  portalock_set_timeout (a, 0.01);
  check (fails_with (portalock_acquire (a), ETIMEDOUT),
         "%s: a lock another process holds: ETIMEDOUT, not EDEADLK", bname);
  holder_release (&h);
  portalock_free (a);
}

/* flock locks and byte-range locks do not exclude each other here: a
   flock object and a fcntl object on one file in one thread are no
   deadlock.  */
static void
test_kinds (void)
{
  if (backend != PORTALOCK_BACKEND_FLOCK)
    return;
  if (!portalock_backend_available (PORTALOCK_BACKEND_FCNTL))
    {
      unsupported ("%s: no fcntl backend to mix with", bname);
      return;
    }
  const char *path = data_file ("kinds");
  portalock *a = new_lock (path, PORTALOCK_EX);
  portalock *b = new_backend_lock (path, PORTALOCK_BACKEND_FCNTL);
  portalock_set_timeout (b, 10);
  must_acquire (a, "flock");
  check (portalock_acquire (b) == 0,
         "%s and fcntl objects on one file in one thread: both held", bname);
  portalock_free (a);
  portalock_free (b);
}

/* The marker methods lock with the kernel method first: the same.  */
static void
test_methods (void)
{
  static const struct
  {
    enum portalock_method first, second;
    const char *what;
  } cases[] = {
    { PORTALOCK_METHOD_STRICT, PORTALOCK_METHOD_STRICT, "strict, strict" },
    { PORTALOCK_METHOD_KERNEL, PORTALOCK_METHOD_STRICT, "kernel, strict" },
    { PORTALOCK_METHOD_STRICT, PORTALOCK_METHOD_KERNEL, "strict, kernel" },
    { PORTALOCK_METHOD_LEASE, PORTALOCK_METHOD_LEASE, "lease, lease" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      const char *path = data_file ("method");
      portalock *a = new_lock (path, PORTALOCK_EX);
      portalock *b = new_lock (path, PORTALOCK_EX);
      if (portalock_set_method (a, cases[i].first) != 0
          || portalock_set_method (b, cases[i].second) != 0)
        die ("set method");
      if (portalock_acquire (a) != 0)
        {
          if (errno == ENOTSUP)
            unsupported ("%s: methods %s: not here", bname, cases[i].what);
          else
            check (false, "%s: methods %s: acquire", bname, cases[i].what);
          portalock_free (a);
          portalock_free (b);
          continue;
        }
      check (fails_with (portalock_acquire (b), EDEADLK)
             && !portalock_held (b),
             "%s: methods %s in one thread: EDEADLK", bname, cases[i].what);
      check (portalock_release (a) == 0 && portalock_acquire (b) == 0
             && portalock_release (b) == 0,
             "%s: methods %s: taken once the first is released", bname,
             cases[i].what);
      char marker[4200];
      snprintf (marker, sizeof marker, "%s.marker", path);
      check (!exists (marker) && has_text (path, DATA),
             "%s: methods %s: no marker left, the data intact", bname,
             cases[i].what);
      portalock_free (a);
      portalock_free (b);
    }
}

/* Pollable acquisitions run portalock_acquire in a pool thread: the
   object is the collecting thread's, and the pool thread's later
   acquisitions for others do not count it.  */
static void
test_pending (void)
{
  const char *path = data_file ("pending");
  portalock *a = new_lock (path, PORTALOCK_EX);
  portalock *b = new_lock (path, PORTALOCK_EX);
  portalock_set_timeout (b, -1);
  portalock_pending *p = portalock_acquire_start (a);
  if (p == NULL && errno == ENOTSUP)
    {
      unsupported ("%s: no pollable acquisitions here", bname);
      portalock_free (a);
      portalock_free (b);
      return;
    }
  check (p != NULL && portalock_acquire_finish (p) == 0
         && portalock_held (a) && portalock_depth (a) == 1,
         "%s: a pollable acquisition: held, depth 1", bname);
  portalock *c = new_lock (path, PORTALOCK_EX);
  check (fails_with (portalock_acquire (c), EDEADLK),
         "%s: the collecting thread's own wait for it: EDEADLK", bname);
  portalock_free (c);

  /* B's acquisition waits for A in a pool thread (the same one, reused
     while idle), and is granted after A's release.  */
  p = portalock_acquire_start (b);
  if (p == NULL)
    die ("acquire_start");
  await_waiter (path, 0, 0, portalock_pending_fd (p));
  portalock_release (a);
  check (portalock_acquire_finish (p) == 0 && portalock_held (b),
         "%s: a pollable acquisition of a held file waits, no EDEADLK in "
         "the pool thread", bname);
  portalock_free (a);
  portalock_free (b);
}

int
main (int argc, char **argv)
{
  backend = backend_from_args (argc, argv, 1, "selfdeadlock BACKEND");
  if (backend == 0)
    return check_exit ();
  bname = argv[1];
  test_queries ();
  test_same_thread (PORTALOCK_EX, PORTALOCK_EX, "exclusive, exclusive");
  test_same_thread (PORTALOCK_SH, PORTALOCK_EX, "shared, exclusive");
  test_same_thread (PORTALOCK_EX, PORTALOCK_SH, "exclusive, shared");
  test_shared ();
  test_replaced ();
  test_other_thread (PORTALOCK_EX, PORTALOCK_EX, "exclusive, exclusive");
  test_other_thread (PORTALOCK_SH, PORTALOCK_EX, "shared, exclusive");
  test_released_elsewhere ();
  test_fork ();
  test_other_process ();
  test_kinds ();
  test_methods ();
  test_pending ();
  return check_exit ();
}
