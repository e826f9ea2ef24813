/* micro.c: uncontended costs: descriptor locks, lock objects, semaphores,
   and the memory the lock objects and waiting threads take.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* What one timed operation works on.  */
struct subject
{
  enum portalock_backend backend;
  int fd;
  const char *path;
  portalock *lock;
  portalock_semaphore *sem;
};

typedef void (*operation) (struct subject *);

static void
raw_fd_pair (struct subject *s)
{
  if (raw_lock (s->backend, s->fd, true) != 0
      || raw_unlock (s->backend, s->fd) != 0)
    fail ("raw lock");
}

static void
library_fd_pair (struct subject *s)
{
  if (portalock_backend_lock (s->backend, s->fd, PORTALOCK_EX, 0, 0,
                              INFINITY) != 0
      || portalock_backend_lock (s->backend, s->fd, PORTALOCK_UN, 0, 0,
                                 0) != 0)
    fail ("portalock_backend_lock");
}

static void
raw_open_pair (struct subject *s)
{
  int fd = open (s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || raw_lock (s->backend, fd, true) != 0
      || raw_unlock (s->backend, fd) != 0 || close (fd) != 0)
    fail ("raw open and lock");
}

/* The system calls a lock object's uncontended acquire and release make,
   without the library: the open, the fstat before the lock, the lock,
   the stat of the path after it (the identity check), and the close,
   which gives the lock back on every backend (on flock and OFD while
   the object's descriptor is the only one of its open file
   description, as here).  */
static void
raw_object_calls (struct subject *s)
{
  struct stat st, pst;
  int fd = open (s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0 || fstat (fd, &st) != 0 || raw_lock (s->backend, fd, true) != 0
      || stat (s->path, &pst) != 0 || pst.st_ino != st.st_ino
      || close (fd) != 0)
    fail ("raw open, fstat, lock, stat");
}

/* The cheapest system call there is: the price of entering the kernel
   at all.  */
static void
null_call (struct subject *s)
{
  (void) s;
  getppid ();
}

static void
object_pair (struct subject *s)
{
  if (portalock_acquire (s->lock) != 0 || portalock_release (s->lock) != 0)
    fail ("portalock_acquire");
}

static void
semaphore_pair (struct subject *s)
{
  if (portalock_semaphore_acquire (s->sem) != 0
      || portalock_semaphore_release (s->sem) != 0)
    fail ("portalock_semaphore_acquire");
}

/* Return the mean nanoseconds of ITERS runs of OP.  */
static double
batch (operation op, struct subject *s, long iters)
{
  int64_t start = now_ns ();
  for (long i = 0; i < iters; i++)
    op (s);
  return (double) (now_ns () - start) / iters;
}

struct comparison
{
  double reference;   /* median ns of the reference */
  double subject;     /* median ns of the subject */
  double noise;       /* spread of the per-round ratios, percent */
  int rounds;
};

/* Time REF and SUB in ROUNDS alternating rounds of ITERS each, after one
   round of warming up, so both see the same machine.  */
static struct comparison
compare (operation ref, struct subject *rs, operation sub,
         struct subject *ss, int rounds, long iters)
{
  double r[rounds], s[rounds], q[rounds];
  batch (ref, rs, iters / 4 + 1);
  batch (sub, ss, iters / 4 + 1);
  for (int i = 0; i < rounds; i++)
    {
      if (i % 2 == 0)
        {
          r[i] = batch (ref, rs, iters);
          s[i] = batch (sub, ss, iters);
        }
      else
        {
          s[i] = batch (sub, ss, iters);
          r[i] = batch (ref, rs, iters);
        }
      q[i] = s[i] / r[i];
    }
  struct comparison c = { median (r, rounds), median (s, rounds),
                          spread (q, rounds), rounds };
  return c;
}

