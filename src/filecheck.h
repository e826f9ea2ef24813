/* filecheck.h: what the tools check before they write into or delete a file.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef FILECHECK_H
#define FILECHECK_H 1

#include <stdbool.h>

/* Empty the file open on FD if it holds exactly this process's PID
   record ("PID\n"), and nothing else: a record that another holder
   wrote over it, or data someone wrote meanwhile, stays.  */
void clear_own_record (int fd);

/* Delete PATH, which the caller holds a lock on through FD, for
   --remove: only if PATH itself (not through a symbolic link) still
   names the file FD is open on, and only a regular file (unlink) or a
   directory (rmdir, so only an empty one).  Return 0 if it was deleted
   or PATH names another file by now (nothing to do); -1 with errno:
   EINVAL if it is neither a regular file nor a directory (a FIFO, a
   device, a socket), else from lstat(2), unlink(2) or rmdir(2).  */
int remove_locked_file (int fd, const char *path);

#endif /* FILECHECK_H */
