/* pending.c: tests of pollable acquisitions of lock objects on one
   backend and method.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: pending BACKEND METHOD [STORM]

   METHOD is kernel, strict or lease; STORM the number of start/cancel
   pairs of the cancel storm (default 2000).  Every wait is for a pipe or
   for the acquisition's own descriptor: no check depends on timing.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <poll.h>
# include <sched.h>
# include <sys/mman.h>
# include <sys/resource.h>
# include <sys/stat.h>
# include <sys/wait.h>
#endif

#if TEST_POSIX

static enum portalock_backend backend;
static enum portalock_method method;
static const char *bname, *mname;

static portalock *
new_lock (const char *path)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, backend) != 0
      || portalock_set_method (lock, method) != 0
      || portalock_set_timeout (lock, -1) != 0)
    die ("portalock_new %s", path);
  return lock;
}

/* Return true if FD is readable now, without waiting.  */
static bool
readable_now (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll (&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Wait until FD is readable; return true if it is.  */
static bool
await_readable (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r;
  while ((r = poll (&p, 1, 60000)) < 0 && errno == EINTR)
    ;
  return r == 1 && (p.revents & POLLIN);
}

static void
put (int fd, char c)
{
  if (write (fd, &c, 1) != 1)
    die ("write to pipe");
}

static char
get (int fd)
{
  char c;
  ssize_t n;
  while ((n = read (fd, &c, 1)) < 0 && errno == EINTR)
    ;
  return n == 1 ? c : 0;
}

/* A process that holds the locks of N lock objects on PATHS, as this
   test's objects are made, and lets go of them one at a time: each byte
   read from TO_CHILD releases the next, and 'U' answers once it is
   released.  'L' says all are held.  */
struct holder_proc
{
  pid_t pid;
  int to_child;
  int from_child;
};

static void
hold_start (struct holder_proc *h, const char *const *paths, size_t n)
{
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  h->pid = fork ();
  if (h->pid < 0)
    die ("fork");
  if (h->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      portalock **locks = calloc (n, sizeof *locks);
      for (size_t i = 0; i < n; i++)
        {
          locks[i] = new_lock (paths[i]);
          if (portalock_acquire (locks[i]) != 0)
            _exit (2);
        }
      put (up[1], 'L');
      for (size_t i = 0; i < n; i++)
        {
          if (get (down[0]) == 0)
            break;
          portalock_free (locks[i]);
          locks[i] = NULL;
          put (up[1], 'U');
        }
      for (size_t i = 0; i < n; i++)
        portalock_free (locks[i]);
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  h->to_child = down[1];
  h->from_child = up[0];
  if (get (h->from_child) != 'L')
    die ("holder did not lock");
}

/* Release the holder's next lock and wait until it has.  */
static void
hold_release_one (struct holder_proc *h)
{
  put (h->to_child, 'r');
  if (get (h->from_child) != 'U')
    die ("holder did not release");
}

static void
hold_end (struct holder_proc *h)
{
  close (h->to_child);
  close (h->from_child);
  int status;
  waitpid (h->pid, &status, 0);
}

/* Try to lock PATH from a new process, without waiting; return 0 if it
   could, else its errno.  */
static int
probe (const char *path)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock *lock = new_lock (path);
      portalock_set_fail_when_locked (lock, true);
      int r = portalock_acquire (lock);
      int e = errno;
      portalock_free (lock);
      _exit (r == 0 ? 0 : e == EWOULDBLOCK ? 1 : 2);
    }
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
    return EIO;
  return (WEXITSTATUS (status) == 0 ? 0
          : WEXITSTATUS (status) == 1 ? EWOULDBLOCK : EIO);
}

static void
test_bad_input (void)
{
  check (portalock_acquire_start (NULL) == NULL && errno == EINVAL
         && fails_with (portalock_pending_fd (NULL), EINVAL)
         && fails_with (portalock_acquire_cancel (NULL), EINVAL)
         && fails_with (portalock_acquire_finish (NULL), EINVAL),
         "%s/%s: NULL: EINVAL", bname, mname);

  const char *path = test_path ("busy");
  portalock *lock = new_lock (path);
  struct holder_proc h;
  hold_start (&h, &path, 1);
  portalock_pending *p = portalock_acquire_start (lock);
  portalock_pending *q = portalock_acquire_start (lock);
  int e = errno;
  portalock_acquire_cancel (p);
  int r = portalock_acquire_finish (p);
  int re = errno;
  hold_end (&h);
  check (p != NULL && q == NULL && e == EBUSY && r == -1 && re == ECANCELED,
         "%s/%s: a second start of a pending object: EBUSY", bname, mname);
  portalock_free (lock);
}

static void
test_grant (void)
{
  const char *path = test_path ("grant");
  write_file (path, "content\n");
  portalock *lock = new_lock (path);
  struct holder_proc h;
  hold_start (&h, &path, 1);
  portalock_pending *p = portalock_acquire_start (lock);
  if (p == NULL)
    die ("portalock_acquire_start");
  int fd = portalock_pending_fd (p);
  bool early = readable_now (fd);
  hold_release_one (&h);
  bool ready = await_readable (fd);
  int r = portalock_acquire_finish (p);
  int other = probe (path);
  check (!early && ready && r == 0 && portalock_fd (lock) >= 0
         && other == EWOULDBLOCK,
         "%s/%s: a release makes the descriptor readable; finish holds",
         bname, mname);
  portalock_release (lock);
  check (probe (path) == 0, "%s/%s: released after a pollable acquire",
         bname, mname);
  hold_end (&h);
  portalock_free (lock);
}

static void
test_timeout_and_nowait (void)
{
  const char *path = test_path ("timeout");
  struct holder_proc h;
  hold_start (&h, &path, 1);

  portalock *lock = new_lock (path);
  portalock_set_timeout (lock, 0.05);
  portalock_pending *p = portalock_acquire_start (lock);
  bool ready = p != NULL && await_readable (portalock_pending_fd (p));
  int r = p != NULL ? portalock_acquire_finish (p) : 0;
  check (ready && fails_with (r, ETIMEDOUT) && portalock_fd (lock) < 0,
         "%s/%s: the timeout: readable, ETIMEDOUT", bname, mname);
  portalock_free (lock);

  lock = new_lock (path);
  portalock_set_fail_when_locked (lock, true);
  p = portalock_acquire_start (lock);
  ready = p != NULL && await_readable (portalock_pending_fd (p));
  r = p != NULL ? portalock_acquire_finish (p) : 0;
  check (ready && fails_with (r, EWOULDBLOCK) && portalock_fd (lock) < 0,
         "%s/%s: fail_when_locked: readable, EWOULDBLOCK", bname, mname);
  portalock_free (lock);
  hold_end (&h);
}

static void
test_cancel (void)
{
  const char *path = test_path ("cancel");
  portalock *lock = new_lock (path);
  struct holder_proc h;
  hold_start (&h, &path, 1);
  portalock_pending *p = portalock_acquire_start (lock);
  if (p == NULL)
    die ("portalock_acquire_start");
  /* Best when the waiter sleeps in the kernel already; either way the
     cancel must leave nothing held.  */
  if (method == PORTALOCK_METHOD_KERNEL)
    await_blocked_waiter (path);
  portalock_acquire_cancel (p);
  bool ready = await_readable (portalock_pending_fd (p));
  int r = portalock_acquire_finish (p);
  hold_release_one (&h);
  check (ready && fails_with (r, ECANCELED) && portalock_fd (lock) < 0
         && probe (path) == 0,
         "%s/%s: a cancel before the grant leaves nothing held", bname,
         mname);
  hold_end (&h);

  /* Held by another object of this process (on fcntl and lockf, the
     wait is the library's own, not the kernel's).  */
  portalock *other = new_lock (path);
  if (portalock_acquire (other) != 0)
    die ("portalock_acquire");
  int cancelled = 0;
  ready = true;
  /* Cancels at different moments: queued, starting, waiting.  */
  for (int i = 0; i < 100; i++)
    {
      p = portalock_acquire_start (lock);
      if (p == NULL)
        die ("portalock_acquire_start");
      if (i % 4 == 1)
        sched_yield ();
      else if (i % 4 >= 2)
        usleep (100 * (i % 4));
      portalock_acquire_cancel (p);
      ready = ready && await_readable (portalock_pending_fd (p));
      if (fails_with (portalock_acquire_finish (p), ECANCELED))
        cancelled++;
    }
  portalock_free (other);
  check (ready && cancelled == 100 && portalock_fd (lock) < 0
         && probe (path) == 0,
         "%s/%s: a cancel of a wait for another object of this process",
         bname, mname);

  /* A cancel after the grant changes nothing.  */
  p = portalock_acquire_start (lock);
  ready = p != NULL && await_readable (portalock_pending_fd (p));
  portalock_acquire_cancel (p);
  r = portalock_acquire_finish (p);
  check (ready && r == 0 && portalock_fd (lock) >= 0
         && probe (path) == EWOULDBLOCK,
         "%s/%s: a cancel after the grant leaves the lock held", bname,
         mname);
  portalock_free (lock);
}

/* Start/cancel pairs racing a process that takes and lets go of the
   lock over and over.  Both sides count themselves in and out of the
   lock in shared memory: never two inside.  */
static void
test_cancel_storm (int pairs)
{
  const char *path = test_path ("storm");
  int *inside = mmap (NULL, sizeof (int) * 2, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (inside == MAP_FAILED)
    die ("mmap");
  inside[0] = inside[1] = 0;
  int stop[2];
  if (pipe (stop) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (stop[1]);
      fcntl (stop[0], F_SETFL, O_NONBLOCK);
      portalock *lock = new_lock (path);
      char c;
      while (read (stop[0], &c, 1) < 0 && errno == EAGAIN)
        {
          if (portalock_acquire (lock) != 0)
            _exit (2);
          if (__atomic_add_fetch (&inside[0], 1, __ATOMIC_SEQ_CST) != 1)
            inside[1] = 1;
          sched_yield ();
          __atomic_sub_fetch (&inside[0], 1, __ATOMIC_SEQ_CST);
          if (portalock_release (lock) != 0)
            _exit (2);
        }
      _exit (0);
    }
  close (stop[0]);

  portalock *lock = new_lock (path);
  int held = 0, cancelled = 0, bad = 0;
  for (int i = 0; i < pairs; i++)
    {
      portalock_pending *p = portalock_acquire_start (lock);
      if (p == NULL)
        die ("portalock_acquire_start");
      if (i % 2)
        sched_yield ();
      portalock_acquire_cancel (p);
      int r = portalock_acquire_finish (p);
      if (r == 0)
        {
          held++;
          if (__atomic_add_fetch (&inside[0], 1, __ATOMIC_SEQ_CST) != 1)
            inside[1] = 1;
          __atomic_sub_fetch (&inside[0], 1, __ATOMIC_SEQ_CST);
          if (portalock_release (lock) != 0)
            bad++;
        }
      else if (errno == ECANCELED && portalock_fd (lock) < 0)
        cancelled++;
      else
        bad++;
    }
  close (stop[1]);
  int status;
  bool child_ok = (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
                   && WEXITSTATUS (status) == 0);
  check (bad == 0 && child_ok && inside[1] == 0 && probe (path) == 0,
         "%s/%s: %d start/cancel pairs racing releases: %d held, "
         "%d cancelled, never twice, never lost", bname, mname, pairs,
         held, cancelled);
  portalock_free (lock);
  munmap (inside, sizeof (int) * 2);
}

/* 1,000 acquisitions pending on 1,000 files, each granted as its file is
   let go, in the order the holder lets go of them.  */
static void
test_many (void)
{
  enum { N = 1000 };
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < 3 * N + 64)
    {
      unsupported ("%s/%s: 1000 pending: too few descriptors allowed",
                   bname, mname);
      return;
    }
  if (rl.rlim_cur < 3 * N + 64)
    {
      rl.rlim_cur = 3 * N + 64;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  static const char *paths[N];
  static portalock *locks[N];
  static portalock_pending *pend[N];
  static struct pollfd pfds[N];
  static int index_of[N];
  char name[32];
  for (int i = 0; i < N; i++)
    {
      snprintf (name, sizeof name, "many-%d", i);
      paths[i] = strdup (test_path (name));
    }
  int fds_before = count_fds ();
  int threads_before = count_threads ();

  struct holder_proc h;
  hold_start (&h, paths, N);
  int started = 0;
  for (int i = 0; i < N; i++)
    {
      locks[i] = new_lock (paths[i]);
      pend[i] = portalock_acquire_start (locks[i]);
      if (pend[i] != NULL)
        started++;
    }
  int threads_peak = count_threads ();
  bool early = false;
  for (int i = 0; i < N; i++)
    if (pend[i] != NULL && readable_now (portalock_pending_fd (pend[i])))
      early = true;

  /* The holder lets go of file i as the i-th; the loop serves whatever
     is readable, in any order, and must see file i granted then.  */
  int granted = 0, seen_twice = 0, wrong = 0;
  static bool seen[N];
  for (int released = 0; released < N; released++)
    {
      hold_release_one (&h);
      int n = 0;
      for (int i = 0; i < N; i++)
        if (pend[i] != NULL)
          {
            pfds[n].fd = portalock_pending_fd (pend[i]);
            pfds[n].events = POLLIN;
            index_of[n++] = i;
          }
      /* Wait for the one grant this release allows.  */
      int r;
      while ((r = poll (pfds, n, 60000)) < 0 && errno == EINTR)
        ;
      if (r <= 0)
        break;
      for (int k = 0; k < n; k++)
        if (pfds[k].revents & POLLIN)
          {
            int i = index_of[k];
            if (i != released)
              wrong++;
            if (portalock_acquire_finish (pend[i]) == 0)
              {
                granted++;
                if (seen[i])
                  seen_twice++;
                seen[i] = true;
              }
            pend[i] = NULL;
          }
    }
  hold_end (&h);
  for (int i = 0; i < N; i++)
    {
      if (pend[i] != NULL)
        portalock_acquire_finish (pend[i]);
      portalock_free (locks[i]);
    }

  check (started == N && !early && granted == N && seen_twice == 0
         && wrong == 0,
         "%s/%s: %d pending on %d files: %d granted, each once, each when "
         "its file was let go", bname, mname, started, N, granted);
  check (threads_peak <= threads_before + 2 * 1024,
         "%s/%s: threads within the pool (%d more at the peak)", bname,
         mname, threads_peak - threads_before);
  /* Idle threads of the pool end but for 16 and their helpers: a
     readiness wait for them to be gone.  */
  /* Up to a minute: some two thousand threads end on a machine that
     may be running another test suite beside this one.  */
  double give_up = now () + 60;
  int threads_after;
  while ((threads_after = count_threads ()) > threads_before + 2 * 16
         && now () < give_up)
    usleep (2000);
  check (threads_after <= threads_before + 2 * 16,
         "%s/%s: idle threads end but for 16 (and their helpers): %d more",
         bname, mname, threads_after - threads_before);
  check (count_fds () == fds_before, "%s/%s: descriptors back (%d, %d)",
         bname, mname, count_fds (), fds_before);
  for (int i = 0; i < N; i++)
    free ((char *) paths[i]);
}

static portalock_semaphore *
new_semaphore (const char *dir)
{
  portalock_semaphore *sem = portalock_semaphore_new ("pending", 2, dir);
  if (sem == NULL || portalock_semaphore_set_backend (sem, backend) != 0
      || portalock_semaphore_set_method (sem, method) != 0
      || portalock_semaphore_set_timeout (sem, -1) != 0)
    die ("portalock_semaphore_new");
  return sem;
}

/* A semaphore of two slots, both held by another process: a pending
   acquisition gets the slot let go of; another one is cancelled.  */
static void
test_semaphore (void)
{
  const char *dir = test_path ("sem");
  if (mkdir (dir, 0755) != 0 && errno != EEXIST)
    die ("mkdir %s", dir);
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock_semaphore *a = new_semaphore (dir), *b = new_semaphore (dir);
      if (portalock_semaphore_acquire (a) != 0
          || portalock_semaphore_acquire (b) != 0)
        _exit (2);
      put (up[1], 'L');
      get (down[0]);
      portalock_semaphore_free (a);
      put (up[1], 'U');
      get (down[0]);
      portalock_semaphore_free (b);
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  if (get (up[0]) != 'L')
    die ("semaphore holder");

  portalock_semaphore *sem = new_semaphore (dir);
  portalock_semaphore *other = new_semaphore (dir);
  portalock_pending *p = portalock_semaphore_acquire_start (sem);
  portalock_pending *q = portalock_semaphore_acquire_start (other);
  if (p == NULL || q == NULL)
    die ("portalock_semaphore_acquire_start");
  bool early = (readable_now (portalock_pending_fd (p))
                || readable_now (portalock_pending_fd (q)));
  /* Cancel one; let the holder free a slot for the other.  */
  portalock_acquire_cancel (q);
  bool q_ready = await_readable (portalock_pending_fd (q));
  int qr = portalock_acquire_finish (q);
  int qe = errno;
  put (down[1], 'r');
  if (get (up[0]) != 'U')
    die ("semaphore holder release");
  bool ready = await_readable (portalock_pending_fd (p));
  int r = portalock_acquire_finish (p);
  check (!early && q_ready && qr == -1 && qe == ECANCELED
         && portalock_semaphore_slot (other) < 0 && ready && r == 0
         && portalock_semaphore_slot (sem) >= 0,
         "%s/%s: semaphore: a pending acquisition gets the slot let go "
         "of, a cancelled one nothing", bname, mname);
  put (down[1], 'r');
  close (down[1]);
  close (up[0]);
  int status;
  waitpid (pid, &status, 0);
  portalock_semaphore_free (sem);
  portalock_semaphore_free (other);
}

/* A forked child does not see its parent's acquisition pending.  */
static void
test_fork (void)
{
  const char *path = test_path ("fork");
  portalock *lock = new_lock (path);
  struct holder_proc h;
  hold_start (&h, &path, 1);
  portalock_pending *p = portalock_acquire_start (lock);
  if (p == NULL)
    die ("portalock_acquire_start");
  pid_t pid = fork ();
  if (pid == 0)
    {
      int r = portalock_acquire_finish (p);
      _exit (r == -1 && errno == ECANCELED ? 0 : 1);
    }
  int status;
  bool child_ok = (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
                   && WEXITSTATUS (status) == 0);
  hold_release_one (&h);
  int r = portalock_acquire_finish (p);
  check (child_ok && r == 0,
         "%s/%s: fork: the child's finish says ECANCELED, the parent's "
         "acquisition goes on", bname, mname);
  hold_end (&h);
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    die ("usage: pending BACKEND METHOD [STORM]");
  bname = argv[1];
  mname = argv[2];
  int b = portalock_backend_from_name (bname);
  if (b < 0)
    die ("no backend %s", bname);
  if (b != PORTALOCK_BACKEND_DEFAULT && !portalock_backend_available (b))
    {
      unsupported ("%s: not built here", bname);
      return check_exit ();
    }
  backend = b;
  double ttl;
  if (portalock_method_from_name (mname, &method, &ttl) != 0)
    die ("no method %s", mname);
  int pairs = argc > 3 ? atoi (argv[3]) : 2000;

  signal (SIGPIPE, SIG_IGN);
  test_bad_input ();
  test_grant ();
  test_timeout_and_nowait ();
  test_cancel ();
  test_cancel_storm (pairs);
  test_fork ();
  test_semaphore ();
  if (method == PORTALOCK_METHOD_KERNEL)
    test_many ();
  return check_exit ();
}

#else /* !TEST_POSIX */

int
main (int argc, char **argv)
{
  (void) argc;
  (void) argv;
  portalock *lock = portalock_new ("pending.lock");
  check (portalock_acquire_start (lock) == NULL && errno == ENOTSUP,
         "pollable acquisitions: ENOTSUP here");
  portalock_free (lock);
  return check_exit ();
}

#endif