void
bench_descriptor (void)
{
  int rounds = bench.quick ? 5 : 21;
  long iters = bench.quick ? 2000 : 20000;

  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      const char *id = fmt ("fd.%s", name);
      const char *figure = fmt ("lock+unlock on an open fd, %s", name);
      if (!portalock_backend_available (b))
        {
          emit_skipped (id, figure, "<= 1.10x", "skipped: backend not built");
          continue;
        }
      struct subject s = { .backend = b,
                           .fd = open_or_die (bench_path ("fd.lock")) };
      struct comparison c = compare (raw_fd_pair, &s, library_fd_pair, &s,
                                     rounds, iters);
      close (s.fd);
      double ratio = c.subject / c.reference;
      struct row r = { id, figure, c.subject, "ns", "median of rounds",
                       fmt ("raw %s pair", name), c.reference, ratio,
                       "<= 1.10x", judge (ratio, true, 1.10), c.noise,
                       c.rounds };
      emit (&r);
    }
}

/* Ask a Python peer for one round of ITERS "with" blocks; return its
   mean nanoseconds, or NaN if it did not answer.  */
static double
peer_round (FILE *to, FILE *from, long iters)
{
  char line[64];
  fprintf (to, "%ld\n", iters);
  fflush (to);
  if (fgets (line, sizeof line, from) == NULL)
    return NAN;
  return atof (line);
}

/* Compare the lock object S, on the default backend, with Python PEER's
   "with" block, in ROUNDS alternating rounds of ITERS each.  VARIANT
   says how S differs from a default lock object ("" if not at all).  */
static void
compare_peer (const char *peer, const char *variant, struct subject *s,
              int rounds, long iters)
{
  const char *id = fmt ("object.vs.%s%s", peer,
                        *variant != '\0' ? ".nocheck" : "");
  const char *figure = fmt ("lock object%s vs %s with-block", variant, peer);
  const char *goal = ">= 3x faster";
  if (bench.python == NULL)
    {
      emit_skipped (id, figure, goal, "skipped: no /usr/bin/python3");
      return;
    }
  int to_fd, from_fd;
  pid_t pid = start_peer ("object", peer, bench_path ("py.lock"), &to_fd,
                          &from_fd);
  FILE *to = fdopen (to_fd, "w"), *from = fdopen (from_fd, "r");
  if (to == NULL || from == NULL)
    fail ("fdopen");
  double ours[rounds], theirs[rounds], q[rounds];
  bool ok = !isnan (peer_round (to, from, iters / 4 + 1));
  batch (object_pair, s, iters / 4 + 1);
  for (int i = 0; ok && i < rounds; i++)
    {
      if (i % 2 == 0)
        {
          ours[i] = batch (object_pair, s, iters);
          theirs[i] = peer_round (to, from, iters);
        }
      else
        {
          theirs[i] = peer_round (to, from, iters);
          ours[i] = batch (object_pair, s, iters);
        }
      ok = !isnan (theirs[i]);
      q[i] = theirs[i] / ours[i];
    }
  fclose (to);
  fclose (from);
  int status;
  waitpid (pid, &status, 0);
  if (!ok)
    {
      emit_skipped (id, figure, goal,
                    WIFEXITED (status) && WEXITSTATUS (status) == 3
                    ? fmt ("skipped: python3-%s not installed", peer)
                    : fmt ("skipped: the %s peer failed", peer));
      return;
    }
  double noise = spread (q, rounds);
  double m_ours = median (ours, rounds), m_theirs = median (theirs, rounds);
  double ratio = m_theirs / m_ours;
  struct row r = { id, figure, m_ours, "ns",
                   fmt ("default backend (%s)",
                        portalock_backend_name (PORTALOCK_BACKEND_DEFAULT)),
                   peer[0] == 'p' ? "portalocker `with Lock(p)`"
                   : "filelock `with FileLock(p)`",
                   m_theirs, ratio, goal, judge (ratio, false, 3), noise,
                   rounds };
  emit (&r);
}

static portalock *
new_object (const char *path, enum portalock_backend b, double timeout)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, b) != 0
      || portalock_set_timeout (lock, timeout) != 0)
    fail ("portalock_new %s", path);
  return lock;
}

/* A lock object without the identity check (portalock_set_identity_check),
   or NULL where the library is too old to have the setting.  */
