/* markers.c: what the marker and lease methods cost beside the kernel lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Three figures per marker method (strict, lease), each beside the
   kernel lock's measured in the same run, and the cost of its shared
   locks and of writer preference beside its exclusive lock:
   - a lock object's acquire+release, uncontended, on the benchmark's
     directory and, when bench/run could mount it (bindfs), on a plain
     FUSE mount of it: rounds of each kind taken in turn;
   - the hand-off to a waiting lock object: the driver holds the lock
     with the same method, a waiter process asks for it, and after a
     random pause (a polling waiter's backoff has then grown as it would
     in use) the driver releases; the time from the release call to the
     waiter's grant, on CLOCK_MONOTONIC, which all processes share;
   - the CPU time the waiter burns over a long wait, from its own CPU
     clock (all its threads).
   A marker method takes the kernel lock on the data file first, so a
   waiter on the holder's machine waits in the kernel ("local").  One
   whose kernel lock does not reach the holder's, as on another machine
   or through a second, plain FUSE mount ("fuse"), finds the marker
   taken and polls it, with a backoff capped at the object's check
   interval (default 0.25 s): another machine's marker changes nothing
   its kernel sees.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define NO_FUSE "skipped: no FUSE mount (bindfs, fusermount, /dev/fuse)"

static const enum portalock_method marker_methods[] =
  { PORTALOCK_METHOD_STRICT, PORTALOCK_METHOD_LEASE };

static portalock *
new_lock (const char *path, enum portalock_method method, double timeout)
{
  portalock *l = portalock_new (path);
  if (l == NULL || portalock_set_method (l, method) != 0
      || portalock_set_timeout (l, timeout) != 0)
    fail ("lock object for %s", path);
  return l;
}

static void
pause_for (int64_t ns)
{
  struct timespec ts = { ns / 1000000000, ns % 1000000000 };
  while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
    continue;
}

/* Nanoseconds per acquire+release of a METHOD object on PATH, over N:
   a TYPE lock, preferring writers if PREFER.  */
static double
rw_pair_cost (const char *path, enum portalock_method method, int type,
              bool prefer, int n)
{
  portalock *l = new_lock (path, method, 10);
  if (portalock_set_flags (l, type) != 0
      || portalock_set_writer_preference (l, prefer) != 0)
    fail ("lock settings for %s", path);
  int64_t t0 = now_ns ();
  for (int i = 0; i < n; i++)
    if (portalock_acquire (l) != 0 || portalock_release (l) != 0)
      fail ("%s lock of %s", portalock_method_name (method), path);
  int64_t t1 = now_ns ();
  portalock_free (l);
  return (double) (t1 - t0) / n;
}

static double
pair_cost (const char *path, enum portalock_method method, int n)
{
  return rw_pair_cost (path, method, PORTALOCK_EX, false, n);
}

/* The shared-lock rows for the directory DIR, called WHERE: a reader's
   and a writer's acquire+release, uncontended, with and without writer
   preference, beside the plain exclusive marker lock of the same
   method, each kind taken in turn in every round.  A reader takes the
   writer marker as a pass and registers a reader marker; a writer adds
   a look for reader markers; writer preference adds the gate, a kernel
   lock on PATH.gate.  */
static void
rw_rows (const char *dir, const char *where)
{
  enum { ROUNDS = 7, KINDS = 4 };
  static const struct
  {
    const char *name, *what;
    int type;
    bool prefer;
  } kinds[KINDS] = {
    { "reader", "reader", PORTALOCK_SH, false },
    { "reader-pref", "reader, prefer writers", PORTALOCK_SH, true },
    { "writer", "writer", PORTALOCK_EX, false },
    { "writer-pref", "writer, prefer writers", PORTALOCK_EX, true },
  };
  int rounds = bench.quick ? 3 : ROUNDS;
  int n = bench.quick ? 30 : 100;
  for (int m = 0; m < 2; m++)
    {
      enum portalock_method method = marker_methods[m];
      const char *name = portalock_method_name (method);
      const char *path = fmt ("%s/markers-rw-%d.lock", dir, m);
      double base[ROUNDS], v[KINDS][ROUNDS], ratio[KINDS][ROUNDS];
      for (int r = 0; r < rounds; r++)
        {
          /* The plain exclusive lock is the same as the writer without
             preference now; it is measured again as the reference.  */
          base[r] = pair_cost (path, method, n);
          for (int k = 0; k < KINDS; k++)
            {
              v[k][r] = rw_pair_cost (path, method, kinds[k].type,
                                      kinds[k].prefer, n);
              ratio[k][r] = v[k][r] / base[r];
            }
        }
      double b = median (base, rounds) / 1000;
      for (int k = 0; k < KINDS; k++)
        {
          struct row row = { fmt ("marker.rw.%s.%s.%s", name, kinds[k].name,
                                  where),
                             fmt ("%s %s acquire+release, %s", name,
                                  kinds[k].what, where),
                             median (v[k], rounds) / 1000, "us",
                             fmt ("%d per round", n),
                             fmt ("exclusive %s lock object, %s", name,
                                  where),
                             b, median (ratio[k], rounds), "", "info",
                             spread (ratio[k], rounds), rounds };
          emit (&row);
        }
    }
}

