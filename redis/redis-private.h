/* redis-private.h: what libportalock-redis's own files share, not
   installed.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_REDIS_PRIVATE_H
#define PORTALOCK_REDIS_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"

/* Where a server is and how to log in, from a URL.  */
struct plr_url
{
  char *host;           /* TCP host, or NULL for a Unix socket */
  int port;
  char *path;           /* Unix socket path, or NULL */
  char *user;           /* NULL: the default user */
  char *password;       /* NULL: no AUTH */
  long db;
};

/* Parse URL into U.  Return 0, or -1 with errno EINVAL or ENOMEM.  */
int plr_url_parse (const char *url, struct plr_url *u);
void plr_url_free (struct plr_url *u);

/* One connection to the server, opened on demand, closed on any I/O
   error so that a late reply is never taken for the answer to the next
   command.  */
struct plr_conn
{
  redisContext *ctx;    /* NULL when closed */
  const struct plr_url *url;
  double connect_timeout;
  double command_timeout;
  /* No wait on this connection goes past CAP, an absolute time on the
     monotonic clock (INFINITY: none); reaching it closes the connection
     and fails with ETIME.  The renewals use it to stop waiting at the
     lease's validity deadline.  */
  double cap;
  bool no_evalsha;      /* the server refused EVALSHA: send EVAL */
  char **error;         /* where to keep the last error text */
};

/* Connect C if it is closed (and log in, select the database).  Return
   0, or -1 with errno as portalock-redis.h documents.  */
int plr_conn_open (struct plr_conn *c);
void plr_conn_close (struct plr_conn *c);

/* Send the command ARGC, ARGV, ARGVLEN on C, connecting first if needed.
   Return 0, or -1 with errno.  Never raises SIGPIPE.  */
int plr_conn_send (struct plr_conn *c, int argc, const char **argv,
                   const size_t *argvlen);

/* Read one reply from C into *R, waiting at most SECONDS (< 0: the
   command timeout).  Return 1 with a reply, 0 if SECONDS ran out first
   (only when SECONDS >= 0), or -1 with errno (the connection is then
   closed).  An error reply is a reply.  */
int plr_conn_read (struct plr_conn *c, double seconds, redisReply **r);

/* As plr_conn_read, but also end the wait, with -1 and errno
   ECANCELED and C left open, once CANCEL_FD (if not -1) is readable; a
   reply already read is returned first.  */
int plr_conn_read_or_cancel (struct plr_conn *c, double seconds,
                             int cancel_fd, redisReply **r);

/* Send a command and read its reply within the command timeout.  Return
   0, or -1 with errno.  An error reply is returned as one (type
   REDIS_REPLY_ERROR), and recorded as C's error text.  */
int plr_conn_call (struct plr_conn *c, int argc, const char **argv,
                   const size_t *argvlen, redisReply **r);

/* Record TEXT (LEN bytes) as C's error text.  */
void plr_conn_set_error (struct plr_conn *c, const char *text, size_t len);

/* Forget C's error text: the call succeeded.  */
void plr_conn_clear_error (struct plr_conn *c);

/* The errno for the server's error reply TEXT.  */
int plr_error_errno (const char *text);

/* The scripts, and calls of them.  */
enum plr_script { PLR_ACQUIRE, PLR_RENEW, PLR_RELEASE, PLR_REMAINING,
                  PLR_HOLDERS, PLR_LEAVE, PLR_NSCRIPTS };

/* The number of keys every script is given: portalock:{NAME}: x, s,
   t, n, q and e, in that order.  */
#define PLR_NKEYS 6

/* Run SCRIPT on C with NKEYS keys and then the arguments in ARGV
   (ARGC strings in all), by EVALSHA, falling back to EVAL when the
   server does not know it.  Return 0 with the reply in *R (which may
   be an error reply), or -1 with errno.  */
int plr_script_run (struct plr_conn *c, enum plr_script script, int nkeys,
                    int argc, const char **argv, const size_t *argvlen,
                    redisReply **r);

/* How many times one call may connect again after finding its
   connection broken.  */
#define PLR_RECONNECTS 2

/* SHA-1 of LEN bytes at DATA, as 40 hex digits and a NUL, into HEX.  */
void plr_sha1_hex (const void *data, size_t len, char hex[41]);

/* Seconds on the monotonic clock.  */
double plr_now (void);

