/* method-kernel.c: the kernel method of lock objects: a lock taken by
   the kernel on the object's own descriptor, through the backend table.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"
#include "method.h"

/* How the kernel method locks (object.c says what comes before and
   after: the identity check, truncation, PID records).

   1. Open the file in the access the mode and the lock need, with
      O_CLOEXEC so that no exec'd program inherits it (a flock or OFD lock
      would live on in the program; a POSIX lock would not, but its
      descriptor would).  Mode "w" is opened without O_TRUNC: truncating
      before the lock is held would destroy a file someone else holds.

   2. Lock it: on flock and OFD locks, each object's own open file
      description makes two objects exclude each other.  POSIX (fcntl,
      lockf) locks belong to the process, so the per-inode table
      (inode-table.c) makes two objects exclude each other and keeps a
      release or close from dropping another object's lock.  The waits
      block in the kernel (portalock_wait_lock), never poll.

   How a release works.  On fcntl and lockf, the per-inode table lets
   the close of the last holder's descriptor give the lock back
   (portalock_inode_release_close).  On flock and OFD, the lock belongs
   to the open file description, and the close of its last descriptor
   releases it too; so when the object's descriptor is known to be the
   only one, the release just closes it (release_by_close), one system
   call fewer than unlock and close.  It is not known to be the only one,
   and the release unlocks first as before, when
   - the caller was given the descriptor (portalock_fd, portalock_stream)
     since the acquire: it may have dup'ed it or passed it on;
   - the process forked since the acquire: the child has a copy;
   - a fork is under way at the moment of the release (see
     release_by_close for how that race is closed);
   - a lock object of this process holds the same file through the
     per-inode table, or is taking its kernel lock: the close would be
     deferred (portalock_inode_close_begin).  */

/* What release_by_close needs to know of forks, all read and written
   with sequentially consistent atomics: how many forks this process has
   made (counted in the parent once each is done), how many are under
   way (from their prepare handler to their parent handler), and how
   many releases by close are between their look at the two counts and
   the end of their close.  */
static unsigned long parent_forks;
static unsigned long forks_pending;
static unsigned long releases_in_flight;

/* How deep the calling thread is in forks under way.  A program's own
   child handler, registered before the library's, runs before the
   library's child handler; a fork from inside it finds the counts of
   the outer fork not yet reset (another thread's release may have been
   in flight), and would wait for ever.  Such a fork is left to the
   outer fork's handlers, which run once the program's handler has
   returned: the thread that made both forks is the only one left, in
   either child, and no object acquired anything in between.  */
static _Thread_local unsigned fork_depth;

/* Before a fork: announce it, then wait until no release by close is
   between its check and its close, so that the child never gets a copy
   of a descriptor whose lock a close alone is about to give back (the
   copy would keep the lock).  Releases that start from now on see the
   announcement and unlock explicitly.  The wait is short and cannot
   deadlock: a release in flight makes no call that waits for anything
   but the kernel's close, and takes no lock, so neither the order of
   the atfork handlers (the per-inode table's prepare handler takes its
   mutexes before or after this one) nor another thread's fork can hold
   it up.  Only a fork from a signal handler that interrupted a release
   in the same thread would wait forever: atfork handlers are unsafe
   there anyway, which is why POSIX.1-2024 took fork off the list of
   async-signal-safe functions and added _Fork, which runs none.  */
static void
prepare_fork (void)
{
  if (fork_depth++ > 0)
    return;
  __atomic_add_fetch (&forks_pending, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n (&releases_in_flight, __ATOMIC_SEQ_CST) != 0)
    sched_yield ();
}

/* In the parent after a fork: count it first, then end the
   announcement, so that a release sees one or the other.  */
static void
after_fork_parent (void)
{
  if (--fork_depth > 0)
    return;
  __atomic_add_fetch (&parent_forks, 1, __ATOMIC_SEQ_CST);
  __atomic_sub_fetch (&forks_pending, 1, __ATOMIC_SEQ_CST);
}

/* In the child: only the forking thread lives on, so no release is in
   flight and no fork under way.  */
