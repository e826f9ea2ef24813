/* backend-lockf.c: lockf(3) locks: exclusive, owned by the process.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <fcntl.h>

#include "portalock-private.h"

/* lockf(3) is, in every C library this backend is built for (glibc, musl,
   the BSDs), a front end to fcntl(2) record locks: F_LOCK is an F_WRLCK
   request with F_SETLKW from the current file offset.  The backend makes
   that request itself (portalock_record_lock), from START, so that the file
   offset never moves (lockf itself would need an lseek before and after,
   seen by every thread sharing the descriptor) and a lock costs one
   system call.  What makes it the lockf backend is what lockf offers:
   exclusive locks only.  configure builds it only with the fcntl one.  */
static int
lockf_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  (void) type;   /* Always PORTALOCK_EX: lockf has no shared locks.  */
  return portalock_record_lock (fd, wait ? F_SETLKW : F_SETLK, F_WRLCK,
                                start, length);
}

static int
lockf_unlock (int fd, off_t start, off_t length)
{
  return portalock_record_lock (fd, F_SETLK, F_UNLCK, start, length);
}

const struct portalock_backend_ops portalock_backend_lockf =
{
  .id = PORTALOCK_BACKEND_LOCKF,
  .name = "lockf",
  .ranges = true,
  .shared = false,
  .process_scoped = true,
  .converts_by_unlocking = false,
  .lock = lockf_lock,
  .unlock = lockf_unlock,
};
