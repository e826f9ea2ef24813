/* scaling.c: what a lock costs as the process holds more, from more
   threads, and what a timed lock costs when nobody holds it.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* One timed piece of work: a lock and unlock of some kind.  */
struct work
{
  enum portalock_backend backend;
  const char *path;
  int fd;
  portalock *lock;
  long iters;
  int64_t elapsed;
};

static void
raw_open_pair (struct work *w)
{
  int fd = open (w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || raw_lock (w->backend, fd, true) != 0
      || raw_unlock (w->backend, fd) != 0 || close (fd) != 0)
    fail ("raw open and lock");
}

static void
object_pair (struct work *w)
{
  if (portalock_acquire (w->lock) != 0 || portalock_release (w->lock) != 0)
    fail ("portalock_acquire");
}

static void
raw_fd_pair (struct work *w)
{
  if (raw_lock (w->backend, w->fd, true) != 0
      || raw_unlock (w->backend, w->fd) != 0)
    fail ("raw lock");
}

/* A timed lock (10 s) of a free lock, and its unlock.  */
static void
timed_fd_pair (struct work *w)
{
  if (portalock_backend_lock (w->backend, w->fd, PORTALOCK_EX, 0, 0, 10)
      != 0
      || portalock_backend_lock (w->backend, w->fd, PORTALOCK_UN, 0, 0, 0)
         != 0)
    fail ("portalock_backend_lock");
}

typedef void (*operation) (struct work *);

/* The mean nanoseconds of W->iters runs of OP.  */
static double
batch (operation op, struct work *w)
{
  int64_t start = now_ns ();
  for (long i = 0; i < w->iters; i++)
    op (w);
  return (double) (now_ns () - start) / w->iters;
}

/* Medians of ROUNDS interleaved rounds of REF and SUB; *NOISE gets the
   spread of the per-round ratios.  */
static void
side_by_side (operation ref, struct work *rw, operation sub, struct work *sw,
              int rounds, double *ref_ns, double *sub_ns, double *noise)
{
  double r[rounds], s[rounds], q[rounds];
  batch (ref, rw);
  batch (sub, sw);
  for (int i = 0; i < rounds; i++)
    {
      if (i % 2 == 0)
        {
          r[i] = batch (ref, rw);
          s[i] = batch (sub, sw);
        }
      else
        {
          s[i] = batch (sub, sw);
          r[i] = batch (ref, rw);
        }
      q[i] = s[i] / r[i];
    }
  *noise = spread (q, rounds);
  *ref_ns = median (r, rounds);
  *sub_ns = median (s, rounds);
}

static portalock *
new_object (const char *path, enum portalock_backend b)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, b) != 0
      || portalock_set_timeout (lock, 5) != 0)
    fail ("portalock_new %s", path);
  return lock;
}

/* Timed locks of a free lock: what a deadline costs when nothing waits.  */
static void
timed_free (int rounds, long iters)
{
  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      const char *id = fmt ("fd.timedfree.%s", name);
      const char *figure = fmt ("timed lock (10 s)+unlock, lock free, %s",
                                name);
      if (!portalock_backend_available (b))
        {
          emit_skipped (id, figure, "<= 1.10x", "skipped: backend not built");
          continue;
        }
      struct work w = { .backend = b, .iters = iters,
                        .fd = open_or_die (bench_path ("timedfree.lock")) };
      double ref, sub, noise;
      side_by_side (raw_fd_pair, &w, timed_fd_pair, &w, rounds, &ref, &sub,
                    &noise);
      close (w.fd);
      struct row r = { id, figure, sub, "ns", "no helper, no timer",
                       fmt ("raw %s pair", name), ref, sub / ref,
                       "<= 1.10x", judge (sub / ref, true, 1.10), noise,
                       rounds };
      emit (&r);
    }
}

/* One lock object's acquire+release while the process holds HELD other
   lock objects, against the raw open+lock+unlock+close measured beside
   it; the ratio is taken relative to the same ratio with none held.  */
