/* rwlock.c: what writer preference costs uncontended, and what it
   brings: a writer's wait under a stream of readers.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#pragma weak portalock_set_writer_preference
#pragma weak portalock_set_flags

/* A lock object on PATH with BACKEND, TYPE, and writer preference if
   PREFER.  */
static portalock *
new_rw (const char *path, enum portalock_backend backend, int type,
        bool prefer, double timeout)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, backend) != 0
      || portalock_set_flags (lock, type) != 0
      || portalock_set_writer_preference (lock, prefer) != 0
      || portalock_set_timeout (lock, timeout) != 0)
    fail ("lock object on %s", path);
  return lock;
}

/* The median ns of an uncontended acquire and release of LOCK, over
   ROUNDS rounds of ITERS; its spread in *NOISE.  */
static double
pair_ns (portalock *lock, int rounds, long iters, double *noise)
{
  double v[rounds];
  for (long i = 0; i < iters / 4 + 1; i++)
    if (portalock_acquire (lock) != 0 || portalock_release (lock) != 0)
      fail ("acquire");
  for (int r = 0; r < rounds; r++)
    {
      int64_t start = now_ns ();
      for (long i = 0; i < iters; i++)
        if (portalock_acquire (lock) != 0 || portalock_release (lock) != 0)
          fail ("acquire");
      v[r] = (double) (now_ns () - start) / iters;
    }
  *noise = spread (v, rounds);
  return median (v, rounds);
}

static void
uncontended (void)
{
  int rounds = bench.quick ? 5 : 15;
  long iters = bench.quick ? 500 : 5000;
  const char *path = bench_path ("rw.lock");
  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      for (int t = 0; t < 2; t++)
        {
          int type = t == 0 ? PORTALOCK_SH : PORTALOCK_EX;
          const char *kind = t == 0 ? "reader" : "writer";
          const char *id = fmt ("rw.%s.%s", t == 0 ? "sh" : "ex", name);
          const char *figure = fmt ("%s acquire+release with writer "
                                    "preference, %s", kind, name);
          if (!portalock_backend_available (b)
              || (type == PORTALOCK_SH && b == PORTALOCK_BACKEND_LOCKF))
            {
              emit_skipped (id, figure, "", "skipped: no such lock here");
              continue;
            }
          portalock *plain = new_rw (path, b, type, false, 5);
          portalock *pref = new_rw (path, b, type, true, 5);
          double np, nq;
          double p = pair_ns (plain, rounds, iters, &np);
          double q = pair_ns (pref, rounds, iters, &nq);
          portalock_free (plain);
          portalock_free (pref);
          struct row r = { id, figure, q, "ns",
                           "the gate's open, lock and close on top",
                           fmt ("plain %s object", kind), p, q / p, "",
                           "info", nq > np ? nq : np, rounds };
          emit (&r);
        }
    }
}

/* What the reader processes share.  */
static volatile int *stop_readers;

/* A reader of the stream: hold PATH shared for HOLD_US, let go, and
   take it again at once, until told to stop.  */
static _Noreturn void
reader (const char *path, enum portalock_backend b, bool prefer,
        int hold_us)
{
  portalock *lock = new_rw (path, b, PORTALOCK_SH, prefer, 60);
  while (!*stop_readers)
    {
      if (portalock_acquire (lock) != 0)
        _exit (1);
      usleep (hold_us);
      portalock_release (lock);
    }
  _exit (0);
}

#define READERS 8

/* A writer's wait behind READERS overlapping readers, with and without
   writer preference on every participant.  */
static void
writer_wait (bool prefer)
{
  enum portalock_backend b = portalock_default_backend ();
  const char *name = portalock_backend_name (b);
  const char *id = fmt ("rw.wait.%s", prefer ? "pref" : "plain");
  const char *figure = fmt ("writer's wait behind %d readers holding 2 ms "
                            "each, %s preference, %s", READERS,
                            prefer ? "with" : "without", name);
  if (b == PORTALOCK_BACKEND_LOCKF)
    {
      emit_skipped (id, figure, "", "skipped: no shared locks");
      return;
    }
  int rounds = prefer ? (bench.quick ? 5 : 21) : (bench.quick ? 1 : 3);
  double cap = bench.quick ? 0.5 : 2;
  const char *path = bench_path (prefer ? "rw-pref.lock" : "rw-plain.lock");
  *stop_readers = 0;
  pid_t pids[READERS];
  for (int i = 0; i < READERS; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        fail ("fork");
      if (pids[i] == 0)
        reader (path, b, prefer, 2000);
      /* Stagger them, so that their holds overlap.  */
      usleep (250);
    }
  usleep (20000);
  double v[rounds];
  int timed_out = 0;
  portalock *w = new_rw (path, b, PORTALOCK_EX, prefer, cap);
  for (int r = 0; r < rounds; r++)
    {
      int64_t start = now_ns ();
      int got = portalock_acquire (w);
      v[r] = (double) (now_ns () - start) / 1e6;
      if (got == 0)
        portalock_release (w);
      else if (errno == ETIMEDOUT)
        timed_out++;
      else
        fail ("writer");
      usleep (10000);
    }
  portalock_free (w);
  *stop_readers = 1;
  for (int i = 0; i < READERS; i++)
    waitpid (pids[i], NULL, 0);
  double worst = percentile (v, rounds, 100);
  struct row r = { id, figure, median (v, rounds), "ms",
                   fmt ("worst %.1f ms; %d of %d gave up at %.1f s",
                        worst, timed_out, rounds, cap),
                   "", NAN, NAN, "", "info", NAN, rounds };
  emit (&r);
}

void
bench_rwlock (void)
{
  if (!have_objects () || portalock_set_writer_preference == NULL)
    {
      emit_skipped ("rw", "writer preference", "",
                    "skipped: no portalock_set_writer_preference");
      return;
    }
  uncontended ();
  stop_readers = mmap (NULL, sizeof *stop_readers, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (stop_readers == MAP_FAILED)
    fail ("mmap");
  writer_wait (false);
  writer_wait (true);
}
