/* pending.c: tests of pollable acquisitions of lock objects on one
   backend and method.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: pending BACKEND METHOD [STORM]

   METHOD is kernel, strict or lease; STORM the number of start/cancel
   pairs of each cancel storm (default 10,000).  Every wait is for a pipe or
   for the acquisition's own descriptor: no check depends on timing.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

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
   test's objects are made, and lets go of them on request: a command of
   three bytes read from TO_CHILD, 'r' and the index I (two bytes, high
   first), releases the lock of PATHS[I], and 'U' answers once it is
   released; 't' and I tries to take that lock (released before) without
   waiting and answers 'F' (it was free: taken and let go again) or 'H'
   (held).  'L' says all are held.  */
struct holder_proc
{
  pid_t pid;
  int to_child;
  int from_child;
  int next;                     /* for hold_release_one */
};

static void
hold_command (struct holder_proc *h, char cmd, int i)
{
  char c[3] = { cmd, (char) (i >> 8), (char) (i & 0xff) };
  if (write (h->to_child, c, 3) != 3)
    die ("write to pipe");
}

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
      for (;;)
        {
          char cmd = get (down[0]);
          size_t i = (unsigned char) get (down[0]) << 8;
          i |= (unsigned char) get (down[0]);
          if (cmd == 0 || i >= n)
            break;
          if (cmd == 'r')
            {
              portalock_free (locks[i]);
              locks[i] = NULL;
              put (up[1], 'U');
              continue;
            }
          portalock *probe = new_lock (paths[i]);
          portalock_set_fail_when_locked (probe, true);
          int r = portalock_acquire (probe);
          put (up[1], r == 0 ? 'F' : errno == EWOULDBLOCK ? 'H' : 'E');
          portalock_free (probe);
        }
      for (size_t i = 0; i < n; i++)
        portalock_free (locks[i]);
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  h->to_child = down[1];
  h->from_child = up[0];
  h->next = 0;
  if (get (h->from_child) != 'L')
    die ("holder did not lock");
}

/* Release the holder's lock of PATHS[I] and wait until it has.  */
static void
hold_release (struct holder_proc *h, int i)
{
  hold_command (h, 'r', i);
  if (get (h->from_child) != 'U')
    die ("holder did not release");
}

/* Release the holder's next lock, in the order of PATHS.  */
static void
hold_release_one (struct holder_proc *h)
{
  hold_release (h, h->next++);
}

