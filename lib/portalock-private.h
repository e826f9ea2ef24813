/* portalock-private.h: what the library's own files share, not installed.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_PRIVATE_H
#define PORTALOCK_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "portalock.h"

/* The operations every backend provides.  A backend knows nothing of
   timeouts, threads or validation: the descriptor level (lock.c, wait.c)
   does that once for all of them.  */
struct portalock_backend_ops
{
  enum portalock_backend id;
  const char *name;
  bool ranges;          /* can lock byte ranges */
  bool shared;          /* has shared locks */
  bool process_scoped;  /* locks belong to the process, not to the open
                           file description: a close of any descriptor
                           of the file drops them */
  bool converts_by_unlocking; /* a lock of the other type is taken by
                                 releasing the old one first: a refused
                                 conversion has lost it */
  bool close_unlocks;  /* closing the last descriptor of the open file
                          description releases its lock at once, so a
                          lock object whose descriptor is the only one
                          may release by closing it alone.  The win32
                          backend leaves it false: Windows does release
                          a handle's LockFileEx locks when the handle is
                          closed, but "at the system's discretion",
                          maybe later, so another process could still
                          find the file locked after the release.  The
                          process-scoped backends leave it false too:
                          the per-inode table decides when their close
                          gives the lock back.  */

  /* Take a TYPE (PORTALOCK_SH or PORTALOCK_EX) lock on LENGTH bytes of FD
     from START (0, 0: the whole file); if WAIT, block until granted.
     Return 0, or -1 with errno: EWOULDBLOCK for a conflict, else the
     system's.  START and LENGTH are valid and the backend can do TYPE.  */
  int (*lock) (int fd, int type, off_t start, off_t length, bool wait);

  /* Release FD's lock on that range.  Return 0 or -1 with errno.  */
  int (*unlock) (int fd, off_t start, off_t length);
};

/* Make the fcntl(2) record-lock request CMD (F_SETLK, F_OFD_SETLKW, ...)
   for an L_TYPE lock (F_RDLCK, F_WRLCK, F_UNLCK) on LENGTH bytes of FD
   from START.  Return 0, or -1 with errno (EWOULDBLOCK for a conflict).
   The fcntl, ofd and lockf backends share it (backend-fcntl.c).  */
int portalock_record_lock (int fd, int cmd, short l_type, off_t start,
                           off_t length);

/* The backends compiled in: each backend-*.c defines one.  */
extern const struct portalock_backend_ops portalock_backend_flock;
extern const struct portalock_backend_ops portalock_backend_ofd;
extern const struct portalock_backend_ops portalock_backend_fcntl;
extern const struct portalock_backend_ops portalock_backend_lockf;
extern const struct portalock_backend_ops portalock_backend_win32;

/* Return the errno value that stands for the Windows error code ERROR
   (GetLastError): EWOULDBLOCK for a lock conflict, ENOENT, EACCES,
   EEXIST, ... and EIO for what has no better match
   (backend-win32.c).  */
int portalock_win32_errno (unsigned long error);

/* Return the operations of BACKEND (DEFAULT resolved), or NULL with
   errno ENOTSUP if it is not built here, EINVAL if it is no backend.  */
const struct portalock_backend_ops *
portalock_backend_ops (enum portalock_backend backend);

/* Set *DEADLINE to SECONDS from now on CLOCK_MONOTONIC.  Return false,
   leaving *DEADLINE alone, if SECONDS is too far away to matter (no
   deadline).  SECONDS is not negative and not NaN.  */
bool portalock_deadline_after (double seconds, struct timespec *deadline);

/* Return true once DEADLINE (CLOCK_MONOTONIC) has passed.  */
bool portalock_deadline_passed (const struct timespec *deadline);

/* Return the signal that timed waits may use, set by
   portalock_set_timeout_signal, or 0 for helper threads.  */
int portalock_timer_signal (void);

/* For a timed wait about to start: return the signal it is to use, as
   portalock_timer_signal does, and if not 0, keep that signal's handler
   installed until portalock_timer_signal_unhold (SIGNO), even if the
   program switches the signal off meanwhile.  */
int portalock_timer_signal_hold (void);
void portalock_timer_signal_unhold (int signo);

/* Wait as portalock_wait_lock does, until DEADLINE, blocked in the
   calling thread, which a timer interrupts with SIGNO at the deadline.
   Return 0 or -1 with errno (ETIMEDOUT; from timer_create).  */
int portalock_timer_wait (const struct portalock_backend_ops *ops, int fd,
                          int type, off_t start, off_t length,
                          const struct timespec *deadline, int signo);

