/* form-hold.c: plock FILE: take the lock and leave a holder process.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "holder.h"
#include "lockfile.h"
#include "method-lock.h"
#include "plock.h"
#include "portalock.h"

/* Open the --pid-file PATH for a record: read-write (a record goes
   only over a record, which must be read), never through a symbolic
   link, and without blocking on a FIFO (the record is then refused).
   Set *CREATED to whether the open created it.  Return the descriptor
   or -1 with errno.  */
int
open_pid_file (const char *path, bool *created)
{
  int flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = open (path, flags);
  *created = false;
  if (fd < 0 && errno == ENOENT)
    {
      fd = open (path, flags | O_CREAT | O_EXCL, 0666);
      *created = fd >= 0;
    }
  return fd;
}

/* plock [-H] FILE: take the lock and leave a holder.  */
int
hold_form (struct options *o)
{
  struct hold_request req;
  memset (&req, 0, sizeof req);
  req.lock = o->lock;
  req.pid_file = o->pid_file;
  req.pid_file_fd = -1;
  req.remove = o->remove;
  req.detach = o->detach;
  req.owner = o->owner_given ? o->owner : getppid ();
  req.max_hold = o->max_hold_given ? o->max_hold : INFINITY;
  req.conflict_code = o->conflict_code;
  req.verbose = o->verbose;
  req.quiet = o->quiet;

  /* Nothing is written into FILE unless -p asks: the kernel names
     every holder, and FILE may be data or a script that locks itself.
     Even then the record goes only over nothing or a record.  */
  req.record = o->record && o->pid_file == NULL;
  req.lock.write = req.record;

  /* The holder lets go when its owner exits.  A plock whose parent has
     exited already was handed to PID 1, which becomes the owner: the
     lock is then kept until punlock or --max-hold, which is rarely
     what the caller had in mind, so say so.  */
  if (!o->owner_given && !o->detach && req.owner == 1 && !o->quiet)
    error (0, 0, "warning: %s: plock's parent has exited, so the holder "
           "has no owner: the lock is kept until punlock or --max-hold "
           "(--detach says so without this warning)", o->lock.path);

  /* The holder puts /dev/null on descriptors 0 to 2: the lock's must not
     be one of them, should plock have been started without them.  */
  for (;;)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null < 0 || null > 2)
        {
          if (null > 2)
            close (null);
          break;
        }
    }

  bool is_dir;
  req.fd = lockfile_open (&req.lock, &is_dir);
  if (req.fd < 0)
    return lockfile_open_status (&req.lock, errno, o->quiet);
  /* A lock object opens the file itself, in the holder: plock's open
     only made it, and said what is wrong with it, as for a kernel
     lock.  */
  if (method_uses_object (&req.lock))
    {
      close (req.fd);
      req.fd = -1;
    }
  bool created = false;
  if (o->pid_file != NULL)
    {
      req.pid_file_fd = open_pid_file (o->pid_file, &created);
      if (req.pid_file_fd < 0)
        {
          int err = errno;
          if (!o->quiet)
            error (0, err, "cannot open PID file %s", o->pid_file);
          if (req.fd >= 0)
            close (req.fd);
          return err == EROFS || err == ENOSPC ? EX_CANTCREAT : EX_NOINPUT;
        }
    }
  int status = hold_lock (&req);
  /* A PID file this plock created for a hold that failed goes again.  */
  struct stat st;
  if (status != EXIT_SUCCESS && created && stat (o->pid_file, &st) == 0
      && S_ISREG (st.st_mode) && st.st_size == 0)
    unlink (o->pid_file);
  return status;
}
