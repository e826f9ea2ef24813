/* redis.c: benchmark of libportalock-redis against the raw commands and
   portalocker's RedisLock, on a local server.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: plbench-redis [--quick] SOCKET [PYTHON PEERS]
   SOCKET is the Unix socket of a Redis server that only this benchmark
   uses; PYTHON runs PEERS (bench/redis-peer.py) for portalocker's
   RedisLock.  Prints the rows bench/run tabulates: ID FIGURE VALUE UNIT
   DETAIL REFERENCE REF-VALUE RATIO GOAL STATUS NOISE SAMPLES.  */

#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"

static bool quick;
static const char *sock;
static char url[4200];

static double
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static _Noreturn void
fail (const char *what)
{
  fprintf (stderr, "plbench-redis: %s: %s\n", what, strerror (errno));
  exit (2);
}

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
percentile (double *v, size_t n, double p)
{
  qsort (v, n, sizeof *v, compare);
  return v[(size_t) (p * (n - 1) + 0.5)];
}

/* Half the interquartile range over the median, in percent.  */
static double
spread (double *v, size_t n)
{
  double m = percentile (v, n, 0.5);
  return m > 0 ? 50 * (percentile (v, n, 0.75) - percentile (v, n, 0.25)) / m
               : NAN;
}

static void
number (double v)
{
  if (isnan (v))
    fputs ("-", stdout);
  else
    printf ("%.4g", v);
}

/* Print one row; NaN numbers print as "-".  */
static void
row (const char *id, const char *figure, double value, const char *unit,
     const char *detail, const char *reference, double ref_value,
     double ratio, const char *goal, const char *status, double noise,
     int samples)
{
  printf ("%s\t%s\t", id, figure);
  number (value);
  printf ("\t%s\t%s\t%s\t", unit, detail, reference);
  number (ref_value);
  if (isnan (ratio))
    printf ("\t-");
  else
    printf ("\t%.2fx", ratio);
  printf ("\t%s\t%s\t", goal, status);
  if (isnan (noise))
    fputs ("-", stdout);
  else
    printf ("%.0f%%", noise);
  printf ("\t%d\n", samples);
  fflush (stdout);
}

static const char *
judge (double ratio, bool at_most, double limit)
{
  if (isnan (ratio))
    return "info";
  return (at_most ? ratio <= limit : ratio >= limit) ? "met" : "MISSED";
}

static redisContext *
raw_connect (void)
{
  redisContext *c = redisConnectUnix (sock);
  if (c == NULL || c->err)
    {
      errno = ECONNREFUSED;
      fail (sock);
    }
  return c;
}

static void
raw (redisContext *c, const char *format)
{
  redisReply *r = redisCommand (c, format);
  if (r == NULL)
    fail ("redis command");
  freeReplyObject (r);
}

/* Microseconds per PING, per SET NX PX + DEL, and per acquire+release,
   over N iterations.  */
static double
time_ping (redisContext *c, int n)
{
  double t = now_us ();
  for (int i = 0; i < n; i++)
    raw (c, "PING");
  return (now_us () - t) / n;
}

static double
time_setdel (redisContext *c, int n)
{
  double t = now_us ();
  for (int i = 0; i < n; i++)
    {
      raw (c, "SET bench:raw owner NX PX 30000");
      raw (c, "DEL bench:raw");
    }
  return (now_us () - t) / n;
}

static double
time_lock (portalock_redis *lock, int n)
{
  double t = now_us ();
  for (int i = 0; i < n; i++)
    if (portalock_redis_acquire (lock) != 0
        || portalock_redis_release (lock) != 0)
      fail ("acquire+release");
  return (now_us () - t) / n;
}

static void
uncontended (redisContext *c, double *ping_us, double *lock_us)
{
  enum { REPEATS = 9 };
  int n = quick ? 200 : 3000;
  double pings[REPEATS], raws[REPEATS], locks[REPEATS];
  portalock_redis *lock = portalock_redis_new (url, "bench");
  if (lock == NULL)
    fail ("portalock_redis_new");
  time_lock (lock, 50);
  time_setdel (c, 50);
  for (int r = 0; r < REPEATS; r++)
    {
      pings[r] = time_ping (c, n);
      raws[r] = time_setdel (c, n);
      locks[r] = time_lock (lock, n);
    }
  portalock_redis_free (lock);
  double noise = spread (locks, REPEATS);
  *lock_us = percentile (locks, REPEATS, 0.5);
  double raw_us = percentile (raws, REPEATS, 0.5);
  *ping_us = percentile (pings, REPEATS, 0.5);
  double ratio = *lock_us / raw_us;
  row ("redis.uncontended", "Redis lock acquire+release, uncontended",
       *lock_us, "us", "one connection, Unix socket",
       "SET NX PX + DEL, hiredis loop", raw_us, ratio, "<= 1.30x",
       judge (ratio, true, 1.3), noise, REPEATS);
}

