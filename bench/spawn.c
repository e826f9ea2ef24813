/* spawn.c: the process cost of 'plock FILE true' beside 'flock FILE true'.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Run ARGV once, its output to /dev/null; return the wall time in ns.  */
static double
run_once (char *const argv[])
{
  int64_t start = now_ns ();
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, STDIN_FILENO);
      dup2 (null, STDOUT_FILENO);
      execv (argv[0], argv);
      _exit (127);
    }
  int status;
  if (waitpid (pid, &status, 0) < 0)
    fail ("waitpid");
  int64_t end = now_ns ();
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      errno = EIO;
      fail ("%s %s %s did not succeed", argv[0], argv[1], argv[2]);
    }
  return end - start;
}

void
bench_spawn (void)
{
  const char *id = "plock.true";
  const char *figure = "'plock FILE true' wall time";
  const char *goal = "<= 1.1x";
  const char *flock_tool = "/usr/bin/flock";
  if (bench.plock == NULL)
    {
      emit_skipped (id, figure, goal, "skipped: not built");
      return;
    }
  if (access (flock_tool, X_OK) != 0)
    {
      emit_skipped (id, figure, goal, "skipped: no util-linux flock(1)");
      return;
    }
  int n = bench.quick ? 20 : 200;
  double ours[n], theirs[n];
  const char *path = bench_path ("spawn.lock");
  char *plock_argv[] = { (char *) bench.plock, (char *) path, "true",
                         NULL };
  char *flock_argv[] = { (char *) flock_tool, (char *) path, "true",
                         NULL };
  run_once (plock_argv);
  run_once (flock_argv);
  for (int i = 0; i < n; i++)
    {
      ours[i] = run_once (plock_argv) / 1e6;
      theirs[i] = run_once (flock_argv) / 1e6;
    }
  double noise = spread (theirs, n);
  double p50 = median (ours, n), ref = median (theirs, n);
  double p90 = percentile (ours, n, 90), ref90 = percentile (theirs, n, 90);
  double ratio = p50 / ref;
  struct row r = { id, figure, p50, "ms p50",
                   fmt ("p90 %.2f; the program, not libtool's wrapper", p90),
                   fmt ("'flock FILE true' (p90 %.2f)", ref90), ref, ratio,
                   goal, judge (ratio, true, 1.1), noise, n };
  emit (&r);
}

/* Run 'plock -w 10 PATH true' while this process holds PATH's lock
   with BACKEND for HOLD ns (BACKEND -1: not at all); return the CPU
   time plock used in ns, or NaN if it did not exit within 15 s of the
   release (it is then killed).  *STATUS gets its wait status.  */
static double
plock_cpu (const char *path, int backend, int64_t hold, int *status)
{
  int fd = open_or_die (path);
  if (backend >= 0 && raw_lock (backend, fd, true) != 0)
    fail ("lock %s", path);
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, STDIN_FILENO);
      dup2 (null, STDOUT_FILENO);
      close (fd);
      execl (bench.plock, bench.plock, "-w", "10", path, "true",
             (char *) NULL);
      _exit (127);
    }
  if (backend >= 0)
    {
      struct timespec ts = { hold / 1000000000, hold % 1000000000 };
      while (nanosleep (&ts, &ts) != 0)
        continue;
      raw_unlock (backend, fd);
    }
  close (fd);

  /* A plock that does not come back is a finding, not a reason to hang
     the benchmark.  */
  int st = 0;
  struct rusage ru;
  pid_t done = 0;
  for (int i = 0; i < 1500 && done == 0; i++)
    {
      done = wait4 (pid, &st, WNOHANG, &ru);
      if (done == 0)
        usleep (10000);
    }
  if (done != pid)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return NAN;
    }
  if (status != NULL)
    *status = st;
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9
    + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/* The CPU time a 'plock -w 10 FILE true' uses while it waits 2 s for a
   lock this process holds with the default backend.  */
void
bench_plock_wait (void)
{
  int64_t hold = bench.quick ? 250000000 : 2000000000;
  char figure[64];
  snprintf (figure, sizeof figure, "CPU of 'plock -w 10' over a %.2g s wait",
            hold / 1e9);
  const char *id = "cpu.plock";
  const char *goal = "<= 1 %";
  if (bench.plock == NULL)
    {
      emit_skipped (id, figure, goal, "skipped: not built");
      return;
    }
  enum portalock_backend b = portalock_default_backend ();
  const char *path = bench_path ("plock-wait.lock");
  /* What starting and running plock costs without a wait, to subtract.  */
  double idle[3];
  for (int i = 0; i < 3; i++)
    idle[i] = plock_cpu (path, -1, 0, NULL);
  double startup = median (idle, 3);
  int status;
  double cpu = plock_cpu (path, b, hold, &status);
  if (isnan (cpu))
    {
      emit_skipped (id, figure, goal,
                    "MISSED: plock did not exit 15 s after the release");
      return;
    }
  double share = 100 * (cpu - startup) / hold;
  bool ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
  struct row r = { id, figure, share, "% of wait",
                   ok ? fmt ("less %.2f ms to start and run; %s backend",
                             startup / 1e6, portalock_backend_name (b))
                   : fmt ("plock exited with status %d", status),
                   "", NAN, NAN, goal,
                   ok ? judge (share, true, 1) : "MISSED", NAN, 1 };
  emit (&r);
}