/* Take a TYPE lock with OPS on LENGTH bytes of FD from START: one try if
   NONBLOCK (EWOULDBLOCK on conflict), else wait until DEADLINE (NULL:
   without limit; ETIMEDOUT when it passes).  The wait blocks in the
   kernel.  Return 0 or -1 with errno.  */
int portalock_wait_lock (const struct portalock_backend_ops *ops, int fd,
                         int type, off_t start, off_t length, bool nonblock,
                         const struct timespec *deadline);

/* A pending acquisition's cancel (pending.c).  A thread of the pool
   that waits for a pollable acquisition points PORTALOCK_CANCEL_CURRENT
   at the acquisition's token while it runs the acquire; the waits that
   block (portalock_wait_lock, the marker's pauses) then also end when
   the token is cancelled, failing with ECANCELED unless the lock was
   granted meanwhile (the settle rule of timed waits).  A wait that is
   about to block on a condition variable registers it in WAKE_MUTEX and
   WAKE_COND, under MUTEX, and never holds MUTEX while it holds
   WAKE_MUTEX; portalock_cancel_request signals it under both.  */
struct portalock_cancel
{
  pthread_mutex_t mutex;
  bool cancelled;               /* under MUTEX; read atomically too */
  pthread_mutex_t *wake_mutex;  /* under MUTEX */
  pthread_cond_t *wake_cond;
  /* The lock object acquired, whose grant the wait's helper may report
     early (portalock_cancel_granted); NULL for a semaphore.  */
  portalock *grant_lock;
};

/* The calling thread's token, on POSIX systems only
   (pending-notify-posix.c); Windows keeps it in a TLS slot
   (pending-notify-win32.c), so code built there asks the calls below.  */
extern _Thread_local struct portalock_cancel *portalock_cancel_current;

/* In the helper thread of a pending acquisition's wait (wait.c), just
   after the kernel granted the lock OPS took on FD: return true if
   TOKEN's acquisition is a lock object's and that grant decides it (see
   portalock_grant_final).  If so, and the waiting thread has not
   abandoned the wait, the helper calls portalock_cancel_will_tell
   before it reports the grant (under its mutex), and
   portalock_cancel_tell after it woke the waiting thread: the latter
   makes the acquisition's descriptor readable, rather than the worker
   once it has made its way back (pending.c).  */
bool portalock_cancel_granted (struct portalock_cancel *token,
                               const struct portalock_backend_ops *ops,
                               int fd);
void portalock_cancel_will_tell (struct portalock_cancel *token);
void portalock_cancel_tell (struct portalock_cancel *token);

/* Whether the kernel's grant of the lock OPS took on FD, just now, is
   the final answer of LOCK's acquire under way in another thread: the
   lock is the kernel method's own on the descriptor the acquire waits
   on, nothing after the grant can fail (no mode "w", no PID record),
   and the identity check, made here, passes.  If so the acquire skips
   its own identity check.  Called only while the acquiring thread
   waits for the caller (object.c).  */
bool portalock_grant_final (portalock *lock,
                            const struct portalock_backend_ops *ops, int fd);

/* Whether the calling thread's wait is a pending acquisition's, which a
   cancel may end.  A call, not the variable, for the files that are
   built on Windows too: mingw-w64 reaches another file's thread-local
   variable through libgcc's emulation, which libportalock-0.dll would
   then import from libgcc_s_seh-1.dll.  */
bool portalock_cancel_active (void);

/* Cancel TOKEN and wake the wait registered in it, if any.  */
void portalock_cancel_request (struct portalock_cancel *token);

/* Register (MUTEX and COND not NULL) or forget the calling thread's wait
   on COND in its token, if it has one.  */
void portalock_cancel_register (pthread_mutex_t *mutex, pthread_cond_t *cond);

/* Return true if the calling thread's token, if any, is cancelled.  */
bool portalock_cancel_requested (void);

/* The per-inode table.  The process-scoped backends (fcntl, lockf) give
   a lock to the process, so two lock objects on one file would never
   exclude each other, and closing either one's descriptor would drop
   both locks.  The table keeps, per (device, inode) the process has
   locked, how many lock objects hold it and how, makes them exclude each
   other as processes do, takes the kernel lock for the first holder and
   gives it back after the last, and defers closing a descriptor while
   the process still needs its lock on that inode.  */
struct portalock_inode;

/* Return the entry for the file open on FD, adding it if need be, with
   one more reference; NULL with errno (from fstat, or ENOMEM).  */
struct portalock_inode *portalock_inode_ref (int fd);

/* The same for the file whose fstat gave *ST.  NULL with errno ENOMEM.  */
struct portalock_inode *portalock_inode_ref_stat (const struct stat *st);

