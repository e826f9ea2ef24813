/* writer-gate.c: writer preference of lock objects: a gate that
   writers hold while they wait, and readers pass through.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portalock-private.h"
#include "method.h"
#include "writer-gate.h"

/* Why a gate, and how it works.

   The kernel grants a shared lock whenever the file's holders are
   shared: a writer asleep in the kernel is not a holder, so readers
   that come after it get in before it, and a stream of overlapping
   readers keeps it out for as long as the stream lasts.  A writer that
   must not starve has to make its waiting visible to the readers, and
   the only thing a kernel lock makes visible is a held lock.  So a
   writer holds a second lock while it waits, the gate, and readers
   take the gate shared on their way in:

     writer: gate exclusive; data exclusive; let the gate go.
     reader: gate shared; data shared; let the gate go.

   A writer takes the gate behind the other writers (and behind readers
   that are passing, which hold it for the time of a data lock that is
   granted at once); then, holding it, waits for the readers inside to
   leave.  Readers that come meanwhile wait at the gate.  Once the
   writer has the data lock it lets the gate go: the readers that
   waited pass it and wait on the data lock, holding the gate shared,
   so that the next writer cannot take the gate before they are in;
   when the writer leaves, they go in together.  Writers and batches of
   readers thus take turns, and neither starves.

   The gate is a file of its own, PATH.gate beside the lock's file,
   locked with the same backend: flock has no byte ranges, and a range
   of the data file would be covered by the whole-file lock of every
   participant that does not use the protocol (flock(1), portalocker),
   which must keep interoperating.  The gate file is created (empty,
   with the object's permissions) and never written, truncated or
   deleted: deleting it while someone waits at it would give two
   gates.  Every participant must name the lock's file by the same path
   for them to meet at one gate.

   The gate is taken by a lock object of its own, of the kernel method
   whatever PORTALOCK_METHOD says, made for the one acquire and freed
   after it, so it keeps the whole contract of lock
   objects: two objects of one process exclude each other at the gate
   as two processes do (the per-inode table for fcntl and lockf),
   whichever thread uses them; its descriptor is close-on-exec; and it
   is held only inside portalock_acquire and portalock_convert, never
   when they return, so that fork, exec and a process's death leave no
   gate held (the kernel drops it with the process).

   Giving up.  Each step waits until the acquire's own deadline; a step
   that fails lets the gate go before the acquire returns, so a writer
   that times out or fails leaves nothing behind.  A writer that must
   not wait (PORTALOCK_NB, fail_when_locked, timeout 0) does not wait
   behind anyone: it passes the gate as a reader does, which fails only
   if a writer holds it (waits), and then tries the data lock; trying
   the gate exclusive could fail because a reader is passing.  A reader
   that must not wait fails at once while a writer waits.

   Conversions.  A shared holder that becomes exclusive is inside
   already.  If it waited for the gate, a writer holding the gate would
   wait for the converter's shared lock, and the converter for the
   writer: a deadlock.  So a conversion takes the gate only if it is
   free at once, to keep new readers out while it waits for the readers
   inside; otherwise a writer (or a reader passing) holds it, and the
   conversion waits for the data lock without it, against the waiting
   writer: whichever the kernel grants first goes in first, and the
   other follows.  A conversion to shared needs no gate.

   Marker methods.  A marker lock takes the kernel lock on the data
   file for the processes of this machine, and the gate orders them as
   it orders kernel locks: gate, kernel lock, writer marker, reader
   markers (method-marker.c says why that order cannot deadlock).
   Across machines the writer marker is the gate: no reader registers
   while a writer holds it.  */

/* Return the path of PATH's gate, to free, or NULL (ENOMEM).  Trailing
   slashes are dropped so that a directory's gate is beside it, not in
   it.  */
