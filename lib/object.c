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
#include "method.h"
#include "selfdeadlock.h"
#include "writer-gate.h"

/* How an acquire works, and why.

   1. The object's method (method.h) opens the file and locks it: the
      kernel method (method-kernel.c) says how, and why so.

   2. Check identity: between the open and the grant, the file may have
      been deleted (a temporary lock's holder deletes it on release) or
      replaced by a rename.  A lock on an inode the path no longer names
      excludes nobody, so it is dropped and the acquire starts again on
      whatever the path names now, until the timeout; check_interval
      bounds the pause between such retries.

   3. Only then truncate ("w"), and write the PID record if asked.

   A forked child gets copies of the descriptors.  For flock and OFD
   locks it then shares the parent's lock, and an unlock or a conversion
   in the child would change the parent's; so a release or free in any
   process but the one that acquired only closes the child's copies, and
   a conversion there fails (EINVAL: not held here) after doing so.  */

/* Which process this is, told apart from its forked children without a
   getpid system call on every acquire and release: a child's atfork
   handler counts one more generation.  Only the fork generation that
   acquired a lock may unlock it.  */
static unsigned long fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* How deep the calling thread is in forks under way: a fork from a
   program's own child handler, which runs before the library's, is
   left to the outer fork's child handler (see method-kernel.c).  */
static _Thread_local unsigned fork_depth;

static void
enter_fork (void)
{
  fork_depth++;
}

static void
leave_fork (void)
{
  fork_depth--;
}

/* In the child: one more generation.  */
static void
count_fork (void)
{
  if (--fork_depth > 0)
    return;
  fork_generation++;
}

/* Every method, for their init.  */
static const struct portalock_method_ops *const methods[] =
  {
    &portalock_method_kernel, &portalock_method_strict,
    &portalock_method_lease
  };

/* Once per process, at the first portalock_new: count forks, and let
   every method set itself up (one pthread_once for all).  */
