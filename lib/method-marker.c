/* method-marker.c: the marker methods of lock objects (strict and
   lease): a kernel lock for this machine, a marker on the file system
   for the others.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "portalock-private.h"
#include "method.h"
#include "marker.h"
#include "marker-record.h"
#include "writer-gate.h"

/* How a marker method locks.

   The data file, PATH, is opened and locked by the kernel method, as
   if the object had that method: the objects and processes of one
   machine then exclude each other exactly as with the kernel method
   (threads, forks, the per-inode table), and a waiter of this machine
   waits in the kernel rather than polling.  Then the marker PATH.marker
   is taken (marker.c): it excludes the other machines, whose kernel
   locks this one's may not reach.  Both are always taken in that
   order, so no two waiters can each hold what the other waits for.
   Where the file system refuses kernel locks altogether (ENOLCK: NFS
   without its lock manager; EOPNOTSUPP, ENOSYS), the marker alone is
   taken, and objects of this machine exclude each other through it.

   Shared locks.  A reader takes the kernel lock shared, then registers
   a reader marker beside the writer marker, which it takes only as a
   pass for that (marker-readers.c); a writer takes the kernel lock
   exclusive, then the writer marker, then waits for the reader markers
   of the readers inside to go.  Across machines no reader registers
   while a writer holds the writer marker, so shared marker locks
   always prefer writers there; on one machine the kernel lock decides
   who goes first, and writer preference (writer-gate.c) makes it
   prefer writers too.

   No deadlock.  The order is: the writer gate (writer preference
   only), the kernel lock on the data file, the writer marker, the
   reader markers.  A reader holding the gate shared waits only for the
   kernel lock, and one holding the kernel lock shared (the gate let
   go) only for the writer marker; the writer marker's holder waits
   only for the reader markers of readers that are inside, which wait
   for nothing to leave; a writer of this machine waiting for the gate
   or the kernel lock holds neither marker.  Each waits only for what
   comes later in the order, or for a holder that waits for nothing, so
   no cycle can form, on one machine or across several.

   Conversions fail with ENOTSUP: a reader becoming a writer would wait
   for the writer marker while another writer holding it waits for the
   reader's marker.  A shared temporary lock fails with ENOTSUP too:
   its last holder cannot tell it is the last across machines.  The
   backend setting still chooses the kernel lock.  */

/* The marker's name: PATH.marker.  Return it malloc'd, or NULL.  */
static char *
marker_path (const char *path)
{
  size_t n = strlen (path);
  char *p = malloc (n + sizeof ".marker");
  if (p != NULL)
    {
      memcpy (p, path, n);
      memcpy (p + n, ".marker", sizeof ".marker");
    }
  return p;
}

static void
marker_init (void)
{
  portalock_method_kernel.init ();
}

/* The lease was lost: tell the object's owner.  */
static void
report_lost (struct portalock_mk *m, void *arg)
{
  (void) m;
  portalock *lock = arg;
  if (lock->lost_fn != NULL)
    lock->lost_fn (lock, lock->lost_arg);
}

static enum portalock_mk_kind
mk_kind (const portalock *lock)
{
  return lock->method->kind == PORTALOCK_METHOD_LEASE
    ? PORTALOCK_MK_LEASE : PORTALOCK_MK_STRICT;
}

static int
marker_bind (portalock *lock, int type)
{
  if (type != PORTALOCK_EX && (type != PORTALOCK_SH || lock->temporary))
    {
      errno = ENOTSUP;
      return -1;
    }
  struct portalock_marker_state *st = &lock->m.marker;
  enum portalock_mk_kind kind = mk_kind (lock);
  if (st->marker != NULL && st->kind != (int) kind)
    {
      portalock_mk_free (st->marker);
      st->marker = NULL;
    }
  if (st->marker == NULL)
    {
      char *mpath = marker_path (lock->path);
      if (mpath == NULL)
        {
          errno = ENOMEM;
          return -1;
        }
      st->marker = portalock_mk_new (mpath, kind);
      int e = errno;
      free (mpath);
      if (st->marker == NULL)
        {
          errno = e;
          return -1;
        }
      st->kind = kind;
    }
  double interval = lock->check_interval > 0.001 ? lock->check_interval
    : 0.001;
  if ((kind == PORTALOCK_MK_LEASE
       && portalock_mk_set_ttl (st->marker,
                                portalock_method_lease_ttl (lock)) != 0)
      || portalock_mk_set_check_interval (st->marker, interval) != 0
      || portalock_mk_set_lost_callback (st->marker, report_lost, lock) != 0)
    return -1;
  return portalock_method_kernel.bind (lock, type);
}