/* The waiter of the hand-off: acquire (waiting), report the time, release,
   again for every byte read.  */
static void
handoff_waiter (int in, int out)
{
  portalock_redis *lock = portalock_redis_new (url, "handoff");
  if (lock == NULL || portalock_redis_set_timeout (lock, -1) != 0)
    _exit (1);
  char c;
  while (read (in, &c, 1) == 1)
    {
      if (portalock_redis_acquire (lock) != 0)
        _exit (2);
      double t = now_us ();
      if (write (out, &t, sizeof t) != sizeof t
          || portalock_redis_release (lock) != 0)
        _exit (3);
    }
  portalock_redis_free (lock);
  _exit (0);
}

/* Wait until someone waits in the queue KEY (and, after its first
   wait, is asleep: a lock object subscribes once).  */
static void
await_waiter (redisContext *c, const char *key)
{
  for (;;)
    {
      redisReply *r = redisCommand (c, "ZCARD %s", key);
      bool one = (r != NULL && r->type == REDIS_REPLY_INTEGER
                  && r->integer > 0);
      freeReplyObject (r);
      if (one)
        return;
      usleep (200);
    }
}

/* Time the hand-off; return its p50 in microseconds.  */
static double
handoff (redisContext *c, double ping_us)
{
  int rounds = quick ? 20 : 300;
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    fail ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    fail ("fork");
  if (pid == 0)
    {
      close (down[1]);
      close (up[0]);
      handoff_waiter (down[0], up[1]);
    }
  close (down[0]);
  close (up[1]);
  portalock_redis *lock = portalock_redis_new (url, "handoff");
  if (lock == NULL || portalock_redis_set_timeout (lock, -1) != 0)
    fail ("portalock_redis_new");
  double *lat = malloc (rounds * sizeof *lat);
  for (int i = 0; i < rounds; i++)
    {
      if (portalock_redis_acquire (lock) != 0)
        fail ("acquire");
      if (write (down[1], "w", 1) != 1)
        fail ("write");
      await_waiter (c, "portalock:{handoff}:q");
      double t0 = now_us (), t1;
      if (portalock_redis_release (lock) != 0
          || read (up[0], &t1, sizeof t1) != sizeof t1)
        fail ("hand-off");
      lat[i] = t1 - t0;
    }
  close (down[1]);
  close (up[0]);
  waitpid (pid, NULL, 0);
  portalock_redis_free (lock);
  double p50 = percentile (lat, rounds, 0.5);
  double p90 = percentile (lat, rounds, 0.9);
  double p99 = percentile (lat, rounds, 0.99);
  free (lat);
  char detail[128];
  snprintf (detail, sizeof detail, "p90 %.1f us, p99 %.1f us", p90, p99);
  double ratio = p50 / (3 * ping_us);
  row ("redis.handoff", "Redis lock hand-off (release -> waiter holds) p50",
       p50, "us", detail, "3 PING round trips", 3 * ping_us, ratio,
       "<= 1.00x", judge (ratio, true, 1.0), NAN, rounds);
  return p50;
}

/* CPU time of a process that waits SECONDS for a held lock.  */
static void
waiter_cpu (void)
{
  double seconds = quick ? 0.5 : 2;
  portalock_redis *holder = portalock_redis_new (url, "cpu");
  if (holder == NULL || portalock_redis_acquire (holder) != 0)
    fail ("hold");
  int up[2];
  if (pipe (up) != 0)
    fail ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      portalock_redis *lock = portalock_redis_new (url, "cpu");
      portalock_redis_set_timeout (lock, seconds);
      struct rusage a, b;
      getrusage (RUSAGE_SELF, &a);
      double t = now_us ();
      int r = portalock_redis_acquire (lock);
      double wall = now_us () - t;
      getrusage (RUSAGE_SELF, &b);
      double cpu = ((b.ru_utime.tv_sec - a.ru_utime.tv_sec
                     + b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1e6
                    + b.ru_utime.tv_usec - a.ru_utime.tv_usec
                    + b.ru_stime.tv_usec - a.ru_stime.tv_usec);
      double v[2] = { r == -1 && errno == ETIMEDOUT ? cpu : -1, wall };
      if (write (up[1], v, sizeof v) != sizeof v)
        _exit (1);
      _exit (0);
    }
  double v[2];
  if (pid < 0 || read (up[0], v, sizeof v) != sizeof v || v[0] < 0)
    fail ("waiter");
  waitpid (pid, NULL, 0);
  close (up[0]);
  close (up[1]);
  portalock_redis_free (holder);
  double percent = 100 * v[0] / v[1];
  char detail[128];
  snprintf (detail, sizeof detail, "%.0f us of CPU in %.2f s", v[0],
            v[1] / 1e6);
  row ("redis.waitcpu", "CPU of a Redis lock waiter", percent, "%", detail,
       "-", NAN, NAN, "<= 1 %", percent <= 1 ? "met" : "MISSED", NAN, 1);
}

