/* holders-none.c: who holds a lock, where the kernel does not list locks.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>

#include "portalock-private.h"

/* POSIX has no way to ask who holds a lock: F_GETLK names one process
   that holds a conflicting POSIX lock, knows nothing of flock(2) locks
   and would need a descriptor open for writing to ask about an
   exclusive lock.  So, on a system without Linux's /proc/locks
   (configure chose this file), portalock_holders checks its arguments
   as everywhere (holders.c), so that a caller gets the same error for a
   bad path, and then says it cannot tell.  */
int
portalock_file_holders (dev_t dev, ino_t ino, pid_t *pids, size_t max)
{
  (void) dev;
  (void) ino;
  (void) pids;
  (void) max;
  errno = ENOTSUP;
  return -1;
}

/* Without a list of the system's locks, whether PID holds one cannot be
   told either.  */
int
portalock_pid_holds (pid_t pid, dev_t dev, ino_t ino)
{
  (void) pid;
  (void) dev;
  (void) ino;
  errno = ENOTSUP;
  return -1;
}
