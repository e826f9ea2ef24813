/* redisquery.c: tests of what the manual gives for redis-py's locked,
   owned, reacquire and extend: the holders query, remaining, renew.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: redisquery DIR, where DIR holds the socket "sock" of the
   redis-server that redis.exp started.  The test reads and changes the
   server's keys on its own connection to stand for what the server's
   clock would do (a lease that ends), so that nothing waits a guessed
   time.  */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"
#include "testutil.h"

static char url[4200];
static char sock[4096];
static redisContext *admin_ctx;

/* The integer answer of a command sent on the test's own connection,
   or -999999.  */
static long long
admin_int (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  redisReply *r = redisvCommand (admin_ctx, format, ap);
  va_end (ap);
  long long v = (r != NULL && r->type == REDIS_REPLY_INTEGER
                 ? r->integer : -999999);
  freeReplyObject (r);
  return v;
}

static portalock_redis *
new_lock (const char *name, double ttl, bool shared)
{
  portalock_redis *lock = portalock_redis_new (url, name);
  if (lock == NULL || portalock_redis_set_ttl (lock, ttl) != 0
      || portalock_redis_set_shared (lock, shared) != 0
      || portalock_redis_set_timeout (lock, 0) != 0)
    die ("portalock_redis_new %s", name);
  return lock;
}

/* The number of holders of LOCK's name, as an onlooker asks.  */
static int
holders (portalock_redis *lock)
{
  return portalock_redis_holders (lock, NULL, 0);
}

/* redis-py's locked (): anyone holds the name, asked by an object that
   holds nothing, which stays so.  */
static void
test_locked (void)
{
  portalock_redis *a = new_lock ("q-locked", 60, false);
  portalock_redis *b = new_lock ("q-locked", 60, true);
  portalock_redis *c = new_lock ("q-locked", 60, true);
  portalock_redis *onlooker = new_lock ("q-locked", 60, false);
  check (holders (onlooker) == 0, "locked: a free name has no holder");
  check (portalock_redis_acquire (a) == 0 && holders (onlooker) == 1
         && !portalock_redis_held (onlooker)
         && portalock_redis_token (onlooker) == 0,
         "locked: an exclusive holder is seen by an object that holds"
         " nothing, and it still holds nothing");
  check (holders (a) == 1, "locked: the holder itself sees one holder");
  check (portalock_redis_release (a) == 0 && holders (onlooker) == 0,
         "locked: free again after the release");
  check (portalock_redis_acquire (b) == 0 && portalock_redis_acquire (c) == 0
         && holders (onlooker) == 2, "locked: two shared holders");
  /* A shared lease that has ended is no holder: give C a short one and
     wait until its holder counts it lost (at its own deadline, a little
     before the server's), then until the server's lease has ended too:
     the count drops to one only if the query leaves ended leases out.  */
  portalock_redis_release (c);
  portalock_redis_set_ttl (c, 0.01);
  check (portalock_redis_acquire (c) == 0, "locked: a short shared lease");
  double end = now () + 60;
  while (portalock_redis_remaining (c) >= 0 && now () < end)
    usleep (1000);
  bool ended = errno == ENOLCK;
  int n = holders (onlooker);
  while (n != 1 && now () < end)
    {
      usleep (1000);
      n = holders (onlooker);
    }
  check (ended && n == 1,
         "locked: a shared lease that ended is not counted (%d)", n);
  portalock_redis_free (a);
  portalock_redis_free (b);
  portalock_redis_free (c);

  /* A question that cannot be answered says so, where a bool could
     only say "free".  */
  portalock_redis *gone = portalock_redis_new ("unix:///nonexistent/sock",
                                               "q-locked");
  check (gone != NULL
         && fails_with (portalock_redis_holders (gone, NULL, 0), ENOENT),
         "locked: no server is an error, not a free lock");
  portalock_redis_free (gone);
  portalock_redis_free (onlooker);
}

/* redis-py's owned (): the server is asked, and a lease lost to
   another owner is ENOLCK, where held answers from what the object
   knows.  */
static void
test_owned (void)
{
  portalock_redis *a = new_lock ("q-owned", 60, false);
  portalock_redis *b = new_lock ("q-owned", 60, false);
  check (fails_with (portalock_redis_remaining (a), EINVAL),
         "owned: an object that never acquired owns nothing (EINVAL)");
  check (portalock_redis_acquire (a) == 0 && portalock_redis_remaining (a) > 0,
         "owned: the holder owns its lease");
  /* The lease ends (the server forgets it) and B takes the lock.  */
  check (admin_int ("DEL %s", "portalock:{q-owned}:x") == 1
         && portalock_redis_acquire (b) == 0,
         "owned: another takes the lock after A's lease ended");
  check (portalock_redis_held (a),
         "owned: held still answers from what A knew");
  check (fails_with (portalock_redis_remaining (a), ENOLCK)
         && !portalock_redis_held (a) && portalock_redis_token (a) == 0,
         "owned: remaining asks the server: ENOLCK, and A holds nothing");
  check (portalock_redis_remaining (b) > 0 && holders (a) == 1,
         "owned: the new holder's lease is untouched");
  portalock_redis_free (a);
  portalock_redis_free (b);
}

/* redis-py's reacquire (): renew resets the lease to a full TTL; it
   never adds to what was left, as redis-py's extend does.  */
static void
test_renew_resets (void)
{
  portalock_redis *a = new_lock ("q-renew", 60, false);
  const char *key = "portalock:{q-renew}:x";
  check (portalock_redis_acquire (a) == 0
         && admin_int ("PEXPIRE %s 5000", key) == 1
         && portalock_redis_remaining (a) <= 5,
         "renew: a lease with 5 s left");
  check (portalock_redis_renew (a) == 0
         && admin_int ("PTTL %s", key) > 5000,
         "renew: a full TTL again");
  check (portalock_redis_renew (a) == 0 && portalock_redis_renew (a) == 0
         && admin_int ("PTTL %s", key) <= 60000
         && portalock_redis_remaining (a) <= 60,
         "renew: renewals do not add up past the TTL");
  portalock_redis_free (a);

  portalock_redis *s = new_lock ("q-renew-s", 60, true);
  check (portalock_redis_acquire (s) == 0 && portalock_redis_renew (s) == 0
         && portalock_redis_renew (s) == 0
         && portalock_redis_remaining (s) <= 60,
         "renew: shared renewals do not add up past the TTL");
  portalock_redis_free (s);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: redisquery DIR");
  snprintf (sock, sizeof sock, "%s/sock", argv[1]);
  snprintf (url, sizeof url, "unix://%s", sock);
  admin_ctx = redisConnectUnix (sock);
  if (admin_ctx == NULL || admin_ctx->err)
    die ("no server at %s", sock);

  test_locked ();
  test_owned ();
  test_renew_resets ();
  redisFree (admin_ctx);
  return check_exit ();
}
