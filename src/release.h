/* release.h: asking the holder of a lock to let go, for punlock and plock -u.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef RELEASE_H
#define RELEASE_H 1

#include <stdbool.h>
#include <sys/types.h>

/* How to release.  */
struct release_options
{
  double wait;            /* seconds to wait after signalling; 0: none */
  int signal;             /* the signal to send */
  bool kill_after;        /* then SIGKILL, and wait KILL_WAIT more */
  double kill_wait;
  pid_t pid;              /* release only this holder; 0: all */
  const char *pid_file;   /* read the holder's PID from there */
  bool force;             /* nothing to do is success; clear stale records */
  bool remove;            /* delete the file afterwards */
  bool quiet, verbose;
};

/* Release the plock holders of the lock on PATH as OPTS says, reporting
   as punlock does; return punlock's exit status.  */
int release_file (const char *path, const struct release_options *opts);

/* punlock --break: break the marker of the lock on PATH (a lock of the
   strict or lease method), whoever holds it; if TOKEN is not NULL, only
   if it is still that hold's.  Report as punlock does (the holder with
   OPTS->verbose) and return punlock's status.  */
int break_marker (const char *path, const char *token,
                  const struct release_options *opts);

#endif /* RELEASE_H */
