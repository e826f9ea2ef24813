/* wait.c: how a lock object waits for a Redis lock: its place in the
   lock's queue of waiters, and the channel it is woken on.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* Waiters are served in the order they arrived.  A refused try that may
   wait takes a place at the end of the lock's queue (the acquire script
   does it in the same step), and the lock is granted to the first
   waiter only.  A release wakes that one waiter alone, by publishing on
   its own channel; the others sleep on.  A place lasts the queue TTL
   from the last try, and a waiter tries at least every third of that,
   so that a waiter that died (it publishes nothing, it leaves nothing)
   holds up those behind it for one queue TTL at most.

   A waiter keeps its subscribing connection, subscribed to its own
   channel, from one wait to the next: the channel belongs to the
   object, so a wake-up cannot be meant for anyone else, and a stale one
   (published just before a try that was granted anyway) costs one try
   more.  Only the first wait of an object subscribes, and then tries
   again: a wake-up published between its first try and the
   subscription reached no one.

   A pollable acquisition (pending.c) runs this wait in a thread of its
   own, which sleeps on the subscription's socket and on the descriptor
   its cancel makes readable.  A cancel ends the sleep only, never a
   command under way: every try's answer is read in full, so a grant is
   always known (and reported), and a cancelled waiter leaves the queue
   before it says so, waking the next waiter if it was first.  */

#include <config.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "redis-private.h"

/* The longest queue TTL, as for the lease.  */
#define QUEUE_TTL_MAX_MS (24LL * 24 * 3600 * 1000)

void
plr_set_queue_ttl_ms (portalock_redis *lock, long long ms)
{
  lock->queue_ttl_ms = ms;
  int n = snprintf (lock->queue_ttl_text, sizeof lock->queue_ttl_text,
                    "%lld", ms);
  lock->queue_ttl_len = n;
}

int
portalock_redis_set_queue_ttl (portalock_redis *lock, double seconds)
{
  if (lock == NULL || !(seconds >= 0.03)
      || !(seconds * 1000 <= QUEUE_TTL_MAX_MS))
    {
      errno = EINVAL;
      return -1;
    }
  plr_set_queue_ttl_ms (lock, (long long) llround (seconds * 1000));
  return 0;
}

/* Subscribe LOCK's second connection to its own channel.  */
static int
subscribe (portalock_redis *lock)
{
  const char *argv[2] = { "SUBSCRIBE", lock->channel };
  size_t len[2] = { 9, lock->key_len[4] };
  redisReply *r;
  if (plr_conn_send (&lock->sub, 2, argv, len) != 0
      || plr_conn_read (&lock->sub, -1, &r) < 0)
    return -1;
  bool subscribed = (r->type == REDIS_REPLY_ARRAY && r->elements == 3
                     && r->element[0]->type == REDIS_REPLY_STRING
                     && strcmp (r->element[0]->str, "subscribe") == 0);
  if (!subscribed)
    {
      int error = r->type == REDIS_REPLY_ERROR ? plr_error_errno (r->str)
                                               : EPROTO;
      if (r->type == REDIS_REPLY_ERROR)
        plr_conn_set_error (&lock->sub, r->str, r->len);
      freeReplyObject (r);
      plr_conn_close (&lock->sub);
      errno = error;
      return -1;
    }
  freeReplyObject (r);
  lock->subscribed = true;
  return 0;
}

/* Subscribe LOCK's connection to its channel, on a new connection if
   the server closed the last one (its idle timeout, CLIENT KILL, a
   restart), at most PLR_RECONNECTS times more, counted in
   *RECONNECTS.  */
static int
resubscribe (portalock_redis *lock, int *reconnects)
{
  lock->subscribed = false;
  while (subscribe (lock) != 0)
    if (errno != ECONNRESET || (*reconnects)++ >= PLR_RECONNECTS)
      return -1;
  return 0;
}

/* Take LOCK out of the queue, waking the next waiter if LOCK was first
   and the lock is free.  Keeps errno; an error is ignored (the place
   then ends with its TTL).  */
static void
leave_queue (portalock_redis *lock)
{
  int saved_errno = errno;
  const char *argv[12];
  size_t len[12];
  int argc = plr_key_args (lock, argv, len);
  redisReply *r;
  if (plr_script_run (&lock->conn, PLR_LEAVE, PLR_NKEYS, argc, argv, len,
                      &r) == 0)
    freeReplyObject (r);
  errno = saved_errno;
}

bool
plr_cancel_requested (const portalock_redis *lock)
{
  if (lock->cancel_fd < 0)
    return false;
  struct pollfd p = { .fd = lock->cancel_fd, .events = POLLIN };
  return poll (&p, 1, 0) > 0;
}

/* The waiter was cancelled: leave the queue, and fail with
   ECANCELED.  */
static int
cancelled (portalock_redis *lock)
{
  leave_queue (lock);
  errno = ECANCELED;
  return -1;
}

int
plr_wait (portalock_redis *lock, double deadline, long long wait_ms)
{
  double last_try = plr_now ();
  int reconnects = 0;
  if (!lock->subscribed || lock->sub.ctx == NULL)
    {
      if (plr_cancel_requested (lock))
        return cancelled (lock);
      plr_test_hook_before_subscribe ();
      if (resubscribe (lock, &reconnects) != 0)
        return -1;
      last_try = plr_now ();
      int got = plr_try_acquire (lock, true, &wait_ms);
      if (got != 0)
        return got > 0 ? 0 : -1;
    }
  for (;;)
    {
      double t = plr_now ();
      if (t >= deadline)
        {
          leave_queue (lock);
          errno = ETIMEDOUT;
          return -1;
        }
      if (plr_cancel_requested (lock))
        return cancelled (lock);
      /* Sleep until woken; or until the lease or place in the way ends,
         a millisecond late so that it has (a holder or a waiter that
         died publishes nothing); or until this waiter's own place
         needs renewing; or until the deadline.  */
      double until = fmin (deadline,
                           last_try + lock->queue_ttl_ms / 3000.0);
      if (wait_ms >= 0)
        until = fmin (until, last_try + (wait_ms + 1) / 1000.0);
      if (until > t)
        {
          redisReply *r;
          int n = plr_conn_read_or_cancel (&lock->sub, until - t,
                                           lock->cancel_fd, &r);
          if (n < 0 && errno == ECANCELED)
            return cancelled (lock);
          if (n < 0 && errno == ECONNRESET)
            {
              /* The server closed the subscription: subscribe again,
                 then try again (a wake-up may have been lost with
                 it).  */
              if (resubscribe (lock, &reconnects) != 0)
                return -1;
            }
          else if (n < 0)
            {
              lock->subscribed = false;
              return -1;
            }
          if (n > 0)
            freeReplyObject (r);
        }
      last_try = plr_now ();
      int got = plr_try_acquire (lock, true, &wait_ms);
      if (got != 0)
        return got > 0 ? 0 : -1;
      reconnects = 0;
    }
}