/* One grant in the multi-waiter rows: when its process asked, when it
   held, when it began to release (microseconds, monotonic clock), and
   its token.  */
struct grant
{
  double asked, held, freed;
  unsigned long long token;
  int who;
};

/* Contender WHO of the multi-waiter rows: ROUNDS times, acquire (on one
   lock object), hold HOLD_US, release at once, recording each grant in
   OUT.  */
static void
contender (int who, int rounds, double hold_us, struct grant *out)
{
  portalock_redis *lock = portalock_redis_new (url, "multi");
  if (lock == NULL || portalock_redis_set_timeout (lock, -1) != 0)
    _exit (1);
  for (int i = 0; i < rounds; i++)
    {
      double asked = now_us ();
      if (portalock_redis_acquire (lock) != 0)
        _exit (2);
      double held = now_us ();
      while (now_us () < held + hold_us)
        usleep (200);
      out[i].asked = asked;
      out[i].held = held;
      out[i].token = portalock_redis_token (lock);
      out[i].who = who;
      out[i].freed = now_us ();
      if (portalock_redis_release (lock) != 0)
        _exit (3);
    }
  portalock_redis_free (lock);
  _exit (0);
}

static int
by_token (const void *a, const void *b)
{
  const struct grant *x = a, *y = b;
  return (x->token > y->token) - (x->token < y->token);
}

/* The number of top-level commands the library sent since CONFIG
   RESETSTAT: scripts, subscriptions, log-ins.  (INFO commandstats also
   counts the commands a script runs, which are not round trips.)  */
static long long
server_calls (redisContext *c)
{
  static const char *const names[] = { "evalsha", "eval", "subscribe",
                                       "unsubscribe", "auth", "select",
                                       "ping" };
  redisReply *r = redisCommand (c, "INFO commandstats");
  long long total = 0;
  for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_STRING
                     && i < sizeof names / sizeof *names; i++)
    {
      char field[64];
      snprintf (field, sizeof field, "cmdstat_%s:calls=", names[i]);
      const char *p = strstr (r->str, field);
      if (p != NULL)
        total += atoll (p + strlen (field));
    }
  freeReplyObject (r);
  return total;
}

/* The figures of one multi-waiter run.  */
struct multi_result
{
  double p50, p99, commands;
  int skips, grants;
};

/* Order GRANTS (N of them) by token and compute the hand-off
   latencies and the most grants that went to others while one process
   waited.  */
static void
multi_figures (struct grant *g, int n, struct multi_result *res)
{
  qsort (g, n, sizeof *g, by_token);
  double *lat = malloc (n * sizeof *lat);
  int m = 0;
  for (int i = 1; i < n; i++)
    /* A hand-off: the next holder asked before the last let go.  */
    if (g[i].asked < g[i - 1].freed)
      lat[m++] = g[i].held - g[i - 1].freed;
  res->p50 = m > 0 ? percentile (lat, m, 0.5) : NAN;
  res->p99 = m > 0 ? percentile (lat, m, 0.99) : NAN;
  free (lat);
  res->skips = 0;
  for (int i = 0; i < n; i++)
    {
      int skipped = 0;
      for (int j = i - 1; j >= 0 && g[j].held > g[i].asked; j--)
        if (g[j].who != g[i].who)
          skipped++;
      if (skipped > res->skips)
        res->skips = skipped;
    }
  res->grants = n;
}

/* N waiters and a holder: N + 1 processes take and release the lock in
   a loop, each holding it 2 ms.  */
