/* holders.c: portalock_holders, the checks every platform shares.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <sys/stat.h>

#include "portalock-private.h"

/* The arguments and the path are checked here, the same on every
   system, before the platform's file (configure's choice) is asked:
   where it cannot tell (ENOTSUP), a bad path still gets its own
   error.  */
int
portalock_holders (const char *path, pid_t *pids, size_t max)
{
  struct stat st;

  if (path == NULL || *path == '\0' || (pids == NULL && max > 0))
    {
      errno = EINVAL;
      return -1;
    }
  if (stat (path, &st) != 0)
    return -1;
  return portalock_file_holders (st.st_dev, st.st_ino, pids, max);
}
