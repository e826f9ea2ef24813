/* fsprobe-none.c: the file system that holds a path, where the system
   has no mount table the probe can read.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <sys/stat.h>

#include "portalock-private.h"

/* POSIX has no call that names a file system's type or its mount
   options (statvfs(3) has neither), and without them nothing can be
   said of its locks.  So, where configure chose this file, the probe
   checks PATH as everywhere, so that a bad path gets the same error,
   and leaves the type empty: every verdict is then unknown.  */
int
portalock_fs_lookup (const char *path, const char *mountinfo,
                     struct portalock_fs_info *info)
{
  struct stat st;
  (void) mountinfo;
  (void) info;
  return stat (path, &st);
}
