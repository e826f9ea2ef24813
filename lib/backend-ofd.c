/* backend-ofd.c: Linux open file description locks (F_OFD_SETLK).

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>

#include "portalock-private.h"

/* OFD locks are byte-range locks like POSIX ones, but they belong to the
   open file description, as flock(2) locks do: a close of another
   descriptor of the file leaves them alone, and two opens of one file in
   one process conflict.  l_pid must be 0.  */
static int
ofd_set (int fd, short l_type, off_t start, off_t length, bool wait)
{
  struct flock fl = { 0 };
  fl.l_type = l_type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = length;
  fl.l_pid = 0;
  if (fcntl (fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES)
    errno = EWOULDBLOCK;
  return -1;
}

static int
ofd_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  return ofd_set (fd, type == PORTALOCK_SH ? F_RDLCK : F_WRLCK,
                  start, length, wait);
}

static int
ofd_unlock (int fd, off_t start, off_t length)
{
  return ofd_set (fd, F_UNLCK, start, length, false);
}

const struct portalock_backend_ops portalock_backend_ofd =
{
  .id = PORTALOCK_BACKEND_OFD,
  .name = "ofd",
  .ranges = true,
  .shared = true,
  .process_scoped = false,
  .async_cancel = false,
  .lock = ofd_lock,
  .unlock = ofd_unlock,
};
