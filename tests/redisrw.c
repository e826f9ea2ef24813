/* redisrw.c: tests of the Redis lock's writer preference
   (portalock_redis_set_writer_preference) against a real Redis server:
   no starvation, exact exclusion, writers that give up.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: redisrw DIR, where DIR holds the socket "sock" of a
   redis-server that redis.exp started.  No check measures time: the
   order of events is told by a sequence counter in memory the processes
   share, and a writer is known to wait once the server's queue of
   waiters holds it.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"
#include "testutil.h"

static char url[4200];
static char sock[4096];

/* What the processes of a check share (see writerpref.c, whose checks
   these are, for the kernel's locks).  */
struct shared
{
  unsigned long seq, last_grant, gate_seen, writer_granted, late, grants;
  unsigned long errors, stop;
  long readers_in, writers_in, max_readers, overlaps;
};

static struct shared *sh;

#define LOAD(x) __atomic_load_n (&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n (&(x), (v), __ATOMIC_SEQ_CST)
#define ADD(x, v) __atomic_add_fetch (&(x), (v), __ATOMIC_SEQ_CST)

static void
reset_shared (void)
{
  memset (sh, 0, sizeof *sh);
  sh->seq = 1;
}

/* The number of waiters in the queue of lock NAME.  */
static long long
queue_length (const char *name)
{
  redisContext *c = redisConnectUnix (sock);
  if (c == NULL || c->err)
    die ("connect to %s", sock);
  redisReply *r = redisCommand (c, "ZCARD portalock:{%s}:q", name);
  long long n = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  freeReplyObject (r);
  redisFree (c);
  return n;
}

/* A lock NAME, shared if SHARED, preferring writers if PREFER, waiting
   TIMEOUT seconds.  */
static portalock_redis *
new_lock (const char *name, bool shared, bool prefer, double timeout)
{
  portalock_redis *lock = portalock_redis_new (url, name);
  if (lock == NULL || portalock_redis_set_timeout (lock, timeout) != 0
      || portalock_redis_set_shared (lock, shared) != 0
      || portalock_redis_set_writer_preference (lock, prefer) != 0)
    die ("portalock_redis_new %s", name);
  return lock;
}

static void
reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
}

/* A reader of the starvation check: see reader_loop in writerpref.c.  */
static _Noreturn void
reader_loop (const char *name, bool prefer)
{
  portalock_redis *lock = new_lock (name, true, prefer, 60);
  while (!LOAD (sh->stop))
    {
      unsigned long s = ADD (sh->seq, 1);
      if (portalock_redis_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          _exit (1);
        }
      unsigned long g = ADD (sh->seq, 1);
      unsigned long seen = LOAD (sh->gate_seen);
      if (seen != 0 && s > seen && LOAD (sh->writer_granted) < seen)
        ADD (sh->late, 1);
      ADD (sh->grants, 1);
      unsigned long last = LOAD (sh->last_grant);
      while (last < g
             && !__atomic_compare_exchange_n (&sh->last_grant, &last, g,
                                              false, __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST))
        ;
      double until = now () + 0.25;
      while (LOAD (sh->last_grant) == g && !LOAD (sh->stop)
             && now () < until)
        usleep (200);
      portalock_redis_release (lock);
    }
  portalock_redis_free (lock);
  _exit (0);
}

static _Noreturn void
writer_once (const char *name, bool prefer)
{
  portalock_redis *lock = new_lock (name, false, prefer, 60);
  if (portalock_redis_acquire (lock) != 0)
    _exit (1);
  STORE (sh->writer_granted, ADD (sh->seq, 1));
  portalock_redis_release (lock);
  portalock_redis_free (lock);
  _exit (0);
}

static void
await_count (unsigned long *count, unsigned long n, unsigned long wg)
{
  double until = now () + 20;
  while (LOAD (*count) < n && LOAD (sh->writer_granted) == wg
         && now () < until)
    usleep (500);
}

#define READERS 8
#define LATE_READERS 64

