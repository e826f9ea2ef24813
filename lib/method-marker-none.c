/* method-marker-none.c: the marker methods where there are none
   (Windows): every use fails with ENOTSUP.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>

#include "portalock-private.h"
#include "method.h"

static int
refuse (void)
{
  errno = ENOTSUP;
  return -1;
}

static void
none_init (void)
{
}

/* Only bind is ever called: it refuses, so nothing is opened.  */
static int
none_bind (portalock *lock, int type)
{
  (void) lock;
  (void) type;
  return refuse ();
}

static int
none_open (portalock *lock, int type)
{
  (void) lock;
  (void) type;
  return refuse ();
}

static int
none_lock (portalock *lock, int *fd, int type, bool nonblock,
           const struct timespec *deadline)
{
  (void) lock;
  (void) fd;
  (void) type;
  (void) nonblock;
  (void) deadline;
  return refuse ();
}

static int
none_unlock (portalock *lock, int fd, int type)
{
  (void) lock;
  (void) fd;
  (void) type;
  return refuse ();
}

static void
none_close (portalock *lock, int fd)
{
  (void) lock;
  (void) fd;
}

static int
none_release (portalock *lock, bool unlock)
{
  (void) lock;
  (void) unlock;
  return refuse ();
}

static int
none_may_convert (const portalock *lock, int type)
{
  (void) lock;
  (void) type;
  return refuse ();
}

static int
none_convert (portalock *lock, int type, bool nonblock,
              const struct timespec *deadline, bool *lost)
{
  (void) lock;
  (void) type;
  (void) nonblock;
  (void) deadline;
  (void) lost;
  return refuse ();
}

static int
none_claim_last (portalock *lock)
{
  (void) lock;
  return 1;
}

static int
none_renew (portalock *lock)
{
  (void) lock;
  return refuse ();
}

static int
none_holders (const portalock *lock, pid_t *pids, size_t max)
{
  (void) lock;
  (void) pids;
  (void) max;
  return refuse ();
}

static bool
none_lost (portalock *lock)
{
  (void) lock;
  return false;
}

static uint64_t
none_generation (const portalock *lock)
{
  (void) lock;
  return 0;
}

static void
none_free (portalock *lock)
{
  (void) lock;
}

#define NONE_OPS(NAME, KIND)                    \
  {                                             \
    .name = NAME,                               \
    .kind = KIND,                               \
    .init = none_init,                          \
    .bind = none_bind,                          \
    .open = none_open,                          \
    .lock = none_lock,                          \
    .unlock = none_unlock,                      \
    .close = none_close,                        \
    .release = none_release,                    \
    .may_convert = none_may_convert,            \
    .convert = none_convert,                    \
    .claim_last = none_claim_last,              \
    .renew = none_renew,                        \
    .holders = none_holders,                    \
    .lost = none_lost,                          \
    .generation = none_generation,              \
    .free = none_free                           \
  }

const struct portalock_method_ops portalock_method_strict =
  NONE_OPS ("strict", PORTALOCK_METHOD_STRICT);
const struct portalock_method_ops portalock_method_lease =
  NONE_OPS ("lease", PORTALOCK_METHOD_LEASE);

int
portalock_marker_read (const char *path, struct portalock_marker_info *info,
                       size_t info_size)
{
  (void) path;
  (void) info;
  (void) info_size;
  return refuse ();
}

int
portalock_marker_break (const char *path, const char *token)
{
  (void) path;
  (void) token;
  return refuse ();
}

int
portalock_marker_readers (const char *path,
                          struct portalock_marker_info *infos,
                          size_t info_size, size_t max)
{
  (void) path;
  (void) infos;
  (void) info_size;
  (void) max;
  return refuse ();
}