/* Drop a reference taken by portalock_inode_ref.  */
void portalock_inode_unref (struct portalock_inode *inode);

/* Hold INODE with a TYPE lock (PORTALOCK_SH or PORTALOCK_EX) for one
   lock object whose descriptor is FD: wait, as portalock_wait_lock
   describes, first for the other holders in this process, then, if the
   process does not hold the kernel lock yet, for the kernel lock taken
   on FD with OPS.  Return 0 or -1 with errno.  */
int portalock_inode_acquire (struct portalock_inode *inode,
                             const struct portalock_backend_ops *ops,
                             int fd, int type, bool nonblock,
                             const struct timespec *deadline);

/* Give back a TYPE hold taken by portalock_inode_acquire; after the last
   holder, release the kernel lock through FD and close the descriptors
   whose close was deferred.  Return 0 or -1 with errno.  */
int portalock_inode_release (struct portalock_inode *inode,
                             const struct portalock_backend_ops *ops,
                             int fd, int type);

/* Close FD, a descriptor of INODE's file, now if that drops no lock this
   process holds, else once the last holder releases.  */
void portalock_inode_close (struct portalock_inode *inode, int fd);

/* Give back a TYPE hold of INODE taken through FD, close FD (or STREAM,
   a stdio stream on FD, if not NULL) as portalock_inode_close does, and
   drop one reference, in one step.  After the last holder the close
   itself gives the kernel lock back (a close drops the process's POSIX
   locks on the file: POSIX requires it), which saves the unlock.
   Return 0, or -1 with errno (EINVAL if INODE has no TYPE holder: then
   FD is closed or deferred all the same, and the reference dropped).  */
int portalock_inode_release_close (struct portalock_inode *inode, int fd,
                                   FILE *stream, int type);

/* Take back and return a descriptor of the file PATH names (not
   following a final symbolic link if FLAGS has O_NOFOLLOW) whose close
   portalock_inode_close deferred, open with the access mode and O_APPEND
   of FLAGS, positioned at offset 0; -1 if there is none.  Sets no
   errno.  */
int portalock_inode_reclaim (const char *path, int flags);

/* Close FD, a descriptor of any file, without dropping a lock another
   lock object of this process holds on that file: through the table if
   the file's inode is in it, else at once, in one step with the look
   (see portalock_close_file).  Costs an fstat.  Keeps errno.  */
void portalock_close_fd (int fd);

/* Close FD (or STREAM, a stdio stream on it, if not NULL), a
   descriptor of the file DEV/INO, as portalock_inode_close does if a
   lock object of this process holds that file through the table, else
   at once; the look and the close are one step under the mutex of the
   inode's bucket, so that a lock object of another thread cannot
   become the file's first holder in between (its kernel lock would be
   dropped by the close).  Keeps errno.  */
void portalock_close_file (dev_t dev, ino_t ino, int fd, FILE *stream);

/* For a close that must not wait for the table, nor hold its mutex
   while it closes (a lock object's release by close), say whether it
   may close a descriptor of the file DEV/INO:
   PORTALOCK_CLOSE_IN_USE: a lock object of this process holds the file
     through the table, or is taking its kernel lock; the caller must
     unlock and close through portalock_close_file instead.
   PORTALOCK_CLOSE_ANNOUNCED: no lock object does, and the close is
     announced: a lock object that becomes the first holder of a file
     of the same bucket meanwhile waits before it asks the kernel for
     its lock, until the caller has closed (or not) and called
     portalock_inode_close_end (DEV, INO).
   PORTALOCK_CLOSE_UNTRACKED: the table has never been used, and nothing
     is announced: the caller may close only between a
     portalock_inode_untracked_enter that returned true and a
     portalock_inode_untracked_leave, both inside a window that every
     fork waits for (lock objects' releases_in_flight); the first use of
     the table waits for such closes.  If _enter returns false, the table
     came into use meanwhile: close as for PORTALOCK_CLOSE_IN_USE.  */
enum
{
  PORTALOCK_CLOSE_IN_USE,
  PORTALOCK_CLOSE_ANNOUNCED,
  PORTALOCK_CLOSE_UNTRACKED
};
int portalock_inode_close_begin (dev_t dev, ino_t ino);
void portalock_inode_close_end (dev_t dev, ino_t ino);
bool portalock_inode_untracked_enter (void);
void portalock_inode_untracked_leave (void);

/* The same for STREAM: flush it, and fclose it now or once the last
   holder of its file releases.  Return 0, or EOF with errno if the
   flush (or the fclose) failed.  */
int portalock_fclose (FILE *stream);