static void
watch_forks (void)
{
  pthread_atfork (enter_fork, leave_fork, count_fork);
  for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
    methods[i]->init ();
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
  lock->waiting_fd = -1;
  lock->method = &portalock_method_kernel;
  lock->method_setting = PORTALOCK_METHOD_DEFAULT;
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
portalock_set_method (portalock *lock, enum portalock_method method)
{
  if (!settable (lock))
    return -1;
  if (portalock_method_name (method) == NULL)
    return -1;
  lock->method_setting = method;
  return 0;
}

int
portalock_set_lease_ttl (portalock *lock, double seconds)
{
  if (!settable (lock))
    return -1;
  if (!(seconds > 0) || !(seconds <= 1e6))
    return invalid ();
  lock->lease_ttl = seconds;
  return 0;
}

int
portalock_set_lost_callback (portalock *lock, portalock_lost_fn fn,
                             void *arg)
{
  if (!settable (lock))
    return -1;
  lock->lost_fn = fn;
  lock->lost_arg = arg;
  return 0;
}

int
portalock_held_method (const portalock *lock)
{
  if (lock == NULL)
    return invalid ();
  if (lock->fd < 0)
    {
      errno = EBADF;
      return -1;
    }
  return lock->method->kind;
}

bool
portalock_lost (portalock *lock)
{
  return lock != NULL && lock->fd >= 0 && acquired_here (lock)
    && lock->method->lost (lock);
}

bool
portalock_held (const portalock *lock)
{
  return lock != NULL && lock->fd >= 0 && acquired_here (lock);
}

unsigned
portalock_depth (const portalock *lock)
{
  return portalock_held (lock) ? lock->count : 0;
}

uint64_t
portalock_generation (const portalock *lock)
{
  if (lock == NULL || lock->fd < 0 || !acquired_here (lock))
    return 0;
  return lock->method->generation (lock);
}

/* Make LOCK, which holds nothing, use the method its setting means now.
   Return 0, or -1 with errno.  */
static int
resolve_method (portalock *lock)
{
  const struct portalock_method_ops *ops = portalock_method_resolve (lock);
  if (ops == NULL)
    return -1;
  if (ops != lock->method)
    {
      lock->method->free (lock);
      memset (&lock->m, 0, sizeof lock->m);
      lock->method = ops;
    }
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

/* Return 1 if LOCK's path still names the inode open on FD (whose
   device and inode number the method's open noted in LOCK); 0 if it was
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

bool
portalock_grant_final (portalock *lock,
                       const struct portalock_backend_ops *ops, int fd)
{
  /* Only the kernel method's own lock on the descriptor being waited
     on, not another object's (the writer gate's) nor a probe of the
     per-inode table on the same descriptor with other operations; and
     only when nothing after the grant can fail: mode "w" truncates and
     a PID record is written, either of which may.  */
  if (lock->method != &portalock_method_kernel || lock->waiting_fd != fd
      || fd < 0 || lock->m.kernel.ops != ops || lock->mode[0] == 'w'
      || lock->record_pid)
    return false;
  int saved_errno = errno;
  bool same = !checks_identity (lock) || same_file (lock, fd) == 1;
  errno = saved_errno;
  lock->grant_final = same;
  return same;
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
  const struct portalock_method_ops *method = lock->method;
  int fd = method->open (lock, type);
  if (fd < 0)
    return -1;
  lock->created = lock->mode[0] == 'x';

  /* A wait for a lock this very thread holds through another object
     would never end (selfdeadlock.c); a try only finds it held.  */
  lock->waiting_fd = fd;
  lock->grant_final = false;
  int r = (!nonblock && portalock_selfdeadlock_check (lock, type) != 0
           ? -1 : method->lock (lock, &fd, type, nonblock, deadline));
  lock->waiting_fd = -1;
  if (r == 0)
    {
      /* The helper of a pending acquisition's wait may have checked
         already (portalock_grant_final), and told the caller.  */
      r = (lock->grant_final ? 1 : checks_identity (lock)
           ? same_file (lock, fd) : 1);
      if (r != 1)
        {
          int saved_errno = errno;
          method->unlock (lock, fd, type);
          errno = saved_errno;
        }
    }
  else
    r = -1;

  if (r != 1)
    {
      if (r < 0)
        remove_created (lock, fd, errno);
      method->close (lock, fd);
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
  if (lock->method->release (lock, unlock) != 0 && r == 0)
    r = -1, e = errno;

  lock->stream = NULL;
  lock->fd = -1;
  lock->count = 0;
  portalock_selfdeadlock_forget (lock, acquired_here (lock));
  if (r != 0)
    errno = e;
  return r;
}

/* Acquire LOCK, held already.  Like portalocker, a Lock hands back what
   it has; an RLock counts.  But if the file was deleted or replaced
   since (a cleaner emptied /tmp), the lock no longer excludes anyone:
   say so rather than pretend, and keep what is held.  */
static int
acquire_again (portalock *lock)
{
  if (lock->method->lost (lock))
    {
      errno = ENOLCK;
      return -1;
    }
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
    return acquire_again (lock);

  int type = lock->flags & ~PORTALOCK_NB;
  bool nonblock = ((lock->flags & PORTALOCK_NB) != 0 || lock->fail_when_locked
                   || lock->timeout == 0);
  if (resolve_method (lock) != 0 || lock->method->bind (lock, type) != 0)
    return -1;

  struct timespec deadline;
  bool timed = (lock->timeout > 0
                && portalock_deadline_after (lock->timeout, &deadline));
  const struct timespec *dl = timed ? &deadline : NULL;
  lock->type = type;
  lock->exposed = false;
  for (int attempt = 0;; attempt++)
    {
      /* Writer preference (writer-gate.c): the gate around the try (a
         marker method's reader lets it go before the try ends).  */
      int r = (portalock_gate_enter (lock, type, nonblock, dl, &lock->gate)
               == 0 ? try_acquire (lock, type, nonblock, dl) : -1);
      portalock_gate_leave (lock->gate);
      lock->gate = NULL;
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
  portalock_selfdeadlock_note (lock);
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
     regular file (the method's open refuses anything else) and the path must
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
   hold the file and the last of them deletes it.  Return what the
   method's claim_last returns (method.h), with LOCK exclusive on 1.  */
static int
last_holder (portalock *lock)
{
  int r = lock->method->claim_last (lock);
  if (r == 1)
    lock->type = PORTALOCK_EX;
  return r;
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
          && portalock_set_method (probe, lock->method->kind) == 0
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
                      && last_holder (lock) == 2
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
  if (lock->method->may_convert (lock, type) != 0)
    return -1;

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
  if (!nonblock && portalock_selfdeadlock_check (lock, type) != 0)
    return -1;
  bool lost = false;
  portalock *gate;
  portalock_gate_enter_convert (lock, type, &gate);
  int r = lock->method->convert (lock, type, nonblock, dl, &lost);
  portalock_gate_leave (gate);
  if (lost)
    {
      /* The old lock is gone too (method.h): the object no longer
         holds anything.  */
      int saved_errno = errno;
      drop (lock, false);
      errno = saved_errno;
    }
  if (r != 0)
    return -1;
  lock->type = type;
  portalock_selfdeadlock_retype (lock);
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
  lock->method->free (lock);
  free (lock->path);
  free (lock);
  errno = saved_errno;
}