static char *
gate_path (const char *path)
{
  static const char suffix[] = ".gate";
  size_t n = strlen (path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  char *gate = malloc (n + sizeof suffix);
  if (gate == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  memcpy (gate, path, n);
  memcpy (gate + n, suffix, sizeof suffix);
  return gate;
}

/* Seconds from now until DEADLINE, at least 0.  */
static double
seconds_left (const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  double s = ((double) (deadline->tv_sec - now.tv_sec)
              + (deadline->tv_nsec - now.tv_nsec) / 1e9);
  return s > 0 ? s : 0;
}

/* Take LOCK's gate GATE_PATH as TYPE, opened in MODE, waiting TIMEOUT
   seconds (0: one try; < 0: no limit).  Return the gate's object, held,
   or NULL with errno.  */
static portalock *
take_as (const portalock *lock, const char *gate_path, int type,
         const char *mode, double timeout)
{
  portalock *gate = portalock_new (gate_path);
  if (gate == NULL)
    return NULL;
  /* The gate is never deleted nor replaced by the library, and a gate
     that was would cost preference, never exclusion (the data lock
     excludes): no look-up after the grant.  */
  if (portalock_set_method (gate, PORTALOCK_METHOD_KERNEL) != 0
      || portalock_set_backend (gate, lock->backend) != 0
      || portalock_set_mode (gate, mode) != 0
      || portalock_set_flags (gate, type) != 0
      || portalock_set_timeout (gate, timeout) != 0
      || portalock_set_check_interval (gate, lock->check_interval) != 0
      || portalock_set_permissions (gate, lock->permissions) != 0
      || portalock_set_identity_check (gate, false) != 0
      || portalock_acquire (gate) != 0)
    {
      portalock_free (gate);
      return NULL;
    }
  return gate;
}

/* Take LOCK's gate as TYPE, waiting TIMEOUT seconds.  The gate is
   created if need be; a reader that may not write there (a read-only
   directory, a gate made by another user) opens it read-only.  */
static portalock *
take (const portalock *lock, int type, double timeout)
{
  char *path = gate_path (lock->path);
  if (path == NULL)
    return NULL;
  portalock *gate = take_as (lock, path, type, "a", timeout);
  if (gate == NULL && type == PORTALOCK_SH
      && (errno == EACCES || errno == EPERM || errno == EROFS))
    gate = take_as (lock, path, type, "r", timeout);
  int saved_errno = errno;
  free (path);
  errno = saved_errno;
  return gate;
}

int
portalock_set_writer_preference (portalock *lock, bool prefer)
{
  if (lock == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  if (lock->fd >= 0)
    {
      errno = EBUSY;
      return -1;
    }
  lock->writer_preference = prefer;
  return 0;
}

int
portalock_gate_enter (portalock *lock, int type, bool nonblock,
                      const struct timespec *deadline, portalock **gate)
{
  *gate = NULL;
  if (!lock->writer_preference)
    return 0;
  /* A temporary lock's file goes with its last holder, and its gate
     would stay behind.  */
  if (lock->temporary)
    {
      errno = ENOTSUP;
      return -1;
    }
  if (nonblock)
    {
      /* Pass as a reader: fail only if a writer waits.  Where there
         are no shared locks (lockf) there are no readers either.  */
      *gate = take (lock, PORTALOCK_SH, 0);
      if (*gate == NULL && errno == ENOTSUP)
        *gate = take (lock, PORTALOCK_EX, 0);
    }
  else
    {
      double timeout = deadline == NULL ? -1 : seconds_left (deadline);
      *gate = take (lock, type, timeout);
      /* A deadline that had passed made it one try.  */
      if (*gate == NULL && errno == EWOULDBLOCK)
        errno = ETIMEDOUT;
    }
  /* A marker method on a file system that refuses kernel locks goes
     on without the gate: there the markers alone order readers and
     writers, and they prefer writers (method-marker.c).  */
  if (*gate == NULL && lock->method != &portalock_method_kernel
      && (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS))
    return 0;
  return *gate == NULL ? -1 : 0;
}

void
portalock_gate_enter_convert (portalock *lock, int type, portalock **gate)
{
  *gate = NULL;
  if (lock->writer_preference && type == PORTALOCK_EX)
    {
      int saved_errno = errno;
      *gate = take (lock, PORTALOCK_EX, 0);
      errno = saved_errno;
    }
}

void
portalock_gate_leave (portalock *gate)
{
  /* portalock_free keeps errno, and a failure to let a gate go has no
     one to tell: its descriptor is closed all the same.  */
  portalock_free (gate);
}
