/* lockfile.c: opening and locking a file the way flock(1) does, for plock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "prefer-writers.h"

double
lockfile_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Return the open(2) access mode REQ needs.  flock(1) opens read-only
   for flock(2), which needs no particular access; fcntl, OFD and lockf
   locks need read access for a shared lock and write access for an
   exclusive one.  */
static int
access_mode (const struct lock_request *req)
{
  /* A record is written only over a record, which must be read.  */
  if (req->write)
    return O_RDWR;
  bool need_write = req->write
    || (req->api != PORTALOCK_BACKEND_FLOCK && req->type == PORTALOCK_EX);
  bool need_read = (req->api == PORTALOCK_BACKEND_FLOCK && !need_write)
    || (req->api != PORTALOCK_BACKEND_FLOCK && req->type == PORTALOCK_SH);
  if (need_write)
    return need_read ? O_RDWR : O_WRONLY;
  return O_RDONLY;
}

/* Open REQ->path with access MODE.  A FIFO must not hang the open, so
   it is made without blocking (then the descriptor is made blocking
   again, as the command that inherits it expects).  A PID record is
   never written through a symbolic link, which someone may have
   planted to aim it at another file.  */
static int
open_mode (const struct lock_request *req, int mode, bool *is_dir)
{
  int flags = mode | O_NOCTTY | O_NONBLOCK | (req->create ? O_CREAT : 0)
    | (req->write ? O_NOFOLLOW : 0);
  int fd = open (req->path, flags, 0666);
  /* Linux refuses O_CREAT and writing on a directory, which can still
     be locked on a read-only descriptor.  */
  if (fd < 0 && errno == EISDIR)
    fd = open (req->path, O_RDONLY | O_NOCTTY | O_NONBLOCK
               | (req->write ? O_NOFOLLOW : 0));
  if (fd >= 0)
    {
      struct stat st;
      int fl = fcntl (fd, F_GETFL);
      if (fl >= 0)
        fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
      *is_dir = fstat (fd, &st) == 0 && S_ISDIR (st.st_mode);
    }
  return fd;
}

int
lockfile_open (struct lock_request *req, bool *is_dir)
{
  int fd = open_mode (req, access_mode (req), is_dir);
  if (fd >= 0 && *is_dir && !req->api_given)
    req->api = PORTALOCK_BACKEND_FLOCK;
  return fd;
}

/* Return true if FD is still the file at PATH.  */
static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return (fstat (fd, &a) == 0 && stat (path, &b) == 0
          && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/* lockfile_acquire, the gate passed, waiting until DEADLINE.  */
static int
acquire (const struct lock_request *req, int *fd, double deadline)
{
  bool reopened_rw = false;

  for (;;)
    {
      double seconds = req->timeout;
      if (isfinite (deadline))
        {
          seconds = deadline - lockfile_now ();
          if (seconds < 0)
            seconds = 0;
        }
      int flags = req->type | (req->nonblock ? PORTALOCK_NB : 0);
      if (portalock_backend_lock (req->api, *fd, flags, req->start,
                                  req->length, seconds) != 0)
        {
          int err = errno;
          /* A timed wait that ran out after a retry is a timeout too.  */
          if (err == EWOULDBLOCK && isfinite (deadline) && !req->nonblock)
            err = ETIMEDOUT;
          /* NFS emulates flock(2) with fcntl locks, which then need a
             writable descriptor for an exclusive lock: try once more on
             one, as flock(1) does.  */
          if ((err == EBADF || err == EIO) && req->path != NULL
              && !reopened_rw && req->type == PORTALOCK_EX
              && access (req->path, R_OK | W_OK) == 0)
            {
              bool is_dir;
              int rw = open_mode (req, O_RDWR, &is_dir);
              if (rw >= 0)
                {
                  close (*fd);
                  *fd = rw;
                  reopened_rw = true;
                  continue;
                }
            }
          errno = err;
          return -1;
        }
      if (req->path == NULL || same_file (*fd, req->path))
        return 0;

      /* The file was deleted or replaced while this process waited for
         it: the lock guards nothing.  Lock the file the path names now.  */
      int saved = *fd;
      bool is_dir;
      int nfd = open_mode (req, access_mode (req), &is_dir);
      if (nfd < 0)
        {
          int err = errno;
          close (saved);
          *fd = -1;
          errno = err;
          return -1;
        }
      close (saved);
      *fd = nfd;
    }
}

int
lockfile_acquire (const struct lock_request *req, int *fd)
{
  double deadline = isfinite (req->timeout)
    ? lockfile_now () + req->timeout : INFINITY;
  int gate = -1;
  if (req->prefer_writers && req->path != NULL
      && (gate = gate_enter (req, deadline)) < 0)
    return -1;
  int r = acquire (req, fd, deadline);
  gate_leave (gate);
  return r;
}

int
lockfile_open_status (const struct lock_request *req, int err, bool quiet)
{
  if (!quiet)
    error (0, err, "cannot open lock file %s", req->path);
  if (err == ENOMEM || err == EMFILE || err == ENFILE)
    return EX_OSERR;
  if (err == EROFS || err == ENOSPC || err == EDQUOT)
    return EX_CANTCREAT;
  return EX_NOINPUT;
}

int
lockfile_lock_status (const struct lock_request *req, const char *name,
                      int err, int conflict_code, bool verbose, bool quiet)
{
  switch (err)
    {
    case EWOULDBLOCK:
#if EAGAIN != EWOULDBLOCK
    case EAGAIN:
#endif
    case EACCES:
      if (verbose && !quiet)
        error (0, 0, "failed to get lock");
      return conflict_code;
    case ETIMEDOUT:
      if (verbose && !quiet)
        error (0, 0, "timeout while waiting to get lock");
      return conflict_code;
    case ENOTSUP:
      if (!quiet)
        {
          const char *api = portalock_backend_name (req->api);
          if (req->type == PORTALOCK_SH)
            error (0, 0, "%s: the %s api has no shared locks", name, api);
          else
            error (0, 0, "%s: the %s api cannot lock a byte range",
                   name, api);
        }
      return EX_DATAERR;
    default:
      if (!quiet)
        error (0, err, "%s", name);
      return err == ENOLCK || err == ENOMEM ? EX_OSERR : EX_DATAERR;
    }
}
