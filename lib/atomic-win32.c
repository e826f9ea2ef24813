/* atomic-win32.c: atomic writes on Windows, not carried out yet.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>

#include "portalock-private.h"

/* atomic.c resolves every name relative to an open directory (openat,
   linkat, renameat), which Windows does not have.  Until a Windows
   publication with MoveFileExW is written, portalock_atomic_open fails
   with ENOTSUP (after the same checks of its arguments), and nothing is
   created.  */

portalock_atomic *
portalock_atomic_open (const char *path, int flags, mode_t mode)
{
  if (path == NULL
      || (flags & ~(PORTALOCK_ATOMIC_REPLACE | PORTALOCK_ATOMIC_MKDIRS)) != 0
      || (mode & ~(mode_t) 07777) != 0)
    errno = EINVAL;
  else
    errno = ENOTSUP;
  return NULL;
}

int
portalock_atomic_fd (const portalock_atomic *atomic)
{
  (void) atomic;
  errno = EINVAL;
  return -1;
}

FILE *
portalock_atomic_stream (portalock_atomic *atomic)
{
  (void) atomic;
  errno = EINVAL;
  return NULL;
}

int
portalock_atomic_commit (portalock_atomic *atomic)
{
  (void) atomic;
  errno = EINVAL;
  return -1;
}

void
portalock_atomic_abort (portalock_atomic *atomic)
{
  (void) atomic;
}
