/* punlockshim.c: a module preloaded into punlock to replace a file under
   it, between its open of a lock file and its read of the record.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* punlock -f clears a stale record under a lock of every kind: it opens
   the file, locks it, reads the record through the path, and truncates
   through its descriptor only if the path still names the file it has
   open.  Another process may replace the file between the open and the
   read; then the record read is not the content of the file opened,
   which may hold anyone's data.  That window cannot be hit on purpose,
   so this module, preloaded (LD_PRELOAD), defines
   portalock_pid_record_read, which punlock calls from the shared
   library: at the call numbered $PUNLOCK_SHIM_CALL it moves the file at
   the path to $PUNLOCK_SHIM_MOVED, writes data into it there, and puts
   $PUNLOCK_SHIM_RECORD (a stale record) at the path; then it reads as
   the library does.  */

#include <config.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int portalock_pid_record_read (const char *path, pid_t *pid);

static int calls;

static void
replace (const char *path)
{
  const char *moved = getenv ("PUNLOCK_SHIM_MOVED");
  const char *record = getenv ("PUNLOCK_SHIM_RECORD");
  if (moved == NULL || record == NULL || rename (path, moved) != 0)
    return;
  int fd = open (moved, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd >= 0)
    {
      static const char data[] = "important data\n";
      if (write (fd, data, sizeof data - 1) < 0)
        perror (moved);
      close (fd);
    }
  if (rename (record, path) != 0)
    perror (record);
}

int
portalock_pid_record_read (const char *path, pid_t *pid)
{
  int (*real) (const char *, pid_t *)
    = (int (*) (const char *, pid_t *)) dlsym (RTLD_NEXT,
                                               "portalock_pid_record_read");
  const char *when = getenv ("PUNLOCK_SHIM_CALL");
  if (when != NULL && ++calls == atoi (when) && path != NULL)
    replace (path);
  return real (path, pid);
}