/* The acquire+release rows for the directory DIR, called WHERE.  */
static void
acquire_rows (const char *dir, const char *where)
{
  enum { ROUNDS = 7 };
  int rounds = bench.quick ? 3 : ROUNDS;
  int nk = bench.quick ? 300 : 3000, nm = bench.quick ? 30 : 100;
  double kernel[ROUNDS], marker[2][ROUNDS], ratio[2][ROUNDS];
  const char *kpath = fmt ("%s/markers-kernel.lock", dir);
  for (int r = 0; r < rounds; r++)
    {
      kernel[r] = pair_cost (kpath, PORTALOCK_METHOD_KERNEL, nk);
      for (int m = 0; m < 2; m++)
        {
          marker[m][r] = pair_cost (fmt ("%s/markers-%d.lock", dir, m),
                                    marker_methods[m], nm);
          ratio[m][r] = marker[m][r] / kernel[r];
        }
    }
  double k = median (kernel, rounds) / 1000;
  static double local_kernel = NAN;
  if (strcmp (where, "local") == 0)
    local_kernel = k;
  else
    {
      struct row row = { fmt ("marker.acquire.kernel.%s", where),
                         fmt ("kernel lock object acquire+release, %s",
                              where),
                         k, "us", fmt ("%d per round", nk),
                         "the same, local", local_kernel, k / local_kernel,
                         "", "info", NAN, rounds };
      emit (&row);
    }
  const char *ref = fmt ("kernel lock object (%s), %s",
                         portalock_backend_name (PORTALOCK_BACKEND_DEFAULT),
                         where);
  for (int m = 0; m < 2; m++)
    {
      const char *name = portalock_method_name (marker_methods[m]);
      double v = median (marker[m], rounds) / 1000;
      struct row row = { fmt ("marker.acquire.%s.%s", name, where),
                         fmt ("%s lock object acquire+release, %s", name,
                              where),
                         v, "us", fmt ("%d per round", nm), ref, k,
                         median (ratio[m], rounds), "", "info",
                         spread (ratio[m], rounds), rounds };
      emit (&row);
    }
}

/* A writer's wait under a stream of readers.  READERS processes take
   shared locks of METHOD on RPATH in a loop, each held HOLD_MS, so that
   at every moment one of them holds; a writer on WPATH then asks for an
   exclusive lock, PREFER saying whether all of them prefer writers.
   Return the writer's median wait over ROUNDS, in milliseconds, a wait
   cut at LIMIT seconds counting as LIMIT.  */