static void
check_starvation (bool prefer)
{
  const char *name = prefer ? "rw-starve-pref" : "rw-starve-plain";
  reset_shared ();
  pid_t readers[READERS];
  for (int i = 0; i < READERS; i++)
    {
      readers[i] = fork ();
      if (readers[i] < 0)
        die ("fork");
      if (readers[i] == 0)
        reader_loop (name, prefer);
    }
  await_count (&sh->grants, 4 * READERS, 0);

  int rounds = prefer ? 3 : 1;
  bool waited = true, in_order = true, granted = true;
  unsigned long late_total = 0;
  for (int round = 0; round < rounds && granted && waited && in_order;
       round++)
    {
      unsigned long wg = LOAD (sh->writer_granted);
      /* The readers that queued behind the last round's writer go in
         one by one as each comes first: until they are all in, a queue
         entry may be theirs, not the new writer's.  */
      double drained = now () + 20;
      while (queue_length (name) > 0 && now () < drained)
        usleep (500);
      pid_t writer = fork ();
      if (writer < 0)
        die ("fork");
      if (writer == 0)
        writer_once (name, prefer);
      /* Readers only queue behind a writer: the first waiter is it.  */
      bool seen = false;
      double until = now () + 20;
      while (!(seen = queue_length (name) > 0)
             && LOAD (sh->writer_granted) == wg && now () < until)
        usleep (500);
      waited &= seen;
      if (seen)
        {
          STORE (sh->late, 0);
          STORE (sh->gate_seen, ADD (sh->seq, 1));
          await_count (&sh->late, prefer ? 16 : LATE_READERS, wg);
        }
      unsigned long late = LOAD (sh->late);
      bool writer_in = LOAD (sh->writer_granted) != wg;
      late_total += late;
      if (prefer)
        in_order &= late == 0 && writer_in;
      else
        in_order &= late >= LATE_READERS && !writer_in;
      if (!writer_in)
        STORE (sh->stop, 1);
      int status;
      reap (writer, &status);
      granted &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  STORE (sh->stop, 1);
  bool readers_ok = true;
  for (int i = 0; i < READERS; i++)
    {
      int status;
      reap (readers[i], &status);
      readers_ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  if (!check (waited, "redis: starvation %s preference: the writer waits "
              "behind the readers", prefer ? "with" : "without"))
    return;
  if (prefer)
    check (in_order && granted && readers_ok,
           "redis: with writer preference, a writer waiting behind 8 "
           "overlapping readers is granted before any reader that came "
           "after it (3 rounds; %lu came first)", late_total);
  else
    check (in_order && granted && readers_ok,
           "redis: without writer preference, the same writer waits while "
           "%lu readers that came after it are granted", late_total);
}

#define PROCS 3
#define THREADS 2
#define GRANTS 10000

static void
inside (bool writer)
{
  if (writer)
    {
      long w = ADD (sh->writers_in, 1);
      if (w != 1 || LOAD (sh->readers_in) != 0)
        ADD (sh->overlaps, 1);
      sched_yield ();
      ADD (sh->writers_in, -1);
    }
  else
    {
      long r = ADD (sh->readers_in, 1);
      if (LOAD (sh->writers_in) != 0)
        ADD (sh->overlaps, 1);
      long m = LOAD (sh->max_readers);
      while (m < r
             && !__atomic_compare_exchange_n (&sh->max_readers, &m, r, false,
                                              __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST))
        ;
      for (int i = 0; i < 20; i++)
        sched_yield ();
      if (LOAD (sh->writers_in) != 0)
        ADD (sh->overlaps, 1);
      ADD (sh->readers_in, -1);
    }
}

static void *
worker_run (void *arg)
{
  int id = (int) (intptr_t) arg;
  portalock_redis *rd = new_lock ("rw-exclusion", true, true, 30);
  portalock_redis *wr = new_lock ("rw-exclusion", false, true, 30);
  unsigned int state = 2654435761u * (unsigned) (id + 1);
  for (int i = 0; i < GRANTS / (PROCS * THREADS); i++)
    {
      state = state * 1103515245u + 12345u;
      bool writer = (state >> 16) % 5 == 0;
      portalock_redis *lock = writer ? wr : rd;
      if (portalock_redis_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          break;
        }
      inside (writer);
      /* A release that lost the lease would be an overlap too.  */
      if (portalock_redis_release (lock) != 0)
        ADD (sh->errors, 1);
    }
  portalock_redis_free (rd);
  portalock_redis_free (wr);
  return NULL;
}

static void
check_exclusion (void)
{
  reset_shared ();
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++)
    {
      pids[p] = fork ();
      if (pids[p] < 0)
        die ("fork");
      if (pids[p] == 0)
        {
          pthread_t t[THREADS];
          for (int i = 0; i < THREADS; i++)
            if (pthread_create (&t[i], NULL, worker_run,
                                (void *) (intptr_t) (p * THREADS + i)) != 0)
              _exit (2);
          for (int i = 0; i < THREADS; i++)
            pthread_join (t[i], NULL);
          _exit (0);
        }
    }
  bool ok = true;
  for (int p = 0; p < PROCS; p++)
    {
      int status;
      reap (pids[p], &status);
      ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  check (ok && sh->errors == 0 && sh->overlaps == 0,
         "redis: writer preference: no reader or writer inside with a "
         "writer over %d grants (%d processes x %d threads; %lu errors, "
         "%ld overlaps)", GRANTS, PROCS, THREADS, sh->errors, sh->overlaps);
  check (sh->max_readers >= 2,
         "redis: writer preference: readers share (%ld inside at once)",
         sh->max_readers);
}

/* Return 0 if a preferring reader of NAME in a new process gets in
   within WAIT seconds (0: at once), else its errno.  */
static int
reader_gets_in (const char *name, double wait)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock_redis *lock = new_lock (name, true, true, wait);
      if (portalock_redis_acquire (lock) != 0)
        _exit (errno);
      /* A lease left to expire would hold the lock for its TTL.  */
      _exit (portalock_redis_release (lock) == 0 ? 0 : 100);
    }
  int status;
  reap (pid, &status);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
check_giving_up (void)
{
  const char *name = "rw-giveup";
  portalock_redis *h = new_lock (name, true, true, 5);
  if (portalock_redis_acquire (h) != 0)
    die ("redis: acquire");

  portalock_redis *w = new_lock (name, false, true, 0.3);
  check (portalock_redis_acquire (w) != 0 && errno == ETIMEDOUT,
         "redis: a preferring writer times out behind a reader");
  check (reader_gets_in (name, 0) == 0 && queue_length (name) == 0,
         "redis: ... and readers get in at once after it");
  portalock_redis_set_fail_when_locked (w, true);
  check (portalock_redis_acquire (w) != 0 && errno == EWOULDBLOCK,
         "redis: fail_when_locked: a preferring writer fails at once");
  check (reader_gets_in (name, 0) == 0,
         "redis: ... and readers get in at once after it");
  portalock_redis_free (w);

  /* A waiter that dies publishes nothing: its place ends with its queue
     TTL, here a tenth of a second.  */
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock_redis *k = new_lock (name, false, true, 60);
      portalock_redis_set_queue_ttl (k, 0.1);
      portalock_redis_acquire (k);
      _exit (1);
    }
  double until = now () + 20;
  while (queue_length (name) == 0 && now () < until)
    usleep (500);
  check (reader_gets_in (name, 0) == EWOULDBLOCK,
         "redis: a preferring reader does not get in while a writer waits");
  kill (pid, SIGKILL);
  int status;
  reap (pid, &status);
  check (WIFSIGNALED (status) && reader_gets_in (name, 10) == 0,
         "redis: a preferring writer killed while it waits: readers get in "
         "once its place in the queue ends (its queue TTL)");
  portalock_redis_release (h);
  portalock_redis_free (h);

  /* The setting.  */
  portalock_redis *l = new_lock (name, false, false, 5);
  check (portalock_redis_set_writer_preference (NULL, true) != 0
         && errno == EINVAL,
         "redis: portalock_redis_set_writer_preference (NULL): EINVAL");
  if (portalock_redis_acquire (l) != 0)
    die ("redis: acquire");
  check (portalock_redis_set_writer_preference (l, true) != 0
         && errno == EINVAL,
         "redis: portalock_redis_set_writer_preference on a held object: "
         "EINVAL");
  portalock_redis_release (l);
  portalock_redis_free (l);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: redisrw DIR");
  snprintf (sock, sizeof sock, "%s/sock", argv[1]);
  snprintf (url, sizeof url, "unix://%s", sock);
  sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    die ("mmap");
  check_giving_up ();
  check_exclusion ();
  check_starvation (false);
  check_starvation (true);
  return check_exit ();
}