static portalock *
new_unchecked_object (const char *path, enum portalock_backend b)
{
  if (portalock_set_identity_check == NULL)
    return NULL;
  portalock *lock = new_object (path, b, 5);
  if (portalock_set_identity_check (lock, false) != 0)
    fail ("portalock_set_identity_check");
  return lock;
}

/* Emit lock object row ID (FIGURE): C's subject, an object on backend
   NAME, against the raw open, lock, unlock and close.  */
static void
emit_object_row (const char *id, const char *figure, const char *name,
                 struct comparison c)
{
  double ratio = c.subject / c.reference;
  struct row r = { id, figure, c.subject, "ns", "open, lock, unlock, close",
                   fmt ("raw open+%s pair+close", name), c.reference, ratio,
                   "<= 1.25x", judge (ratio, true, 1.25), c.noise,
                   c.rounds };
  emit (&r);
}

void
bench_object (void)
{
  int rounds = bench.quick ? 5 : 15;
  long iters = bench.quick ? 500 : 5000;

  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      const char *id = fmt ("object.%s", name);
      const char *figure = fmt ("lock object acquire+release, %s", name);
      if (!have_objects ())
        {
          emit_skipped (id, figure, "<= 1.25x", "skipped: not built");
          continue;
        }
      if (!portalock_backend_available (b))
        {
          emit_skipped (id, figure, "<= 1.25x", "skipped: backend not built");
          continue;
        }
      const char *path = bench_path ("object.lock");
      struct subject raw = { .backend = b, .path = path };
      struct subject obj = { .backend = b, .lock = new_object (path, b, 5) };
      struct comparison c = compare (raw_open_pair, &raw, object_pair, &obj,
                                     rounds, iters);
      /* What the same system calls cost without the library, beside
         the raw sequence and beside the lock object.  */
      struct comparison f = compare (raw_open_pair, &raw, raw_object_calls,
                                     &raw, rounds, iters);
      struct comparison o = compare (raw_object_calls, &raw, object_pair,
                                     &obj, rounds, iters);
      portalock_free (obj.lock);
      emit_object_row (id, figure, name, c);
      struct row fr = { fmt ("object.calls.%s", name),
                        fmt ("... its system calls alone, %s", name),
                        f.subject, "ns",
                        fmt ("open, fstat, lock, stat, close; the lock "
                             "object takes %.2fx these (+-%.0f%%)",
                             o.subject / o.reference, o.noise),
                        fmt ("raw open+%s pair+close", name), f.reference,
                        f.subject / f.reference, "", "info", f.noise,
                        f.rounds };
      emit (&fr);

      /* The same object without the identity check: the look-up after
         the grant is the one call a program may choose to save.  */
      const char *nid = fmt ("object.nocheck.%s", name);
      const char *nfigure = fmt ("... identity check off, %s", name);
      struct subject unchecked = { .backend = b,
                                   .lock = new_unchecked_object (path, b) };
      if (unchecked.lock == NULL)
        {
          emit_skipped (nid, nfigure, "<= 1.25x",
                        "skipped: no portalock_set_identity_check");
          continue;
        }
      struct comparison n = compare (raw_open_pair, &raw, object_pair,
                                     &unchecked, rounds, iters);
      portalock_free (unchecked.lock);
      emit_object_row (nid, nfigure, name, n);
    }

  {
    /* What any one more system call costs, beside the raw sequence.  */
    enum portalock_backend b = portalock_default_backend ();
    struct subject raw = { .backend = b, .path = bench_path ("object.lock") };
    struct comparison c = compare (raw_open_pair, &raw, null_call, &raw,
                                   rounds, iters);
    struct row r = { "object.syscall", "a null system call (getppid)",
                     c.subject, "ns", "the price of any one more call",
                     fmt ("raw open+%s pair+close",
                          portalock_backend_name (b)),
                     c.reference, c.subject / c.reference, "", "info",
                     c.noise, c.rounds };
    emit (&r);
  }

  static const char *const peers[] = { "portalocker", "filelock" };
  for (int i = 0; i < 2; i++)
    {
      if (!have_objects ())
        {
          emit_skipped (fmt ("object.vs.%s", peers[i]),
                        fmt ("lock object vs %s with-block", peers[i]),
                        ">= 3x faster", "skipped: not built");
          continue;
        }
      const char *path = bench_path ("object.lock");
      struct subject obj = { .lock = new_object (path,
                                                 PORTALOCK_BACKEND_DEFAULT,
                                                 5) };
      compare_peer (peers[i], "", &obj, rounds, iters);
      portalock_free (obj.lock);
      /* Like for like: neither peer checks the file's identity.  */
      struct subject unchecked = {
        .lock = new_unchecked_object (path, PORTALOCK_BACKEND_DEFAULT) };
      if (unchecked.lock != NULL)
        {
          compare_peer (peers[i], " (identity check off)", &unchecked,
                        rounds, iters);
          portalock_free (unchecked.lock);
        }
    }
}

