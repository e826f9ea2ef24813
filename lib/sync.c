/* sync.c: flushing a file to the disk before its lock is let go.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "portalock-private.h"

/* Why.  A lock orders the holders, but not what each one reads.  A
   stream's buffer may still hold data when the lock is let go, and on a
   network file system (NFS) another client may go on reading its cached
   pages until the data is written back to the server: portalocker's
   README tells users to flush () and os.fsync () before unlocking.
   These helpers do it, in that order, while the lock is still held.  */

int
portalock_flush_sync (FILE *stream, int fd, bool sync)
{
  if (stream != NULL && fflush (stream) != 0)
    return -1;
  if (sync && fsync (fd) != 0 && errno != EINVAL)
    return -1;
  return 0;
}

int
portalock_unlock_stream (FILE *stream, int flags)
{
  if (stream == NULL || (flags & ~PORTALOCK_FSYNC) != 0)
    {
      errno = EINVAL;
      return -1;
    }
  int fd = fileno (stream);
  if (fd < 0)
    {
      errno = EBADF;
      return -1;
    }
  if (portalock_flush_sync (stream, fd, (flags & PORTALOCK_FSYNC) != 0)
      != 0)
    return -1;
  return portalock_unlock (fd);
}
