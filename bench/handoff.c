/* handoff.c: how fast a waiter gets a released lock, and what waiting costs.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The driver (this process) holds the lock with the backend's raw call.
   A waiter process, told "go", answers "ready" and asks for the lock;
   once the driver sees the waiter blocked (in /proc/locks for a waiter
   that blocks in the kernel; after a random pause for a polling Python
   waiter, so its polling phase is not favoured), it notes the time and
   releases.  The waiter notes the time it holds the lock and the CPU time
   it used while asking, reports both, and releases; CLOCK_MONOTONIC is
   one clock for all processes.  The waiters take turns, so slow drift of
   the machine's load touches all of them alike.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct waiter
{
  const char *mode;     /* raw, floor, plain, timed, timer, object,
                           py-portalocker, ... */
  bool kernel;          /* it blocks in the kernel: /proc/locks shows it */
  pid_t pid;
  FILE *to;
  FILE *from;
  double *latency;      /* nanoseconds, one per sample */
  double cpu_share;     /* percent of the wall time of the last wait */
  int samples;
};

/* The floor of any timed wait that blocks in a second thread: a helper
   created once, before the waits, parked on a futex; the caller hands
   it a request through one futex word and sleeps on another until the
   helper, blocked in the kernel's lock call, holds the lock and wakes
   it.  Nothing is created or ended per wait, and there is no deadline:
   what remains is the cost of the second wake-up.  */
struct floor_helper
{
  enum portalock_backend backend;
  int fd;
  uint32_t request;     /* bumped by the caller for each wait */
  uint32_t done;        /* bumped by the helper when it holds the lock */
  int result;
};

