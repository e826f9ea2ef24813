/* throughput.c: locked increments per second under contention.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* P processes or T threads share one counter in one file: each in turn
   locks, reads the counter, adds one, writes it back and unlocks, until
   all the increments are done.  A lost update shows as a final count
   below the total.  Each worker has its own descriptor, so locks that
   belong to the open file description exclude threads too.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum method { RAW_FLOCK, PLAIN, TIMED };

struct job
{
  enum method method;
  const char *path;
  long increments;            /* per worker */
  pthread_barrier_t *barrier; /* threads only */
};

static int
job_lock (const struct job *j, int fd)
{
  switch (j->method)
    {
    case RAW_FLOCK:
      return flock (fd, LOCK_EX);
    case PLAIN:
      return portalock_lock (fd, PORTALOCK_EX);
    default:
      return portalock_lock_timeout (fd, PORTALOCK_EX, 10);
    }
}

static int
job_unlock (const struct job *j, int fd)
{
  return j->method == RAW_FLOCK ? flock (fd, LOCK_UN) : portalock_unlock (fd);
}

/* Do J's increments; return 0, or -1 if a call failed.  */
static int
work (const struct job *j)
{
  int fd = open (j->path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -1;
  for (long i = 0; i < j->increments; i++)
    {
      int64_t v;
      if (job_lock (j, fd) != 0
          || pread (fd, &v, sizeof v, 0) != sizeof v)
        return -1;
      v++;
      if (pwrite (fd, &v, sizeof v, 0) != sizeof v || job_unlock (j, fd) != 0)
        return -1;
    }
  return close (fd);
}

static void *
thread_main (void *arg)
{
  struct job *j = arg;
  pthread_barrier_wait (j->barrier);
  return work (j) == 0 ? NULL : (void *) 1;
}

/* Run WORKERS processes (or threads) doing TOTAL increments in all with
   METHOD; return increments per second, and set *EXACT.  */
static double
run (enum method method, bool threads, int workers, long total, bool *exact)
{
  const char *path = bench_path ("counter");
  int fd = open_or_die (path);
  int64_t zero = 0;
  if (pwrite (fd, &zero, sizeof zero, 0) != sizeof zero)
    fail ("pwrite");
  struct job job = { method, path, total / workers, NULL };
  total = job.increments * workers;
  bool ok = true;
  int64_t start, end;

  if (threads)
    {
      pthread_barrier_t barrier;
      pthread_t tid[workers];
      pthread_barrier_init (&barrier, NULL, workers + 1);
      job.barrier = &barrier;
      for (int i = 0; i < workers; i++)
        if (pthread_create (&tid[i], NULL, thread_main, &job) != 0)
          fail ("pthread_create");
      pthread_barrier_wait (&barrier);
      start = now_ns ();
      for (int i = 0; i < workers; i++)
        {
          void *r;
          pthread_join (tid[i], &r);
          ok &= r == NULL;
        }
      end = now_ns ();
      pthread_barrier_destroy (&barrier);
    }
  else
    {
      int go[2];
      pid_t pid[workers];
      if (pipe (go) != 0)
        fail ("pipe");
      fflush (stdout);
      for (int i = 0; i < workers; i++)
        {
          pid[i] = fork ();
          if (pid[i] < 0)
            fail ("fork");
          if (pid[i] == 0)
            {
              char c;
              close (go[1]);
              /* Start when the driver closes the pipe.  */
              if (read (go[0], &c, 1) != 0)
                _exit (1);
              _exit (work (&job) == 0 ? 0 : 1);
            }
        }
      close (go[0]);
      start = now_ns ();
      close (go[1]);
      for (int i = 0; i < workers; i++)
        {
          int status;
          waitpid (pid[i], &status, 0);
          ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
        }
      end = now_ns ();
    }

  int64_t count = -1;
  if (pread (fd, &count, sizeof count, 0) != sizeof count)
    fail ("pread");
  close (fd);
  if (!ok)
    {
      errno = EIO;
      fail ("a worker failed");
    }
  *exact = count == total;
  return total / ((end - start) / 1e9);
}

void
bench_throughput (void)
{
  static const int counts[] = { 1, 2, 4, 8 };
  long total = bench.quick ? 20000 : 100000;
  int repeats = bench.quick ? 1 : 5;
  enum portalock_backend b = portalock_default_backend ();
  bool process_scoped = (b == PORTALOCK_BACKEND_FCNTL
                         || b == PORTALOCK_BACKEND_LOCKF);

  for (int kind = 0; kind < 2; kind++)
    for (int c = 0; c < 4; c++)
      {
        bool threads = kind == 1;
        int n = counts[c];
        const char *who = fmt ("%d %s", n, threads
                               ? (n == 1 ? "thread" : "threads")
                               : (n == 1 ? "process" : "processes"));
        const char *id_plain = fmt ("throughput.%s.%d.plain",
                                    threads ? "threads" : "processes", n);
        const char *id_timed = fmt ("throughput.%s.%d.timed",
                                    threads ? "threads" : "processes", n);
        const char *fig_plain = fmt ("contended increments, %s", who);
        const char *fig_timed = fmt ("contended increments, %s, timed", who);
        if (threads && process_scoped)
          {
            const char *why = "skipped: fcntl/lockf locks do not exclude "
                              "threads at the descriptor level";
            emit_skipped (id_plain, fig_plain, ">= 0.9x", why);
            emit_skipped (id_timed, fig_timed, ">= 0.9x", why);
            continue;
          }
        double raw[repeats], plain[repeats], timed[repeats];
        bool exact = true, e;
        /* Rotate the order of the three from repeat to repeat, so none
           is always the one that runs after the others.  */
        for (int r = 0; r < repeats; r++)
          for (int k = 0; k < 3; k++)
            {
              enum method m = (r + k) % 3;
              double *slot = m == RAW_FLOCK ? raw : m == PLAIN ? plain : timed;
              slot[r] = run (m, threads, n, total, &e);
              exact &= e;
            }
        double noise = fmax (spread (raw, repeats), spread (plain, repeats));
        double ref = median (raw, repeats);
        double p = median (plain, repeats), t = median (timed, repeats);
        const char *detail = exact ? "final count exact"
                                   : "COUNT WRONG: updates lost";
        struct row r1 = { id_plain, fig_plain, p, "ops/s", detail,
                          "raw flock(2) loop", ref, p / ref, ">= 0.9x",
                          exact ? judge (p / ref, false, 0.9) : "MISSED",
                          noise, repeats };
        emit (&r1);
        struct row r2 = { id_timed, fig_timed, t, "ops/s", detail,
                          "raw flock(2) loop", ref, t / ref, ">= 0.9x",
                          exact ? judge (t / ref, false, 0.9) : "MISSED",
                          fmax (noise, spread (timed, repeats)), repeats };
        emit (&r2);
      }
}