static double
writer_wait (const char *rpath, const char *wpath,
             enum portalock_method method, bool prefer, int rounds,
             double limit)
{
  enum { READERS = 4, HOLD_MS = 20, MAX_ROUNDS = 9 };
  int *stop = mmap (NULL, sizeof *stop, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (stop == MAP_FAILED)
    fail ("mmap");
  *stop = 0;
  pid_t pids[READERS];
  for (int i = 0; i < READERS; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        fail ("fork");
      if (pids[i] == 0)
        {
          portalock *r = new_lock (rpath, method, 60);
          if (portalock_set_flags (r, PORTALOCK_SH) != 0
              || portalock_set_writer_preference (r, prefer) != 0)
            _exit (2);
          /* Staggered, so that the holds overlap.  */
          pause_for ((int64_t) i * HOLD_MS * 1000000 / READERS);
          while (!__atomic_load_n (stop, __ATOMIC_SEQ_CST))
            {
              if (portalock_acquire (r) != 0)
                _exit (1);
              pause_for ((int64_t) HOLD_MS * 1000000);
              portalock_release (r);
            }
          portalock_free (r);
          _exit (0);
        }
    }
  pause_for (200000000);
  double waits[MAX_ROUNDS];
  if (rounds > MAX_ROUNDS)
    rounds = MAX_ROUNDS;
  portalock *w = new_lock (wpath, method, limit);
  if (portalock_set_writer_preference (w, prefer) != 0)
    fail ("writer preference");
  for (int k = 0; k < rounds; k++)
    {
      int64_t t0 = now_ns ();
      if (portalock_acquire (w) == 0)
        {
          waits[k] = (now_ns () - t0) / 1e6;
          portalock_release (w);
        }
      else
        waits[k] = limit * 1000;
      pause_for (50000000);
    }
  portalock_free (w);
  __atomic_store_n (stop, 1, __ATOMIC_SEQ_CST);
  for (int i = 0; i < READERS; i++)
    waitpid (pids[i], NULL, 0);
  munmap (stop, sizeof *stop);
  return median (waits, rounds);
}

/* The writer-wait rows of METHOD: readers and writer on this machine
   (the kernel lock decides; writer preference makes it prefer
   writers), and readers through the FUSE mount, writer here (the
   markers decide, and always prefer writers).  */
static void
wait_rows (enum portalock_method method)
{
  const char *name = portalock_method_name (method);
  int rounds = bench.quick ? 3 : 7;
  double limit = bench.quick ? 1 : 3;
  const char *path = fmt ("%s/markers-stream-%s.lock", bench.dir, name);
  for (int where = 0; where < 2; where++)
    {
      const char *rpath = path;
      if (where == 1)
        {
          if (bench.fuse == NULL)
            {
              emit_skipped (fmt ("marker.rwwait.%s.fuse", name),
                            fmt ("%s writer's wait under 4 readers, fuse",
                                 name), "", NO_FUSE);
              continue;
            }
          rpath = fmt ("%s/markers-stream-%s.lock", bench.fuse, name);
        }
      double plain = writer_wait (rpath, path, method, false, rounds, limit);
      double pref = writer_wait (rpath, path, method, true, rounds, limit);
      const char *w = where ? "readers through fuse" : "local";
      struct row row = { fmt ("marker.rwwait.%s.%s", name,
                              where ? "fuse" : "local"),
                         fmt ("%s writer's wait under 4 readers, prefer "
                              "writers, %s", name, w),
                         pref, "ms",
                         fmt ("median of %d; a wait is cut at %.0f s",
                              rounds, limit),
                         fmt ("without writer preference, %s", w), plain,
                         pref / plain, "", "info", NAN, rounds };
      emit (&row);
    }
}

/* The waiter's side: acquire with METHOD whenever told to, report the
   time of the grant and the CPU time the wait took, release.  */
static _Noreturn void
waiter (const char *path, enum portalock_method method, FILE *in,
        FILE *out)
{
  portalock *l = new_lock (path, method, 60);
  char line[32];
  while (fgets (line, sizeof line, in) != NULL && strcmp (line, "go\n") == 0)
    {
      fputs ("ready\n", out);
      fflush (out);
      int64_t c0 = cpu_ns ();
      if (portalock_acquire (l) != 0)
        _exit (1);
      int64_t t1 = now_ns ();
      int64_t c1 = cpu_ns ();
      if (portalock_release (l) != 0)
        _exit (1);
      fprintf (out, "%lld %lld\n", (long long) t1, (long long) (c1 - c0));
      fflush (out);
    }
  _exit (0);
}

struct waits
{
  double latency[200];          /* nanoseconds */
  double cpu_share;             /* percent of the last wait */
  int n;
};

/* SAMPLES hand-offs of a METHOD lock on PATH (the driver's) to a
   waiter process locking WPATH (the same file, perhaps through another
   mount); each time the driver holds HOLD_NS (0: a random 20 to 60 ms)
   after the waiter has asked.  */
static void
hand_offs (const char *path, const char *wpath,
           enum portalock_method method, int samples, int64_t hold_ns,
           struct waits *w)
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
      close (down[1]);
      close (up[0]);
      waiter (wpath, method, fdopen (down[0], "r"), fdopen (up[1], "w"));
    }
  close (down[0]);
  close (up[1]);
  FILE *to = fdopen (down[1], "w"), *from = fdopen (up[0], "r");
  if (to == NULL || from == NULL)
    fail ("fdopen");
  portalock *l = new_lock (path, method, 60);
  char line[64];
  w->n = 0;
  for (int s = 0; s < samples && s < 200; s++)
    {
      if (portalock_acquire (l) != 0)
        fail ("driver acquire");
      fputs ("go\n", to);
      fflush (to);
      if (fgets (line, sizeof line, from) == NULL
          || strcmp (line, "ready\n") != 0)
        {
          errno = EIO;
          fail ("the %s waiter did not start",
                portalock_method_name (method));
        }
      int64_t asked = now_ns ();
      pause_for (hold_ns > 0 ? hold_ns : (20 + random () % 41) * 1000000LL);
      int64_t t0 = now_ns ();
      if (portalock_release (l) != 0)
        fail ("driver release");
      long long t1, cpu;
      if (fgets (line, sizeof line, from) == NULL
          || sscanf (line, "%lld %lld", &t1, &cpu) != 2)
        {
          errno = EIO;
          fail ("the %s waiter failed", portalock_method_name (method));
        }
      w->latency[w->n++] = t1 - t0;
      w->cpu_share = 100.0 * cpu / (t1 - asked);
    }
  portalock_free (l);
  fclose (to);
  fclose (from);
  waitpid (pid, NULL, 0);
}

