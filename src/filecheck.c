/* filecheck.c: what the tools check before they write into or delete a file.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "filecheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file a lock guards is the user's: a PID record goes only where
   asked (-p) and over nothing but a record (the library refuses
   otherwise), is emptied only while it is still this holder's own, and
   --remove deletes only what the lock was taken on, and never a device
   node, a FIFO or a socket, which no lock file ever needs to be.  */

void
clear_own_record (int fd)
{
  char want[32], text[34];
  int len = snprintf (want, sizeof want, "%ld\n", (long) getpid ());
  ssize_t n;
  do
    n = pread (fd, text, sizeof text, 0);
  while (n < 0 && errno == EINTR);
  if (n == len && memcmp (text, want, len) == 0)
    {
      int r = ftruncate (fd, 0);
      (void) r;
    }
}

int
remove_locked_file (int fd, const char *path)
{
  struct stat a, b;
  if (fstat (fd, &a) != 0)
    return -1;
  if (lstat (path, &b) != 0)
    return errno == ENOENT ? 0 : -1;
  if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return 0;
  if (S_ISREG (b.st_mode))
    return unlink (path);
  if (S_ISDIR (b.st_mode))
    return rmdir (path);
  errno = EINVAL;
  return -1;
}