static void
held_objects (int rounds, long iters)
{
  static const int counts[] = { 0, 100, 1000, 10000 };
  int ncounts = bench.quick ? 3 : 4;

  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      if (!portalock_backend_available (b) || !have_objects ())
        {
          for (int k = 0; k < ncounts; k++)
            emit_skipped (fmt ("scale.held.%d.%s", counts[k], name),
                          fmt ("acquire+release, %d others held, %s",
                               counts[k], name),
                          "<= 1.2x of 0 held", "skipped: not built");
          continue;
        }
      int max = counts[ncounts - 1];
      portalock **held = calloc (max, sizeof *held);
      if (held == NULL)
        fail ("calloc");
      int nheld = 0;
      double base = NAN;
      /* bench_path's buffers are reused: keep a copy.  */
      char *path = strdup (bench_path (fmt ("scale-%s.lock", name)));
      if (path == NULL)
        fail ("strdup");
      struct work raw = { .backend = b, .path = path, .iters = iters };
      struct work obj = { .backend = b, .lock = new_object (path, b),
                          .iters = iters };
      for (int k = 0; k < ncounts; k++)
        {
          for (; nheld < counts[k]; nheld++)
            {
              held[nheld] = new_object (bench_path (fmt ("held-%d.lock",
                                                         nheld)), b);
              if (portalock_acquire (held[nheld]) != 0)
                fail ("holding %d lock objects", nheld + 1);
            }
          double ref, sub, noise;
          side_by_side (raw_open_pair, &raw, object_pair, &obj, rounds, &ref,
                        &sub, &noise);
          double q = sub / ref;
          if (k == 0)
            base = q;
          struct row r = { fmt ("scale.held.%d.%s", counts[k], name),
                           fmt ("acquire+release, %d others held, %s",
                                counts[k], name),
                           sub, "ns", fmt ("%.2fx raw", q),
                           fmt ("raw open+lock+unlock+close; ratio vs %s",
                                "the same with 0 held"),
                           ref, q / base, "<= 1.2x of 0 held",
                           judge (q / base, true, 1.2), noise, rounds };
          emit (&r);
        }
      portalock_free (obj.lock);
      for (int k = 0; k < nheld; k++)
        portalock_free (held[k]);
      free (held);
      free (path);
    }
}

struct runner
{
  operation op;
  struct work *w;
};

static void *
run_one (void *arg)
{
  struct runner *r = arg;
  int64_t start = now_ns ();
  for (long i = 0; i < r->w->iters; i++)
    r->op (r->w);
  r->w->elapsed = now_ns () - start;
  return NULL;
}

/* Run OP on each of the N works in N threads at once; return the wall
   nanoseconds per operation per thread.  */
static double
threaded (operation op, struct work *ws, int n)
{
  pthread_t t[n];
  struct runner rs[n];
  int64_t start = now_ns ();
  for (int i = 0; i < n; i++)
    {
      rs[i] = (struct runner) { op, &ws[i] };
      if (pthread_create (&t[i], NULL, run_one, &rs[i]) != 0)
        fail ("pthread_create");
    }
  for (int i = 0; i < n; i++)
    pthread_join (t[i], NULL);
  return (double) (now_ns () - start) / ws[0].iters;
}

/* N threads, each with its own lock object on its own file, against N
   threads doing the raw calls on their own files.  */
static void
distinct_threads (int rounds, long iters)
{
  enum { MAXT = 4 };
  static const int counts[] = { 1, 2, 4 };
  for (int i = 0; bench_backends[i] != PORTALOCK_BACKEND_DEFAULT; i++)
    {
      enum portalock_backend b = bench_backends[i];
      const char *name = portalock_backend_name (b);
      if (!portalock_backend_available (b) || !have_objects ())
        continue;
      struct work raw[MAXT], obj[MAXT];
      for (int t = 0; t < MAXT; t++)
        {
          char *path = strdup (bench_path (fmt ("thread-%d-%s.lock", t,
                                                name)));
          if (path == NULL)
            fail ("strdup");
          raw[t] = (struct work) { .backend = b, .path = path,
                                   .iters = iters };
          obj[t] = (struct work) { .backend = b, .lock = new_object (path, b),
                                   .iters = iters };
        }
      double base = NAN;
      for (int k = 0; k < 3; k++)
        {
          int n = counts[k];
          double r[rounds], s[rounds], q[rounds];
          threaded (raw_open_pair, raw, n);
          threaded (object_pair, obj, n);
          for (int j = 0; j < rounds; j++)
            {
              r[j] = threaded (raw_open_pair, raw, n);
              s[j] = threaded (object_pair, obj, n);
              q[j] = s[j] / r[j];
            }
          double noise = spread (q, rounds);
          double ref = median (r, rounds), sub = median (s, rounds);
          if (k == 0)
            base = sub / ref;
          double ratio = sub / ref / base;
          struct row row = { fmt ("scale.threads.%d.%s", n, name),
                             fmt ("%d thread(s), each its own file, %s", n,
                                  name),
                             sub, "ns", fmt ("wall per op; %.2fx raw",
                                             sub / ref),
                             fmt ("%d thread(s) raw open+lock+unlock+close;"
                                  " ratio vs 1 thread", n),
                             ref, ratio, "<= 1.2x of 1 thread",
                             judge (ratio, true, 1.2), noise, rounds };
          emit (&row);
        }
      for (int t = 0; t < MAXT; t++)
        {
          portalock_free (obj[t].lock);
          free ((char *) raw[t].path);
        }
    }
}

void
bench_scaling (void)
{
  int rounds = bench.quick ? 5 : 11;
  long iters = bench.quick ? 500 : 4000;
  timed_free (rounds, iters * 4);
  held_objects (rounds, iters);
  distinct_threads (rounds, iters / 2);
}