static int
marker_open (portalock *lock, int type)
{
  return portalock_method_kernel.open (lock, type);
}

/* Whether a kernel lock's failure with errno E means that the file
   system has no kernel locks to give, rather than a conflict.  */
static bool
no_kernel_locks (int e)
{
  return e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS;
}

static int
marker_lock (portalock *lock, int *fd, int type, bool nonblock,
             const struct timespec *deadline)
{
  struct portalock_marker_state *st = &lock->m.marker;
  st->kernel_held = true;
  if (portalock_method_kernel.lock (lock, fd, type, nonblock, deadline)
      != 0)
    {
      if (!no_kernel_locks (errno))
        return -1;
      st->kernel_held = false;
    }
  if (type == PORTALOCK_SH)
    {
      /* A reader is past the gate once the kernel lock of this machine
         is granted (writer-gate.c: "gate shared; data shared; let the
         gate go"): holding it while it waits for the writer marker,
         behind other readers' passes, would keep this machine's
         writers out of the gate for as long as readers keep coming.  */
      portalock_gate_leave (lock->gate);
      lock->gate = NULL;
    }
  if ((type == PORTALOCK_SH
       ? portalock_mk_acquire_shared (st->marker, nonblock, deadline)
       : portalock_mk_acquire_writer (st->marker, nonblock, deadline)) == 0)
    return 0;
  int e = errno;
  if (st->kernel_held)
    portalock_method_kernel.unlock (lock, *fd, type);
  st->kernel_held = false;
  errno = e;
  return -1;
}

/* Give back the marker, then the kernel lock if UNLOCK_KERNEL.  Return
   0, or -1 with the marker's errno (ENOLCK if it was lost).  */
static int
marker_unlock (portalock *lock, int fd, int type)
{
  struct portalock_marker_state *st = &lock->m.marker;
  int r = portalock_mk_release (st->marker);
  int e = errno;
  if (st->kernel_held && portalock_method_kernel.unlock (lock, fd, type)
      != 0 && r == 0)
    r = -1, e = errno;
  st->kernel_held = false;
  errno = e;
  return r;
}

static void
marker_close (portalock *lock, int fd)
{
  portalock_method_kernel.close (lock, fd);
}

static int
marker_release (portalock *lock, bool unlock)
{
  struct portalock_marker_state *st = &lock->m.marker;
  int r = 0, e = 0;
  if (unlock)
    {
      if (portalock_mk_release (st->marker) != 0)
        r = -1, e = errno;
    }
  else
    {
      /* A forked child: the marker is its parent's.  Forget it.  */
      portalock_mk_free (st->marker);
      st->marker = NULL;
    }
  if (portalock_method_kernel.release (lock, unlock && st->kernel_held)
      != 0 && r == 0)
    r = -1, e = errno;
  st->kernel_held = false;
  if (r != 0)
    errno = e;
  return r;
}

static int
marker_may_convert (const portalock *lock, int type)
{
  (void) lock;
  (void) type;
  errno = ENOTSUP;
  return -1;
}

static int
marker_convert (portalock *lock, int type, bool nonblock,
                const struct timespec *deadline, bool *lost)
{
  (void) nonblock;
  (void) deadline;
  (void) lost;
  return marker_may_convert (lock, type);
}

/* Only shared temporary locks ask, and the marker methods refuse
   them.  */
static int
marker_claim_last (portalock *lock)
{
  (void) lock;
  return 1;
}

static int
marker_renew (portalock *lock)
{
  return portalock_mk_renew (lock->m.marker.marker);
}

/* The holders this machine's kernel knows of: the marker's own holder
   is one of them when it runs here.  */
static int
marker_holders (const portalock *lock, pid_t *pids, size_t max)
{
  return portalock_method_kernel.holders (lock, pids, max);
}

static bool
marker_lost (portalock *lock)
{
  return portalock_mk_lost (lock->m.marker.marker);
}

static uint64_t
marker_generation (const portalock *lock)
{
  return portalock_mk_generation (lock->m.marker.marker);
}

