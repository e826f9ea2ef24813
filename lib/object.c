/* object.c: lock objects: portalocker's Lock and its family.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portalock-private.h"

/* How an acquire works, and why.

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

   3. Check identity: between the open and the grant, the file may have
      been deleted (a temporary lock's holder deletes it on release) or
      replaced by a rename.  A lock on an inode the path no longer names
      excludes nobody, so it is dropped and the acquire starts again on
      whatever the path names now, until the timeout; check_interval
      bounds the pause between such retries.

   4. Only then truncate ("w"), and write the PID record if asked.

   A forked child gets copies of the descriptors.  For flock and OFD
   locks it then shares the parent's lock, and an unlock or a conversion
   in the child would change the parent's; so a release or free in any
   process but the one that acquired only closes the child's copies, and
   a conversion there fails (EINVAL: not held here) after doing so.

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

struct portalock
{
  char *path;

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

  /* While held.  */
  int fd;                /* -1 when not held */
  FILE *stream;          /* made on demand */
  int type;              /* the lock held: PORTALOCK_SH or PORTALOCK_EX */
  unsigned count;        /* acquires not yet released (RLock) */
  unsigned long owner;   /* the fork generation that acquired */
  const struct portalock_backend_ops *ops;
  struct portalock_inode *inode;  /* process-scoped backends only */
  dev_t dev;             /* the file open on FD, from fstat before */
  ino_t ino;             /* the grant (see same_file) */
  bool created;          /* mode "x": this acquire created the file */
  unsigned long forks_seen;  /* parent_forks before the file was opened */
  bool exposed;          /* portalock_fd handed the descriptor out since
                            the acquire */
};

/* Which process this is, told apart from its forked children without a
   getpid system call on every acquire and release: a child's atfork
   handler counts one more generation.  Only the fork generation that
   acquired a lock may unlock it.  */
static unsigned long fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* What release_by_close needs to know of forks, all read and written
   with sequentially consistent atomics: how many forks this process has
   made (counted in the parent once each is done), how many are under
   way (from their prepare handler to their parent handler), and how
   many releases by close are between their look at the two counts and
   the end of their close.  */
static unsigned long parent_forks;
static unsigned long forks_pending;
static unsigned long releases_in_flight;

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
/* How deep the calling thread is in forks under way.  A program's own
   child handler, registered before the library's, runs before the
   library's child handler; a fork from inside it finds the counts of
   the outer fork not yet reset (another thread's release may have been
   in flight), and would wait for ever.  Such a fork is left to the
   outer fork's handlers, which run once the program's handler has
   returned: the thread that made both forks is the only one left, in
   either child, and no object acquired anything in between.  */
static _Thread_local unsigned fork_depth;

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

/* In the child: one more generation.  Only the forking thread lives on,
   so no release is in flight and no fork under way.  */