/* Whether the holder, which let go of PATHS[I], finds it held.  */
static bool
hold_finds_held (struct holder_proc *h, int i)
{
  hold_command (h, 't', i);
  return get (h->from_child) == 'H';
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

/* What a cancel storm races on: a lock object, or a semaphore of one
   slot.  MAKE makes one on PATH (a file, or the semaphore's directory)
   that waits (for at most a minute: a lock held by nobody who knows
   would otherwise hang the test) or, with TRY, does not wait.  */
struct kind
{
  const char *name;
  void *(*make) (const char *path, bool try);
  portalock_pending *(*start) (void *object);
  int (*acquire) (void *object);
  int (*release) (void *object);
  bool (*holds) (void *object);
  void (*destroy) (void *object);
};

static void *
lock_make (const char *path, bool try)
{
  portalock *lock = new_lock (path);
  if (try)
    portalock_set_fail_when_locked (lock, true);
  else
    portalock_set_timeout (lock, 60);
  return lock;
}

static portalock_pending *
lock_start (void *object)
{
  return portalock_acquire_start (object);
}

static int
lock_acquire (void *object)
{
  return portalock_acquire (object);
}

static int
lock_release (void *object)
{
  return portalock_release (object);
}

static bool
lock_holds (void *object)
{
  return portalock_fd (object) >= 0;
}

static void
lock_destroy (void *object)
{
  portalock_free (object);
}

static const struct kind lock_kind = {
  "lock object", lock_make, lock_start, lock_acquire, lock_release,
  lock_holds, lock_destroy
};

static void *
sem_make (const char *dir, bool try)
{
  portalock_semaphore *sem = portalock_semaphore_new ("storm", 1, dir);
  if (sem == NULL || portalock_semaphore_set_backend (sem, backend) != 0
      || portalock_semaphore_set_method (sem, method) != 0
      || portalock_semaphore_set_timeout (sem, try ? -1 : 60) != 0
      || portalock_semaphore_set_fail_when_locked (sem, try) != 0)
    die ("portalock_semaphore_new %s", dir);
  return sem;
}

static portalock_pending *
sem_start (void *object)
{
  return portalock_semaphore_acquire_start (object);
}

static int
sem_acquire (void *object)
{
  return portalock_semaphore_acquire (object);
}

static int
sem_release (void *object)
{
  return portalock_semaphore_release (object);
}

static bool
sem_holds (void *object)
{
  return portalock_semaphore_slot (object) >= 0;
}

static void
sem_destroy (void *object)
{
  portalock_semaphore_free (object);
}

static const struct kind sem_kind = {
  "semaphore", sem_make, sem_start, sem_acquire, sem_release, sem_holds,
  sem_destroy
};

/* Start/cancel pairs racing a process (the racer) that takes and lets
   go of the lock over and over.  Both sides count themselves in and out
   of the lock in shared memory: never two inside.  After each pair the
   truth is asked of others: a grant must show to another object of
   this process (it finds the lock held), and once this process has let
   go of it, or the finish said cancelled, the racer, asked between two
   of its rounds (so holding nothing itself), must find the lock free: a
   lock granted to nobody who knows would be found held.  */
static void
test_cancel_storm (const struct kind *k, int pairs)
{
  const char *path = test_path (k == &sem_kind ? "storm-sem" : "storm");
  if (k == &sem_kind && mkdir (path, 0755) != 0 && errno != EEXIST)
    die ("mkdir %s", path);
  int *inside = mmap (NULL, sizeof (int) * 2, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (inside == MAP_FAILED)
    die ("mmap");
  inside[0] = inside[1] = 0;
  int ask[2], answer[2];
  if (pipe (ask) != 0 || pipe (answer) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (ask[1]);
      close (answer[0]);
      fcntl (ask[0], F_SETFL, O_NONBLOCK);
      void *object = k->make (path, false);
      void *prober = k->make (path, true);
      for (;;)
        {
          char c;
          ssize_t n = read (ask[0], &c, 1);
          if (n == 0)
            break;
          if (n == 1)
            {
              int r = k->acquire (prober);
              put (answer[1], r == 0 ? 'F' : errno == EWOULDBLOCK ? 'H'
                   : 'E');
              if (r == 0 && k->release (prober) != 0)
                _exit (2);
              continue;
            }
          if (errno != EAGAIN && errno != EINTR)
            _exit (2);
          if (k->acquire (object) != 0)
            _exit (3);
          if (__atomic_add_fetch (&inside[0], 1, __ATOMIC_SEQ_CST) != 1)
            inside[1] = 1;
          sched_yield ();
          __atomic_sub_fetch (&inside[0], 1, __ATOMIC_SEQ_CST);
          if (k->release (object) != 0)
            _exit (2);
        }
      _exit (0);
    }
  close (ask[0]);
  close (answer[1]);

  void *object = k->make (path, false);
  void *prober = k->make (path, true);
  int held = 0, cancelled = 0, bad = 0, untrue = 0;
  for (int i = 0; i < pairs; i++)
    {
      portalock_pending *p = k->start (object);
      if (p == NULL)
        die ("start of a pending acquisition");
      if (i % 2)
        sched_yield ();
      portalock_acquire_cancel (p);
      int r = portalock_acquire_finish (p);
      if (r == 0)
        {
          held++;
          if (__atomic_add_fetch (&inside[0], 1, __ATOMIC_SEQ_CST) != 1)
            inside[1] = 1;
          /* Granted: another object here finds it held.  */
          if (k->acquire (prober) == 0)
            {
              untrue++;
              k->release (prober);
            }
          else if (errno != EWOULDBLOCK)
            bad++;
          __atomic_sub_fetch (&inside[0], 1, __ATOMIC_SEQ_CST);
          if (k->release (object) != 0)
            bad++;
        }
      else if (errno == ECANCELED && !k->holds (object))
        cancelled++;
      else
        bad++;
      /* Nothing held here now: the racer finds the lock free.  */
      put (ask[1], 'p');
      if (get (answer[0]) != 'F')
        untrue++;
    }
  close (ask[1]);
  int status;
  bool child_ok = (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
                   && WEXITSTATUS (status) == 0);
  close (answer[0]);
  check (bad == 0 && untrue == 0 && child_ok && inside[1] == 0,
         "%s/%s: %s: %d start/cancel pairs racing releases: %d held, "
         "%d cancelled, never twice, never held by nobody who knows "
         "(%d untrue)", bname, mname, k->name, pairs, held, cancelled,
         untrue);
  k->destroy (object);
  k->destroy (prober);
  munmap (inside, sizeof (int) * 2);
}

/* How many of the N inodes in INODES (sorted) have a waiter blocked in
   the kernel (a "->" line of /proc/locks); -1 if there is no
   /proc/locks.  */
static int
blocked_on (const ino_t *inodes, int n)
{
  FILE *f = fopen ("/proc/locks", "r");
  if (f == NULL)
    return -1;
  char line[512];
  int count = 0;
  while (fgets (line, sizeof line, f) != NULL)
    {
      if (strstr (line, "->") == NULL)
        continue;
      /* ... PID MAJOR:MINOR:INODE START END */
      for (char *t = strtok (line, " \n"); t != NULL; t = strtok (NULL, " \n"))
        {
          char *last = strrchr (t, ':');
          if (last == NULL || last == strchr (t, ':'))
            continue;
          ino_t ino = (ino_t) strtoull (last + 1, NULL, 10);
          int lo = 0, hi = n;
          while (lo < hi)
            {
              int mid = (lo + hi) / 2;
              if (inodes[mid] < ino)
                lo = mid + 1;
              else
                hi = mid;
            }
          if (lo < n && inodes[lo] == ino)
            count++;
          break;
        }
    }
  fclose (f);
  return count;
}

static int
compare_inodes (const void *a, const void *b)
{
  ino_t x = *(const ino_t *) a, y = *(const ino_t *) b;
  return x < y ? -1 : x > y;
}

static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
          + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* 1,000 acquisitions pending on 1,000 files held by another process,
   which lets go of them in a random order: each is granted once, when
   its file is let go and not before, and is then held (the holder finds
   it so); the pool stays within its bound of threads, uses no CPU while
   all wait, and every descriptor is given back.  */
static void
test_many (void)
{
  enum { N = 1000 };
  struct rlimit rl;
  /* Two descriptors an acquisition (its file, its eventfd), and a few
     more for the test.  */
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
  static int index_of[N], order[N];
  static ino_t inodes[N];
  char name[32];
  for (int i = 0; i < N; i++)
    {
      snprintf (name, sizeof name, "many-%d", i);
      paths[i] = strdup (test_path (name));
    }
  /* The order of the releases: random, from a seed that is printed
     (and taken from PENDING_SEED if set, to repeat a run).  */
  const char *seed_text = getenv ("PENDING_SEED");
  unsigned long long seed
    = (seed_text != NULL ? strtoull (seed_text, NULL, 10)
       : (unsigned long long) time (NULL) ^ (unsigned long long) getpid ());
  unsigned long long x = seed;
  printf ("note: %s/%s: the releases' order comes from PENDING_SEED=%llu\n",
          bname, mname, seed);
  fflush (stdout);
  for (int i = 0; i < N; i++)
    order[i] = i;
  for (int i = N - 1; i > 0; i--)
    {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      int j = (int) ((x >> 33) % (unsigned long long) (i + 1));
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  int fds_before = count_fds ();
  int threads_before = count_threads ();

  struct holder_proc h;
  hold_start (&h, paths, N);
  for (int i = 0; i < N; i++)
    {
      struct stat st;
      if (stat (paths[i], &st) != 0)
        die ("stat %s", paths[i]);
      inodes[i] = st.st_ino;
    }
  qsort (inodes, N, sizeof *inodes, compare_inodes);
  int started = 0;
  for (int i = 0; i < N; i++)
    {
      locks[i] = new_lock (paths[i]);
      pend[i] = portalock_acquire_start (locks[i]);
      if (pend[i] != NULL)
        started++;
    }

  /* All waiting in the kernel (a readiness wait, given a minute on a
     loaded machine): then no thread of the pool has anything to do,
     and the process must use no CPU.  */
  double give_up = now () + 60;
  int blocked;
  while ((blocked = blocked_on (inodes, N)) >= 0 && blocked < started
         && now () < give_up)
    usleep (10000);
  int threads_peak = count_threads ();
  bool early = false;
  for (int i = 0; i < N; i++)
    if (pend[i] != NULL && readable_now (portalock_pending_fd (pend[i])))
      early = true;
  const char *emulator = test_emulator ();
  const char *wrapper = getenv ("PORTALOCK_TEST_WRAPPER");
  if (emulator == NULL && wrapper != NULL && *wrapper != '\0')
    emulator = wrapper;
  if (blocked < 0)
    unsupported ("%s/%s: CPU while 1000 wait: no /proc/locks to see them "
                 "wait", bname, mname);
  else if (blocked < started)
    check (false, "%s/%s: 1000 pending: only %d seen waiting in the kernel",
           bname, mname, blocked);
  else if (emulator != NULL)
    unsupported ("%s/%s: CPU while 1000 wait: %s", bname, mname, emulator);
  else
    {
      /* A bound on resources, not on time: CPU time over a window of
         2 s of the wall clock, whatever the machine's load.  */
      double c0 = cpu_seconds (), t0 = now ();
      while (now () < t0 + 2)
        usleep (100000);
      double cpu = cpu_seconds () - c0, wall = now () - t0;
      check (cpu <= 0.01 * wall,
             "%s/%s: 1000 pending use no CPU while they wait (%.2f%% over "
             "%.1f s)", bname, mname, 100 * cpu / wall, wall);
    }

  /* The holder lets go of the files in ORDER; the loop serves whatever
     is readable and must see exactly the file let go granted then, and
     the holder must then find it held.  */
  int granted = 0, seen_twice = 0, wrong = 0, not_held = 0;
  static bool seen[N];
  for (int k = 0; k < N; k++)
    {
      int released = order[k];
      hold_release (&h, released);
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
      for (int j = 0; j < n; j++)
        if (pfds[j].revents & POLLIN)
          {
            int i = index_of[j];
            if (i != released)
              wrong++;
            if (portalock_acquire_finish (pend[i]) == 0)
              {
                granted++;
                if (seen[i])
                  seen_twice++;
                seen[i] = true;
                if (!hold_finds_held (&h, i))
                  not_held++;
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
         && wrong == 0 && not_held == 0,
         "%s/%s: %d pending on %d files let go of in a random order: "
         "%d granted, each once, each when its file was let go, each held",
         bname, mname, started, N, granted);
  check (threads_peak <= threads_before + 2 * 1024,
         "%s/%s: threads within the pool (%d more at the peak)", bname,
         mname, threads_peak - threads_before);
  /* Idle threads of the pool end but for 16 and their helpers: a
     readiness wait for them to be gone.  */
  /* Up to a minute: some two thousand threads end on a machine that
     may be running another test suite beside this one.  */
  give_up = now () + 60;
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
  /* Under a wrapper (valgrind: tests/lib/portalock.exp) or a
     user-mode emulator, which run the program many times slower,
     fewer.  */
  const char *wrapper = getenv ("PORTALOCK_TEST_WRAPPER");
  int pairs = (argc > 3 ? atoi (argv[3])
               : ((wrapper != NULL && *wrapper != '\0')
                  || test_emulator () != NULL) ? 2000 : 10000);

  signal (SIGPIPE, SIG_IGN);
  test_bad_input ();
  test_grant ();
  test_timeout_and_nowait ();
  test_cancel ();
  test_cancel_storm (&lock_kind, pairs);
  test_cancel_storm (&sem_kind, pairs);
  test_fork ();
  test_semaphore ();
  if (method == PORTALOCK_METHOD_KERNEL)
    test_many ();
  return check_exit ();
}