/* A child that holds HELD slots of the semaphore NAME in DIR until its
   standard input closes; return its PID after it holds them all.  */
static pid_t
hold_slots (const char *name, unsigned maximum, int held, int *release)
{
  int ready[2], done[2];
  if (pipe (ready) != 0 || pipe (done) != 0)
    fail ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      close (ready[0]);
      close (done[1]);
      portalock_semaphore *slots[held];
      for (int i = 0; i < held; i++)
        {
          slots[i] = portalock_semaphore_new (name, maximum, bench.dir);
          if (slots[i] == NULL || portalock_semaphore_acquire (slots[i]) != 0)
            _exit (1);
        }
      if (write (ready[1], "r", 1) != 1)
        _exit (1);
      char c;
      while (read (done[0], &c, 1) > 0)
        continue;
      for (int i = 0; i < held; i++)
        portalock_semaphore_free (slots[i]);
      _exit (0);
    }
  close (ready[1]);
  close (done[0]);
  char c;
  if (read (ready[0], &c, 1) != 1)
    {
      errno = EIO;
      fail ("the semaphore holder did not start");
    }
  close (ready[0]);
  *release = done[1];
  return pid;
}

void
bench_semaphore (void)
{
  const char *id = "semaphore.64";
  const char *figure = "semaphore acquire+release, 64 slots, 63 held";
  const char *goal = "<= 64x";
  if (!have_semaphores () || !have_objects ())
    {
      emit_skipped (id, figure, goal, "skipped: not built");
      return;
    }
  int rounds = bench.quick ? 5 : 11;
  long iters = bench.quick ? 50 : 500;
  int release;
  pid_t pid = hold_slots ("bench", 64, 63, &release);

  struct subject sem = { .sem = portalock_semaphore_new ("bench", 64,
                                                         bench.dir) };
  if (sem.sem == NULL)
    fail ("portalock_semaphore_new");
  struct subject one = { .lock = new_object (bench_path ("one.lock"),
                                             PORTALOCK_BACKEND_DEFAULT, 5) };
  struct comparison c = compare (object_pair, &one, semaphore_pair, &sem,
                                 rounds, iters);
  portalock_semaphore_free (sem.sem);
  portalock_free (one.lock);
  close (release);
  waitpid (pid, NULL, 0);

  double ratio = c.subject / c.reference;
  struct row r = { id, figure, c.subject, "ns",
                   "63 slots held by another process",
                   "one lock object acquire+release", c.reference, ratio,
                   goal, judge (ratio, true, 64), c.noise, c.rounds };
  emit (&r);
}

/* PID's resident set size in KiB, from /proc/PID/status.  */
static long
rss_kib (pid_t pid)
{
  char path[64], line[256];
  long kib = -1;
  snprintf (path, sizeof path, "/proc/%ld/status", (long) pid);
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "VmRSS: %ld", &kib) == 1)
      break;
  fclose (f);
  return kib;
}

static size_t
heap_in_use (void)
{
  struct mallinfo2 m = mallinfo2 ();
  return m.uordblks + m.hblkhd;
}

