/* method-lock.c: plock's locks of the strict, lease and auto methods,
   taken through a lock object of the library.

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

/* With the kernel method plock locks a descriptor of its own, as
   flock(1) does (lockfile.c).  The other methods are the library's lock
   objects: a marker file beside FILE (FILE.marker) that excludes
   through the file system itself, renewed by a heartbeat thread of the
   library for a lease, or, for auto, the kernel lock where the file
   system's probe says it spans every client.  The object opens FILE too
   (created as flock(1) creates it, never truncated, never written but
   for a PID record that -p asks for), and its descriptor is the one
   COMMAND finds in PLOCK_FD.  A marker lock belongs to the process that
   took it and ends with its release: the command forms and the holder
   keep the object until they let go.  */

#include <config.h>

#include "method-lock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "holder.h"

bool
method_uses_object (const struct lock_request *req)
{
  return (req->method == PORTALOCK_METHOD_STRICT
          || req->method == PORTALOCK_METHOD_LEASE
          || req->method == PORTALOCK_METHOD_AUTO);
}

const char *
method_label (const struct lock_request *req)
{
  const char *name = portalock_method_name (req->method);
  return name != NULL ? name : "?";
}

/* The mode the object opens FILE with: read-only where it exists or
   must not be created (as flock(1) opens it; nothing is written into
   it), else "a", which creates it without truncating anything.  */
static const char *
open_mode (const struct lock_request *req)
{
  struct stat st;
  if (!req->create || stat (req->path, &st) == 0)
    return "r";
  return "a";
}

portalock *
method_lock_new (const struct lock_request *req, bool record,
                 portalock_lost_fn lost, void *arg, bool quiet, int *status)
{
  portalock *lock = portalock_new (req->path);
  double timeout = req->nonblock ? 0 : isinf (req->timeout) ? -1
    : req->timeout;
  if (lock == NULL
      || portalock_set_method (lock, req->method) != 0
      || (req->lease_ttl > 0
          && portalock_set_lease_ttl (lock, req->lease_ttl) != 0)
      || portalock_set_mode (lock, open_mode (req)) != 0
      || portalock_set_flags (lock, req->type) != 0
      || portalock_set_timeout (lock, timeout) != 0
      || portalock_set_fail_when_locked (lock, req->nonblock) != 0
      || portalock_set_permissions (lock, 0666) != 0
      || (req->api_given && portalock_set_backend (lock, req->api) != 0)
      || portalock_set_writer_preference (lock, req->prefer_writers) != 0
      || (record && portalock_set_record_pid (lock, true) != 0)
      || (lost != NULL
          && portalock_set_lost_callback (lock, lost, arg) != 0))
    {
      int err = errno;
      portalock_free (lock);
      if (!quiet)
        error (0, err, "%s: cannot set up a lock of the %s method",
               req->path, method_label (req));
      *status = err == ENOMEM ? EX_OSERR : EX_DATAERR;
      return NULL;
    }
  return lock;
}

int
method_lock_status (const struct lock_request *req, int err, bool record,
                    int conflict_code, bool verbose, bool quiet)
{
  const char *name = req->path;
  switch (err)
    {
    case EWOULDBLOCK:
#if EAGAIN != EWOULDBLOCK
    case EAGAIN:
#endif
    case ETIMEDOUT:
      return lockfile_lock_status (req, name, err, conflict_code, verbose,
                                   quiet);
    case ENOTSUP:
      if (!quiet)
        {
          error (0, err, "%s: cannot lock with the %s method", name,
                 method_label (req));
        }
      return EX_DATAERR;
    case EEXIST:
      if (record)
        return record_failure (name, err, quiet);
      break;
    case ENOLCK:
      if (!quiet)
        error (0, 0, "%s: the lock was lost", name);
      return LOCK_EXIT_LOST;
    case ENOENT:
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case ELOOP:
    case ENAMETOOLONG:
    case EISDIR:
    case ENXIO:
    case EROFS:
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      if (!quiet)
        error (0, err, "cannot lock %s with the %s method", name,
               method_label (req));
      if (err == ENOMEM || err == EMFILE || err == ENFILE)
        return EX_OSERR;
      if (err == EROFS || err == ENOSPC || err == EDQUOT)
        return EX_CANTCREAT;
      return EX_NOINPUT;
    default:
      break;
    }
  if (!quiet)
    error (0, err, "cannot lock %s with the %s method", name,
           method_label (req));
  return EX_DATAERR;
}

int
method_lock_finish (portalock *lock, const char *name, bool *lost,
                    bool quiet)
{
  int status = EXIT_SUCCESS;
  if (portalock_lost (lock))
    *lost = true;
  if (portalock_release (lock) < 0)
    {
      int err = errno;
      if (err == ENOLCK)
        *lost = true;
      else
        {
          if (!quiet)
            error (0, err, "%s: cannot release the lock", name);
          status = EX_DATAERR;
        }
    }
  portalock_free (lock);
  return status;
}
