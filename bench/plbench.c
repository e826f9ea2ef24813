/* plbench.c: the benchmark program that bench/run drives.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: plbench [--quick] --dir=DIR [--python=PY --peers=PEERS.py]
                  [--plock=PLOCK] BENCHMARK...
   BENCHMARK is one of info, descriptor, object, handoff, cpu, throughput,
   spawn, plockwait, memory, semaphore.  Each prints its results as
   tab-separated rows (see bench.h); "info" prints the default backend's
   name.  Exit status 0, or 2 if a benchmark could not be set up, 64 for
   bad usage.  */

#define _GNU_SOURCE 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const struct
{
  const char *name;
  void (*run) (void);
} benchmarks[] =
{
  { "descriptor", bench_descriptor },
  { "object", bench_object },
  { "handoff", bench_handoff },
  { "cpu", bench_cpu },
  { "throughput", bench_throughput },
  { "spawn", bench_spawn },
  { "plockwait", bench_plock_wait },
  { "memory", bench_memory },
  { "semaphore", bench_semaphore },
  { "scaling", bench_scaling },
  { "rwlock", bench_rwlock },
  { "markers", bench_markers },
};

static _Noreturn void
usage (void)
{
  fputs ("Usage: plbench [--quick] --dir=DIR [--python=PY --peers=FILE]"
         " [--plock=PLOCK] [--fuse=MOUNT] BENCHMARK...\n", stderr);
  exit (64);
}

static const char *
option (const char *arg, const char *name)
{
  size_t n = strlen (name);
  return strncmp (arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

int
main (int argc, char **argv)
{
  int i;
  const char *v;

  for (i = 1; i < argc && strncmp (argv[i], "--", 2) == 0; i++)
    if (strcmp (argv[i], "--quick") == 0)
      bench.quick = true;
    else if ((v = option (argv[i], "--dir")) != NULL)
      bench.dir = v;
    else if ((v = option (argv[i], "--python")) != NULL)
      bench.python = *v ? v : NULL;
    else if ((v = option (argv[i], "--peers")) != NULL)
      bench.peers = v;
    else if ((v = option (argv[i], "--plock")) != NULL)
      bench.plock = *v ? v : NULL;
    else if ((v = option (argv[i], "--fuse")) != NULL)
      bench.fuse = *v ? v : NULL;
    else
      usage ();
  if (i == argc || (bench.dir == NULL && strcmp (argv[i], "info") != 0)
      || (bench.python != NULL && bench.peers == NULL))
    usage ();
  if (bench.plock != NULL && access (bench.plock, X_OK) != 0)
    bench.plock = NULL;

  for (; i < argc; i++)
    {
      if (strcmp (argv[i], "info") == 0)
        {
          printf ("%s\t%s\t%s\n",
                  portalock_backend_name (PORTALOCK_BACKEND_DEFAULT),
                  portalock_version (), have_objects () ? "objects" : "-");
          continue;
        }
      size_t k;
      for (k = 0; k < sizeof benchmarks / sizeof benchmarks[0]; k++)
        if (strcmp (argv[i], benchmarks[k].name) == 0)
          break;
      if (k == sizeof benchmarks / sizeof benchmarks[0])
        usage ();
      benchmarks[k].run ();
    }
  return 0;
}