void
bench_memory (void)
{
  enum { COUNT = 10000 };
  const char *figure_new = "heap per lock object, not held";
  const char *figure_held = "heap per lock object, held";
  const char *figure_rss = "RSS holding 10,000 lock objects";
  bench_waiter_memory ();
  if (!have_objects ())
    {
      emit_skipped ("memory.object", figure_new, "<= 256 B + path",
                    "skipped: not built");
      emit_skipped ("memory.object.held", figure_held, "<= 256 B + path",
                    "skipped: not built");
      emit_skipped ("memory.rss.10000", figure_rss, "", "skipped: not built");
      return;
    }

  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < COUNT + 64)
    {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > COUNT + 64
        ? COUNT + 64 : rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }

  static char paths[COUNT][64];
  static portalock *locks[COUNT];
  if (mkdir (bench_path ("memory"), 0755) != 0 && errno != EEXIST)
    fail ("mkdir");
  for (int i = 0; i < COUNT; i++)
    snprintf (paths[i], sizeof paths[i], "%s", bench_path (fmt ("memory/%05d",
                                                                i)));
  size_t path_len = strlen (paths[0]) + 1;

  long rss_before = rss_kib (getpid ());
  size_t heap_before = heap_in_use ();
  for (int i = 0; i < COUNT; i++)
    if ((locks[i] = portalock_new (paths[i])) == NULL)
      fail ("portalock_new");
  size_t heap_new = heap_in_use ();
  int held = 0;
  for (; held < COUNT; held++)
    if (portalock_set_timeout (locks[held], 0) != 0
        || portalock_acquire (locks[held]) != 0)
      break;
  int acquire_errno = errno;
  size_t heap_held = heap_in_use ();
  long rss_held = rss_kib (getpid ());
  for (int i = 0; i < COUNT; i++)
    portalock_free (locks[i]);

  double limit = 256 + path_len;
  double per_new = ((double) heap_new - heap_before) / COUNT;
  struct row r1 = { "memory.object", figure_new, per_new, "bytes",
                    fmt ("mallinfo2 delta over %d objects; path %zu bytes",
                         COUNT, path_len),
                    "256 + path", limit, NAN, "<= 256 B + path",
                    judge (per_new, true, limit), NAN, COUNT };
  emit (&r1);
  if (held < COUNT)
    {
      errno = acquire_errno;
      emit_skipped ("memory.object.held", figure_held, "<= 256 B + path",
                    fmt ("skipped: acquire %d failed: %s", held,
                         strerror (acquire_errno)));
      emit_skipped ("memory.rss.10000", figure_rss, "",
                    "skipped: could not hold them all");
      return;
    }
  double per_held = ((double) heap_held - heap_before) / COUNT;
  struct row r2 = { "memory.object.held", figure_held, per_held, "bytes",
                    fmt ("%s backend; path %zu bytes",
                         portalock_backend_name (PORTALOCK_BACKEND_DEFAULT),
                         path_len),
                    "256 + path", limit, NAN, "<= 256 B + path",
                    judge (per_held, true, limit), NAN, COUNT };
  emit (&r2);
  struct row r3 = { "memory.rss.10000", figure_rss, rss_held / 1024.0, "MiB",
                    fmt ("%.0f bytes per object over a %ld KiB start",
                         (rss_held - rss_before) * 1024.0 / COUNT, rss_before),
                    "", NAN, NAN, "", "info", NAN, COUNT };
  emit (&r3);
}

/* The memory of a thread blocked in a timed wait, beside one blocked in
   the kernel's own call.  Each measurement runs in a fresh process, so
   that neither kind reuses the thread stacks or malloc arenas the other
   left behind: it notes its VmRSS and VmSize, starts WAITERS threads
   that each open the file and wait for the lock another process holds,
   waits until /proc/locks lists them all as blocked, and notes them
   again.  A timed waiter's thread blocks on a condition variable while
   its kept helper thread blocks in the kernel (lib/wait.c), so the
   difference is that helper: its stack, its thread, its record.  */

struct waiter_arg
{
  enum portalock_backend backend;
  const char *path;
  bool timed;
};

