/* redis.c: run a step once across machines, under a lock kept on a
   Redis server.  Usage: redis [URL] (else $PORTALOCK_REDIS_URL, else
   redis://127.0.0.1:6379).  Build it with
     cc redis.c $(pkg-config --cflags --libs portalock-redis)

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <portalock-redis.h>

/* The step that must run once.  It passes the fencing token on to what
   it changes, which refuses a token smaller than one it has seen.  */
static int
migrate (uint64_t token)
{
  printf ("migrating with fencing token %" PRIu64 "\n", token);
  return fflush (stdout) == 0 ? 0 : -1;
}

/* Called by the keep-alive thread if the lease is lost: another host
   may now run the step too.  Release will fail with ENOLCK.  */
static void
on_lost (portalock_redis *lock, int error, void *arg)
{
  (void) lock;
  (void) arg;
  fprintf (stderr, "lease lost: %s\n", strerror (error));
}

/* Say what failed, with the server's own words if it gave any.  */
static void
report (const char *what, const portalock_redis *lock)
{
  int error = errno;
  const char *detail = NULL;
  if (lock != NULL)
    detail = portalock_redis_server_error (lock);
  if (detail != NULL)
    fprintf (stderr, "%s: %s (%s)\n", what, strerror (error), detail);
  else
    fprintf (stderr, "%s: %s\n", what, strerror (error));
}

int
main (int argc, char **argv)
{
  const char *url = argc > 1 ? argv[1] : NULL;
  portalock_redis *lock = portalock_redis_new (url, "nightly-migration");
  if (lock == NULL)
    {
      report ("bad URL or lock name", NULL);
      return 1;
    }
  int status = 0;
  if (portalock_redis_set_timeout (lock, 0) != 0
      || portalock_redis_set_ttl (lock, 60) != 0)
    {
      report ("settings", lock);
      status = 1;
    }
  else if (portalock_redis_acquire (lock) != 0)
    {
      if (errno == EWOULDBLOCK)
        printf ("held elsewhere: nothing to do\n");
      else
        {
          report ("acquire", lock);
          status = 1;
        }
    }
  else
    {
      /* Renew the lease while the step runs, however long it takes.  */
      if (portalock_redis_keepalive (lock, on_lost, NULL) != 0)
        {
          report ("keepalive", lock);
          status = 1;
        }
      else if (migrate (portalock_redis_token (lock)) != 0)
        status = 1;
      if (portalock_redis_release (lock) < 0)
        {
          report ("release", lock);
          status = 1;
        }
    }
  portalock_redis_free (lock);
  return status;
}
