/* lock.c: lock objects on a Redis server: new, settings, acquire (and
   the wait for a release), release, renew, free.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "redis-private.h"

/* The longest lease: Redis takes TTLs in ms up to far more, but a
   lease of weeks is a configuration mistake.  */
#define TTL_MAX_MS (24LL * 24 * 3600 * 1000)

static int
invalid (void)
{
  errno = EINVAL;
  return -1;
}

/* Fill OWNER with 128 random bits in hex.  */
static int
new_owner (char owner[33])
{
  unsigned char bits[16];
  size_t got = 0;
  while (got < sizeof bits)
    {
      ssize_t n = getrandom (bits + got, sizeof bits - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      got += n;
    }
  for (int i = 0; i < 16; i++)
    snprintf (owner + 2 * i, 3, "%02x", bits[i]);
  return 0;
}

/* Set LOCK's TTL to MS, and the text the scripts are given for it,
   made once here rather than at every acquire and renewal.  */
static void
set_ttl_ms (portalock_redis *lock, long long ms)
{
  lock->ttl_ms = ms;
  int n = snprintf (lock->ttl_text, sizeof lock->ttl_text, "%lld", ms);
  lock->ttl_len = n;
}

static void
clear_error (portalock_redis *lock)
{
  free (lock->error);
  lock->error = NULL;
}

portalock_redis *
portalock_redis_new (const char *url, const char *name)
{
  if (name == NULL || name[0] == '\0'
      || strlen (name) > PORTALOCK_REDIS_NAME_MAX)
    {
      errno = EINVAL;
      return NULL;
    }
  if (url == NULL)
    {
      url = getenv ("PORTALOCK_REDIS_URL");
      if (url == NULL || url[0] == '\0')
        url = "redis://127.0.0.1:6379";
    }
  portalock_redis *lock = calloc (1, sizeof *lock);
  if (lock == NULL)
    return NULL;
  if (plr_url_parse (url, &lock->url) != 0)
    {
      free (lock);
      return NULL;
    }
  lock->name = strdup (name);
  char **keys[6] = { &lock->key_excl, &lock->key_shared, &lock->key_tokens,
                     &lock->key_counter, &lock->key_queue, &lock->key_places };
  size_t *lens[6] = { &lock->key_len[0], &lock->key_len[1], &lock->key_len[2],
                      &lock->key_len[3], &lock->key_queue_len,
                      &lock->key_places_len };
  static const char *const suffix[6] = { "x", "s", "t", "n", "q", "e" };
  bool ok = lock->name != NULL;
  for (int i = 0; ok && i < 6; i++)
    {
      int n = asprintf (keys[i], "portalock:{%s}:%s", name, suffix[i]);
      ok = n > 0;
      if (ok)
        *lens[i] = n;
      else
        *keys[i] = NULL;
    }
  pthread_mutex_init (&lock->lease_mutex, NULL);
  int error = !ok ? ENOMEM : new_owner (lock->owner) != 0 ? errno : 0;
  if (error == 0)
    {
      /* This object's own channel, on which it is woken when it is the
         first waiter.  */
      int n = asprintf (&lock->channel, "portalock:{%s}:w:%s", name,
                        lock->owner);
      if (n > 0)
        lock->key_len[4] = n;
      else
        {
          lock->channel = NULL;
          error = ENOMEM;
        }
    }
  if (error != 0)
    {
      portalock_redis_free (lock);
      errno = error;
      return NULL;
    }
  lock->name_len = strlen (name);
  lock->timeout = 5;
  set_ttl_ms (lock, 30000);
  plr_set_queue_ttl_ms (lock, PLR_QUEUE_TTL_MS);
  lock->pid = getpid ();
  lock->valid_until = -INFINITY;
  lock->cancel_fd = -1;
  struct plr_conn *conns[2] = { &lock->conn, &lock->sub };
  for (int i = 0; i < 2; i++)
    {
      conns[i]->cap = INFINITY;
      conns[i]->url = &lock->url;
      conns[i]->connect_timeout = 5;
      conns[i]->command_timeout = 5;
      conns[i]->error = &lock->error;
    }
  return lock;
}

int
portalock_redis_set_timeout (portalock_redis *lock, double seconds)
{
  if (lock == NULL || isnan (seconds))
    return invalid ();
  lock->timeout = seconds < 0 ? -1 : seconds;
  return 0;
}

int
portalock_redis_set_ttl (portalock_redis *lock, double seconds)
{
  if (lock == NULL || lock->held || !(seconds >= 0.01)
      || !(seconds * 1000 <= TTL_MAX_MS))
    return invalid ();
  set_ttl_ms (lock, (long long) llround (seconds * 1000));
  return 0;
}

int
portalock_redis_set_shared (portalock_redis *lock, bool shared)
{
  if (lock == NULL || lock->held)
    return invalid ();
  lock->shared = shared;
  return 0;
}

int
portalock_redis_set_writer_preference (portalock_redis *lock, bool prefer)
{
  if (lock == NULL || lock->held)
    return invalid ();
  lock->prefer_writers = prefer;
  return 0;
}

int
portalock_redis_set_fail_when_locked (portalock_redis *lock, bool fail)
{
  if (lock == NULL)
    return invalid ();
  lock->fail_when_locked = fail;
  return 0;
}

static int
set_io_timeout (portalock_redis *lock, double seconds, bool connect)
{
  if (lock == NULL || !(seconds > 0) || !isfinite (seconds)
      || seconds > 1e6)
    return invalid ();
  if (connect)
    lock->conn.connect_timeout = lock->sub.connect_timeout = seconds;
  else
    lock->conn.command_timeout = lock->sub.command_timeout = seconds;
  return 0;
}

int
portalock_redis_set_connect_timeout (portalock_redis *lock, double seconds)
{
  return set_io_timeout (lock, seconds, true);
}

int
portalock_redis_set_command_timeout (portalock_redis *lock, double seconds)
{
  return set_io_timeout (lock, seconds, false);
}

/* The script arguments common to all: the keys, then the owner.  */
int
plr_key_args (const portalock_redis *lock, const char **argv, size_t *len)
{
  const char *keys[PLR_NKEYS] = { lock->key_excl, lock->key_shared,
                                  lock->key_tokens, lock->key_counter,
                                  lock->key_queue, lock->key_places };
  for (int i = 0; i < 4; i++)
    len[i] = lock->key_len[i];
  len[4] = lock->key_queue_len;
  len[5] = lock->key_places_len;
  for (int i = 0; i < PLR_NKEYS; i++)
    argv[i] = keys[i];
  argv[PLR_NKEYS] = lock->owner;
  len[PLR_NKEYS] = 32;
  return PLR_NKEYS + 1;
}

/* The arguments of the scripts that grant or extend a lease (acquire
   and renew): the keys, the owner, the TTL and the mode.  */
static int
lease_args (const portalock_redis *lock, const char **argv, size_t *len)
{
  int argc = plr_key_args (lock, argv, len);
  argv[argc] = lock->ttl_text;
  len[argc++] = lock->ttl_len;
  argv[argc] = lock->shared ? "s" : "x";
  len[argc++] = 1;
  return argc;
}

/* Fail with the errno for the error reply R, and free it.  */
static int
reply_error (redisReply *r)
{
  int error = r->type == REDIS_REPLY_ERROR ? plr_error_errno (r->str) : EPROTO;
  freeReplyObject (r);
  errno = error;
  return -1;
}

/* Run SCRIPT on C with LOCK's keys and the ARGC arguments in ARGV
   and LEN, and return 0 with its reply in *R if the reply has the TYPE
   the script answers with; else -1 with errno (the error reply's, or
   EPROTO for an answer of another type, which is freed).  */
static int
call_script (struct plr_conn *c, enum plr_script script, int type,
             int argc, const char **argv, const size_t *len, redisReply **r)
{
  if (plr_script_run (c, script, PLR_NKEYS, argc, argv, len, r) != 0)
    return -1;
  if ((*r)->type != type)
    return reply_error (*r);
  return 0;
}

/* The lease's validity.  The server counts a lease's TTL from the moment
   it runs the script; the object counts it from before it sent the
   request, on its own monotonic clock, less a margin for the two clocks'
   rates (Redlock's: 1 % of the TTL, plus 2 ms).  Until that deadline the
   lease is surely still the object's, whatever the network does; after
   it, without a renewal answered in time, it may have been granted to
   another, and the object says it is lost.  */

double
plr_validity (const portalock_redis *lock, double sent)
{
  double ttl = lock->ttl_ms / 1000.0;
  return sent + ttl - (ttl / 100 + 0.002);
}

void
plr_lease_extend (portalock_redis *lock, double until)
{
  pthread_mutex_lock (&lock->lease_mutex);
  if (!lock->lease_lost && until > lock->valid_until)
    lock->valid_until = until;
  pthread_mutex_unlock (&lock->lease_mutex);
}

double
plr_lease_deadline (portalock_redis *lock)
{
  pthread_mutex_lock (&lock->lease_mutex);
  double d = lock->lease_lost ? -INFINITY : lock->valid_until;
  pthread_mutex_unlock (&lock->lease_mutex);
  return d;
}

void
plr_lease_declare_lost (portalock_redis *lock)
{
  pthread_mutex_lock (&lock->lease_mutex);
  lock->lease_lost = true;
  pthread_mutex_unlock (&lock->lease_mutex);
}

/* LOCK was granted its lease by a request sent at SENT.  */
static void
lease_granted (portalock_redis *lock, double sent)
{
  pthread_mutex_lock (&lock->lease_mutex);
  lock->lease_lost = false;
  lock->valid_until = plr_validity (lock, sent);
  pthread_mutex_unlock (&lock->lease_mutex);
}

/* Try once to take LOCK, taking a place in its queue if QUEUE.  Return
   1 if granted, 0 if held elsewhere (with the ms until the lease or
   place in the way ends, or -1, in *WAIT_MS), or -1 with errno.  */
int
plr_try_acquire (portalock_redis *lock, bool queue, long long *wait_ms)
{
  const char *argv[12];
  size_t len[12];
  int argc = lease_args (lock, argv, len);
  argv[argc] = lock->identity != NULL ? lock->identity : "";
  len[argc++] = lock->identity != NULL ? strlen (lock->identity) : 0;
  argv[argc] = queue ? lock->queue_ttl_text : "0";
  len[argc++] = queue ? lock->queue_ttl_len : 1;
  /* Only a preferring shared request says so: the protocol of clients
     that send five arguments is unchanged.  */
  if (lock->shared && lock->prefer_writers)
    {
      argv[argc] = "p";
      len[argc++] = 1;
    }
  redisReply *r;
  double sent = plr_now ();
  if (plr_script_run (&lock->conn, PLR_ACQUIRE, PLR_NKEYS, argc, argv, len,
                      &r) != 0)
    {
      /* The request may have reached the server and been granted.  */
      if (errno == ECONNRESET || errno == EHOSTDOWN)
        lock->maybe_held = true;
      return -1;
    }
  /* A grant is answered with its token, a refusal with the ms until
     the lease in the way ends.  */
  if (r->type == REDIS_REPLY_STRING)
    {
      uint64_t token = strtoull (r->str, NULL, 10);
      freeReplyObject (r);
      lock->held = true;
      lock->maybe_held = false;
      lock->token = token;
      lease_granted (lock, sent);
      return 1;
    }
  if (r->type == REDIS_REPLY_ERROR && strncmp (r->str, "TOKENS ", 7) == 0)
    {
      /* The counter is at 2^63 - 1: no greater token can be given.  */
      freeReplyObject (r);
      errno = EOVERFLOW;
      return -1;
    }
  if (r->type != REDIS_REPLY_INTEGER)
    return reply_error (r);
  *wait_ms = r->integer;
  freeReplyObject (r);
  lock->held = false;
  lock->token = 0;
  return 0;
}

int
portalock_redis_acquire (portalock_redis *lock)
{
  if (lock == NULL)
    return invalid ();
  clear_error (lock);
  double deadline = lock->timeout < 0 ? INFINITY : plr_now () + lock->timeout;
  long long wait_ms = -1;
  /* A request that will not wait never takes a place in the queue.  */
  bool waits = lock->timeout != 0 && !lock->fail_when_locked;
  int got = plr_try_acquire (lock, waits, &wait_ms);
  if (got != 0)
    return got > 0 ? 0 : -1;
  if (!waits)
    {
      errno = EWOULDBLOCK;
      return -1;
    }
  return plr_wait (lock, deadline, wait_ms);
}

int
plr_renew_on (portalock_redis *lock, struct plr_conn *c)
{
  const char *argv[12];
  size_t len[12];
  int argc = lease_args (lock, argv, len);
  redisReply *r;
  /* A renewal answered after the validity deadline comes too late: the
     lease may have been granted to another in between.  */
  double deadline = plr_lease_deadline (lock);
  double sent = plr_now ();
  if (sent >= deadline)
    {
      errno = ETIME;
      return -1;
    }
  c->cap = deadline;
  int result = call_script (c, PLR_RENEW, REDIS_REPLY_INTEGER, argc, argv,
                            len, &r);
  c->cap = INFINITY;
  if (result != 0)
    return -1;
  int renewed = r->integer == 1;
  freeReplyObject (r);
  if (renewed)
    plr_lease_extend (lock, plr_validity (lock, sent));
  return renewed;
}

/* The lease of LOCK is gone: forget it and fail with ENOLCK.  */
static int
lost (portalock_redis *lock)
{
  lock->held = false;
  lock->token = 0;
  errno = ENOLCK;
  return -1;
}

int
portalock_redis_renew (portalock_redis *lock)
{
  if (lock == NULL || !lock->held)
    return invalid ();
  clear_error (lock);
  int r = plr_renew_on (lock, &lock->conn);
  if (r < 0 && errno == ETIME)
    return lost (lock);
  if (r < 0)
    return -1;
  return r == 1 ? 0 : lost (lock);
}

double
portalock_redis_remaining (portalock_redis *lock)
{
  if (lock == NULL || !lock->held)
    return invalid ();
  clear_error (lock);
  double deadline = plr_lease_deadline (lock);
  if (plr_now () >= deadline)
    return lost (lock);
  const char *argv[12];
  size_t len[12];
  int argc = plr_key_args (lock, argv, len);
  argv[argc] = lock->shared ? "s" : "x";
  len[argc++] = 1;
  redisReply *r;
  lock->conn.cap = deadline;
  int result = call_script (&lock->conn, PLR_REMAINING, REDIS_REPLY_INTEGER,
                            argc, argv, len, &r);
  lock->conn.cap = INFINITY;
  if (result != 0)
    return errno == ETIME ? lost (lock) : -1;
  long long ms = r->integer;
  freeReplyObject (r);
  if (ms == -2)
    return lost (lock);
  /* Never more than the validity left: the server's count started
     later than the object's, and the rest may be given away.  A lease
     without a TTL was set by someone else's hand: it never ends on the
     server, but this object still counts its own.  */
  double left = deadline - plr_now ();
  if (left <= 0)
    return lost (lock);
  return ms >= 0 && ms / 1000.0 < left ? ms / 1000.0 : left;
}

int
portalock_redis_release (portalock_redis *lock)
{
  if (lock == NULL)
    return invalid ();
  plr_keepalive_stop (lock);
  if (!lock->held && !lock->maybe_held)
    return 1;
  clear_error (lock);
  const char *argv[12];
  size_t len[12];
  int argc = plr_key_args (lock, argv, len);
  argv[argc] = lock->shared ? "s" : "x";
  len[argc++] = 1;
  redisReply *r;
  /* A lease past its validity deadline is released all the same if the
     server still has it (that frees the lock sooner), but it was lost:
     another may have held it in between.  */
  if (call_script (&lock->conn, PLR_RELEASE, REDIS_REPLY_INTEGER, argc, argv,
                   len, &r) != 0)
    return (lock->held && plr_now () >= plr_lease_deadline (lock)
            ? lost (lock) : -1);
  bool released = r->integer == 1;
  freeReplyObject (r);
  bool was_held = lock->held;
  lock->maybe_held = false;
  if (!was_held)
    return 1;
  if (!released || plr_now () >= plr_lease_deadline (lock))
    return lost (lock);
  lock->held = false;
  lock->token = 0;
  return 0;
}

int
portalock_redis_set_identity (portalock_redis *lock, const char *text)
{
  if (lock == NULL || lock->held || lock->maybe_held)
    return invalid ();
  if (text != NULL)
    {
      size_t n = strlen (text);
      if (n >= PORTALOCK_REDIS_IDENTITY_MAX)
        return invalid ();
      for (size_t i = 0; i < n; i++)
        if ((unsigned char) text[i] < ' ' || text[i] == 0x7f)
          return invalid ();
    }
  char *copy = NULL;
  if (text != NULL && text[0] != '\0' && (copy = strdup (text)) == NULL)
    return -1;
  free (lock->identity);
  lock->identity = copy;
  return 0;
}

/* Fill H from one holder's entry E of the holders script's answer:
   {mode, token, ms left, identity}.  Return false if E is malformed.  */
static bool
holder_entry (const redisReply *e, struct portalock_redis_holder *h)
{
  if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
    return false;
  for (int i = 0; i < 4; i++)
    if (e->element[i]->type != (i == 2 ? REDIS_REPLY_INTEGER
                                : REDIS_REPLY_STRING))
      return false;
  memset (h, 0, sizeof *h);
  h->shared = e->element[0]->str[0] == 's';
  h->token = strtoull (e->element[1]->str, NULL, 10);
  long long ms = e->element[2]->integer;
  h->remaining = ms < 0 ? HUGE_VAL : ms / 1000.0;
  size_t n = e->element[3]->len;
  if (n >= sizeof h->identity)
    n = sizeof h->identity - 1;
  memcpy (h->identity, e->element[3]->str, n);
  h->identity[n] = '\0';
  return true;
}

int
portalock_redis_holders (portalock_redis *lock,
                         struct portalock_redis_holder *holders, size_t max)
{
  if (lock == NULL || (holders == NULL && max > 0))
    return invalid ();
  clear_error (lock);
  const char *argv[12];
  size_t len[12];
  int argc = plr_key_args (lock, argv, len);
  redisReply *r;
  if (call_script (&lock->conn, PLR_HOLDERS, REDIS_REPLY_ARRAY, argc, argv,
                   len, &r) != 0)
    return -1;
  size_t n = r->elements;
  for (size_t i = 0; i < n; i++)
    if (i < max ? !holder_entry (r->element[i], &holders[i])
        : r->element[i]->type != REDIS_REPLY_ARRAY)
      return reply_error (r);
  freeReplyObject (r);
  if (n > INT_MAX)
    n = INT_MAX;
  return n;
}

uint64_t
portalock_redis_token (const portalock_redis *lock)
{
  return lock != NULL && lock->held ? lock->token : 0;
}

bool
portalock_redis_held (const portalock_redis *lock)
{
  return lock != NULL && lock->held;
}

const char *
portalock_redis_server_error (const portalock_redis *lock)
{
  return lock != NULL ? lock->error : NULL;
}

void
portalock_redis_free (portalock_redis *lock)
{
  if (lock == NULL)
    return;
  int saved_errno = errno;
  /* A forked child's copy holds nothing of its own: it must not release
     its parent's lease, and the parent's keep-alive thread is not
     there to stop.  */
  if (lock->pid == getpid ())
    {
      plr_keepalive_stop (lock);
      if (lock->held || lock->maybe_held)
        portalock_redis_release (lock);
    }
  else
    plr_keepalive_discard (lock);
  plr_conn_close (&lock->conn);
  plr_conn_close (&lock->sub);
  plr_url_free (&lock->url);
  free (lock->name);
  free (lock->key_excl);
  free (lock->key_shared);
  free (lock->key_tokens);
  free (lock->key_counter);
  free (lock->channel);
  free (lock->key_queue);
  free (lock->key_places);
  free (lock->error);
  free (lock->identity);
  pthread_mutex_destroy (&lock->lease_mutex);
  free (lock);
  errno = saved_errno;
}
