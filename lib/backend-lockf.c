/* backend-lockf.c: locks with lockf(3), exclusive and owned by the process.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "portalock-private.h"

/* lockf(3) locks from the current file offset, so the backend moves the
   offset to START for the call and puts it back afterwards; the manual
   warns that a thread sharing the descriptor's offset sees the move
   while a lock call waits.  */

struct offset
{
  int fd;
  off_t here;
};

/* Put the offset back: also when a timed wait cancels a blocked lockf.  */
static void
restore_offset (void *arg)
{
  struct offset *o = arg;
  int saved_errno = errno;
  lseek (o->fd, o->here, SEEK_SET);
  errno = saved_errno;
}

static int
lockf_call (int fd, int cmd, off_t start, off_t length)
{
  off_t here = lseek (fd, 0, SEEK_CUR);
  if (here < 0)
    return -1;
  if (here != start && lseek (fd, start, SEEK_SET) < 0)
    return -1;
  struct offset o = { fd, here };
  int r;
  pthread_cleanup_push (restore_offset, &o);
  r = lockf (fd, cmd, length);
  pthread_cleanup_pop (here != start);
  if (r != 0 && (errno == EAGAIN || errno == EACCES))
    errno = EWOULDBLOCK;
  return r;
}

static int
lockf_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  (void) type;   /* Always PORTALOCK_EX: lockf has no shared locks.  */
  return lockf_call (fd, wait ? F_LOCK : F_TLOCK, start, length);
}

static int
lockf_unlock (int fd, off_t start, off_t length)
{
  return lockf_call (fd, F_ULOCK, start, length);
}

const struct portalock_backend_ops portalock_backend_lockf =
{
  .id = PORTALOCK_BACKEND_LOCKF,
  .name = "lockf",
  .ranges = true,
  .shared = false,
  .process_scoped = true,
  .async_cancel = false,
  .lock = lockf_lock,
  .unlock = lockf_unlock,
};