static void
count_fork (void)
{
  if (--fork_depth > 0)
    return;
  fork_generation++;
  __atomic_store_n (&releases_in_flight, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n (&forks_pending, 0, __ATOMIC_SEQ_CST);
}

static void
watch_forks (void)
{
  pthread_atfork (prepare_fork, after_fork_parent, count_fork);
}

static bool
acquired_here (const portalock *lock)
{
  return lock->owner == fork_generation;
}

portalock *
portalock_new (const char *path)
{
  pthread_once (&fork_once, watch_forks);
  if (path == NULL || *path == '\0')
    {
      errno = EINVAL;
      return NULL;
    }
  portalock *lock = calloc (1, sizeof *lock);
  if (lock == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  lock->path = strdup (path);
  if (lock->path == NULL)
    {
      free (lock);
      errno = ENOMEM;
      return NULL;
    }
  strcpy (lock->mode, "a");
  lock->flags = PORTALOCK_EX;
  lock->timeout = 5;
  lock->check_interval = 0.25;
  lock->permissions = 0644;
  lock->backend = PORTALOCK_BACKEND_DEFAULT;
  lock->identity_check = true;
  lock->fd = -1;
  return lock;
}

/* Return true if LOCK may be changed: not NULL, not held.  Set errno
   otherwise.  */
static bool
settable (const portalock *lock)
{
  if (lock == NULL)
    {
      errno = EINVAL;
      return false;
    }
  if (lock->fd >= 0)
    {
      errno = EBUSY;
      return false;
    }
  return true;
}

static int
invalid (void)
{
  errno = EINVAL;
  return -1;
}

int
portalock_set_mode (portalock *lock, const char *mode)
{
  if (!settable (lock))
    return -1;
  if (mode == NULL || strchr ("rwax", mode[0]) == NULL || mode[0] == '\0')
    return invalid ();
  /* After the letter, at most one '+' and one 'b', in either order.  */
  bool plus = false, binary = false;
  for (const char *p = mode + 1; *p != '\0'; p++)
    if (*p == '+' && !plus)
      plus = true;
    else if (*p == 'b' && !binary)
      binary = true;
    else
      return invalid ();
  lock->mode[0] = mode[0];
  lock->mode[1] = plus ? '+' : '\0';
  lock->mode[2] = '\0';
  return 0;
}

int
portalock_set_flags (portalock *lock, int flags)
{
  if (!settable (lock))
    return -1;
  int type = flags & ~PORTALOCK_NB;
  if (type != PORTALOCK_SH && type != PORTALOCK_EX)
    return invalid ();
  lock->flags = flags;
  return 0;
}

int
portalock_set_timeout (portalock *lock, double seconds)
{
  if (!settable (lock))
    return -1;
  if (isnan (seconds))
    return invalid ();
  lock->timeout = seconds < 0 ? -1 : seconds;
  return 0;
}

int
portalock_set_check_interval (portalock *lock, double seconds)
{
  if (!settable (lock))
    return -1;
  if (!isfinite (seconds) || seconds < 0)
    return invalid ();
  lock->check_interval = seconds;
  return 0;
}

int
portalock_set_fail_when_locked (portalock *lock, bool fail)
{
  if (!settable (lock))
    return -1;
  lock->fail_when_locked = fail;
  return 0;
}

int
portalock_set_permissions (portalock *lock, mode_t permissions)
{
  if (!settable (lock))
    return -1;
  if ((permissions & ~(mode_t) 07777) != 0)
    return invalid ();
  lock->permissions = permissions;
  return 0;
}

int
portalock_set_backend (portalock *lock, enum portalock_backend backend)
{
  if (!settable (lock))
    return -1;
  if (portalock_backend_ops (backend) == NULL)
    return -1;
  lock->backend = backend;
  return 0;
}

int
portalock_set_identity_check (portalock *lock, bool check)
{
  if (!settable (lock))
    return -1;
  lock->identity_check = check;
  return 0;
}

/* Whether an acquire of LOCK looks its path up after the grant.  Only
   an acquire that changes nothing in the file may skip it: one that
   truncates ("w"), writes a PID record or will delete the file (a
   temporary lock, whose every acquirer must turn away a deleted file)
   checks whatever the setting says, so that it never writes to or
   deletes a file that the path no longer names.  */
static bool
checks_identity (const portalock *lock)
{
  return (lock->identity_check || lock->temporary || lock->record_pid
          || lock->mode[0] == 'w');
}

int
portalock_set_reentrant (portalock *lock, bool reentrant)
{
  if (!settable (lock))
    return -1;
  lock->reentrant = reentrant;
  return 0;
}

int
portalock_set_temporary (portalock *lock, bool temporary)
{
  if (!settable (lock))
    return -1;
  lock->temporary = temporary;
  return 0;
}

int
portalock_set_record_pid (portalock *lock, bool record)
{
  if (!settable (lock))
    return -1;
  lock->record_pid = record;
  return 0;
}

int
portalock_set_sync (portalock *lock, bool sync)
{
  if (!settable (lock))
    return -1;
  lock->sync = sync;
  return 0;
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

  if (checks_access (lock->ops))
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
  if (lock->temporary && checks_access (lock->ops))
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
   again on anything else (settle_open_flags).  A FIFO is then locked like any other file (the lock is on its
   inode; its data is not touched), except that opening one for writing
   alone while nobody reads it fails with ENXIO.  One exception: on a
   file with a lease, a non-blocking open fails with EWOULDBLOCK instead
   of waiting for the lease to be broken; that open is made again as
   before, blocking.

   A temporary lock's file is deleted on release, so it must be a
   regular file: anything else planted at its path (a FIFO, a socket, a
   device node) is refused with EINVAL before it is opened where lstat
   can tell, and after the open (fstat, in try_acquire) where it could
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
  if (lock->ops->process_scoped && (flags & O_EXCL) == 0)
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
  /* O_NONBLOCK was only for the open: try_acquire clears it where it
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

/* Return 1 if LOCK's path still names the inode open on FD (whose
   device and inode number try_acquire noted in LOCK); 0 if it was
   deleted or replaced; -1 with errno on another failure.

   What proves it, and what it costs.  The path has stopped naming the
   locked inode if the file was
   1. deleted, or
   2. replaced by a rename over it, while it had no other link: in both
      the inode is left with no link, and fstat's st_nlink is 0;
   3. renamed away (the path then names nothing, or another file), or
   4. replaced by a rename over it while another name linked it: in
      both the inode keeps a link, and st_nlink cannot tell.
   (And a directory on the way renamed, or a file system mounted over
   it: the same.)  st_nlink 0 thus proves a change without a look-up,
   but st_nlink > 0 proves nothing: cases 3 and 4 need the path looked
   up after the grant, every time.  That one look-up decides all four
   cases on its own: it finds no file, or another inode, or this one;
   an inode that is still open cannot be freed, so its number cannot
   have been given to a new file at the path meanwhile.  So the check
   is one stat of the path against the device and inode number that
   one fstat of the descriptor gave before the lock (which the
   per-inode table and the regular-file test of temporary locks use
   too), and st_nlink is not asked: asking it would cost a second
   system call on every grant to save the look-up only where the lock
   is lost anyway.  Temporary locks need no more than others: their
   path is looked up without following a symbolic link, since their
   release deletes what the path names, and must only ever delete the
   very inode that was locked.  */
static int
same_file (const portalock *lock, int fd)
{
  struct stat pst;
  (void) fd;
  int r = lock->temporary ? lstat (lock->path, &pst) : stat (lock->path,
                                                              &pst);
  if (r != 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  return lock->dev == pst.st_dev && lock->ino == pst.st_ino;
}

/* Close FD, a descriptor of a file LOCK may have locked, without dropping
   another lock object's lock.  */
static void
close_fd (portalock *lock, int fd)
{
  /* Even a flock or OFD object's close must go through the table: a
     fcntl object of this process may hold the same file, or become its
     first holder at this very moment.  FD is open on the file whose
     device and inode try_acquire noted.  */
  if (lock->inode != NULL)
    portalock_inode_close (lock->inode, fd);
  else
    portalock_close_file (lock->dev, lock->ino, fd, NULL);
}

/* Take a TYPE lock on FD for LOCK.  Return 0 or -1 with errno.  */
static int
lock_fd (portalock *lock, int fd, int type, bool nonblock,
         const struct timespec *deadline)
{
  if (!lock->ops->process_scoped)
    return portalock_wait_lock (lock->ops, fd, type, 0, 0, nonblock,
                                deadline);
  return portalock_inode_acquire (lock->inode, lock->ops, fd, type,
                                  nonblock, deadline);
}

static int
unlock_fd (portalock *lock, int fd, int type)
{
  if (!lock->ops->process_scoped)
    return lock->ops->unlock (fd, 0, 0);
  return portalock_inode_release (lock->inode, lock->ops, fd, type);
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

/* Mode "x": an acquire created LOCK's file, open on FD, and then
   failed with ERROR.  Remove the file again, but only if the path still
   names it and it is still empty, and not if the failure was a lock held
   elsewhere: whoever opened the new file and holds its lock is using it.
   Keeps errno.  */
static void
remove_created (portalock *lock, int fd, int error)
{
  int saved_errno = errno;
  struct stat st;
  if (lock->created && error != EWOULDBLOCK && error != ETIMEDOUT
      && error != EDEADLK && fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
      && st.st_size == 0 && same_file (lock, fd) == 1)
    unlink (lock->path);
  lock->created = false;
  errno = saved_errno;
}

/* One attempt: open, lock, check.  Return 1 with LOCK held, 0 if the
   file was deleted or replaced before the grant (nothing held), -1 with
   errno.  */
static int
try_acquire (portalock *lock, int type, bool nonblock,
             const struct timespec *deadline)
{
  int fd = open_file (lock, type);
  if (fd < 0)
    return -1;
  lock->created = lock->mode[0] == 'x';
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
  if (lock->ops->process_scoped)
    {
      lock->inode = portalock_inode_ref_stat (&st);
      if (lock->inode == NULL)
        {
          close_fd (lock, fd);
          return -1;
        }
    }

  int r = lock_fd (lock, fd, type, nonblock, deadline);
  if (r != 0 && errno == EBADF)
    {
      int nfd = reopen_read_write (lock, fd);
      if (nfd >= 0)
        {
          fd = nfd;
          r = lock_fd (lock, fd, type, nonblock, deadline);
        }
    }
  if (r == 0)
    {
      r = checks_identity (lock) ? same_file (lock, fd) : 1;
      if (r != 1)
        {
          int saved_errno = errno;
          unlock_fd (lock, fd, type);
          errno = saved_errno;
        }
    }
  else
    r = -1;

  if (r != 1)
    {
      if (r < 0)
        remove_created (lock, fd, errno);
      close_fd (lock, fd);
      if (lock->inode != NULL)
        {
          portalock_inode_unref (lock->inode);
          lock->inode = NULL;
        }
      return r;
    }
  lock->fd = fd;
  return 1;
}

/* Sleep for the check interval, but not past DEADLINE.  */
static void
pause_before_retry (const portalock *lock, const struct timespec *deadline)
{
  struct timespec until;
  /* portalock_deadline_after takes longer waits for none at all.  */
  double seconds = lock->check_interval < 1e6 ? lock->check_interval : 1e6;
  portalock_deadline_after (seconds, &until);
  if (deadline != NULL
      && (until.tv_sec > deadline->tv_sec
          || (until.tv_sec == deadline->tv_sec
              && until.tv_nsec > deadline->tv_nsec)))
    until = *deadline;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
         == EINTR)
    ;
}

static bool
passed (const struct timespec *deadline)
{
  return deadline != NULL && portalock_deadline_passed (deadline);
}

/* Once locked: truncate for "w", write the PID record.  */
static int
prepare_held_file (portalock *lock)
{
  if (lock->mode[0] == 'w' && ftruncate (lock->fd, 0) != 0)
    return -1;
  if (lock->record_pid && portalock_pid_record_write (lock->fd, lock->type)
      != 0)
    return -1;
  return 0;
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
  if (!lock->ops->close_unlocks || lock->exposed || lock->stream != NULL)
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
      && __atomic_load_n (&parent_forks, __ATOMIC_SEQ_CST) == lock->forks_seen
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

/* Let go of the lock and the file, without unlocking if this process did
   not take the lock (a forked child): the lock is the parent's.  */
static int
drop (portalock *lock, bool unlock)
{
  int r = 0, e = 0;
  if (lock->stream != NULL && fflush (lock->stream) != 0)
    r = -1, e = errno;
  /* A buffered write that failed earlier (EFBIG, ENOSPC) set the
     stream's error indicator and lost its data and errno; the flush
     above then succeeds.  The caller must still hear of it.  */
  if (r == 0 && lock->stream != NULL && ferror (lock->stream))
    r = -1, e = EIO;
  if (unlock && lock->inode != NULL)
    {
      /* A process-scoped lock: the table's last holder lets the close
         give the kernel lock back, one system call fewer.  */
      if (portalock_inode_release_close (lock->inode, lock->fd, lock->stream,
                                         lock->type) != 0 && r == 0)
        r = -1, e = errno;
    }
  else if (unlock && release_by_close (lock))
    {
      /* The close gave the lock back: one system call fewer.  */
    }
  else
    {
      if (unlock && unlock_fd (lock, lock->fd, lock->type) != 0 && r == 0)
        r = -1, e = errno;
      if (lock->stream != NULL)
        {
          if (lock->inode != NULL)
            portalock_inode_fclose (lock->inode, lock->stream);
          else
            portalock_close_file (lock->dev, lock->ino, -1, lock->stream);
        }
      else
        close_fd (lock, lock->fd);
      if (lock->inode != NULL)
        portalock_inode_unref (lock->inode);
    }

  lock->stream = NULL;
  lock->inode = NULL;
  lock->fd = -1;
  lock->count = 0;
  if (r != 0)
    errno = e;
  return r;
}

int
portalock_acquire (portalock *lock)
{
  if (lock == NULL)
    return invalid ();
  if (lock->fd >= 0 && !acquired_here (lock))
    {
      /* Inherited over fork: the lock, if any, is the parent's.  */
      drop (lock, false);
    }
  if (lock->fd >= 0)
    {
      /* Held already.  Like portalocker, a Lock hands back what it has;
         an RLock counts.  But if the file was deleted or replaced since
         (a cleaner emptied /tmp), the lock no longer excludes anyone: say
         so rather than pretend, and keep what is held.  */
      int same = checks_identity (lock) ? same_file (lock, lock->fd) : 1;
      if (same < 0)
        return -1;
      if (same == 0)
        {
          errno = ESTALE;
          return -1;
        }
      if (lock->reentrant)
        {
          if (lock->count == ~0u)
            {
              errno = EOVERFLOW;
              return -1;
            }
          lock->count++;
        }
      return 0;
    }

  int type = lock->flags & ~PORTALOCK_NB;
  bool nonblock = ((lock->flags & PORTALOCK_NB) != 0 || lock->fail_when_locked
                   || lock->timeout == 0);
  lock->ops = portalock_backend_ops (lock->backend);
  if (lock->ops == NULL)
    return -1;
  /* Refuse what cannot work before anything is opened or created.  */
  if (type == PORTALOCK_SH && !lock->ops->shared)
    {
      errno = ENOTSUP;
      return -1;
    }

  struct timespec deadline;
  bool timed = (lock->timeout > 0
                && portalock_deadline_after (lock->timeout, &deadline));
  const struct timespec *dl = timed ? &deadline : NULL;
  lock->type = type;
  /* Any fork that could copy the descriptor comes after this look: the
     release by close knows of it from one of the counts.  */
  lock->forks_seen = __atomic_load_n (&parent_forks, __ATOMIC_SEQ_CST);
  lock->exposed = false;
  for (int attempt = 0;; attempt++)
    {
      int r = try_acquire (lock, type, nonblock, dl);
      if (r < 0)
        return -1;
      if (r == 1)
        break;
      /* The file was deleted or replaced under the lock: start again on
         what the path names now, at once the first time.  */
      if (passed (dl) || (nonblock && attempt >= 1))
        {
          errno = nonblock ? EWOULDBLOCK : ETIMEDOUT;
          return -1;
        }
      if (attempt > 0)
        pause_before_retry (lock, dl);
    }

  lock->owner = fork_generation;
  lock->count = 1;
  if (prepare_held_file (lock) != 0)
    {
      int saved_errno = errno;
      remove_created (lock, lock->fd, saved_errno);
      drop (lock, true);
      errno = saved_errno;
      return -1;
    }
  return 0;
}

/* Before the last unlock of LOCK: empty a PID record, delete a temporary
   file.  Still locked, so no one else can be using the file.  */
/* Return true if the PID record in LOCK's file names this process.  */
static bool
record_is_ours (const portalock *lock)
{
  char text[32];
  ssize_t n = pread (lock->fd, text, sizeof text - 1, 0);
  if (n <= 0)
    return false;
  text[n] = '\0';
  char *end;
  long pid = strtol (text, &end, 10);
  return end[0] == '\n' && end[1] == '\0' && pid == (long) getpid ();
}

static void
retire_file (portalock *lock)
{
  int saved_errno = errno;
  /* Shared holders overwrite each other's records, and one only clears
     a record that names it, so that no record names a process that let
     go; nor is anything but this holder's own record ever emptied, were
     the file rewritten meanwhile.  */
  if (lock->record_pid && !lock->temporary && lock->stream != NULL)
    fflush (lock->stream);
  if (lock->record_pid && !lock->temporary && record_is_ours (lock))
    {
      if (ftruncate (lock->fd, 0) != 0)
        {
          /* Nothing better to do: a reader checks the record anyway.  */
        }
    }
  /* Delete the file only if the path still names it.  Only a holder of
     this inode's lock deletes the file, so no one can make the path name
     another file between the check and the unlink.  The descriptor is a
     regular file (try_acquire refuses anything else) and the path must
     name that very inode, so nothing but the regular file this object
     locked is ever deleted: a FIFO, socket, device node, directory or
     symbolic link put at the path meanwhile is left where it is.  */
  if (lock->temporary && lock->type == PORTALOCK_EX
      && same_file (lock, lock->fd) == 1)
    unlink (lock->path);
  errno = saved_errno;
}

/* Shared temporary locks.  The file must go once its last holder lets
   go, and only then; a holder cannot count the others, but the kernel
   can tell it whether it is alone: it is if its shared lock can become
   exclusive without waiting.  So a releasing shared holder tries that;
   if it succeeds, it deletes the file as an exclusive holder would, and
   anyone who opened the file meanwhile is turned away by the identity
   check after its grant, and creates a fresh file.  If it fails, others
   hold the file and the last of them deletes it.  With flock a failed
   try has dropped the lock (flock converts by unlocking first), which
   was about to go anyway.  Return true if LOCK is exclusive now.  */
static bool
last_holder (portalock *lock)
{
  int r;
  if (lock->ops->process_scoped)
    r = portalock_inode_convert (lock->inode, lock->ops, lock->fd,
                                 PORTALOCK_SH, PORTALOCK_EX, true, NULL);
  else
    r = portalock_wait_lock (lock->ops, lock->fd, PORTALOCK_EX, 0, 0, true,
                             NULL);
  if (r != 0)
    return false;
  lock->type = PORTALOCK_EX;
  return true;
}

/* Where conversions are atomic (ofd, fcntl), the last two shared holders
   of a temporary lock may release at the same moment, each still seeing
   the other, and leave the file behind.  So once a shared holder has let
   go without deleting the file, it looks once more: if the path still
   names the file it held (device DEV, inode INO) and nobody holds that
   now, it deletes it as an exclusive temporary holder.  Of two such
   holders, the one that unlocks last finds the file free.  With flock,
   the one whose try came second succeeded already.  Keeps errno.  */
static void
delete_if_unheld (const portalock *lock, dev_t dev, ino_t ino)
{
  int saved_errno = errno;
  struct stat st;
  if (lstat (lock->path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
    {
      portalock *probe = portalock_new (lock->path);
      if (probe != NULL
          && portalock_set_backend (probe, lock->backend) == 0
          && portalock_set_temporary (probe, true) == 0
          && portalock_set_mode (probe, "r") == 0
          && portalock_set_timeout (probe, 0) == 0
          && portalock_acquire (probe) == 0)
        portalock_release (probe);
      portalock_free (probe);
    }
  errno = saved_errno;
}

int
portalock_release (portalock *lock)
{
  if (lock == NULL)
    return invalid ();
  if (lock->fd < 0)
    {
      /* An RLock released more often than acquired is a caller's bug,
         as in portalocker; for a Lock it is harmless.  */
      if (lock->reentrant)
        return invalid ();
      return 1;
    }
  if (lock->count > 1)
    {
      lock->count--;
      return 0;
    }
  bool ours = acquired_here (lock);
  int sync_errno = 0;
  if (ours && lock->sync
      && portalock_flush_sync (lock->stream, lock->fd, true) != 0)
    sync_errno = errno;
  struct stat held;
  bool left_shared = (ours && lock->temporary && lock->type == PORTALOCK_SH
                      && !last_holder (lock) && lock->ops->ranges
                      && fstat (lock->fd, &held) == 0);
  if (ours)
    retire_file (lock);
  int r = drop (lock, ours);
  if (left_shared)
    delete_if_unheld (lock, held.st_dev, held.st_ino);
  /* The flush before the sync saw the failed write first, with its own
     errno; drop () sees only the stream's error indicator (EIO).  */
  if (sync_errno != 0)
    {
      errno = sync_errno;
      r = -1;
    }
  return r;
}

int
portalock_convert (portalock *lock, int flags)
{
  if (lock == NULL || lock->fd < 0)
    return invalid ();
  if (!acquired_here (lock))
    {
      /* Inherited over fork: the lock is the parent's, and with flock
         and OFD locks the child's copy of the descriptor shares it, so
         converting would change the parent's lock behind its back.  The
         object holds nothing in this process.  */
      drop (lock, false);
      return invalid ();
    }
  int type = flags & ~PORTALOCK_NB;
  if (type != PORTALOCK_SH && type != PORTALOCK_EX)
    return invalid ();
  if (type == lock->type)
    return 0;
  if (type == PORTALOCK_SH && !lock->ops->shared)
    {
      errno = ENOTSUP;
      return -1;
    }
  int access = fcntl (lock->fd, F_GETFL) & O_ACCMODE;
  if (checks_access (lock->ops)
      && (type == PORTALOCK_EX ? access == O_RDONLY : access == O_WRONLY))
    {
      errno = EBADF;
      return -1;
    }

  /* Readers let in by a downgrade must see what was written.  */
  if (type == PORTALOCK_SH && lock->sync
      && portalock_flush_sync (lock->stream, lock->fd, true) != 0)
    return -1;

  bool nonblock = ((flags & PORTALOCK_NB) != 0 || lock->fail_when_locked
                   || lock->timeout == 0);
  struct timespec deadline;
  bool timed = (lock->timeout > 0
                && portalock_deadline_after (lock->timeout, &deadline));
  const struct timespec *dl = timed ? &deadline : NULL;
  int r;
  if (lock->ops->process_scoped)
    r = portalock_inode_convert (lock->inode, lock->ops, lock->fd,
                                 lock->type, type, nonblock, dl);
  else
    {
      r = portalock_wait_lock (lock->ops, lock->fd, type, 0, 0, nonblock,
                               dl);
      /* flock(2) converts by unlocking first, and so does the win32
         backend (Windows stacks locks instead of replacing them): a
         conversion that fails has lost the old lock.  Take it back if
         nobody took it meanwhile, else the object is no longer held.  */
      if (r != 0 && lock->ops->converts_by_unlocking)
        {
          int saved_errno = errno;
          if (portalock_wait_lock (lock->ops, lock->fd, lock->type, 0, 0,
                                   true, NULL) != 0)
            drop (lock, false);
          errno = saved_errno;
        }
    }
  if (r != 0)
    return -1;
  lock->type = type;
  if (lock->record_pid)
    {
      if (lock->stream != NULL)
        fflush (lock->stream);
      portalock_pid_record_write (lock->fd, type);
    }
  return 0;
}

int
portalock_fd (const portalock *lock)
{
  if (lock == NULL || lock->fd < 0)
    {
      errno = EBADF;
      return -1;
    }
  /* The caller may now dup the descriptor or pass it on, and the close
     of the object's own would then no longer release the lock: the
     release must unlock.  The prototype takes a const object (it is
     part of the ABI), but every object was allocated, not const, by
     portalock_new, so writing this note through a cast is sound.  */
  ((portalock *) lock)->exposed = true;
  return lock->fd;
}

FILE *
portalock_stream (portalock *lock)
{
  if (lock == NULL || lock->fd < 0)
    {
      errno = EBADF;
      return NULL;
    }
  /* fdopen never truncates, and the descriptor's access is never
     narrower than the mode's (a lock may have needed it wider).  */
  if (lock->stream == NULL)
    {
      /* fdopen knows no "x": the file is made already, and "w" does not
         truncate here.  */
      char mode[3] = { lock->mode[0] == 'x' ? 'w' : lock->mode[0],
                       lock->mode[1], '\0' };
      lock->stream = fdopen (lock->fd, mode);
    }
  return lock->stream;
}

void
portalock_free (portalock *lock)
{
  if (lock == NULL)
    return;
  int saved_errno = errno;
  if (lock->fd >= 0)
    {
      lock->count = 1;
      portalock_release (lock);
    }
  free (lock->path);
  free (lock);
  errno = saved_errno;
}