static void
after_fork_child (void)
{
  if (--fork_depth > 0)
    return;
  __atomic_store_n (&releases_in_flight, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n (&forks_pending, 0, __ATOMIC_SEQ_CST);
}


/* Byte-range locks (fcntl, OFD, lockf) check the descriptor's access: a
   shared lock needs it open for reading, an exclusive one for writing.
   flock does not care, and can lock a directory opened read-only.  */
static bool
checks_access (const struct portalock_backend_ops *ops)
{
  return ops->ranges;
}

/* Return the open(2) flags for LOCK's file with a TYPE lock: with
   MINIMAL, the least access the mode and the lock need; else, where the
   backend checks access and the mode writes anyway, read-write, so that
   the lock can later be converted either way.  */
static int
open_flags (const portalock *lock, int type, bool minimal)
{
  bool plus = lock->mode[1] == '+';
  bool read = lock->mode[0] == 'r' || plus;
  bool write = lock->mode[0] != 'r' || plus;
  int flags = O_CLOEXEC | O_NOCTTY;

  if (checks_access (lock->m.kernel.ops))
    {
      read |= type == PORTALOCK_SH || (write && !minimal);
      write |= type == PORTALOCK_EX;
    }
  /* A PID record is written, and read back before it is cleared.  It
     is never written through a symbolic link: one planted where the
     record goes would aim it at someone else's file.  */
  if (lock->record_pid)
    {
      read = write = true;
      flags |= O_NOFOLLOW;
    }
  /* A shared temporary lock's last holder makes its lock exclusive to
     delete the file (see last_holder).  */
  if (lock->temporary && checks_access (lock->m.kernel.ops))
    read = write = true;
  flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  /* A temporary file is deleted on release, so it must be created.  */
  if (lock->mode[0] != 'r' || lock->temporary)
    flags |= O_CREAT;
  /* Mode "x" creates the file or fails: see remove_created.  */
  if (lock->mode[0] == 'x')
    flags |= O_EXCL;
  if (lock->mode[0] == 'a')
    flags |= O_APPEND;
  /* A temporary lock file lives where others can plant a link (often a
     world-writable directory): never follow one.  */
  if (lock->temporary)
    flags |= O_NOFOLLOW;
  return flags;
}

/* Open PATH with FLAGS and PERMISSIONS, again after EINTR.  */
static int
open_path (const char *path, int flags, mode_t permissions)
{
  int fd;
  do
    fd = open (path, flags, permissions);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/* Open LOCK's file for a TYPE lock.  Return the descriptor, or -1 with
   errno.

   The open itself must never block: opening a FIFO waits for the other
   end, which would make a timeout of 0 or fail_when_locked wait
   forever.  So every open is made with O_NONBLOCK, which changes nothing
   else for a regular file or a directory, and the flag is cleared
   again on anything else (settle_open_flags).  A FIFO is then locked
   like any other file (the lock is on its inode; its data is not
   touched), except that opening one for writing
   alone while nobody reads it fails with ENXIO.  One exception: on a
   file with a lease, a non-blocking open fails with EWOULDBLOCK instead
   of waiting for the lease to be broken; that open is made again as
   before, blocking.

   A temporary lock's file is deleted on release, so it must be a
   regular file: anything else planted at its path (a FIFO, a socket, a
   device node) is refused with EINVAL before it is opened where lstat
   can tell, and after the open (fstat, in kernel_open) where it could
   not.  */
static int
open_file (const portalock *lock, int type)
{
  int flags = open_flags (lock, type, false);
  int fd = -1;
  struct stat st;
  if (lock->temporary && lstat (lock->path, &st) == 0
      && !S_ISREG (st.st_mode))
    {
      /* A symbolic link is left to O_NOFOLLOW: ELOOP.  */
      if (!S_ISLNK (st.st_mode))
        {
          errno = EINVAL;
          return -1;
        }
    }
  /* A descriptor kept open for the table names a file that exists, which
     mode "x" must not reuse.  */
  if (lock->m.kernel.ops->process_scoped && (flags & O_EXCL) == 0)
    fd = portalock_inode_reclaim (lock->path, flags);
  if (fd >= 0)
    return fd;
  fd = open_path (lock->path, flags | O_NONBLOCK, lock->permissions);
  /* A file one may write but not read can still be locked.  */
  if (fd < 0 && errno == EACCES && flags != open_flags (lock, type, true))
    {
      flags = open_flags (lock, type, true);
      fd = open_path (lock->path, flags | O_NONBLOCK, lock->permissions);
    }
  if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
      && !lock->temporary)
    return open_path (lock->path, flags, lock->permissions);
  /* A socket, or a FIFO nobody reads, planted at a temporary lock's
     path between the lstat and the open.  */
  if (fd < 0 && errno == ENXIO && lock->temporary)
    errno = EINVAL;
  /* O_NONBLOCK was only for the open: kernel_open clears it where it
     matters.  */
  return fd;
}

/* O_NONBLOCK was for the open only.  On a regular file or a directory
   it changes nothing (reads and writes of a regular file never block on
   it; Linux ignores it there), so it is left, which saves a system call
   on every acquire; on anything else (a FIFO, a device) it is cleared,
   as the descriptor would then behave differently.  ST is FD's fstat.
   Return 0 or -1 with errno.  */
static int
settle_open_flags (int fd, const struct stat *st)
{
  if (S_ISREG (st->st_mode) || S_ISDIR (st->st_mode))
    return 0;
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
    return -1;
  return 0;
}

/* Close FD, a descriptor of a file LOCK may have locked, without dropping
   another lock object's lock.  */
static void
close_fd (portalock *lock, int fd)
{
  /* Even a flock or OFD object's close must go through the table: a
     fcntl object of this process may hold the same file, or become its
     first holder at this very moment.  FD is open on the file whose
     device and inode kernel_open noted.  */
  if (lock->m.kernel.inode != NULL)
    portalock_inode_close (lock->m.kernel.inode, fd);
  else
    portalock_close_file (lock->dev, lock->ino, fd, NULL);
}

/* Take a TYPE lock on FD for LOCK.  Return 0 or -1 with errno.  */
static int
lock_fd (portalock *lock, int fd, int type, bool nonblock,
         const struct timespec *deadline)
{
  const struct portalock_kernel_state *k = &lock->m.kernel;
  if (!k->ops->process_scoped)
    return portalock_wait_lock (k->ops, fd, type, 0, 0, nonblock, deadline);
  return portalock_inode_acquire (k->inode, k->ops, fd, type, nonblock,
                                  deadline);
}

static int
unlock_fd (portalock *lock, int fd, int type)
{
  const struct portalock_kernel_state *k = &lock->m.kernel;
  if (!k->ops->process_scoped)
    return k->ops->unlock (fd, 0, 0);
  return portalock_inode_release (k->inode, k->ops, fd, type);
}

/* On NFS, Linux carries out flock(2) as a POSIX lock, which needs the
   access a byte-range lock needs: EBADF on a descriptor opened without
   it.  Like util-linux flock(1), reopen the file read-write and try once
   more.  Return the new descriptor (FD is then closed), or -1 with
   errno, FD still open.  */
static int
reopen_read_write (portalock *lock, int fd)
{
  struct stat before, after;
  int flags = fcntl (fd, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) == O_RDWR || fstat (fd, &before) != 0
      || S_ISDIR (before.st_mode))
    {
      errno = EBADF;
      return -1;
    }
  int nfd = open (lock->path, O_RDWR | O_CLOEXEC | O_NOCTTY
                  | (flags & O_APPEND) | (lock->temporary ? O_NOFOLLOW : 0));
  if (nfd < 0)
    return -1;
  if (fstat (nfd, &after) != 0 || after.st_dev != before.st_dev
      || after.st_ino != before.st_ino)
    {
      /* Replaced meanwhile: the identity check will send the caller
         round again.  */
      portalock_close_fd (nfd);
      errno = EBADF;
      return -1;
    }
  close_fd (lock, fd);
  return nfd;
}