static void *
waiter_thread (void *arg)
{
  const struct waiter_arg *w = arg;
  int fd = open (w->path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  int r = w->timed
    ? portalock_backend_lock (w->backend, fd, PORTALOCK_EX, 0, 0, 600)
    : raw_lock (w->backend, fd, true);
  if (r == 0)
    raw_unlock (w->backend, fd);
  close (fd);
  return NULL;
}

/* The VmRSS, VmSize (KiB) and Threads lines of this process's status.  */
static bool
own_memory (long v[3])
{
  static const char *const keys[3] = { "VmRSS:", "VmSize:", "Threads:" };
  char line[256];
  FILE *f = fopen ("/proc/self/status", "r");
  if (f == NULL)
    return false;
  v[0] = v[1] = v[2] = -1;
  while (fgets (line, sizeof line, f) != NULL)
    for (int i = 0; i < 3; i++)
      if (strncmp (line, keys[i], strlen (keys[i])) == 0)
        v[i] = atol (line + strlen (keys[i]));
  fclose (f);
  return v[0] >= 0 && v[1] >= 0 && v[2] >= 0;
}

/* How many requests /proc/locks lists as blocked on inode INO.  */
static int
blocked_on (unsigned long ino)
{
  char line[512], tail[32];
  int n = 0;
  FILE *f = fopen ("/proc/locks", "r");
  if (f == NULL)
    return -1;
  snprintf (tail, sizeof tail, ":%lu ", ino);
  while (fgets (line, sizeof line, f) != NULL)
    if (strstr (line, "->") != NULL && strstr (line, tail) != NULL)
      n++;
  fclose (f);
  return n;
}

/* In a child process: start WAITERS threads waiting for PATH (inode INO,
   held elsewhere) with BACKEND, timed or not, and write to OUT the
   growth of VmRSS, VmSize and the thread count once all are blocked.
   Exit 0, or 1 if they did not all block within 10 seconds.  */
static _Noreturn void
measure_waiters (enum portalock_backend backend, const char *path,
                 unsigned long ino, bool timed, int waiters, int out)
{
  static struct waiter_arg arg;
  arg.backend = backend;
  arg.path = path;
  arg.timed = timed;
  long before[3], after[3];
  if (!own_memory (before))
    _exit (1);
  for (int i = 0; i < waiters; i++)
    {
      pthread_t t;
      if (pthread_create (&t, NULL, waiter_thread, &arg) != 0)
        _exit (1);
    }
  int64_t give_up = now_ns () + 10 * (int64_t) 1000000000;
  while (blocked_on (ino) < waiters)
    {
      if (now_ns () > give_up)
        _exit (1);
      struct timespec ms = { 0, 1000000 };
      nanosleep (&ms, NULL);
    }
  if (!own_memory (after))
    _exit (1);
  long delta[3] = { after[0] - before[0], after[1] - before[1],
                    after[2] - before[2] };
  if (write (out, delta, sizeof delta) != sizeof delta)
    _exit (1);
  /* The waiters end with the process.  */
  _exit (0);
}

/* Run measure_waiters in a fresh process; return false if it failed.  */
static bool
waiters_growth (enum portalock_backend backend, const char *path,
                unsigned long ino, bool timed, int waiters, long delta[3])
{
  int p[2];
  if (pipe (p) != 0)
    fail ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      close (p[0]);
      measure_waiters (backend, path, ino, timed, waiters, p[1]);
    }
  close (p[1]);
  ssize_t n = read (p[0], delta, 3 * sizeof *delta);
  close (p[0]);
  int status;
  waitpid (pid, &status, 0);
  return n == 3 * sizeof *delta && WIFEXITED (status)
         && WEXITSTATUS (status) == 0;
}

static int
compare_long (const void *a, const void *b)
{
  long x = *(const long *) a, y = *(const long *) b;
  return (x > y) - (x < y);
}

