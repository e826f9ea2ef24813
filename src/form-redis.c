/* form-redis.c: plock --redis=URL: every form, on a lock in a Redis server.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

#include <config.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "plock.h"
#include "portalock.h"
#include "redis-tool.h"

/* Run CMD for the Redis form (redis-lock.c) as for a file.  */
static int
run_redis_command (char **cmd, void *arg)
{
  return run_command (arg, cmd, -1);
}

/* plock --redis=URL: every form, with NAME for FILE (see redis-tool.h).
   CMD is COMMAND, or NULL for NAME alone.  */
int
redis_form (struct options *o, char **cmd, const char *name)
{
  if (o->fd >= 0 || o->no_fork || o->unlock || o->record
      || o->pid_file != NULL || o->remove || o->api_given || o->range_given
      || o->sync || !o->lock.create || o->method_given)
    usage_error ("--redis takes none of --fd, -F, -u, -p, --pid-file, "
                 "--remove, --api, --fcntl, --start, --length, --sync, -N, "
                 "--method", NULL);
  struct redis_request req;
  memset (&req, 0, sizeof req);
  req.url = o->redis_url;
  req.name = name;
  req.shared = o->lock.type == PORTALOCK_SH;
  req.prefer_writers = o->lock.prefer_writers;
  req.timeout = o->lock.timeout;
  req.ttl = o->ttl;
  req.conflict_code = o->conflict_code;
  req.verbose = o->verbose;
  req.quiet = o->quiet;
  req.detach = o->detach;
  req.owner = o->owner_given ? o->owner : getppid ();
  req.max_hold = o->max_hold_given ? o->max_hold : INFINITY;
  bool hold_only = o->detach || o->owner_given || o->max_hold_given;
  if (o->holder_query && cmd != NULL)
    usage_error ("--holder needs exactly one NAME", NULL);
  if (cmd != NULL && (o->hold || hold_only || o->test))
    usage_error ("--hold, --owner, --detach, --max-hold and --test take "
                 "no COMMAND", NULL);
  if (o->test && (o->hold || hold_only))
    usage_error ("--test takes no --hold", NULL);
  refuse_untimeable (o);
  int status = redis_check_request (&req);
  if (status != EXIT_SUCCESS)
    return status;
  if (o->holder_query)
    return redis_holder_form (&req);
  if (o->test)
    return redis_test_form (&req);
  if (cmd == NULL)
    return redis_hold_form (&req);
  /* -o closes the lock's descriptor: a lease has none.  */
  o->do_close = false;
  return redis_command_form (&req, cmd, run_redis_command, o, &command_pid);
}