/* Give back LOCK's lock by closing its descriptor alone, if the backend's
   close releases the lock of the last descriptor of the open file
   description and the descriptor is known to be the last.  Return true
   if it did so (the descriptor is closed, the lock gone); false if it
   did nothing, and the lock must be unlocked and the descriptor closed
   as usual.

   The race with a fork in another thread is closed without a mutex, so
   that threads releasing different files never wait for each other.
   The release announces itself (releases_in_flight), and only then
   looks whether a fork is under way (forks_pending) or happened since
   the acquire (parent_forks); a fork's prepare handler announces itself
   (forks_pending), and only then looks at releases_in_flight, waiting
   for it to be 0.  With sequentially consistent atomics, at least one
   of the two sees the other: either the release sees the fork and
   unlocks explicitly, or the fork waits until the close is done, and
   the child gets no copy of the descriptor.  A fork that the release
   does not see and that does not wait was thus over before the release
   started (its count is then in parent_forks, as its parent handler
   counts it before it ends the announcement) or starts after the close.

   posix_spawn, vfork, _Fork and the raw fork and clone system calls
   run no atfork handlers.  Their child shares the descriptor until it
   execs a program, which closes it (O_CLOEXEC) at once, or exits; a
   release by close meanwhile leaves the lock held until then.  A child
   of _Fork that lives on keeps it as long as it lives: the manual says
   so, and that portalock_fd before such a fork (exposed) makes the
   release unlock first.  Nothing cheaper can tell the parent of such a
   child.  */
