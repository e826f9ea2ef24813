/* method.h: how a lock object locks: the internal interface of its
   methods, and the object's state that they share.  Not installed.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_METHOD_H
#define PORTALOCK_METHOD_H 1

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "portalock-private.h"

/* A lock object is its settings plus a method that does the locking.
   object.c keeps what every method shares: the settings, reentrancy,
   the deadline and the retry loop (check_interval), the identity rules
   (the path must still name the locked file after the grant), mode "w"
   truncation and mode "x" clean-up once the lock is held or has failed,
   PID records, temporary-file deletion, the fork generation (only the
   process that acquired may unlock), and the stdio stream.  A method
   does the rest, behind the operations of struct portalock_method_ops,
   each a call through a pointer: object.c never asks which method an
   object has.

   The method is chosen when the object is made (portalock_new: the
   kernel method, the only one so far); a setter, once there are
   others, will change it as any setting, only while the object holds
   nothing.  Every acquire of an object that holds nothing binds the
   method (the bind operation) with the settings as they are then.
   Each method's init runs once per process, in object.c's
   pthread_once (the list of methods is object.c's only other mention
   of one).

   The data descriptor.  Every method gives the object one descriptor
   open on the file the path names, LOCK->fd, which is what
   portalock_fd and portalock_stream hand out, what the PID record is
   written through and what mode "w" truncates; object.c's identity
   rules compare the path with LOCK->dev and LOCK->ino, the device and
   inode of that descriptor's file.  The kernel method locks that very
   descriptor.  A marker method (a lock held by creating another file
   on the file system itself) opens the data file apart from its marker
   and keeps the marker to itself, in its state; it fills the
   operations so:
   - bind: check the settings it cannot honour (ENOTSUP), and work out
     the marker's path;
   - open: open the data file (its descriptor, LOCK->dev and ino), as
     the kernel method does, without locking it;
   - lock: create the marker (O_CREAT | O_EXCL), retrying until the
     deadline, or break a stale one (lease expired, or its holder gone);
   - unlock: delete its own marker (checking it is still its own);
   - release: the same, then close the data file; a forked child, which
     passes UNLOCK false, only closes its copy: the marker is the
     parent's;
   - close: close the data file;
   - may_convert, convert: rewrite the marker's content (shared holders
     keep one marker each; an exclusive one waits until they are gone);
   - claim_last: look whether other shared markers are left;
   - renew: extend the lease written in the marker;
   - holders: read the holders named by the markers;
   - free: free the marker's path.

   A method's state lives in LOCK->m, a union with one member per method;
   object.c never touches it.  */

struct portalock_inode;

/* The kernel method's state (method-kernel.c).  */
struct portalock_kernel_state
{
  const struct portalock_backend_ops *ops;
  struct portalock_inode *inode;  /* process-scoped backends only */
  unsigned long forks_seen;  /* the process's forks before the file was
                                opened (see release_by_close) */
};

struct portalock_method_ops;

struct portalock
{
  char *path;
  const struct portalock_method_ops *method;

  /* Settings.  */
  char mode[3];          /* fopen's letter, and '+' or nothing */
  int flags;             /* PORTALOCK_SH or PORTALOCK_EX, maybe | NB */
  double timeout;        /* < 0: no limit */
  double check_interval;
  mode_t permissions;
  enum portalock_backend backend;
  bool fail_when_locked;
  bool reentrant;
  bool temporary;
  bool record_pid;
  bool sync;             /* flush and fsync before every unlock */
  bool identity_check;   /* look the path up after each grant */
  bool writer_preference;  /* pass the gate (writer-gate.c) */

  /* While held.  */
  int fd;                /* the data descriptor; -1 when not held */
  FILE *stream;          /* made on demand */
  int type;              /* the lock held: PORTALOCK_SH or PORTALOCK_EX */
  unsigned count;        /* acquires not yet released (RLock) */
  unsigned long owner;   /* the fork generation that acquired */
  dev_t dev;             /* the file open on FD, from fstat before */
  ino_t ino;             /* the grant (see same_file) */
  bool created;          /* mode "x": this acquire created the file */
  bool exposed;          /* portalock_fd handed the descriptor out since
                            the acquire */

