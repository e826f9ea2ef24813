/* keepalive.c: the optional thread that renews a held lease, on its own
   connection, and reports a lost one.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "redis-private.h"

struct plr_keepalive
{
  portalock_redis *lock;
  portalock_redis_lost_fn lost;
  void *arg;
  pthread_t thread;
  pthread_mutex_t mutex;
  pthread_cond_t cond;          /* on the monotonic clock */
  bool stop;
  struct plr_conn conn;
  char *error;
};

/* Sleep until the monotonic time WHEN or a stop request.  Return true if
   asked to stop.  */
static bool
sleep_until (struct plr_keepalive *ka, double when)
{
  struct timespec ts;
  if (!(when > 0))
    when = 0;
  ts.tv_sec = (time_t) when;
  ts.tv_nsec = (long) ((when - ts.tv_sec) * 1e9);
  pthread_mutex_lock (&ka->mutex);
  while (!ka->stop)
    if (pthread_cond_timedwait (&ka->cond, &ka->mutex, &ts) == ETIMEDOUT)
      break;
  bool stop = ka->stop;
  pthread_mutex_unlock (&ka->mutex);
  return stop;
}

/* Renew every third of the TTL.  A failed renewal is tried again, more
   often, until the lease's validity deadline (see plr_validity): then
   the lease is lost, whether or not a renewal is still waiting for its
   answer, since a renewal's wait ends at that deadline too.  The lock's
   owner, keys, TTL and mode do not change while it is held, so the
   thread reads them without a lock; the validity is under the lock's
   lease mutex.  */
static void *
run (void *arg)
{
  struct plr_keepalive *ka = arg;
  portalock_redis *lock = ka->lock;
  double period = lock->ttl_ms / 1000.0 / 3;
  double next = plr_now () + period;
  /* What the lost callback is told if the deadline passes first.  */
  int error = ETIMEDOUT;
  for (;;)
    {
      double deadline = plr_lease_deadline (lock);
      if (sleep_until (ka, fmin (next, deadline)))
        break;
      if (plr_now () >= deadline)
        {
          plr_lease_declare_lost (lock);
          if (ka->lost != NULL)
            ka->lost (lock, error, ka->arg);
          break;
        }
      int r = plr_renew_on (lock, &ka->conn);
      int e = errno;
      double t = plr_now ();
      if (r == 1)
        {
          error = ETIMEDOUT;
          next = t + period;
          continue;
        }
      if (r == 0)
        {
          plr_lease_declare_lost (lock);
          if (ka->lost != NULL)
            ka->lost (lock, ENOLCK, ka->arg);
          break;
        }
      error = e == ETIME ? ETIMEDOUT : e;
      next = t + fmax (0.01, fmin (period, (deadline - t) / 4));
    }
  plr_conn_close (&ka->conn);
  return NULL;
}

int
portalock_redis_keepalive (portalock_redis *lock, portalock_redis_lost_fn lost,
                           void *arg)
{
  if (lock == NULL || !lock->held || lock->keepalive != NULL)
    {
      errno = EINVAL;
      return -1;
    }
  struct plr_keepalive *ka = calloc (1, sizeof *ka);
  if (ka == NULL)
    return -1;
  ka->lock = lock;
  ka->lost = lost;
  ka->arg = arg;
  ka->conn.url = &lock->url;
  ka->conn.cap = INFINITY;
  ka->conn.connect_timeout = lock->conn.connect_timeout;
  ka->conn.command_timeout = lock->conn.command_timeout;
  ka->conn.error = &ka->error;
  pthread_condattr_t ca;
  pthread_condattr_init (&ca);
  pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
  pthread_cond_init (&ka->cond, &ca);
  pthread_condattr_destroy (&ca);
  pthread_mutex_init (&ka->mutex, NULL);

  /* The thread takes no signal meant for the application.  */
  sigset_t all, old;
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  int error = pthread_create (&ka->thread, NULL, run, ka);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (error != 0)
    {
      pthread_cond_destroy (&ka->cond);
      pthread_mutex_destroy (&ka->mutex);
      free (ka);
      errno = error;
      return -1;
    }
  lock->keepalive = ka;
  return 0;
}

void
plr_keepalive_stop (portalock_redis *lock)
{
  struct plr_keepalive *ka = lock->keepalive;
  if (ka == NULL)
    return;
  int saved_errno = errno;
  pthread_mutex_lock (&ka->mutex);
  ka->stop = true;
  pthread_cond_signal (&ka->cond);
  pthread_mutex_unlock (&ka->mutex);
  pthread_join (ka->thread, NULL);
  pthread_cond_destroy (&ka->cond);
  pthread_mutex_destroy (&ka->mutex);
  free (ka->error);
  free (ka);
  lock->keepalive = NULL;
  errno = saved_errno;
}

void
plr_keepalive_discard (portalock_redis *lock)
{
  struct plr_keepalive *ka = lock->keepalive;
  if (ka == NULL)
    return;
  plr_conn_close (&ka->conn);
  free (ka->error);
  free (ka);
  lock->keepalive = NULL;
}