static bool
release_by_close (portalock *lock)
{
  /* A stream (portalock_stream) gives the descriptor out too, through
     fileno, and must be fclosed anyway.  */
  if (!lock->m.kernel.ops->close_unlocks || lock->exposed
      || lock->stream != NULL)
    return false;
  /* A lock object of this process may hold the file through the
     per-inode table (fcntl, lockf), or be about to: the close would
     drop its POSIX lock.  The table says whether one does, and keeps a
     new one from asking the kernel until the close is done.  This comes
     before the fork announcement, as it may wait for a bucket mutex,
     which a fork's prepare handler may hold; while the table has never
     been used, the close announces itself to it inside the window, so
     that a fork never copies that announcement.  */
  int how = portalock_inode_close_begin (lock->dev, lock->ino);
  if (how == PORTALOCK_CLOSE_IN_USE)
    return false;
  bool closed = false;
  __atomic_add_fetch (&releases_in_flight, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n (&forks_pending, __ATOMIC_SEQ_CST) == 0
      && (__atomic_load_n (&parent_forks, __ATOMIC_SEQ_CST)
          == lock->m.kernel.forks_seen)
      && (how == PORTALOCK_CLOSE_ANNOUNCED
          || portalock_inode_untracked_enter ()))
    {
      /* Linux closes the descriptor even when close reports EINTR, and
         an error (a delayed write error on NFS) was never reported by a
         release.  */
      close (lock->fd);
      closed = true;
      if (how == PORTALOCK_CLOSE_UNTRACKED)
        portalock_inode_untracked_leave ();
    }
  __atomic_sub_fetch (&releases_in_flight, 1, __ATOMIC_SEQ_CST);
  if (how == PORTALOCK_CLOSE_ANNOUNCED)
    portalock_inode_close_end (lock->dev, lock->ino);
  return closed;
}

/* Watch forks, for release_by_close.  */
static void
kernel_init (void)
{
  pthread_atfork (prepare_fork, after_fork_parent, after_fork_child);
}

static int
kernel_bind (portalock *lock, int type)
{
  struct portalock_kernel_state *k = &lock->m.kernel;
  k->ops = portalock_backend_ops (lock->backend);
  if (k->ops == NULL)
    return -1;
  /* Refuse what cannot work before anything is opened or created.  */
  if (type == PORTALOCK_SH && !k->ops->shared)
    {
      errno = ENOTSUP;
      return -1;
    }
  k->inode = NULL;
  /* Any fork that could copy the descriptor comes after this look: the
     release by close knows of it from one of the counts.  */
  k->forks_seen = __atomic_load_n (&parent_forks, __ATOMIC_SEQ_CST);
  return 0;
}

/* Open LOCK's file, settle its descriptor and note its file; on the
   process-scoped backends, take a reference to its entry in the
   per-inode table.  */
static int
kernel_open (portalock *lock, int type)
{
  int fd = open_file (lock, type);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat (fd, &st) != 0 || settle_open_flags (fd, &st) != 0)
    {
      int saved_errno = errno;
      portalock_close_fd (fd);
      errno = saved_errno;
      return -1;
    }
  if (lock->temporary && !S_ISREG (st.st_mode))
    {
      /* Something else was planted where the lock file goes.  */
      portalock_close_file (st.st_dev, st.st_ino, fd, NULL);
      errno = EINVAL;
      return -1;
    }
  lock->dev = st.st_dev;
  lock->ino = st.st_ino;
  if (lock->m.kernel.ops->process_scoped)
    {
      lock->m.kernel.inode = portalock_inode_ref_stat (&st);
      if (lock->m.kernel.inode == NULL)
        {
          close_fd (lock, fd);
          return -1;
        }
    }
  return fd;
}

static int
kernel_lock (portalock *lock, int *fd, int type, bool nonblock,
             const struct timespec *deadline)
{
  int r = lock_fd (lock, *fd, type, nonblock, deadline);
  if (r != 0 && errno == EBADF)
    {
      int nfd = reopen_read_write (lock, *fd);
      if (nfd >= 0)
        {
          *fd = nfd;
          r = lock_fd (lock, nfd, type, nonblock, deadline);
        }
    }
  return r;
}

static void
kernel_close (portalock *lock, int fd)
{
  close_fd (lock, fd);
  if (lock->m.kernel.inode != NULL)
    {
      portalock_inode_unref (lock->m.kernel.inode);
      lock->m.kernel.inode = NULL;
    }
}

