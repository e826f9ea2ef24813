/* selfdeadlock.h: which files each thread holds through lock objects,
   so that a wait of a thread for itself fails at once.  Not installed.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_SELFDEADLOCK_H
#define PORTALOCK_SELFDEADLOCK_H 1

#include <stdbool.h>

#include "portalock-private.h"

/* One thread's holds (selfdeadlock.c).  A lock object that a thread
   acquired is noted in that thread's record until it is released, from
   whichever thread; the object keeps a pointer to the record meanwhile
   (struct portalock's holds).  */
struct portalock_thread_holds;

/* Return 0 if the calling thread may wait for a TYPE lock (PORTALOCK_SH
   or PORTALOCK_EX) of LOCK, whose file is open (LOCK->dev, LOCK->ino
   are set); -1 with errno EDEADLK if the wait would never end: another
   lock object that this thread acquired holds the same file with a
   lock that conflicts with TYPE, on a backend whose locks exclude
   LOCK's.  LOCK's own note, if any (a conversion), does not count.  A
   thread that holds nothing pays one look at an empty record.  */
int portalock_selfdeadlock_check (const portalock *lock, int type);

/* Note that the calling thread has acquired LOCK (LOCK->type on
   LOCK->dev, LOCK->ino).  Out of memory, LOCK is left out: it can then
   cause no EDEADLK, never a wrong one.  */
void portalock_selfdeadlock_note (portalock *lock);

/* LOCK, noted, now holds LOCK->type (a conversion).  */
void portalock_selfdeadlock_retype (portalock *lock);

/* LOCK holds nothing any more.  OURS: this process acquired it; false
   in a forked child whose copy of the object is the parent's, where the
   note is not this process's to change (the child's records were
   emptied at the fork).  */
void portalock_selfdeadlock_forget (portalock *lock, bool ours);

/* The calling thread is one of the pollable acquisitions' pool
   (pending.c): its acquires are made for other threads, so they are
   neither checked nor noted here; portalock_acquire_finish notes the
   object for the thread that collects it.  */
void portalock_selfdeadlock_pool_thread (void);

/* Leave LOCK out of the check and of the records: a semaphore's slot,
   whose waits promise never to fail with EDEADLK.  */
void portalock_selfdeadlock_exempt (portalock *lock);

#endif /* PORTALOCK_SELFDEADLOCK_H */
