/* backend-fcntl.c: POSIX record locks (F_SETLK), owned by the process.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>

#include "portalock-private.h"

/* POSIX locks belong to the process: every descriptor of the file in
   this process shares them, and closing any one of those descriptors
   drops them all.  The lock objects keep their promises on top of this
   with the per-inode table (inode-table.c).  */
int
portalock_record_lock (int fd, int cmd, short l_type, off_t start,
                       off_t length)
{
  struct flock fl = { 0 };
  fl.l_type = l_type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = length;
  fl.l_pid = 0;     /* OFD requests need it 0 */
  if (fcntl (fd, cmd, &fl) == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES)
    errno = EWOULDBLOCK;
  return -1;
}

static int
fcntl_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  return portalock_record_lock (fd, wait ? F_SETLKW : F_SETLK,
                                type == PORTALOCK_SH ? F_RDLCK : F_WRLCK,
                                start, length);
}

static int
fcntl_unlock (int fd, off_t start, off_t length)
{
  return portalock_record_lock (fd, F_SETLK, F_UNLCK, start, length);
}

const struct portalock_backend_ops portalock_backend_fcntl =
{
  .id = PORTALOCK_BACKEND_FCNTL,
  .name = "fcntl",
  .ranges = true,
  .shared = true,
  .process_scoped = true,
  .converts_by_unlocking = false,
  .lock = fcntl_lock,
  .unlock = fcntl_unlock,
};