static void
futex_wait (uint32_t *word, uint32_t value)
{
  syscall (SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void
futex_wake (uint32_t *word)
{
  syscall (SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *
floor_loop (void *arg)
{
  struct floor_helper *h = arg;
  uint32_t seen = 0;
  for (;;)
    {
      uint32_t r;
      while ((r = __atomic_load_n (&h->request, __ATOMIC_ACQUIRE)) == seen)
        futex_wait (&h->request, seen);
      seen = r;
      h->result = raw_lock (h->backend, h->fd, true);
      __atomic_fetch_add (&h->done, 1, __ATOMIC_RELEASE);
      futex_wake (&h->done);
    }
  return NULL;
}

static int
floor_lock (struct floor_helper *h)
{
  uint32_t before = __atomic_load_n (&h->done, __ATOMIC_ACQUIRE);
  __atomic_fetch_add (&h->request, 1, __ATOMIC_RELEASE);
  futex_wake (&h->request);
  while (__atomic_load_n (&h->done, __ATOMIC_ACQUIRE) == before)
    futex_wait (&h->done, before);
  return h->result;
}

/* A pollable acquisition of LOCK, as an event loop makes it: start it,
   poll its descriptor until it is readable, finish it.  */
static int
pending_acquire (portalock *lock)
{
  portalock_pending *p = portalock_acquire_start (lock);
  if (p == NULL)
    return -1;
  struct pollfd pfd = { .fd = portalock_pending_fd (p), .events = POLLIN };
  while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
    continue;
  return portalock_acquire_finish (p);
}

/* The waiter's side: lock as MODE says whenever told to, and report.  */
static _Noreturn void
waiter_loop (const char *mode, enum portalock_backend backend,
             const char *path, FILE *in, FILE *out)
{
  int fd = -1;
  portalock *lock = NULL;
  char line[64];

  bool object = strncmp (mode, "object", 6) == 0;
  if (object)
    {
      lock = portalock_new (path);
      if (lock == NULL || portalock_set_backend (lock, backend) != 0
          || portalock_set_timeout (lock, 10) != 0)
        _exit (1);
    }
  else
    fd = open_or_die (path);
  struct floor_helper kept = { .backend = backend, .fd = fd };
  if (strcmp (mode, "floor") == 0)
    {
      pthread_t thread;
      if (pthread_create (&thread, NULL, floor_loop, &kept) != 0)
        _exit (1);
    }
  /* "timer": a timed wait interrupted by a timer signal in its own
     thread, instead of a helper thread.  */
  if ((strcmp (mode, "timer") == 0 || strcmp (mode, "object-timer") == 0)
      && portalock_set_timeout_signal (SIGRTMIN + 1) != 0)
    _exit (1);

  while (fgets (line, sizeof line, in) != NULL && strcmp (line, "go\n") == 0)
    {
      fputs ("ready\n", out);
      fflush (out);
      int64_t c0 = cpu_ns ();
      int r;
      if (strcmp (mode, "raw") == 0)
        r = raw_lock (backend, fd, true);
      else if (strcmp (mode, "floor") == 0)
        r = floor_lock (&kept);
      else if (strcmp (mode, "plain") == 0)
        r = portalock_backend_lock (backend, fd, PORTALOCK_EX, 0, 0,
                                    INFINITY);
      else if (strcmp (mode, "timed") == 0 || strcmp (mode, "timer") == 0)
        r = portalock_backend_lock (backend, fd, PORTALOCK_EX, 0, 0, 10);
      else if (strcmp (mode, "object-pending") == 0)
        r = pending_acquire (lock);
      else
        r = portalock_acquire (lock);
      int64_t t1 = now_ns ();
      int64_t c1 = cpu_ns ();
      if (r != 0)
        _exit (1);
      /* Release before reporting: the driver's next round then never
         finds the lock still held, and every kind of waiter leaves the
         driver in the same state, whatever its release costs.  */
      if (lock != NULL)
        r = portalock_release (lock);
      else if (strcmp (mode, "raw") == 0 || strcmp (mode, "floor") == 0)
        r = raw_unlock (backend, fd);
      else
        r = portalock_backend_lock (backend, fd, PORTALOCK_UN, 0, 0, 0);
      if (r != 0)
        _exit (1);
      fprintf (out, "%lld %lld\n", (long long) t1, (long long) (c1 - c0));
      fflush (out);
    }
  _exit (0);
}

/* Start "PEERS COMMAND PEER PATH" with pipes to its standard input and
   from its standard output: *TO and *FROM.  Return its PID.  */
pid_t
start_peer (const char *command, const char *peer, const char *path,
            int *to, int *from)
{
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    fail ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      dup2 (down[0], STDIN_FILENO);
      dup2 (up[1], STDOUT_FILENO);
      for (int fd = 3; fd < 1024; fd++)
        close (fd);
      execl (bench.python, bench.python, bench.peers, command, peer, path,
             (char *) NULL);
      _exit (127);
    }
  close (down[0]);
  close (up[1]);
  *to = down[1];
  *from = up[0];
  return pid;
}

pid_t
start_waiter (const char *mode, enum portalock_backend backend,
              const char *path, int *to, int *from)
{
  if (strncmp (mode, "py-", 3) == 0)
    return start_peer ("waiter", mode + 3, path, to, from);

  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    fail ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      /* Keep none of the driver's descriptors: other waiters' pipes would
         never see end-of-file, and the driver's lock file shares its
         lock.  */
      for (int fd = 3; fd < 1024; fd++)
        if (fd != down[0] && fd != up[1])
          close (fd);
      waiter_loop (mode, backend, path, fdopen (down[0], "r"),
                   fdopen (up[1], "w"));
    }
  close (down[0]);
  close (up[1]);
  *to = down[1];
  *from = up[0];
  return pid;
}

static void
waiter_start (struct waiter *w, enum portalock_backend backend,
              const char *path, int samples)
{
  int to, from;
  w->pid = start_waiter (w->mode, backend, path, &to, &from);
  w->to = fdopen (to, "w");
  w->from = fdopen (from, "r");
  w->latency = calloc (samples, sizeof *w->latency);
  w->samples = 0;
  if (w->to == NULL || w->from == NULL || w->latency == NULL)
    fail ("waiter");
}

static void
waiter_stop (struct waiter *w)
{
  fclose (w->to);
  fclose (w->from);
  waitpid (w->pid, NULL, 0);
  free (w->latency);
}

static void pause_ns (int64_t ns);

/* Wait until /proc/locks shows a process blocked on the lock of INODE;
   where there is no /proc/locks, give the waiter 5 ms to block.  */
static void
await_blocked (ino_t inode)
{
  char needle[64], line[512];
  snprintf (needle, sizeof needle, ":%llu ", (unsigned long long) inode);
  int64_t give_up = now_ns () + 10 * 1000000000LL;
  while (now_ns () < give_up)
    {
      FILE *f = fopen ("/proc/locks", "r");
      if (f == NULL)
        {
          pause_ns (5000000);
          return;
        }
      bool seen = false;
      while (!seen && fgets (line, sizeof line, f) != NULL)
        seen = strstr (line, "->") != NULL && strstr (line, needle) != NULL;
      fclose (f);
      if (seen)
        return;
      usleep (50);
    }
  errno = ETIMEDOUT;
  fail ("no waiter showed up in /proc/locks");
}

static void
pause_ns (int64_t ns)
{
  struct timespec ts = { ns / 1000000000, ns % 1000000000 };
  while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
    continue;
}

/* One hand-off to W: the driver holds the lock on FD (of INODE) with
   BACKEND, and lets go HOLD_NS after the waiter is seen waiting (or,
   with HOLD_NS 0, after a short settling pause or a random one).  */
static void
hand_off (struct waiter *w, enum portalock_backend backend, int fd,
          ino_t inode, int64_t hold_ns)
{
  char line[128];
  if (raw_lock (backend, fd, true) != 0)
    fail ("driver lock");
  fputs ("go\n", w->to);
  fflush (w->to);
  if (fgets (line, sizeof line, w->from) == NULL
      || strcmp (line, "ready\n") != 0)
    {
      errno = EIO;
      fail ("waiter %s did not start", w->mode);
    }
  int64_t asked = now_ns ();
  if (w->kernel)
    await_blocked (inode);
  if (hold_ns > 0)
    {
      int64_t left = hold_ns - (now_ns () - asked);
      if (left > 0)
        pause_ns (left);
    }
  else if (w->kernel)
    pause_ns (1000000);
  else
    pause_ns ((20 + random () % 300) * 1000000LL);
  int64_t t0 = now_ns ();
  if (raw_unlock (backend, fd) != 0)
    fail ("driver unlock");
  long long t1, cpu;
  if (fgets (line, sizeof line, w->from) == NULL
      || sscanf (line, "%lld %lld", &t1, &cpu) != 2)
    {
      errno = EIO;
      fail ("waiter %s failed", w->mode);
    }
  w->latency[w->samples++] = t1 - t0;
  w->cpu_share = 100.0 * cpu / (t1 - asked);
}

/* Run SAMPLES rounds of hand-offs to each of the N waiters in turn.  */
static void
run_waiters (struct waiter *ws, int n, enum portalock_backend backend,
             int samples, int64_t hold_ns)
{
  const char *path = bench_path (fmt ("handoff-%s.lock",
                                      portalock_backend_name (backend)));
  int fd = open_or_die (path);
  struct stat st;
  if (fstat (fd, &st) != 0)
    fail ("fstat");
  for (int i = 0; i < n; i++)
    waiter_start (&ws[i], backend, path, samples);
  for (int s = 0; s < samples; s++)
    for (int i = 0; i < n; i++)
      hand_off (&ws[i], backend, fd, st.st_ino, hold_ns);
  close (fd);
}

struct latency
{
  double p50, p90, p99;
  int n;
  struct waiter *w;     /* whose samples, in the order taken */
  double *ordered;
};

/* The spread of the repeats: the samples of L and REF split into blocks
   of consecutive rounds (taken side by side), and the spread of the
   ratios of the blocks' medians.  */
static double
block_noise (struct latency l, struct latency ref)
{
  enum { BLOCKS = 5 };
  int n = l.n < ref.n ? l.n : ref.n;
  int size = n / BLOCKS;
  if (size < 3 || l.ordered == NULL || ref.ordered == NULL)
    return NAN;
  double q[BLOCKS], a[size], b[size];
  for (int k = 0; k < BLOCKS; k++)
    {
      memcpy (a, l.ordered + k * size, size * sizeof *a);
      memcpy (b, ref.ordered + k * size, size * sizeof *b);
      q[k] = median (a, size) / median (b, size);
    }
  return spread (q, BLOCKS);
}

static struct latency
summarize (struct waiter *w)
{
  struct latency l;
  l.n = w->samples;
  l.w = w;
  l.ordered = malloc (w->samples * sizeof *l.ordered);
  if (l.ordered != NULL)
    memcpy (l.ordered, w->latency, w->samples * sizeof *l.ordered);
  l.p50 = percentile (w->latency, w->samples, 50) / 1000;
  l.p90 = percentile (w->latency, w->samples, 90) / 1000;
  l.p99 = percentile (w->latency, w->samples, 99) / 1000;
  return l;
}

static const char *
percentiles (struct latency l)
{
  return fmt ("p90 %.1f, p99 %.1f", l.p90, l.p99);
}

static void
emit_latency (const char *id, const char *figure, struct latency l,
              const char *ref_name, struct latency ref, const char *goal,
              double limit)
{
  double ratio = l.p50 / ref.p50;
  struct row r = { id, figure, l.p50, "us p50", percentiles (l),
                   fmt ("%s (%s)", ref_name, percentiles (ref)), ref.p50,
                   ratio, goal, *goal ? judge (ratio, true, limit) : "info",
                   block_noise (l, ref), l.n };
  emit (&r);
}

static double timed_flock_p50 = NAN;

void
bench_handoff (void)
{
  int samples = bench.quick ? 30 : 200;

  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      if (!portalock_backend_available (b))
        {
          emit_skipped (fmt ("handoff.timed.%s", name),
                        fmt ("hand-off to a timed waiter, %s", name),
                        "p50 <= 2x", "skipped: backend not built");
          continue;
        }
      struct waiter ws[8] = {
        { .mode = "raw", .kernel = true },
        { .mode = "timed", .kernel = true },
        { .mode = "plain", .kernel = true },
        { .mode = "timer", .kernel = true },
        { .mode = "floor", .kernel = true },
        { .mode = "object", .kernel = true },
        { .mode = "object-timer", .kernel = true },
        { .mode = "object-pending", .kernel = true },
      };
      bool pollable = have_objects () && portalock_acquire_start != NULL;
      int n = pollable ? 8 : have_objects () ? 7 : 5;
      run_waiters (ws, n, b, samples, 0);
      struct latency raw = summarize (&ws[0]);
      struct latency timed = summarize (&ws[1]);
      struct latency plain = summarize (&ws[2]);
      struct latency timer = summarize (&ws[3]);
      struct latency flr = summarize (&ws[4]);
      const char *ref = "kernel-blocked waiter, no timeout";
      emit_latency (fmt ("handoff.floor.%s", name),
                    fmt ("hand-off floor: kept helper + futex, %s", name),
                    flr, ref, raw, "", 0);
      emit_latency (fmt ("handoff.timed.floor.%s", name),
                    fmt ("hand-off to a timed waiter vs the floor, %s",
                         name),
                    timed, "two-thread floor (kept helper, futex)", flr,
                    "p50 <= 1.2x", 1.2);
      emit_latency (fmt ("handoff.timed.%s", name),
                    fmt ("hand-off to a timed waiter (10 s), %s", name),
                    timed, ref, raw, "p50 <= 2x", 2);
      emit_latency (fmt ("handoff.plain.%s", name),
                    fmt ("hand-off to an untimed waiter, %s", name),
                    plain, ref, raw, "", 0);
      emit_latency (fmt ("handoff.timer.%s", name),
                    fmt ("hand-off to a timed waiter (10 s) with a timer "
                         "signal, %s", name),
                    timer, ref, raw, "p50 <= 2x", 2);
      if (n >= 7)
        {
          struct latency object = summarize (&ws[5]);
          emit_latency (fmt ("handoff.object.%s", name),
                        fmt ("hand-off to a lock object (10 s), %s", name),
                        object, ref, raw, "p50 <= 2x", 2);
          emit_latency (fmt ("handoff.object.timer.%s", name),
                        fmt ("hand-off to a lock object (10 s) with a "
                             "timer signal, %s", name),
                        summarize (&ws[6]), ref, raw, "p50 <= 2x", 2);
        }
      if (n == 8)
        {
          struct latency object = summarize (&ws[5]);
          struct latency pending = summarize (&ws[7]);
          /* Release, the loop sees the descriptor readable, finish.  */
          emit_latency (fmt ("handoff.pending.%s", name),
                        fmt ("hand-off to a pollable acquisition (10 s), "
                             "%s", name),
                        pending, "lock object, blocking timed wait (10 s)",
                        object, "p50 <= 1.5x", 1.5);
          emit_latency (fmt ("handoff.pending.kernel.%s", name),
                        fmt ("hand-off to a pollable acquisition vs the "
                             "kernel-blocked waiter, %s", name),
                        pending, ref, raw, "", 0);
        }
      if (n < 7)
        {
          emit_skipped (fmt ("handoff.object.%s", name),
                        fmt ("hand-off to a lock object (10 s), %s", name),
                        "p50 <= 2x", "skipped: not built");
          emit_skipped (fmt ("handoff.object.timer.%s", name),
                        fmt ("hand-off to a lock object (10 s) with a "
                             "timer signal, %s", name),
                        "p50 <= 2x", "skipped: not built");
        }
      if (n < 8)
        {
          emit_skipped (fmt ("handoff.pending.%s", name),
                        fmt ("hand-off to a pollable acquisition (10 s), "
                             "%s", name),
                        "p50 <= 1.5x", "skipped: not built");
        }
      if (b == PORTALOCK_BACKEND_FLOCK)
        timed_flock_p50 = timed.p50;
      for (int k = 0; k < n; k++)
        waiter_stop (&ws[k]);
    }

  /* The Python peers lock with flock(2), so they meet our flock waiter.  */
  static const char *const peers[] = { "portalocker", "filelock" };
  for (int i = 0; i < 2; i++)
    {
      const char *id = fmt ("handoff.vs.%s", peers[i]);
      const char *figure = fmt ("hand-off: timed waiter vs %s", peers[i]);
      const char *goal = ">= 1000x lower p50";
      if (bench.python == NULL)
        {
          emit_skipped (id, figure, goal, "skipped: no /usr/bin/python3");
          continue;
        }
      if (isnan (timed_flock_p50))
        {
          emit_skipped (id, figure, goal, "skipped: no flock backend");
          continue;
        }
      struct waiter w = { .mode = fmt ("py-%s", peers[i]), .kernel = false };
      int n = bench.quick ? 5 : 25;
      int to, from;
      /* Check that the peer can run before timing it.  */
      pid_t probe = start_waiter (w.mode, PORTALOCK_BACKEND_FLOCK,
                                  bench_path ("probe.lock"), &to, &from);
      close (to);
      close (from);
      int status;
      waitpid (probe, &status, 0);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        {
          emit_skipped (id, figure, goal,
                        WIFEXITED (status) && WEXITSTATUS (status) == 3
                        ? fmt ("skipped: python3-%s not installed", peers[i])
                        : fmt ("skipped: the %s peer failed", peers[i]));
          continue;
        }
      run_waiters (&w, 1, PORTALOCK_BACKEND_FLOCK, n, 0);
      struct latency l = summarize (&w);
      waiter_stop (&w);
      double ratio = l.p50 / timed_flock_p50;
      struct row r = { id, figure, timed_flock_p50, "us p50",
                       "portalock timed waiter, flock",
                       fmt ("%s waiter, timeout 10 s (%s)", peers[i],
                            percentiles (l)),
                       l.p50, ratio, goal, judge (ratio, false, 1000), NAN,
                       l.n };
      emit (&r);
    }
}

void
bench_cpu (void)
{
  int64_t hold = bench.quick ? 250000000 : 2000000000;
  const char *goal = "<= 1 %";
  char wait_text[32];
  snprintf (wait_text, sizeof wait_text, "%.2g s", hold / 1e9);

  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      const char *id = fmt ("cpu.timed.%s", name);
      const char *figure = fmt ("CPU of a timed waiter over a %s wait, %s",
                                wait_text, name);
      if (!portalock_backend_available (b))
        {
          emit_skipped (id, figure, goal, "skipped: backend not built");
          continue;
        }
      struct waiter w = { .mode = "timed", .kernel = true };
      run_waiters (&w, 1, b, 1, hold);
      struct row r = { id, figure, w.cpu_share, "% of wait",
                       "waiter's own CPU clock", "", NAN, NAN, goal,
                       judge (w.cpu_share, true, 1), NAN, 1 };
      emit (&r);
      waiter_stop (&w);
    }

  const char *id = "cpu.object";
  const char *figure = fmt ("CPU of a lock object waiter over a %s wait",
                            wait_text);
  if (have_objects ())
    {
      struct waiter w = { .mode = "object", .kernel = true };
      run_waiters (&w, 1, portalock_default_backend (), 1, hold);
      struct row r = { id, figure, w.cpu_share, "% of wait",
                       fmt ("default backend (%s)", portalock_backend_name
                            (PORTALOCK_BACKEND_DEFAULT)),
                       "", NAN, NAN, goal, judge (w.cpu_share, true, 1), NAN,
                       1 };
      emit (&r);
      waiter_stop (&w);
    }
  else
    emit_skipped (id, figure, goal, "skipped: not built");

  id = "cpu.pending";
  figure = fmt ("CPU of a pollable acquisition's waiter over a %s wait",
                wait_text);
  if (have_objects () && portalock_acquire_start != NULL)
    {
      struct waiter w = { .mode = "object-pending", .kernel = true };
      run_waiters (&w, 1, portalock_default_backend (), 1, hold);
      struct row r = { id, figure, w.cpu_share, "% of wait",
                       fmt ("default backend (%s)", portalock_backend_name
                            (PORTALOCK_BACKEND_DEFAULT)),
                       "", NAN, NAN, goal, judge (w.cpu_share, true, 1), NAN,
                       1 };
      emit (&r);
      waiter_stop (&w);
    }
  else
    emit_skipped (id, figure, goal, "skipped: not built");

  static const char *const peers[] = { "portalocker", "filelock" };
  for (int i = 0; i < 2 && bench.python != NULL; i++)
    {
      struct waiter w = { .mode = fmt ("py-%s", peers[i]), .kernel = false };
      int to, from, status;
      pid_t probe = start_waiter (w.mode, PORTALOCK_BACKEND_FLOCK,
                                  bench_path ("probe.lock"), &to, &from);
      close (to);
      close (from);
      waitpid (probe, &status, 0);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        continue;
      run_waiters (&w, 1, PORTALOCK_BACKEND_FLOCK, 1, hold);
      struct row r = { fmt ("cpu.%s", peers[i]),
                       fmt ("CPU of a %s waiter over a %s wait", peers[i],
                            wait_text),
                       w.cpu_share, "% of wait", "for comparison", "", NAN,
                       NAN, "", "info", NAN, 1 };
      emit (&r);
      waiter_stop (&w);
    }
}
