/* method-lock.h: plock's locks of the strict, lease and auto methods,
   taken through a lock object of the library.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef METHOD_LOCK_H
#define METHOD_LOCK_H 1

#include <stdbool.h>

#include "lockfile.h"
#include "portalock.h"

/* The exit status of plock when a held lock was lost (a lease that
   could not be renewed, or a marker broken by another process): as for
   plock --redis, EX_PROTOCOL.  */
#define LOCK_EXIT_LOST 74

/* Return true if REQ's method locks through a lock object of the
   library (strict, lease, auto: a marker on the file system, or a
   kernel lock where auto finds that it spans every client), false for
   the kernel lock that plock takes on its own descriptor, as flock(1)
   does (kernel, or no method given).  */
bool method_uses_object (const struct lock_request *req);

/* Return the name of REQ's method ("lease").  */
const char *method_label (const struct lock_request *req);

/* Return a lock object for REQ: its path, type, wait, creation and api;
   a PID record in the file if RECORD; LOST (ARG) called from the
   heartbeat thread when the lock is lost, if not NULL.  Nothing is
   opened yet.  On failure report it unless QUIET, set *STATUS to plock's
   exit status and return NULL.  */
portalock *method_lock_new (const struct lock_request *req, bool record,
                            portalock_lost_fn lost, void *arg, bool quiet,
                            int *status);

/* Report the failure ERR of acquiring LOCK for REQ (its record in FILE
   if RECORD) as plock reports a failed lock, and return plock's exit
   status: CONFLICT_CODE for a conflict or a timeout (said only if
   VERBOSE), 65 for what the method cannot do (a shared lock with a
   marker method), 66, 71 or 73 as for opening FILE.  */
int method_lock_status (const struct lock_request *req, int err, bool record,
                        int conflict_code, bool verbose, bool quiet);

/* Give LOCK back and free it.  Set *LOST if the lock was found lost
   (its lease could not be renewed, or its marker was broken: the
   release then touched nothing at the marker's name); leave it as it
   is otherwise.  Return 0, or 65 if the release failed otherwise
   (reported for NAME unless QUIET).  */
int method_lock_finish (portalock *lock, const char *name, bool *lost,
                        bool quiet);

#endif /* METHOD_LOCK_H */