/* Like portalock_inode_close, for a stdio stream on such a descriptor:
   fclose it now, or once the last holder releases.  */
void portalock_inode_fclose (struct portalock_inode *inode, FILE *stream);

/* Change a FROM hold of INODE, taken through FD, to a TO hold (each
   PORTALOCK_SH or PORTALOCK_EX): to become exclusive, first wait, as
   portalock_wait_lock describes, until the other holders in this process
   are gone; then convert the kernel lock through FD with OPS.  On
   failure the FROM hold remains.  Return 0 or -1 with errno (EINVAL if
   INODE has no FROM holder).  */
int portalock_inode_convert (struct portalock_inode *inode,
                             const struct portalock_backend_ops *ops,
                             int fd, int from, int to, bool nonblock,
                             const struct timespec *deadline);

/* Return how many holders INODE has and, in *EXCLUSIVE, whether one of
   them is exclusive; for tests and diagnostics.  */
unsigned portalock_inode_holders (struct portalock_inode *inode,
                                  bool *exclusive);

/* Return 1 if process PID holds a lock (any backend, granted, not a
   waiter) on the file DEV/INO, as the kernel tells; 0 if it does not
   (or does not exist); -1 with errno if that cannot be told: ENOTSUP
   where the system does not list its locks, EACCES where PID's
   descriptors may not be inspected, EMFILE, ENOMEM, ...  */
int portalock_pid_holds (pid_t pid, dev_t dev, ino_t ino);

/* portalock_holders for the file DEV/INO, its arguments checked: the
   platform's part (holders-linux.c, holders-none.c).  */
int portalock_file_holders (dev_t dev, ino_t ino, pid_t *pids, size_t max);

/* Flush STREAM (if not NULL) and, if SYNC, fsync FD, its descriptor:
   what must happen before an unlock lets the next holder read the file.
   A file that cannot be synced (EINVAL: a FIFO, some directories) counts
   as synced.  Return 0, or -1 with errno.  */
int portalock_flush_sync (FILE *stream, int fd, bool sync);

/* Set *RESULT to a malloc'd string: PATTERN, a Python format string as
   portalocker's filename_pattern, formatted with the fields name=NAME
   and number=NUMBER (pattern.c says which of Python's format language is
   carried out).  Return 0, EINVAL for a pattern that uses anything else,
   or ENOMEM.  */
int portalock_format_slot (const char *pattern, const char *name,
                           unsigned number, char **result);

/* The kinds of lock a line of /proc/locks or fdinfo can describe.  */
enum portalock_lock_kind
{
  PORTALOCK_KIND_NONE,          /* another file, a waiter, a lease, junk */
  PORTALOCK_KIND_POSIX,         /* fcntl or lockf: the PID is the owner */
  PORTALOCK_KIND_SHARED_OWNER   /* flock or OFD: owned by an open file
                                   description that others may share */
};

/* Parse one line of /proc/locks (NUL-terminated, as read): return the
   kind of a granted lock on DEV/INO and set *PID to the PID field;
   PORTALOCK_KIND_NONE for anything else.  (holders-linux.c; the fuzz targets
   call it too.)  */
enum portalock_lock_kind portalock_parse_lock_line (const char *line,
                                                    dev_t dev, ino_t ino,
                                                    long *pid);

/* The same for one line of /proc/PID/fdinfo/FD: only a "lock:" line can
   describe a lock.  */
enum portalock_lock_kind portalock_parse_fdinfo_line (const char *line,
                                                      dev_t dev, ino_t ino,
                                                      long *pid);

/* The file system probe (portalock_fs_probe).  The platform's part
   (fsprobe-linux.c, fsprobe-none.c) fills INFO, zeroed by the caller,
   with what it can learn of the file system that holds PATH: its type,
   source, mount point, options, statfs magic and device, setting
   PORTALOCK_FS_MOUNTINFO if the mount was found in the mount table
   MOUNTINFO (NULL: the system's own).  PATH was checked already.
   Return 0, or -1 with errno from stat(2) or ENOMEM.  */
int portalock_fs_lookup (const char *path, const char *mountinfo,
                         struct portalock_fs_info *info);

/* Set INFO's verdicts from its type and options (fsprobe.c).  */
void portalock_fs_classify (struct portalock_fs_info *info);

/* portalock_fs_probe, reading the mount table MOUNTINFO instead of the
   system's (NULL: the system's): the tests' way to give the probe any
   mount table they need without a public knob.  */
int portalock_fs_probe_mountinfo (const char *path, const char *mountinfo,
                                  struct portalock_fs_info *info,
                                  size_t info_size);

#endif /* PORTALOCK_PRIVATE_H */