static int
kernel_release (portalock *lock, bool unlock)
{
  struct portalock_kernel_state *k = &lock->m.kernel;
  int r = 0;
  if (unlock && k->inode != NULL)
    {
      /* A process-scoped lock: the table's last holder lets the close
         give the kernel lock back, one system call fewer.  */
      r = portalock_inode_release_close (k->inode, lock->fd, lock->stream,
                                         lock->type);
    }
  else if (unlock && release_by_close (lock))
    {
      /* The close gave the lock back: one system call fewer.  */
    }
  else
    {
      int e = 0;
      if (unlock && unlock_fd (lock, lock->fd, lock->type) != 0)
        r = -1, e = errno;
      if (lock->stream != NULL)
        {
          if (k->inode != NULL)
            portalock_inode_fclose (k->inode, lock->stream);
          else
            portalock_close_file (lock->dev, lock->ino, -1, lock->stream);
        }
      else
        close_fd (lock, lock->fd);
      if (k->inode != NULL)
        portalock_inode_unref (k->inode);
      if (r != 0)
        errno = e;
    }
  k->inode = NULL;
  return r;
}

static int
kernel_may_convert (const portalock *lock, int type)
{
  const struct portalock_backend_ops *ops = lock->m.kernel.ops;
  if (type == PORTALOCK_SH && !ops->shared)
    {
      errno = ENOTSUP;
      return -1;
    }
  int access = fcntl (lock->fd, F_GETFL) & O_ACCMODE;
  if (checks_access (ops)
      && (type == PORTALOCK_EX ? access == O_RDONLY : access == O_WRONLY))
    {
      errno = EBADF;
      return -1;
    }
  return 0;
}

static int
kernel_convert (portalock *lock, int type, bool nonblock,
                const struct timespec *deadline, bool *lost)
{
  const struct portalock_kernel_state *k = &lock->m.kernel;
  if (k->ops->process_scoped)
    return portalock_inode_convert (k->inode, k->ops, lock->fd, lock->type,
                                    type, nonblock, deadline);
  int r = portalock_wait_lock (k->ops, lock->fd, type, 0, 0, nonblock,
                               deadline);
  /* flock(2) converts by unlocking first, and so does the win32
     backend (Windows stacks locks instead of replacing them): a
     conversion that fails has lost the old lock.  Take it back if
     nobody took it meanwhile, else the object is no longer held.  */
  if (r != 0 && k->ops->converts_by_unlocking)
    {
      int saved_errno = errno;
      if (portalock_wait_lock (k->ops, lock->fd, lock->type, 0, 0, true,
                               NULL) != 0)
        *lost = true;
      errno = saved_errno;
    }
  return r;
}

/* With flock a failed try has dropped the lock (flock converts by
   unlocking first), which was about to go anyway.  Where conversions
   are atomic (ofd, fcntl), the last two shared holders may each still
   see the other.  */
static int
kernel_claim_last (portalock *lock)
{
  const struct portalock_kernel_state *k = &lock->m.kernel;
  int r;
  if (k->ops->process_scoped)
    r = portalock_inode_convert (k->inode, k->ops, lock->fd, PORTALOCK_SH,
                                 PORTALOCK_EX, true, NULL);
  else
    r = portalock_wait_lock (k->ops, lock->fd, PORTALOCK_EX, 0, 0, true,
                             NULL);
  if (r == 0)
    return 1;
  return k->ops->ranges ? 2 : 0;
}

/* The kernel keeps a lock for as long as its descriptor is open.  */
static int
kernel_renew (portalock *lock)
{
  (void) lock;
  return 0;
}

static int
kernel_holders (const portalock *lock, pid_t *pids, size_t max)
{
  return portalock_file_holders (lock->dev, lock->ino, pids, max);
}

static bool
kernel_lost (portalock *lock)
{
  (void) lock;
  return false;
}

static uint64_t
kernel_generation (const portalock *lock)
{
  (void) lock;
  return 0;
}

static void
kernel_free (portalock *lock)
{
  (void) lock;
}

const struct portalock_method_ops portalock_method_kernel =
  {
    .name = "kernel",
    .kind = PORTALOCK_METHOD_KERNEL,
    .init = kernel_init,
    .bind = kernel_bind,
    .open = kernel_open,
    .lock = kernel_lock,
    .unlock = unlock_fd,
    .close = kernel_close,
    .release = kernel_release,
    .may_convert = kernel_may_convert,
    .convert = kernel_convert,
    .claim_last = kernel_claim_last,
    .renew = kernel_renew,
    .holders = kernel_holders,
    .lost = kernel_lost,
    .generation = kernel_generation,
    .free = kernel_free
  };