static void
marker_free (portalock *lock)
{
  portalock_mk_free (lock->m.marker.marker);
  lock->m.marker.marker = NULL;
  portalock_method_kernel.free (lock);
}

#define MARKER_OPS(NAME, KIND)                  \
  {                                             \
    .name = NAME,                               \
    .kind = KIND,                               \
    .init = marker_init,                        \
    .bind = marker_bind,                        \
    .open = marker_open,                        \
    .lock = marker_lock,                        \
    .unlock = marker_unlock,                    \
    .close = marker_close,                      \
    .release = marker_release,                  \
    .may_convert = marker_may_convert,          \
    .convert = marker_convert,                  \
    .claim_last = marker_claim_last,            \
    .renew = marker_renew,                      \
    .holders = marker_holders,                  \
    .lost = marker_lost,                        \
    .generation = marker_generation,            \
    .free = marker_free                         \
  }

const struct portalock_method_ops portalock_method_strict =
  MARKER_OPS ("strict", PORTALOCK_METHOD_STRICT);
const struct portalock_method_ops portalock_method_lease =
  MARKER_OPS ("lease", PORTALOCK_METHOD_LEASE);

/* The public calls on a lock's marker, by the lock's path.  */

/* Fill INFO, of INFO_SIZE bytes, from REC.  */
static void
fill_info (const struct portalock_mk_record *rec,
           struct portalock_marker_info *info, size_t info_size)
{
  memset (info, 0, info_size);
  info->method = rec->kind == PORTALOCK_MK_LEASE ? PORTALOCK_METHOD_LEASE
    : PORTALOCK_METHOD_STRICT;
  info->pid = rec->pid;
  info->start = rec->start;
  info->ttl_ms = rec->ttl_ms;
  info->generation = rec->generation;
  info->beat = rec->beat;
  snprintf (info->host, sizeof info->host, "%s", rec->host);
  snprintf (info->boot, sizeof info->boot, "%s", rec->boot);
  snprintf (info->token, sizeof info->token, "%s", rec->token);
}

int
portalock_marker_read (const char *path, struct portalock_marker_info *info,
                       size_t info_size)
{
  if (path == NULL || *path == '\0' || info == NULL
      || info_size < sizeof *info)
    {
      errno = EINVAL;
      return -1;
    }
  char *mpath = marker_path (path);
  if (mpath == NULL)
    {
      errno = ENOMEM;
      return -1;
    }
  struct portalock_mk_record rec;
  int r = portalock_mk_holders (mpath, &rec);
  int e = errno;
  free (mpath);
  if (r != 1)
    {
      errno = e;
      return r;
    }
  fill_info (&rec, info, info_size);
  return 1;
}

int
portalock_marker_readers (const char *path,
                          struct portalock_marker_info *infos,
                          size_t info_size, size_t max)
{
  if (path == NULL || *path == '\0' || (infos == NULL && max > 0)
      || info_size < sizeof *infos || max > 65536)
    {
      errno = EINVAL;
      return -1;
    }
  char *mpath = marker_path (path);
  struct portalock_mk_record *recs
    = max > 0 ? malloc (max * sizeof *recs) : NULL;
  if (mpath == NULL || (max > 0 && recs == NULL))
    {
      free (mpath);
      free (recs);
      errno = ENOMEM;
      return -1;
    }
  int n = portalock_mk_readers (mpath, recs, max);
  int e = errno;
  for (int i = 0; i < n && (size_t) i < max; i++)
    fill_info (&recs[i],
               (struct portalock_marker_info *) ((char *) infos
                                                 + i * info_size),
               info_size);
  free (mpath);
  free (recs);
  errno = e;
  return n;
}

int
portalock_marker_break (const char *path, const char *token)
{
  if (path == NULL || *path == '\0')
    {
      errno = EINVAL;
      return -1;
    }
  char *mpath = marker_path (path);
  if (mpath == NULL)
    {
      errno = ENOMEM;
      return -1;
    }
  int r = portalock_mk_break (mpath, token);
  if (r != 0 && token != NULL && (errno == ENOENT || errno == ESTALE))
    {
      /* Not the writer's: a reader's, if any has that token.  */
      int e = errno;
      r = portalock_mk_break_reader (mpath, token);
      if (r != 0 && errno == ENOENT)
        errno = e;
    }
  int e = errno;
  free (mpath);
  errno = e;
  return r;
}
