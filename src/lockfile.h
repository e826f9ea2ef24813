/* lockfile.h: opening and locking a file the way flock(1) does, for plock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef LOCKFILE_H
#define LOCKFILE_H 1

#include <stdbool.h>
#include <sys/types.h>

#include "portalock.h"

/* What to lock and how.  */
struct lock_request
{
  const char *path;             /* the file, or NULL for a descriptor */
  enum portalock_backend api;   /* never PORTALOCK_BACKEND_DEFAULT */
  int type;                     /* PORTALOCK_SH or PORTALOCK_EX */
  bool nonblock;                /* -n, or -w 0 */
  double timeout;               /* -w, or INFINITY */
  off_t start, length;          /* --start, --length */
  bool create;                  /* create the file (not -N) */
  bool write;                   /* open it read-write, not through a
                                   symbolic link (a PID record) */
  bool api_given;               /* API was asked for, not the default */
  bool prefer_writers;          /* pass the writer-preferring gate
                                   (prefer-writers.c) */
  enum portalock_method method; /* --method or PORTALOCK_METHOD;
                                   DEFAULT if neither */
  double lease_ttl;             /* a lease's TTL from it, or 0 */
};

/* Open REQ->path as flock(1) does: created if need be (mode 0666 less
   the umask), read-only unless the lock or a record needs writing, and
   read-only for a directory.  Return the descriptor, or -1 with errno
   from open(2).  A FIFO is opened without waiting for a writer or a
   reader (ENXIO when one is needed and missing), never left blocking
   in open(2).  Set *IS_DIR to whether it is a directory.  A directory
   cannot be opened for writing, which exclusive fcntl, OFD and lockf
   locks need: unless REQ->api_given, it is locked with flock(2).  */
int lockfile_open (struct lock_request *req, bool *is_dir);

/* Lock *FD, open on REQ->path (or, if REQ->path is NULL, an inherited
   descriptor) as REQ says.  For a path, make sure once locked that the
   path still names the locked file, and start again on the new file if
   it was deleted or replaced meanwhile (plock --remove deletes it while
   locked); retry on a read-write descriptor where the read-only one was
   refused (NFS).  With REQ->prefer_writers (and a path), pass the gate
   of the writer-preferring protocol around all that.  Return 0, or -1 with errno: EWOULDBLOCK, ETIMEDOUT,
   ENOTSUP, or from open(2) and the lock call.  */
int lockfile_acquire (const struct lock_request *req, int *fd);

/* Report the failure ERR of opening REQ->path unless QUIET, and return
   plock's exit status for it (66, 71 or 73).  */
int lockfile_open_status (const struct lock_request *req, int err,
                          bool quiet);

/* Report the failure ERR of locking NAME as REQ says, unless QUIET (a
   conflict only if VERBOSE), and return plock's exit status:
   CONFLICT_CODE for a conflict or a timeout, else 65 or 71.  */
int lockfile_lock_status (const struct lock_request *req, const char *name,
                          int err, int conflict_code, bool verbose,
                          bool quiet);

/* Return the seconds on the monotonic clock.  */
double lockfile_now (void);

#endif /* LOCKFILE_H */
