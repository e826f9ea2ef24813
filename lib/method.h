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
#include <stdint.h>
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

   The method is a setting (portalock_set_method); every acquire of an
   object that holds nothing resolves it (method-select.c: the
   environment, the configure default, the probe for "auto") to the
   operations of one method, and then binds it (the bind operation) with
   the settings as they are then.  Each method's init runs once per
   process, in object.c's pthread_once (the list of methods is
   object.c's only other mention of one).

   The data descriptor.  Every method gives the object one descriptor
   open on the file the path names, LOCK->fd, which is what
   portalock_fd and portalock_stream hand out, what the PID record is
   written through and what mode "w" truncates; object.c's identity
   rules compare the path with LOCK->dev and LOCK->ino, the device and
   inode of that descriptor's file.  The kernel method locks that very
   descriptor.  The marker methods (method-marker.c) lock it with the
   kernel method too, which makes the objects and processes of one
   machine exclude each other as the kernel method does (and lets them
   wait in the kernel rather than poll), and then take a marker on the
   file system, which excludes the other machines.

   A method's state lives in LOCK->m; object.c never touches it.  */

struct portalock_inode;

/* The kernel method's state (method-kernel.c).  */
struct portalock_kernel_state
{
  const struct portalock_backend_ops *ops;
  struct portalock_inode *inode;  /* process-scoped backends only */
  unsigned long forks_seen;  /* the process's forks before the file was
                                opened (see release_by_close) */
};

struct portalock_mk;

/* The marker methods' state (method-marker.c), beside the kernel
   method's, which they use for the data descriptor.  */
struct portalock_marker_state
{
  struct portalock_mk *marker;  /* made at the first bind */
  int kind;                     /* the marker's kind when made */
  bool kernel_held;             /* the kernel lock was granted too (not
                                   where the file system refuses one) */
};

struct portalock_method_ops;
struct portalock_thread_holds;

struct portalock
{
  char *path;
  const struct portalock_method_ops *method;  /* the one bound last */
  enum portalock_method method_setting;
  const struct portalock_method_ops *auto_choice;  /* what "auto" chose
                                                      for this path */
  double lease_ttl;            /* 0: the environment's, or 30 */
  portalock_lost_fn lost_fn;
  void *lost_arg;

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
  portalock *gate;       /* the gate held during an acquire, or NULL */

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
  /* A pending acquisition's early answer (portalock_grant_final): the
     descriptor the kernel method is waiting on, -1 when none, and
     whether the wait's helper found the grant final.  */
  int waiting_fd;
  bool grant_final;

  /* Self-deadlock detection (selfdeadlock.c).  */
  struct portalock_thread_holds *holds;  /* the record of the thread that
                                            acquired, while it notes the
                                            object */
  bool selfdeadlock_exempt;  /* never checked nor noted (a semaphore's
                                slot) */

  /* The method's own.  */
  struct
  {
    struct portalock_kernel_state kernel;
    struct portalock_marker_state marker;
  } m;
};

/* The operations of a method.  Each takes the lock object, whose
   settings it may read; "the file" is the one LOCK->path names.  Return
   values are 0 or -1 with errno unless said otherwise.  */
struct portalock_method_ops
{
  const char *name;
  enum portalock_method kind;   /* KERNEL, STRICT or LEASE */

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

  /* Whether a held LOCK has lost its lock (a lease's): see
     portalock_lost.  */
  bool (*lost) (portalock *lock);

  /* The fencing token of a held LOCK's lock, 0 if none.  */
  uint64_t (*generation) (const portalock *lock);

  /* Free what the method keeps for LOCK, which holds nothing.  */
  void (*free) (portalock *lock);
};

/* Locking with the kernel's locks, through the backend table
   (method-kernel.c).  */
extern const struct portalock_method_ops portalock_method_kernel;

/* Markers on the file system, strict and leases (method-marker.c; on
   systems without them, method-marker-none.c: ENOTSUP).  */
extern const struct portalock_method_ops portalock_method_strict;
extern const struct portalock_method_ops portalock_method_lease;

/* The methods' operations for LOCK's method setting, resolved as
   portalock_set_method says (method-select.c).  NULL with errno:
   EINVAL (a PORTALOCK_METHOD that names none), or from the probe of
   "auto".  */
const struct portalock_method_ops *portalock_method_resolve
  (portalock *lock);

/* The lease TTL a bind uses for LOCK.  */
double portalock_method_lease_ttl (const portalock *lock);

#endif /* PORTALOCK_METHOD_H */
