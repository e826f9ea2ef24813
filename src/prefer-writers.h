/* prefer-writers.h: plock's side of the writer-preferring protocol
   (--prefer-writers) on files: the gate a lock request passes.  (With
   --redis, the Redis library's writer preference does it.)

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef PREFER_WRITERS_H
#define PREFER_WRITERS_H 1

#include "lockfile.h"

/* Pass the gate of REQ->path (REQ->path with ".gate" appended) as the
   library's lock objects with writer preference do: a writer takes it
   exclusive, a reader shared, a request that must not wait shared and
   without waiting; waiting until DEADLINE (lockfile_now's clock;
   INFINITY: no limit).  Return the gate's descriptor, locked, to give
   to gate_leave once the lock is taken or has failed; or -1 with errno
   (EWOULDBLOCK, ETIMEDOUT, or from open(2) and the lock call), nothing
   held.  */
int gate_enter (const struct lock_request *req, double deadline);

/* Let go of the gate GATE from gate_enter (-1: none).  Keeps errno.  */
void gate_leave (int gate);

#endif /* PREFER_WRITERS_H */
