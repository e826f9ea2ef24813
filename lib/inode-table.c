/* inode-table.c: one process-wide record per locked inode, for the
   process-scoped backends (fcntl, lockf).

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"

/* The hazards this table exists for, on fcntl and lockf locks:

   1. The kernel gives the lock to the process.  A second request from the
      same process, through any descriptor, is granted at once (or turns
      a shared lock into an exclusive one), so two lock objects in two
      threads would both "hold" an exclusive lock.  The table makes them
      wait for each other exactly as two processes would.

   2. Closing any descriptor of the file drops every lock the process has
      on it.  A lock object that is released and closed while another one
      still holds the file would silently unlock the other.  The table
      keeps such descriptors open until the last holder is done.

   3. Unlocking drops the process's lock whoever asked, so only the last
      holder may unlock in the kernel.

   The kernel lock is taken by the first holder and given back by the
   last; in between, holders only change counts here.  An exclusive
   holder is always alone, so the kernel lock is converted only when a
   lone holder asks for it (portalock_inode_convert).

   The table is a hash table of BUCKETS chains, by (device, inode), and
   each bucket has its own mutex, which guards its chain and every field
   of the entries in it (an entry's condition variable waits on it too).
   So a look-up costs the same with 10 or 10,000 inodes in the table,
   and threads working on files in different buckets never wait for each
   other.  The critical sections are a few instructions, and every
   kernel wait happens outside them.  Nothing takes two bucket mutexes
   at once, except the fork handlers, which take all of them in order.

   4. A close of a descriptor that was never in the table (a flock or
      OFD lock object's, the one portalock_pid_record_read reads
      through) drops this process's POSIX locks on the file just the
      same.  Looking first whether a holder is in the table and then
      closing is two steps; a lock object of another thread granted its
      first lock on the file between them would lose it to the close,
      and believe it still held it.  So every library close of such a
      descriptor looks and closes under the bucket mutex of its inode
      (portalock_close_file), or announces itself there before it looks
      and closes (portalock_inode_close_begin, for a release by close,
      which must not hold a mutex across its close), and a first holder
      marks the inode busy under that mutex and then waits until no
      close announced in the bucket is under way, before it asks the
      kernel for the lock.  Either the close sees the holder and leaves
      the descriptor to the table, or the kernel lock is asked for
      after the close.  */

/* A descriptor, or a stdio stream, whose close must wait.  */
struct deferred
{
  int fd;                 /* -1 for a stream */
  FILE *stream;
};

static void
close_one (const struct deferred *d)
{
  if (d->stream != NULL)
    fclose (d->stream);
  else
    close (d->fd);
}

struct portalock_inode
{
  dev_t dev;
  ino_t ino;
  unsigned refs;          /* references from portalock_inode_ref */
  unsigned shared;        /* shared holders in this process */
  bool exclusive;         /* an exclusive holder in this process */
  bool busy;              /* a thread is waiting for the kernel lock */
  struct deferred *deferred;  /* what to close after the last holder */
  size_t ndeferred;
  size_t deferred_size;
  pthread_cond_t changed; /* holders, or busy, changed */
  struct bucket *bucket;  /* the one it is in, whose mutex guards it */
  struct portalock_inode *next;
};

/* A power of two.  10,000 inodes make chains of about 10 entries.  */
#define BUCKETS 1024

struct bucket
{
  pthread_mutex_t mutex;
  struct portalock_inode *chain;
  unsigned closing;        /* closes between portalock_inode_close_begin
                              and _end */
  unsigned close_waiters;  /* first holders waiting for them */
  pthread_cond_t closed;   /* closing went down to 0 */
};

static struct bucket table[BUCKETS];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* A program that never uses a fcntl or lockf lock object needs none of
   the table, and should not pay for its fork handlers (they take 1,024
   mutexes across every fork).  So a release by close of a flock or OFD
   object does not make the table ready: while it is not (table_ready
   is 0), the release announces itself in untracked_closes instead of a
   bucket, and the first use of the table, once it has set table_ready,
   waits until no such close is under way (table_init).  Those releases
   happen inside the window that lock objects' fork handlers wait for
   (release_by_close in method-kernel.c), so a fork never copies an
   untracked close under way.  */
