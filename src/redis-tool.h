/* redis-tool.h: the Redis side of plock and punlock (plock --redis),
   kept apart so that the tools build without the Redis library.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef REDIS_TOOL_H
#define REDIS_TOOL_H 1

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "release.h"

/* configure picks one of two files: redis-lock.c, with
   libportalock-redis, or redis-none.c, whose functions all report that
   the tools were built without it and return REDIS_EXIT_UNSUPPORTED.  */

/* The exit status of plock when the lease was lost while COMMAND ran
   (COMMAND was sent SIGTERM), or of a hold that could not keep it.  */
#define REDIS_EXIT_LOST 74

/* The exit status of plock and punlock asked for --redis by a build
   without the Redis library.  */
#define REDIS_EXIT_UNSUPPORTED 69

/* The shortest --ttl: a lease is renewed every third of its TTL, and a
   renewal needs a round trip or a few.  */
#define REDIS_TTL_MIN 0.1

/* What plock --redis is asked.  */
struct redis_request
{
  const char *url;              /* NULL or "": PORTALOCK_REDIS_URL */
  const char *name;             /* the lock's name */
  bool shared;
  bool prefer_writers;          /* --prefer-writers */
  double timeout;               /* 0: one try; INFINITY: forever */
  double ttl;                   /* 0: the default */
  int conflict_code;
  bool verbose, quiet;
  /* Hold mode.  */
  bool detach;
  pid_t owner;
  double max_hold;              /* INFINITY: none */
};

/* How plock runs COMMAND: return its exit status as plock's.  While it
   runs, plock keeps its PID in the variable that redis_command_form is
   given.  */
typedef int (*redis_run_fn) (char **cmd, void *arg);

/* Check REQ's URL, name and TTL before anything else is done.  Return
   0, or report and return plock's exit status.  */
int redis_check_request (const struct redis_request *req);

/* plock --redis=URL NAME COMMAND: take the lease, run COMMAND with RUN
   (ARG) while a thread renews it, and release it.  If the lease is lost
   meanwhile, send SIGTERM to the process in *COMMAND_PID and return
   REDIS_EXIT_LOST.  */
int redis_command_form (const struct redis_request *req, char **cmd,
                        redis_run_fn run, void *arg,
                        volatile pid_t *command_pid);

/* plock --redis=URL NAME: take the lease and leave a holder process
   that renews it until punlock, a stop signal, its owner's exit or
   --max-hold.  */
int redis_hold_form (const struct redis_request *req);

/* plock --redis=URL --test NAME: could the lock be taken now?  */
int redis_test_form (const struct redis_request *req);

/* plock --redis=URL --holder NAME: print each holder's identity and
   token; return 0 if there is one, 1 if none.  */
int redis_holder_form (const struct redis_request *req);

/* punlock --redis=URL NAME: signal the holder of NAME's lease on this
   host, as OPTS says, and wait for the release.  Return punlock's
   status.  */
int redis_release (const char *url, const char *name,
                   const struct release_options *opts);

#endif /* REDIS_TOOL_H */
