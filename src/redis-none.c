/* redis-none.c: plock --redis and punlock --redis in a build without
   libportalock-redis: each says so.

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

#include "error.h"
#include "redis-tool.h"

/* Every --redis form stops at the check of the request, before any
   other work: nothing is created, locked or run.  */
int
redis_check_request (const struct redis_request *req)
{
  (void) req;
  error (0, 0, "--redis: not built with Redis support "
         "(configure found no hiredis)");
  return REDIS_EXIT_UNSUPPORTED;
}

int
redis_command_form (const struct redis_request *req, char **cmd,
                    redis_run_fn run, void *arg,
                    volatile pid_t *command_pid)
{
  (void) cmd;
  (void) run;
  (void) arg;
  (void) command_pid;
  return redis_check_request (req);
}

int
redis_hold_form (const struct redis_request *req)
{
  return redis_check_request (req);
}

int
redis_test_form (const struct redis_request *req)
{
  return redis_check_request (req);
}

int
redis_holder_form (const struct redis_request *req)
{
  return redis_check_request (req);
}

int
redis_release (const char *url, const char *name,
               const struct release_options *opts)
{
  (void) url;
  (void) name;
  (void) opts;
  return redis_check_request (NULL);
}