void
bench_waiter_memory (void)
{
  const char *id_rss = "memory.waiter.rss", *id_vm = "memory.waiter.vm";
  const char *figure_rss = "RSS per thread in a timed wait";
  const char *figure_vm = "VmSize per thread in a timed wait";
  enum { REPEATS = 5 };
  int waiters = bench.quick ? 4 : 16;
  enum portalock_backend b = portalock_default_backend ();
  const char *path = bench_path ("waiter.lock");
  struct stat st;
  int fd = open_or_die (path);
  if (fstat (fd, &st) != 0)
    fail ("fstat %s", path);
  close (fd);
  if (blocked_on (st.st_ino) < 0)
    {
      emit_skipped (id_rss, figure_rss, "", "skipped: no /proc/locks");
      emit_skipped (id_vm, figure_vm, "", "skipped: no /proc/locks");
      return;
    }

  /* The holder: another process, so that every backend makes the
     waiters wait.  */
  int ready[2], done[2];
  if (pipe (ready) != 0 || pipe (done) != 0)
    fail ("pipe");
  fflush (stdout);
  pid_t holder = fork ();
  if (holder < 0)
    fail ("fork");
  if (holder == 0)
    {
      close (ready[0]);
      close (done[1]);
      int hfd = open (path, O_RDWR | O_CLOEXEC);
      if (hfd < 0 || raw_lock (b, hfd, true) != 0
          || write (ready[1], "r", 1) != 1)
        _exit (1);
      char c;
      while (read (done[0], &c, 1) > 0)
        continue;
      _exit (0);
    }
  close (ready[1]);
  close (done[0]);
  char c;
  if (read (ready[0], &c, 1) != 1)
    fail ("the holder did not start");
  close (ready[0]);

  long raw[3][REPEATS], timed[3][REPEATS];
  int ok = 0;
  for (int i = 0; i < REPEATS; i++)
    {
      long r[3], t[3];
      /* Alternate which kind goes first.  */
      bool good = i % 2 == 0
        ? (waiters_growth (b, path, st.st_ino, false, waiters, r)
           && waiters_growth (b, path, st.st_ino, true, waiters, t))
        : (waiters_growth (b, path, st.st_ino, true, waiters, t)
           && waiters_growth (b, path, st.st_ino, false, waiters, r));
      if (!good)
        continue;
      for (int k = 0; k < 3; k++)
        {
          raw[k][ok] = r[k];
          timed[k][ok] = t[k];
        }
      ok++;
    }
  close (done[1]);
  int status;
  waitpid (holder, &status, 0);
  if (ok == 0)
    {
      emit_skipped (id_rss, figure_rss, "",
                    "skipped: the waiters did not block");
      emit_skipped (id_vm, figure_vm, "",
                    "skipped: the waiters did not block");
      return;
    }
  long m_raw[3], m_timed[3];
  for (int k = 0; k < 3; k++)
    {
      qsort (raw[k], ok, sizeof raw[k][0], compare_long);
      qsort (timed[k], ok, sizeof timed[k][0], compare_long);
      m_raw[k] = raw[k][ok / 2];
      m_timed[k] = timed[k][ok / 2];
    }
  const char *name = portalock_backend_name (b);
  double rss = (double) m_timed[0] / waiters, rss_ref = (double) m_raw[0] / waiters;
  double vm = (double) m_timed[1] / waiters, vm_ref = (double) m_raw[1] / waiters;
  const char *threads = fmt ("%d waiters, %s; threads per waiter %.0f "
                             "(reference %.0f); median of %d processes",
                             waiters, name, (double) m_timed[2] / waiters,
                             (double) m_raw[2] / waiters, ok);
  struct row r1 = { id_rss, figure_rss, rss, "KiB", threads,
                    "a thread blocked in the kernel's call", rss_ref,
                    rss_ref > 0 ? rss / rss_ref : NAN, "", "info", NAN, ok };
  emit (&r1);
  struct row r2 = { id_vm, figure_vm, vm, "KiB", threads,
                    "a thread blocked in the kernel's call", vm_ref,
                    vm_ref > 0 ? vm / vm_ref : NAN, "", "info", NAN, ok };
  emit (&r2);
}
