/* prefer-writers.c: plock's side of the writer-preferring protocol
   (--prefer-writers): the gate a lock request passes.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "prefer-writers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The protocol is the library's (lib/writer-gate.c, and the manual's
   "Reader/writer locks"), so that plock and programs using lock
   objects with writer preference take turns on one file: the gate is
   the file PATH.gate, created if need be and never written, locked
   with the same api as the lock itself, and held only while the lock
   is being taken.  plock holds a single gate at a time, in a process
   of its own (the command form's plock, or the holder), so that the
   close of its descriptor lets it go even with the process-scoped
   apis.  */

/* Return REQ->path with ".gate" appended, trailing slashes dropped, to
   free; or NULL.  */
static char *
gate_path (const char *path)
{
  static const char suffix[] = ".gate";
  size_t n = strlen (path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  char *gate = malloc (n + sizeof suffix);
  if (gate == NULL)
    return NULL;
  memcpy (gate, path, n);
  memcpy (gate + n, suffix, sizeof suffix);
  return gate;
}

/* Open the gate PATH for a TYPE lock with API: fcntl, OFD and lockf
   locks need read access for a shared lock and write access for an
   exclusive one; a reader that may not write there opens it
   read-only.  */
static int
open_gate (const char *path, enum portalock_backend api, int type)
{
  int flags = O_CLOEXEC | O_NOCTTY | O_CREAT;
  int fd = open (path, flags | (type == PORTALOCK_EX
                                && api != PORTALOCK_BACKEND_FLOCK
                                ? O_RDWR : O_RDONLY), 0666);
  if (fd < 0 && type == PORTALOCK_SH
      && (errno == EACCES || errno == EPERM || errno == EROFS))
    fd = open (path, O_CLOEXEC | O_NOCTTY | O_RDONLY);
  return fd;
}

/* Take the gate PATH as TYPE, one try if NONBLOCK, else waiting until
   DEADLINE.  */
static int
take (const struct lock_request *req, const char *path, int type,
      bool nonblock, double deadline)
{
  int fd = open_gate (path, req->api, type);
  if (fd < 0)
    return -1;
  double seconds = INFINITY;
  if (isfinite (deadline))
    {
      seconds = deadline - lockfile_now ();
      if (seconds < 0)
        seconds = 0;
    }
  if (portalock_backend_lock (req->api, fd, type
                              | (nonblock ? PORTALOCK_NB : 0), 0, 0,
                              nonblock ? 0 : seconds) != 0)
    {
      int err = errno;
      close (fd);
      errno = err;
      return -1;
    }
  return fd;
}

int
gate_enter (const struct lock_request *req, double deadline)
{
  char *path = gate_path (req->path);
  if (path == NULL)
    return -1;
  int fd;
  if (req->nonblock)
    {
      /* Pass as a reader: fail only if a writer waits (trying the gate
         exclusive would fail while a reader passes).  Without shared
         locks (lockf) there are no readers.  */
      fd = take (req, path, PORTALOCK_SH, true, deadline);
      if (fd < 0 && errno == ENOTSUP)
        fd = take (req, path, PORTALOCK_EX, true, deadline);
    }
  else
    {
      fd = take (req, path, req->type, false, deadline);
      if (fd < 0 && errno == EWOULDBLOCK)
        errno = ETIMEDOUT;
    }
  int err = errno;
  free (path);
  errno = err;
  return fd;
}

void
gate_leave (int gate)
{
  if (gate >= 0)
    {
      int err = errno;
      /* The close gives the gate's lock back, whatever the api.  */
      close (gate);
      errno = err;
    }
}