/* The lock object.  */
struct portalock_redis
{
  struct plr_url url;
  char *name;
  size_t name_len;
  /* The keys of the lock, sharing the hash tag {NAME}, and the
     channel this object is woken on when it waits.  */
  char *key_excl, *key_shared, *key_tokens, *key_counter, *channel;
  size_t key_len[5];
  char *key_queue, *key_places;
  size_t key_queue_len, key_places_len;
  long long queue_ttl_ms;       /* how long a waiter's place lasts */
  char queue_ttl_text[24];
  size_t queue_ttl_len;
  bool subscribed;      /* SUB is subscribed to CHANNEL */
  char owner[33];       /* 128 random bits, hex */
  double timeout;
  long long ttl_ms;
  char ttl_text[24];    /* TTL_MS in decimal, for the scripts */
  size_t ttl_len;
  char *identity;       /* stored with each grant; NULL: none */
  bool shared;
  bool prefer_writers;  /* a shared request waits behind the queue */
  bool fail_when_locked;
  bool held;
  bool maybe_held;      /* an acquire's outcome is unknown */
  uint64_t token;
  pid_t pid;            /* the process that made the object */
  struct plr_conn conn;
  struct plr_conn sub;  /* for waiting on the channel */
  char *error;          /* what portalock_redis_server_error returns */
  struct plr_keepalive *keepalive;
  /* The lease's validity, shared with the keep-alive thread under
     LEASE_MUTEX: the monotonic time until which the lease is surely
     still this object's (see plr_validity), and whether the keep-alive
     thread has declared it lost.  */
  pthread_mutex_t lease_mutex;
  double valid_until;
  bool lease_lost;
  /* While a pollable acquisition runs (pending.c): the descriptor its
     cancel makes readable, which ends the wait for a wake-up; else
     -1.  */
  int cancel_fd;
  /* The acquisition of LOCK pending in fork generation
     PENDING_GENERATION, or NULL (pending.c, under its mutex).  */
  struct portalock_redis_pending *pending;
  unsigned long pending_generation;
};

/* The validity of a lease granted or renewed by a request sent at the
   monotonic time SENT: SENT + TTL - (TTL / 100 + 2 ms), the drift
   margin of Redlock's validity time.  */
double plr_validity (const portalock_redis *lock, double sent);

/* Extend LOCK's validity to UNTIL, unless it is already later.  */
void plr_lease_extend (portalock_redis *lock, double until);

/* Return LOCK's validity deadline, or -INFINITY if its lease was
   declared lost.  */
double plr_lease_deadline (portalock_redis *lock);

/* Declare LOCK's lease lost (from the keep-alive thread).  */
void plr_lease_declare_lost (portalock_redis *lock);

/* Stop LOCK's keep-alive thread, if any, and wait for it.  */
void plr_keepalive_stop (portalock_redis *lock);

/* Forget LOCK's keep-alive thread in a forked child, where it does not
   run.  */
void plr_keepalive_discard (portalock_redis *lock);

/* Run the renew script for LOCK on connection C.  Return 1 if the lease
   was renewed, 0 if it was lost, -1 with errno on another error.  */
int plr_renew_on (portalock_redis *lock, struct plr_conn *c);

/* Try once to take LOCK; if QUEUE, a refusal takes (or keeps) LOCK's
   place in the queue of waiters.  Return 1 if granted, 0 if held
   elsewhere (with the ms until the lease or the place in the way ends,
   or -1, in *WAIT_MS), or -1 with errno.  */
int plr_try_acquire (portalock_redis *lock, bool queue, long long *wait_ms);

/* Fill ARGV and LEN with LOCK's keys (PLR_NKEYS of them), then its
   owner id; return how many that is.  */
int plr_key_args (const portalock_redis *lock, const char **argv,
                  size_t *len);

/* Wait for LOCK, which is in the queue, until DEADLINE (on the
   monotonic clock; infinite: forever): sleep on LOCK's channel until
   woken, until the lease or place in the way would end (WAIT_MS, from
   the last try), or until its own place needs renewing, and try again.
   Return 0 once granted, or -1 with errno (ETIMEDOUT at the deadline,
   after leaving the queue).  */
int plr_wait (portalock_redis *lock, double deadline, long long wait_ms);

/* Return true if LOCK's pollable acquisition has been cancelled.  */
bool plr_cancel_requested (const portalock_redis *lock);

/* The queue TTL a new object starts with, in ms.  */
#define PLR_QUEUE_TTL_MS 3000

/* Set LOCK's queue TTL to MS, and the text the scripts are given.  */
void plr_set_queue_ttl_ms (portalock_redis *lock, long long ms);

/* A hook for the test suite, between a waiter's failed try and its
   subscription; it does nothing unless built with PLR_TEST_HOOKS.  */
void plr_test_hook_before_subscribe (void);

#endif /* PORTALOCK_REDIS_PRIVATE_H */