/* The hand-off and CPU rows of METHOD, the waiter locking through the
   directory WDIR, called WHERE; beside the kernel lock's hand-off K.  */
static void
handoff_rows (enum portalock_method method, const char *wdir,
              const char *where, struct waits *k)
{
  int samples = bench.quick ? 8 : 40;
  const char *name = portalock_method_name (method);
  const char *file = fmt ("markers-handoff-%s-%s.lock", name, where);
  struct waits m;
  hand_offs (bench_path (file), fmt ("%s/%s", wdir, file), method, samples,
             0, &m);
  double k50 = percentile (k->latency, k->n, 50) / 1000;
  double k90 = percentile (k->latency, k->n, 90) / 1000;
  double p50 = percentile (m.latency, m.n, 50) / 1000;
  double p90 = percentile (m.latency, m.n, 90) / 1000;
  struct row row = { fmt ("marker.handoff.%s.%s", name, where),
                     fmt ("hand-off to a waiting %s lock object, %s", name,
                          where),
                     p50, "us p50", fmt ("p90 %.0f", p90),
                     fmt ("kernel lock object waiter, local (p90 %.1f)",
                          k90),
                     k50, p50 / k50, "", "info", NAN, m.n };
  emit (&row);

  /* The CPU of a long wait.  */
  int64_t hold = bench.quick ? 250000000 : 2000000000;
  file = fmt ("markers-cpu-%s-%s.lock", name, where);
  hand_offs (bench_path (file), fmt ("%s/%s", wdir, file), method, 1, hold,
             &m);
  struct row cpu = { fmt ("marker.cpu.%s.%s", name, where),
                     fmt ("CPU of a waiting %s lock object over a %.2g s "
                          "wait, %s", name, hold / 1e9, where),
                     m.cpu_share, "% of wait", "waiter's own CPU clock",
                     "", NAN, NAN, "<= 1 %", judge (m.cpu_share, true, 1),
                     NAN, 1 };
  emit (&cpu);
}

/* Return true if lock objects take the marker methods here.  */
static bool
have_markers (void)
{
  if (!have_objects ())
    return false;
  portalock *l = portalock_new (bench_path ("markers-probe.lock"));
  bool ok = l != NULL
    && portalock_set_method (l, PORTALOCK_METHOD_STRICT) == 0
    && portalock_set_method (l, PORTALOCK_METHOD_LEASE) == 0;
  portalock_free (l);
  return ok;
}

void
bench_markers (void)
{
  if (!have_markers ())
    {
      emit_skipped ("marker", "marker and lease lock objects", "",
                    "skipped: not built");
      return;
    }
  acquire_rows (bench.dir, "local");
  rw_rows (bench.dir, "local");
  if (bench.fuse != NULL)
    {
      acquire_rows (bench.fuse, "fuse");
      rw_rows (bench.fuse, "fuse");
    }
  else
    for (int m = 0; m < 2; m++)
      {
        const char *name = portalock_method_name (marker_methods[m]);
        emit_skipped (fmt ("marker.acquire.%s.fuse", name),
                      fmt ("%s lock object acquire+release, fuse", name),
                      "", NO_FUSE);
      }

  for (int m = 0; m < 2; m++)
    wait_rows (marker_methods[m]);

  /* A waiter of this machine waits in the kernel for the data file's
     lock (local); one whose kernel lock does not reach the holder's, as
     through the FUSE mount, polls the marker (fuse).  */
  struct waits k;
  const char *kfile = bench_path ("markers-handoff-kernel.lock");
  hand_offs (kfile, kfile, PORTALOCK_METHOD_KERNEL, bench.quick ? 8 : 40, 0,
             &k);
  for (int m = 0; m < 2; m++)
    {
      handoff_rows (marker_methods[m], bench.dir, "local", &k);
      if (bench.fuse != NULL)
        handoff_rows (marker_methods[m], bench.fuse, "fuse", &k);
      else
        {
          const char *name = portalock_method_name (marker_methods[m]);
          emit_skipped (fmt ("marker.handoff.%s.fuse", name),
                        fmt ("hand-off to a waiting %s lock object, fuse",
                             name), "", NO_FUSE);
          emit_skipped (fmt ("marker.cpu.%s.fuse", name),
                        fmt ("CPU of a waiting %s lock object, fuse", name),
                        "<= 1 %", NO_FUSE);
        }
    }
}