static void
multi_run (redisContext *c, int n, struct multi_result *res)
{
  int procs = n + 1;
  int rounds = (quick ? 60 : 300) / procs;
  if (rounds < 6)
    rounds = 6;
  size_t size = sizeof (struct grant) * procs * rounds;
  struct grant *g = mmap (NULL, size, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g == MAP_FAILED)
    fail ("mmap");
  raw (c, "CONFIG RESETSTAT");
  pid_t *pids = malloc (procs * sizeof *pids);
  for (int i = 0; i < procs; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        fail ("fork");
      if (pids[i] == 0)
        contender (i, rounds, 2000, g + i * rounds);
    }
  for (int i = 0; i < procs; i++)
    {
      int status;
      if (waitpid (pids[i], &status, 0) != pids[i] || !WIFEXITED (status)
          || WEXITSTATUS (status) != 0)
        {
          errno = ECHILD;
          fail ("multi-waiter contender");
        }
    }
  free (pids);
  res->commands = (double) server_calls (c) / (procs * rounds);
  multi_figures (g, procs * rounds, res);
  munmap (g, size);
}

static void
multi_row (int n, const struct multi_result *r, const struct multi_result *one,
           const char *who)
{
  char id[64], figure[128], detail[200];
  snprintf (id, sizeof id, "redis.multi.%d%s", n, who);
  snprintf (figure, sizeof figure, "%s hand-off p50, %d waiter%s",
            who[0] ? who + 1 : "Redis lock", n, n > 1 ? "s" : "");
  snprintf (detail, sizeof detail,
            "p99 %.0f us; %.2f server commands per grant; most hand-offs "
            "skipped by one waiter %d (%d grants)", r->p99, r->commands,
            r->skips, r->grants);
  double ratio = n > 1 && one != NULL ? r->p50 / one->p50 : NAN;
  row (id, figure, r->p50, "us", detail, n > 1 ? "1 waiter" : "-",
       n > 1 && one != NULL ? one->p50 : NAN, ratio,
       n > 1 ? "<= 1.50x" : "-", judge (ratio, true, 1.5), NAN, r->grants);
}

static void
multi_commands_row (int n, const struct multi_result *r,
                    const struct multi_result *one)
{
  char id[64], figure[128], detail[128];
  snprintf (id, sizeof id, "redis.multi.%d.commands", n);
  snprintf (figure, sizeof figure,
            "Redis lock server commands per grant, %d waiters", n);
  snprintf (detail, sizeof detail, "INFO commandstats; at most %d skips "
            "allowed (one per waiter ahead), %d seen", n, r->skips);
  double ratio = r->commands / one->commands;
  const char *status = judge (ratio, true, 1.5);
  if (r->skips > n)
    status = "MISSED";
  row (id, figure, r->commands, "cmds", detail, "1 waiter", one->commands,
       ratio, "<= 1.50x", status, NAN, r->grants);
}

static bool run_peer (const char *python, const char *peers,
                      const char *args, double *v, int n);
static const char *peer_missing (const char *python);

/* redis-py's Lock with N waiters, from PYTHON running PEERS, beside
   ours (R).  It polls (every 0.1 s by default) and keeps no order.  */
static void
multi_redispy (const char *python, const char *peers, int n,
               const struct multi_result *r)
{
  char id[64], args[32], detail[200];
  snprintf (id, sizeof id, "redis.multi.%d.vs.redis-py", n);
  snprintf (args, sizeof args, "--multi %d", n);
  double v[4];
  if (!run_peer (python, peers, args, v, 4))
    {
      row (id, "redis-py Lock hand-off p50", NAN, "us", "-", "-", NAN, NAN,
           "info", peer_missing (python), NAN, 0);
      return;
    }
  snprintf (detail, sizeof detail,
            "theirs p99 %.0f us, %.2f commands per grant, most skips %.0f; "
            "ours %d skips", v[1] * 1e6, v[2], v[3], r->skips);
  row (id, "Redis lock hand-off p50 vs redis-py Lock", r->p50, "us", detail,
       "redis-py Lock (polls)", v[0] * 1e6, v[0] * 1e6 / r->p50, "info",
       "info", NAN, quick ? 15 : 100);
}

/* The multi-waiter rows: 1, 8 and 32 waiters, and redis-py's Lock
   beside them (portalocker's RedisLock polls every 0.25 s and pings
   its holder: its single-waiter hand-off is the row
   redis.handoff.vs.portalocker).  */
static void
multi (redisContext *c, const char *python, const char *peers)
{
  static const int waiters[3] = { 1, 8, 32 };
  struct multi_result r[3];
  for (int i = 0; i < 3; i++)
    {
      multi_run (c, waiters[i], &r[i]);
      multi_row (waiters[i], &r[i], &r[0], "");
    }
  for (int i = 1; i < 3; i++)
    multi_commands_row (waiters[i], &r[i], &r[0]);
  for (int i = 0; i < 3; i++)
    multi_redispy (python, peers, waiters[i], &r[i]);
}