static int table_ready;
static unsigned long untracked_closes;
static int init_waiting;
static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_done = PTHREAD_COND_INITIALIZER;

/* Deferred plain descriptors in the whole table, so that an open can
   skip looking for one to reuse when there is none.  It changes under a
   bucket mutex but is read without one, so every access is atomic.  */
static size_t deferred_fds;

static struct bucket *
bucket_of (dev_t dev, ino_t ino)
{
  /* Inode numbers are mostly consecutive, so their low bits spread
     well; the device is mixed in for files on several file systems.  */
  uint64_t h = (uint64_t) ino ^ ((uint64_t) dev * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 29;
  return &table[h & (BUCKETS - 1)];
}

static void
count_deferred_fds (long change)
{
  if (change > 0)
    __atomic_fetch_add (&deferred_fds, (size_t) change, __ATOMIC_RELAXED);
  else if (change < 0)
    __atomic_fetch_sub (&deferred_fds, (size_t) -change, __ATOMIC_RELAXED);
}
static void close_deferred (struct portalock_inode *node);

static void
init_cond (pthread_cond_t *cond)
{
  pthread_condattr_t cattr;
  pthread_condattr_init (&cattr);
  pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
  pthread_cond_init (cond, &cattr);
  pthread_condattr_destroy (&cattr);
}

/* How deep the calling thread is in forks under way: the handlers of a
   fork made from inside another fork's child handler (a program's own
   handler, registered before the library's, runs before the library's
   child handler) find the mutexes still taken by the outer fork, in
   this very thread, and the table unchanged since: they leave them to
   the outer fork's handlers, which run once the program's handler
   returns, in the child of either fork.  */
static _Thread_local unsigned fork_depth;

/* A fork while another thread holds a bucket mutex would leave the
   child's copy locked forever; take them all across fork.  */
static void
prepare_fork (void)
{
  if (fork_depth++ > 0)
    return;
  for (size_t i = 0; i < BUCKETS; i++)
    pthread_mutex_lock (&table[i].mutex);
}

static void
unlock_all (void)
{
  for (size_t i = BUCKETS; i-- > 0;)
    pthread_mutex_unlock (&table[i].mutex);
}

static void
after_fork (void)
{
  if (--fork_depth > 0)
    return;
  unlock_all ();
}

/* A forked child holds none of its parent's POSIX locks, and none of its
   parent's other threads: it starts with no holders, so that its own
   lock objects can lock, and a release of an inherited one does not
   unlock anything.  The descriptors the parent deferred are only the
   child's copies: closing them drops nothing of the parent's.  */
static void
after_fork_child (void)
{
  if (--fork_depth > 0)
    return;
  /* The first use of the table may have been under way in another
     thread.  */
  pthread_mutex_init (&init_mutex, NULL);
  pthread_cond_init (&init_done, NULL);
  for (size_t i = 0; i < BUCKETS; i++)
    {
      /* The closes under way were other threads'.  */
      table[i].closing = 0;
      table[i].close_waiters = 0;
      init_cond (&table[i].closed);
      for (struct portalock_inode *node = table[i].chain; node != NULL;
           node = node->next)
        {
          node->shared = 0;
          node->exclusive = false;
          node->busy = false;
          init_cond (&node->changed);
          close_deferred (node);
        }
    }
  unlock_all ();
}

static void
table_init (void)
{
  for (size_t i = 0; i < BUCKETS; i++)
    {
      pthread_mutex_init (&table[i].mutex, NULL);
      init_cond (&table[i].closed);
    }
  pthread_atfork (prepare_fork, after_fork, after_fork_child);

  /* From now on, releases by close announce themselves in the buckets;
     wait for those that started before.  */
  __atomic_store_n (&table_ready, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n (&init_waiting, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock (&init_mutex);
  while (__atomic_load_n (&untracked_closes, __ATOMIC_SEQ_CST) != 0)
    pthread_cond_wait (&init_done, &init_mutex);
  pthread_mutex_unlock (&init_mutex);
  __atomic_store_n (&init_waiting, 0, __ATOMIC_SEQ_CST);
}

/* Return the bucket of DEV/INO, the table made ready first.  */
static struct bucket *
ready_bucket (dev_t dev, ino_t ino)
{
  pthread_once (&table_once, table_init);
  return bucket_of (dev, ino);
}

/* Return the entry for DEV/INO in B, or NULL.  With B's mutex held.  */
static struct portalock_inode *
find_in (struct bucket *b, dev_t dev, ino_t ino)
{
  struct portalock_inode *node;
  for (node = b->chain; node != NULL; node = node->next)
    if (node->dev == dev && node->ino == ino)
      break;
  return node;
}

static bool
held (const struct portalock_inode *node)
{
  return node->exclusive || node->shared > 0;
}

/* Close the deferred descriptors once nothing in the process needs the
   kernel lock any more.  Called with the table mutex held.  */
static void
close_deferred (struct portalock_inode *node)
{
  if (held (node) || node->busy)
    return;
  int saved_errno = errno;
  for (size_t i = 0; i < node->ndeferred; i++)
    {
      count_deferred_fds (-(long) (node->deferred[i].stream == NULL));
      close_one (&node->deferred[i]);
    }
  node->ndeferred = 0;
  errno = saved_errno;
}

struct portalock_inode *
portalock_inode_ref (int fd)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    return NULL;
  return portalock_inode_ref_stat (&st);
}

struct portalock_inode *
portalock_inode_ref_stat (const struct stat *st)
{
  struct portalock_inode *node;

  pthread_once (&table_once, table_init);
  struct bucket *b = bucket_of (st->st_dev, st->st_ino);
  pthread_mutex_lock (&b->mutex);
  node = find_in (b, st->st_dev, st->st_ino);
  if (node == NULL)
    {
      node = calloc (1, sizeof *node);
      if (node == NULL)
        {
          pthread_mutex_unlock (&b->mutex);
          errno = ENOMEM;
          return NULL;
        }
      init_cond (&node->changed);
      node->dev = st->st_dev;
      node->ino = st->st_ino;
      node->bucket = b;
      node->next = b->chain;
      b->chain = node;
    }
  node->refs++;
  pthread_mutex_unlock (&b->mutex);
  return node;
}

void
portalock_inode_unref (struct portalock_inode *node)
{
  struct bucket *b = node->bucket;
  pthread_mutex_lock (&b->mutex);
  if (--node->refs > 0)
    {
      pthread_mutex_unlock (&b->mutex);
      return;
    }
  struct portalock_inode **p = &b->chain;
  while (*p != node)
    p = &(*p)->next;
  *p = node->next;
  /* No reference left means no holder, so nothing should be deferred;
     close whatever is, rather than leak it, still under the mutex (see
     hazard 4 at the top).  */
  int saved_errno = errno;
  for (size_t i = 0; i < node->ndeferred; i++)
    {
      count_deferred_fds (-(long) (node->deferred[i].stream == NULL));
      close_one (&node->deferred[i]);
    }
  errno = saved_errno;
  pthread_mutex_unlock (&b->mutex);

  pthread_cond_destroy (&node->changed);
  free (node->deferred);
  free (node);
}

static bool
may_hold (const struct portalock_inode *node, int type)
{
  if (node->busy || node->exclusive)
    return false;
  return type == PORTALOCK_SH || node->shared == 0;
}

/* With NODE's bucket mutex held, wait until READY (NODE, TYPE) is true:
   not at all if NONBLOCK, else until DEADLINE (NULL: without limit).
   Return 0, EWOULDBLOCK or ETIMEDOUT, or ECANCELED when a pending
   acquisition that waits here is cancelled (pending.c).  */
static int
wait_for (struct portalock_inode *node,
          bool (*ready) (const struct portalock_inode *, int), int type,
          bool nonblock, const struct timespec *deadline)
{
  bool registered = false;
  int e = 0;
  while (!ready (node, type))
    {
      if (nonblock)
        {
          e = EWOULDBLOCK;
          break;
        }
      if (!registered && portalock_cancel_active ())
        {
          portalock_cancel_register (&node->bucket->mutex, &node->changed);
          registered = true;
        }
      if (portalock_cancel_requested ())
        {
          e = ECANCELED;
          break;
        }
      if (deadline == NULL)
        pthread_cond_wait (&node->changed, &node->bucket->mutex);
      else if (pthread_cond_timedwait (&node->changed, &node->bucket->mutex,
                                       deadline) == ETIMEDOUT
               && !ready (node, type))
        {
          e = ETIMEDOUT;
          break;
        }
    }
  if (registered)
    portalock_cancel_register (NULL, NULL);
  return e;
}

/* The kernel's deadlock detection for POSIX locks (fcntl, lockf) sees
   processes, not threads.  With P1.T1 holding A, P2.T1 holding B and
   P1.T2 waiting for B, a wait of P2.T2 for A looks like a cycle and
   fails with EDEADLK, though no thread waits for itself: both T1s will
   let go.  Lock objects exclude each other as processes would, and two
   processes with one thread each would simply wait (as they do with
   flock and OFD locks, which have no such detection), so the table's
   waits treat EDEADLK as "still held": they wait until the lock is
   free and ask again, until the deadline.

   How they wait: an OFD lock of the same type on the same descriptor
   conflicts with the other processes' POSIX locks, blocks in the kernel
   until those are gone, and is exempt from the detection.  It is
   dropped as soon as it is granted, and the POSIX request made again.
   It cannot serve while this process holds a POSIX lock on the file
   (a conversion: it would wait for this process itself), nor where OFD
   locks are not built; then the wait is a pause, from 1 ms doubling up
   to 100 ms, before asking again.  */

#define DEADLOCK_PAUSE_MIN_NS 1000000L
#define DEADLOCK_PAUSE_MAX_NS 100000000L

/* Pause for *PAUSE nanoseconds, doubled for next time, but not past
   DEADLINE.  */
static void
deadlock_pause (long *pause, const struct timespec *deadline)
{
  struct timespec until;
  clock_gettime (CLOCK_MONOTONIC, &until);
  until.tv_nsec += *pause;
  if (until.tv_nsec >= 1000000000L)
    {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  if (deadline != NULL
      && (until.tv_sec > deadline->tv_sec
          || (until.tv_sec == deadline->tv_sec
              && until.tv_nsec > deadline->tv_nsec)))
    until = *deadline;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
         == EINTR)
    ;
  *pause = *pause * 2 > DEADLOCK_PAUSE_MAX_NS ? DEADLOCK_PAUSE_MAX_NS
           : *pause * 2;
}

/* Take the kernel lock as portalock_wait_lock does, but wait again where
   it fails with EDEADLK.  HOLDING says this process holds a POSIX lock on
   the file already (a conversion).  Return 0 or -1 with errno.  */
static int
wait_kernel_lock (const struct portalock_backend_ops *ops, int fd, int type,
                  bool nonblock, const struct timespec *deadline,
                  bool holding)
{
  int saved_errno = errno;
  const struct portalock_backend_ops *ofd
    = holding ? NULL : portalock_backend_ops (PORTALOCK_BACKEND_OFD);
  errno = saved_errno;
  long pause = DEADLOCK_PAUSE_MIN_NS;
  for (;;)
    {
      int r = portalock_wait_lock (ops, fd, type, 0, 0, nonblock, deadline);
      if (r == 0 || errno != EDEADLK)
        return r;
      if (deadline != NULL && portalock_deadline_passed (deadline))
        {
          errno = ETIMEDOUT;
          return -1;
        }
      if (ofd != NULL
          && portalock_wait_lock (ofd, fd, type, 0, 0, false, deadline)
             == 0)
        ofd->unlock (fd, 0, 0);
      else if (ofd != NULL && errno == ETIMEDOUT)
        return -1;
      else
        deadlock_pause (&pause, deadline);
    }
}

int
portalock_inode_acquire (struct portalock_inode *node,
                         const struct portalock_backend_ops *ops, int fd,
                         int type, bool nonblock,
                         const struct timespec *deadline)
{
  pthread_mutex_t *mutex = &node->bucket->mutex;
  pthread_mutex_lock (mutex);
  int e = wait_for (node, may_hold, type, nonblock, deadline);

  if (e == 0 && !held (node))
    {
      /* First holder: take the kernel lock, without the mutex, so that
         others can still look at the table (and wait their turn).  Busy
         makes every close of another descriptor of the file that starts
         from now on leave it to the table; one already under way must
         end before the kernel is asked (see hazard 4 at the top).  */
      node->busy = true;
      struct bucket *b = node->bucket;
      while (b->closing > 0)
        {
          b->close_waiters++;
          pthread_cond_wait (&b->closed, mutex);
          b->close_waiters--;
        }
      pthread_mutex_unlock (mutex);
      int r = wait_kernel_lock (ops, fd, type, nonblock, deadline, false);
      e = r == 0 ? 0 : errno;
      pthread_mutex_lock (mutex);
      node->busy = false;
      pthread_cond_broadcast (&node->changed);
    }

  if (e == 0)
    {
      if (type == PORTALOCK_EX)
        node->exclusive = true;
      else
        node->shared++;
    }
  else
    close_deferred (node);
  pthread_mutex_unlock (mutex);
  if (e == 0)
    return 0;
  errno = e;
  return -1;
}

int
portalock_inode_release (struct portalock_inode *node,
                         const struct portalock_backend_ops *ops, int fd,
                         int type)
{
  int r = 0;
  pthread_mutex_t *mutex = &node->bucket->mutex;

  pthread_mutex_lock (mutex);
  if (type == PORTALOCK_EX ? !node->exclusive : node->shared == 0)
    {
      pthread_mutex_unlock (mutex);
      errno = EINVAL;
      return -1;
    }
  if (type == PORTALOCK_EX)
    node->exclusive = false;
  else
    node->shared--;
  if (!held (node))
    {
      r = ops->unlock (fd, 0, 0);
      int saved_errno = errno;
      close_deferred (node);
      errno = saved_errno;
    }
  pthread_cond_broadcast (&node->changed);
  pthread_mutex_unlock (mutex);
  return r;
}

/* Close FD or STREAM now, or once the last holder of NODE is done.
   With NODE's bucket mutex held.  Keeps errno.  */
static void
close_or_defer_locked (struct portalock_inode *node, int fd, FILE *stream)
{
  int saved_errno = errno;
  struct deferred d = { fd, stream };
  if (held (node) || node->busy)
    {
      if (node->ndeferred == node->deferred_size)
        {
          size_t size = node->deferred_size ? 2 * node->deferred_size : 4;
          struct deferred *p = realloc (node->deferred, size * sizeof *p);
          if (p == NULL)
            {
              /* Leaking one descriptor beats silently dropping another
                 holder's lock.  */
              errno = saved_errno;
              return;
            }
          node->deferred = p;
          node->deferred_size = size;
        }
      node->deferred[node->ndeferred++] = d;
      count_deferred_fds (stream == NULL);
    }
  else
    close_one (&d);
  errno = saved_errno;
}

static void
close_or_defer (struct portalock_inode *node, int fd, FILE *stream)
{
  pthread_mutex_t *mutex = &node->bucket->mutex;
  pthread_mutex_lock (mutex);
  close_or_defer_locked (node, fd, stream);
  pthread_mutex_unlock (mutex);
}

/* A lock object's release, which portalock_inode_release, then
   portalock_inode_close (or _fclose) and portalock_inode_unref would
   do in three steps and with an unlock: here the holder count goes
   down, and if that was the last holder, the close that follows is
   what gives the kernel lock back.  POSIX requires a close of any
   descriptor of a file to remove the process's locks on it, so the
   unlock before it would be a system call for nothing; all in one hold
   of the bucket mutex, so that no other thread can become a holder
   between the two.  Where another holder remains (or the hold was not
   there), nothing is unlocked and the close waits, as before.  */
int
portalock_inode_release_close (struct portalock_inode *node, int fd,
                               FILE *stream, int type)
{
  int e = 0;
  pthread_mutex_t *mutex = &node->bucket->mutex;

  pthread_mutex_lock (mutex);
  if (type == PORTALOCK_EX ? !node->exclusive : node->shared == 0)
    e = EINVAL;
  else if (type == PORTALOCK_EX)
    node->exclusive = false;
  else
    node->shared--;
  /* Not held any more means not busy either: only a holder converts,
     and a first holder waits for the kernel only when none holds.  So
     the close is not deferred, and drops the kernel lock.  */
  close_or_defer_locked (node, fd, stream);
  if (e == 0 && !held (node))
    close_deferred (node);
  pthread_cond_broadcast (&node->changed);
  pthread_mutex_unlock (mutex);
  portalock_inode_unref (node);
  if (e == 0)
    return 0;
  errno = e;
  return -1;
}

/* A lock object that fails to get a lock another object of this process
   holds must close its descriptor, and that close is deferred; without
   reuse, every failed try would keep one more descriptor open until the
   holder lets go.  So an open of a file first takes back a deferred
   descriptor of it opened the same way, as SQLite's unix VFS does.  */
int
portalock_inode_reclaim (const char *path, int flags)
{
  if (__atomic_load_n (&deferred_fds, __ATOMIC_RELAXED) == 0)
    return -1;
  int saved_errno = errno;
  struct stat st;
  int r = (flags & O_NOFOLLOW) ? lstat (path, &st) : stat (path, &st);
  errno = saved_errno;
  if (r != 0)
    return -1;

  int want = flags & (O_ACCMODE | O_APPEND);
  int fd = -1;
  pthread_once (&table_once, table_init);
  struct bucket *b = bucket_of (st.st_dev, st.st_ino);
  pthread_mutex_lock (&b->mutex);
  struct portalock_inode *node = find_in (b, st.st_dev, st.st_ino);
  if (node != NULL)
    for (size_t i = 0; i < node->ndeferred; i++)
      {
        struct deferred *d = &node->deferred[i];
        int fl;
        if (d->stream == NULL && (fl = fcntl (d->fd, F_GETFL)) >= 0
            && (fl & (O_ACCMODE | O_APPEND)) == want)
          {
            fd = d->fd;
            *d = node->deferred[--node->ndeferred];
            count_deferred_fds (-1);
            break;
          }
      }
  pthread_mutex_unlock (&b->mutex);
  /* A fresh open starts at offset 0.  */
  if (fd >= 0)
    lseek (fd, 0, SEEK_SET);
  errno = saved_errno;
  return fd;
}

void
portalock_inode_close (struct portalock_inode *node, int fd)
{
  close_or_defer (node, fd, NULL);
}

void
portalock_inode_fclose (struct portalock_inode *node, FILE *stream)
{
  close_or_defer (node, -1, stream);
}

/* Return true if NODE's holders let one of them convert to TO: it must
   be alone to become exclusive.  */
static bool
may_convert (const struct portalock_inode *node, int to)
{
  return to == PORTALOCK_SH || (!node->busy && node->shared == 1);
}

int
portalock_inode_convert (struct portalock_inode *node,
                         const struct portalock_backend_ops *ops, int fd,
                         int from, int to, bool nonblock,
                         const struct timespec *deadline)
{
  int e = 0;
  pthread_mutex_t *mutex = &node->bucket->mutex;

  pthread_mutex_lock (mutex);
  if (from == to)
    {
      pthread_mutex_unlock (mutex);
      return 0;
    }
  if (from == PORTALOCK_EX ? !node->exclusive : node->shared == 0)
    {
      pthread_mutex_unlock (mutex);
      errno = EINVAL;
      return -1;
    }
  /* To become exclusive, wait until the other shared holders in this
     process are gone, as another process would.  */
  e = wait_for (node, may_convert, to, nonblock, deadline);
  if (e == 0)
    {
      /* Change the kernel lock, which this process alone holds for this
         one holder.  Busy keeps new holders out meanwhile; a failed
         POSIX conversion leaves the old lock in place.  */
      node->busy = true;
      pthread_mutex_unlock (mutex);
      int r = wait_kernel_lock (ops, fd, to, nonblock, deadline, true);
      e = r == 0 ? 0 : errno;
      pthread_mutex_lock (mutex);
      node->busy = false;
      if (e == 0)
        {
          node->exclusive = to == PORTALOCK_EX;
          node->shared = to == PORTALOCK_SH;
        }
      pthread_cond_broadcast (&node->changed);
    }
  pthread_mutex_unlock (mutex);
  if (e == 0)
    return 0;
  errno = e;
  return -1;
}

unsigned
portalock_inode_holders (struct portalock_inode *node, bool *exclusive)
{
  pthread_mutex_lock (&node->bucket->mutex);
  unsigned n = node->shared + node->exclusive;
  if (exclusive != NULL)
    *exclusive = node->exclusive;
  pthread_mutex_unlock (&node->bucket->mutex);
  return n;
}

/* Return true if a lock object of this process holds DEV/INO through
   the table, or is taking its kernel lock.  With B's mutex held.  */
static bool
in_use (struct bucket *b, dev_t dev, ino_t ino)
{
  struct portalock_inode *node = find_in (b, dev, ino);
  return node != NULL && (held (node) || node->busy);
}

int
portalock_inode_close_begin (dev_t dev, ino_t ino)
{
  if (!__atomic_load_n (&table_ready, __ATOMIC_SEQ_CST))
    return PORTALOCK_CLOSE_UNTRACKED;
  struct bucket *b = ready_bucket (dev, ino);
  pthread_mutex_lock (&b->mutex);
  bool free = !in_use (b, dev, ino);
  if (free)
    b->closing++;
  pthread_mutex_unlock (&b->mutex);
  return free ? PORTALOCK_CLOSE_ANNOUNCED : PORTALOCK_CLOSE_IN_USE;
}

bool
portalock_inode_untracked_enter (void)
{
  __atomic_add_fetch (&untracked_closes, 1, __ATOMIC_SEQ_CST);
  if (!__atomic_load_n (&table_ready, __ATOMIC_SEQ_CST))
    return true;
  portalock_inode_untracked_leave ();
  return false;
}

void
portalock_inode_untracked_leave (void)
{
  if (__atomic_sub_fetch (&untracked_closes, 1, __ATOMIC_SEQ_CST) == 0
      && __atomic_load_n (&init_waiting, __ATOMIC_SEQ_CST))
    {
      pthread_mutex_lock (&init_mutex);
      pthread_cond_broadcast (&init_done);
      pthread_mutex_unlock (&init_mutex);
    }
}

void
portalock_inode_close_end (dev_t dev, ino_t ino)
{
  struct bucket *b = bucket_of (dev, ino);
  pthread_mutex_lock (&b->mutex);
  if (--b->closing == 0 && b->close_waiters > 0)
    pthread_cond_broadcast (&b->closed);
  pthread_mutex_unlock (&b->mutex);
}

void
portalock_close_file (dev_t dev, ino_t ino, int fd, FILE *stream)
{
  struct bucket *b = ready_bucket (dev, ino);
  pthread_mutex_lock (&b->mutex);
  struct portalock_inode *node = find_in (b, dev, ino);
  if (node != NULL)
    close_or_defer_locked (node, fd, stream);
  else
    {
      /* Under the mutex all the same: a first holder of the file in
         another thread is then asked for after the close.  */
      int saved_errno = errno;
      struct deferred d = { fd, stream };
      close_one (&d);
      errno = saved_errno;
    }
  pthread_mutex_unlock (&b->mutex);
}

void
portalock_close_fd (int fd)
{
  int saved_errno = errno;
  struct stat st;
  if (fstat (fd, &st) == 0)
    portalock_close_file (st.st_dev, st.st_ino, fd, NULL);
  else
    close (fd);
  errno = saved_errno;
}

int
portalock_fclose (FILE *stream)
{
  struct stat st;
  if (fstat (fileno (stream), &st) != 0)
    return fclose (stream);
  int r = fflush (stream);
  int saved_errno = errno;
  portalock_close_file (st.st_dev, st.st_ino, -1, stream);
  errno = saved_errno;
  return r == 0 ? 0 : EOF;
}
