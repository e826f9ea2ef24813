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
#include <stdlib.h>
#include <sys/wait.h>
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