  /* The method's own.  */
  union
  {
    struct portalock_kernel_state kernel;
  } m;
};

/* The operations of a method.  Each takes the lock object, whose
   settings it may read; "the file" is the one LOCK->path names.  Return
   values are 0 or -1 with errno unless said otherwise.  */
struct portalock_method_ops
{
  const char *name;

  /* Once per process, before the first lock object is made (with the
     library's own pthread_atfork handlers registered just before).  */
  void (*init) (void);

  /* Bind LOCK, which holds nothing, for an acquire of a TYPE lock with
     the settings as they are now; refuse what cannot work before
     anything is opened or created.  */
  int (*bind) (portalock *lock, int type);

  /* Open the file for a TYPE lock and return the data descriptor, with
     LOCK->dev and LOCK->ino set to its file's; nothing locked yet.  -1
     with errno and nothing open on failure.  The descriptor is open
     with O_CLOEXEC, never truncates, and for a temporary lock is a
     regular file's (else EINVAL), reached without following a
     symbolic link.  */
  int (*open) (portalock *lock, int type);

  /* Take a TYPE lock for the descriptor *FD that open returned: one try
     if NONBLOCK (EWOULDBLOCK on conflict), else wait until DEADLINE
     (NULL: no limit; ETIMEDOUT).  The method may replace *FD by
     another descriptor of the same file (closing the old one).  On
     failure *FD is still open, for close.  */
  int (*lock) (portalock *lock, int *fd, int type, bool nonblock,
               const struct timespec *deadline);

  /* Give back the TYPE lock that lock took on FD, leaving FD open: the
     grant was of a file the path no longer names.  */
  int (*unlock) (portalock *lock, int fd, int type);

  /* Close FD, a descriptor open returned, after a failed acquire (its
     lock not held, or given back by unlock).  Keeps errno.  */
  void (*close) (portalock *lock, int fd);

  /* Let go of a held LOCK: give back its LOCK->type lock if UNLOCK (a
     process that did not acquire it, a forked child, passes false: the
     lock is its parent's), and close LOCK->fd, or LOCK->stream if not
     NULL (flushed already).  Everything is closed even on failure.  */
  int (*release) (portalock *lock, bool unlock);

  /* Whether LOCK's lock may become a TYPE lock (not LOCK->type) at all:
     -1 with errno ENOTSUP, EBADF if not.  */
  int (*may_convert) (const portalock *lock, int type);

  /* Change LOCK's LOCK->type lock to a TYPE lock, waiting as lock does.
     On failure, the old lock is kept if it can be; if it was lost, set
     *LOST (the caller then drops the object, not unlocking).  */
  int (*convert) (portalock *lock, int type, bool nonblock,
                  const struct timespec *deadline, bool *lost);

  /* For a shared temporary lock about to be released: try, without
     waiting, to make it exclusive, which only its last holder can.
     Return 1 if it is exclusive now; 0 if others hold the file and the
     last of them will find itself alone; 2 if others hold it but two
     holders releasing at once may each have seen the other, so that the
     caller must look again once it has let go (delete_if_unheld).  On 0
     or 2 the shared lock is still held or already given back.  */
  int (*claim_last) (portalock *lock);

  /* Keep a held LOCK's lock alive (a lease's).  */
  int (*renew) (portalock *lock);

  /* portalock_holders for a held LOCK's file: store up to MAX PIDs of
     holders in PIDS and return how many there are, or -1 with errno.  */
  int (*holders) (const portalock *lock, pid_t *pids, size_t max);

  /* Free what the method keeps for LOCK, which holds nothing.  */
  void (*free) (portalock *lock);
};

/* Locking with the kernel's locks, through the backend table
   (method-kernel.c).  */
extern const struct portalock_method_ops portalock_method_kernel;

#endif /* PORTALOCK_METHOD_H */
