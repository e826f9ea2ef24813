/* selfdeadlock.c: which files each thread holds through lock objects,
   so that a wait of a thread for itself fails at once with EDEADLK.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "portalock-private.h"
#include "method.h"
#include "selfdeadlock.h"

/* Why, and what is told apart.

   Two lock objects on one file exclude each other within a process as
   between processes.  So a thread that holds one and waits for a second,
   conflicting one on the same file waits for itself: nothing but its own
   release could end the wait, and it is blocked.  The kernel cannot tell
   (a flock or OFD lock belongs to an open file description, and the
   per-inode table of the fcntl and lockf backends makes objects wait for
   each other in the library), so each thread keeps a record of the lock
   objects it acquired: the file (device and inode number), the lock
   (shared or exclusive) and the backend's kind of lock.  A wait is
   refused when the record shows another object on the same file whose
   lock conflicts: an exclusive one against anything, a shared one against
   an exclusive one.  Two shared locks never conflict.

   Only locks of one kind exclude each other: flock(2) locks and the
   byte-range locks (OFD, fcntl and lockf, which the kernel makes exclude
   each other, even within a process) are separate on Linux and most
   systems, so a flock object and a fcntl object on one file are not a
   deadlock.  (Where flock is carried out as a byte-range lock, on NFS,
   they do exclude each other; that wait is not detected: the check may
   miss a deadlock, but never reports one that is not.)  The marker
   methods lock the data file with the kernel method first, so the same
   rule covers them.

   Only the thread that acquired an object counts as its holder: an
   object acquired by one thread and released by another is noted in the
   first one's record until then, which the releasing thread changes
   under the record's mutex.  So a record outlives its thread while it
   still notes objects; the last release frees it.  A forked child runs
   on in the forking thread alone, and holds nothing of what the parent's
   objects hold: the fork empties that thread's record in the child, and
   the child never touches the records of the parent's other threads
   (its copies of their objects are not its own, see object.c).  An
   exec'd program starts with no records at all.  */

/* One noted object.  */
struct hold
{
  const portalock *lock;
  dev_t dev;
  ino_t ino;
  int type;          /* PORTALOCK_SH or PORTALOCK_EX */
  bool ranges;       /* a byte-range lock, not a flock(2) lock */
};

/* Up to this many holds need no allocation.  */
#define INLINE_HOLDS 4

struct portalock_thread_holds
{
  pthread_mutex_t mutex;  /* guards everything below but COUNT's peek */
  size_t count;           /* holds in V; its owner peeks at it without
                             the mutex (atomics) */
  size_t size;            /* room in V */
  struct hold *v;         /* INLINE or malloc'd */
  bool gone;              /* the thread has ended */
  bool pool;              /* a pool thread's: never used */
  struct hold inline_holds[INLINE_HOLDS];
};

/* How deep the calling thread is in forks under way (see object.c:
   a fork from a program's child handler is left to the outer one's).  */
static _Thread_local unsigned fork_depth;

/* Each thread's record, made at its first acquire, is the value of
   THREAD_KEY, whose destructor runs when the thread ends.  (A key, not
   a _Thread_local variable: on Windows that would make the library
   need the GCC runtime's DLL, for its emulated thread-local
   storage.)  */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool have_key;

/* Lock and unlock a record's mutex.  An error-checking mutex is not
   used, and a normal one cannot fail here.  */
static void
hold_mutex (struct portalock_thread_holds *h)
{
  pthread_mutex_lock (&h->mutex);
}

static void
unhold_mutex (struct portalock_thread_holds *h)
{
  pthread_mutex_unlock (&h->mutex);
}

static void init (void);

/* Return the calling thread's record, or NULL if it has none.  */
static struct portalock_thread_holds *
current (void)
{
  pthread_once (&once, init);
  return have_key ? pthread_getspecific (thread_key) : NULL;
}

static void
free_record (struct portalock_thread_holds *h)
{
  pthread_mutex_destroy (&h->mutex);
  if (h->v != h->inline_holds)
    free (h->v);
  free (h);
}

/* The thread of record H ends: free H, unless an object it acquired is
   still held (its release frees H then).  */
static void
thread_ends (void *arg)
{
  struct portalock_thread_holds *h = arg;
  hold_mutex (h);
  h->gone = true;
  bool empty = h->count == 0;
  unhold_mutex (h);
  if (empty)
    free_record (h);
}

/* Before a fork: no other thread may be changing the forking thread's
   record (a release of an object it acquired) when the child gets its
   copy.  */
static void
prepare_fork (void)
{
  struct portalock_thread_holds *mine;
  if (fork_depth++ == 0 && (mine = current ()) != NULL)
    hold_mutex (mine);
}

static void
after_fork_parent (void)
{
  struct portalock_thread_holds *mine;
  if (--fork_depth == 0 && (mine = current ()) != NULL)
    unhold_mutex (mine);
}

/* In the child: what the record notes is the parent's.  */
static void
after_fork_child (void)
{
  struct portalock_thread_holds *mine;
  if (--fork_depth > 0 || (mine = current ()) == NULL)
    return;
  pthread_mutex_init (&mine->mutex, NULL);
  __atomic_store_n (&mine->count, 0, __ATOMIC_RELAXED);
}

static void
init (void)
{
  have_key = pthread_key_create (&thread_key, thread_ends) == 0;
  pthread_atfork (prepare_fork, after_fork_parent, after_fork_child);
}