/* Run PEERS (bench/redis-peer.py) with PYTHON and the arguments ARGS
   (shell words), and read N numbers from its output into V.  Return
   true if it succeeded, false if it failed or is missing (PYTHON or
   PEERS NULL), or if portalocker or redis-py is missing.  */
static bool
run_peer (const char *python, const char *peers, const char *args,
          double *v, int n)
{
  if (python == NULL || peers == NULL)
    return false;
  char cmd[13000];
  snprintf (cmd, sizeof cmd, "'%s' '%s' %s '%s' %d 2>/dev/null", python,
            peers, args, sock, quick ? 3 : 20);
  FILE *p = popen (cmd, "r");
  if (p == NULL)
    return false;
  int got = 0;
  while (got < n && fscanf (p, "%lf", &v[got]) == 1)
    got++;
  return pclose (p) == 0 && got == n;
}

/* Why a portalocker row is skipped: visible in the table, as status.  */
static const char *
peer_missing (const char *python)
{
  return python == NULL ? "skipped: no Python"
                        : "skipped: portalocker or redis-py missing";
}

/* portalocker's RedisLock, from PYTHON running PEERS: seconds per
   acquire+release.  */
static void
portalocker (const char *python, const char *peers, double lock_us)
{
  double seconds;
  if (!run_peer (python, peers, "", &seconds, 1))
    {
      row ("redis.vs.portalocker", "portalocker RedisLock acquire+release",
           NAN, "us", "-", "-", NAN, NAN, ">= 100x faster",
           peer_missing (python), NAN, 0);
      return;
    }
  double theirs = seconds * 1e6;
  double ratio = theirs / lock_us;
  row ("redis.vs.portalocker", "Redis lock acquire+release vs portalocker",
       lock_us, "us", "portalocker RedisLock, redis-py, same server",
       "portalocker RedisLock", theirs, ratio, ">= 100x faster",
       judge (ratio, false, 100), NAN, quick ? 3 : 20);
}

/* portalocker's RedisLock hand-off, from PYTHON running PEERS, against
   ours (p50 OURS_US): a Python waiter blocked in acquire while a
   RedisLock holder in another process releases, timed from the start
   of the release to the waiter holding.  RedisLock's waiter polls, every
   0.25 s by default, so the peer releases at a point drawn evenly over
   that interval.  */
static void
portalocker_handoff (const char *python, const char *peers, double ours_us)
{
  double s[3];
  if (!run_peer (python, peers, "--handoff", s, 3))
    {
      row ("redis.handoff.vs.portalocker",
           "portalocker RedisLock hand-off p50", NAN, "us", "-", "-", NAN,
           NAN, ">= 100x lower", peer_missing (python), NAN, 0);
      return;
    }
  double theirs = s[0] * 1e6;
  double ratio = theirs / ours_us;
  char detail[160];
  snprintf (detail, sizeof detail,
            "theirs p90 %.0f us, p99 %.0f us; Python waiter and holder",
            s[1] * 1e6, s[2] * 1e6);
  row ("redis.handoff.vs.portalocker",
       "Redis lock hand-off p50 vs portalocker", ours_us, "us", detail,
       "portalocker RedisLock hand-off p50", theirs, ratio, ">= 100x lower",
       judge (ratio, false, 100), NAN, quick ? 3 : 20);
}

int
main (int argc, char **argv)
{
  int i = 1;
  if (i < argc && strcmp (argv[i], "--quick") == 0)
    {
      quick = true;
      i++;
    }
  if (i >= argc)
    {
      fprintf (stderr, "usage: plbench-redis [--quick] SOCKET "
               "[PYTHON PEERS]\n");
      return 2;
    }
  sock = argv[i++];
  snprintf (url, sizeof url, "unix://%s", sock);
  const char *python = i + 1 < argc ? argv[i] : NULL;
  const char *peers = i + 1 < argc ? argv[i + 1] : NULL;
  redisContext *c = raw_connect ();
  double ping_us, lock_us;
  uncontended (c, &ping_us, &lock_us);
  double handoff_us = handoff (c, ping_us);
  waiter_cpu ();
  multi (c, python, peers);
  portalocker (python, peers, lock_us);
  portalocker_handoff (python, peers, handoff_us);
  redisFree (c);
  return 0;
}
