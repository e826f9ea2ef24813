/* backend-ofd.c: Linux open file description locks (F_OFD_SETLK).

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <fcntl.h>

#include "portalock-private.h"

/* OFD locks are byte-range locks like POSIX ones, but they belong to the
   open file description, as flock(2) locks do: a close of another
   descriptor of the file leaves them alone, and two opens of one file in
   one process conflict.  The requests are fcntl's, with other commands.  */
static int
ofd_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  return portalock_record_lock (fd, wait ? F_OFD_SETLKW : F_OFD_SETLK,
                                type == PORTALOCK_SH ? F_RDLCK : F_WRLCK,
                                start, length);
}

static int
ofd_unlock (int fd, off_t start, off_t length)
{
  return portalock_record_lock (fd, F_OFD_SETLK, F_UNLCK, start, length);
}

const struct portalock_backend_ops portalock_backend_ofd =
{
  .id = PORTALOCK_BACKEND_OFD,
  .name = "ofd",
  .ranges = true,
  .shared = true,
  .process_scoped = false,
  .converts_by_unlocking = false,
  .close_unlocks = true,
  .lock = ofd_lock,
  .unlock = ofd_unlock,
};