/* Return the calling thread's record, made if need be, or NULL if
   memory or keys ran out.  */
static struct portalock_thread_holds *
my_record (void)
{
  struct portalock_thread_holds *h = current ();
  if (h != NULL || !have_key)
    return h;
  h = calloc (1, sizeof *h);
  if (h == NULL)
    return NULL;
  if (pthread_mutex_init (&h->mutex, NULL) != 0)
    {
      free (h);
      return NULL;
    }
  h->v = h->inline_holds;
  h->size = INLINE_HOLDS;
  if (pthread_setspecific (thread_key, h) != 0)
    {
      free_record (h);
      return NULL;
    }
  return h;
}

/* Whether LOCK takes byte-range locks (OFD, fcntl, lockf, win32) rather
   than flock(2) locks; -1 if its backend is unknown.  */
static int
takes_ranges (const portalock *lock)
{
  int saved_errno = errno;
  const struct portalock_backend_ops *ops
    = portalock_backend_ops (lock->backend);
  errno = saved_errno;
  return ops == NULL ? -1 : ops->ranges;
}

int
portalock_selfdeadlock_check (const portalock *lock, int type)
{
  if (lock->selfdeadlock_exempt)
    return 0;
  struct portalock_thread_holds *h = current ();
  if (h == NULL || __atomic_load_n (&h->count, __ATOMIC_RELAXED) == 0)
    return 0;
  /* (A pool thread's record stays empty.)  */
  int ranges = takes_ranges (lock);
  bool conflict = false;
  hold_mutex (h);
  for (size_t i = 0; i < h->count && !conflict; i++)
    {
      const struct hold *o = &h->v[i];
      conflict = (o->lock != lock && o->dev == lock->dev
                  && o->ino == lock->ino && o->ranges == ranges
                  && (type == PORTALOCK_EX || o->type == PORTALOCK_EX));
    }
  unhold_mutex (h);
  if (conflict)
    {
      errno = EDEADLK;
      return -1;
    }
  return 0;
}

/* Make room for one more hold in H, whose mutex the caller holds; the
   array it replaces, if any, is stored in *OLD to be freed after the
   mutex.  Return false if memory ran out.  */
static bool
make_room (struct portalock_thread_holds *h, struct hold **old)
{
  *old = NULL;
  if (h->count < h->size)
    return true;
  size_t size = 2 * h->size;
  struct hold *v = malloc (size * sizeof *v);
  if (v == NULL)
    return false;
  for (size_t i = 0; i < h->count; i++)
    v[i] = h->v[i];
  if (h->v != h->inline_holds)
    *old = h->v;
  h->v = v;
  h->size = size;
  return true;
}

void
portalock_selfdeadlock_note (portalock *lock)
{
  int saved_errno = errno;
  int ranges = takes_ranges (lock);
  struct portalock_thread_holds *h = NULL;
  if (!lock->selfdeadlock_exempt && ranges >= 0)
    h = my_record ();
  if (h != NULL && !h->pool)
    {
      struct hold *old;
      hold_mutex (h);
      if (make_room (h, &old))
        {
          h->v[h->count] = (struct hold) { .lock = lock, .dev = lock->dev,
                                           .ino = lock->ino,
                                           .type = lock->type,
                                           .ranges = ranges };
          __atomic_store_n (&h->count, h->count + 1, __ATOMIC_RELAXED);
          lock->holds = h;
        }
      unhold_mutex (h);
      free (old);
    }
  errno = saved_errno;
}

/* Return LOCK's hold in its record H, whose mutex the caller holds, or
   NULL.  */
static struct hold *
find (struct portalock_thread_holds *h, const portalock *lock)
{
  for (size_t i = 0; i < h->count; i++)
    if (h->v[i].lock == lock)
      return &h->v[i];
  return NULL;
}

void
portalock_selfdeadlock_retype (portalock *lock)
{
  struct portalock_thread_holds *h = lock->holds;
  if (h == NULL)
    return;
  hold_mutex (h);
  struct hold *o = find (h, lock);
  if (o != NULL)
    o->type = lock->type;
  unhold_mutex (h);
}

void
portalock_selfdeadlock_forget (portalock *lock, bool ours)
{
  struct portalock_thread_holds *h = lock->holds;
  lock->holds = NULL;
  if (h == NULL || !ours)
    return;
  int saved_errno = errno;
  struct hold *spare = NULL;
  hold_mutex (h);
  struct hold *o = find (h, lock);
  if (o != NULL)
    {
      *o = h->v[h->count - 1];
      __atomic_store_n (&h->count, h->count - 1, __ATOMIC_RELAXED);
    }
  /* Memory stays bounded by the most objects held at once; an empty
     record gives back what it allocated.  */
  if (h->count == 0 && h->v != h->inline_holds)
    {
      spare = h->v;
      h->v = h->inline_holds;
      h->size = INLINE_HOLDS;
    }
  bool last = h->gone && h->count == 0;
  unhold_mutex (h);
  free (spare);
  if (last)
    free_record (h);
  errno = saved_errno;
}

void
portalock_selfdeadlock_pool_thread (void)
{
  struct portalock_thread_holds *h = my_record ();
  if (h != NULL)
    h->pool = true;
}

void
portalock_selfdeadlock_exempt (portalock *lock)
{
  if (lock != NULL)
    lock->selfdeadlock_exempt = true;
}
