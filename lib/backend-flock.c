/* backend-flock.c: locks with flock(2), owned by the open file description.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <sys/file.h>

#include "portalock-private.h"

static int
flock_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  (void) start;
  (void) length;
  int op = (type == PORTALOCK_SH ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  if (flock (fd, op) == 0)
    return 0;
  if (errno == EAGAIN)
    errno = EWOULDBLOCK;
  return -1;
}

static int
flock_unlock (int fd, off_t start, off_t length)
{
  (void) start;
  (void) length;
  return flock (fd, LOCK_UN);
}

const struct portalock_backend_ops portalock_backend_flock =
{
  .id = PORTALOCK_BACKEND_FLOCK,
  .name = "flock",
  .ranges = false,
  .shared = true,
  .process_scoped = false,
  .converts_by_unlocking = true,
  .close_unlocks = true,
  .lock = flock_lock,
  .unlock = flock_unlock,
};
