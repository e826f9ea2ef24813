/* portalock.h: the public interface of libportalock, portable file locking.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.

   This library is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU Lesser
   General Public License for more details.

   You should have received a copy of the GNU Lesser General Public License
   along with this library; if not, see <https://www.gnu.org/licenses/>.  */

#ifndef PORTALOCK_H
#define PORTALOCK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Every type in this interface has the same size whatever
   _FILE_OFFSET_BITS and _TIME_BITS a program is built with, so a 32-bit
   program links safely with or without large-file flags: file offsets
   are int64_t, times are double seconds, and no off_t, time_t or
   structure of the system's appears.  (mode_t and pid_t do not depend
   on those flags.)  */

/* The release this header belongs to.  portalock_version () tells which
   release of the library a program actually runs with.  */
#define PORTALOCK_VERSION_MAJOR 0
#define PORTALOCK_VERSION_MINOR 3
#define PORTALOCK_VERSION_PATCH 0
#define PORTALOCK_VERSION "0.3.0"

/* Only the functions marked PORTALOCK_API are exported from the shared
   library; the build defines BUILDING_LIBPORTALOCK.  */
#if defined BUILDING_LIBPORTALOCK && defined __GNUC__ && __GNUC__ >= 4
# define PORTALOCK_API __attribute__ ((__visibility__ ("default")))
#else
# define PORTALOCK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Lock flags: flock(2)'s values, and portalocker's LockFlags.  A request
   names exactly one of PORTALOCK_SH, PORTALOCK_EX and PORTALOCK_UN, and
   may add PORTALOCK_NB.  */
#define PORTALOCK_SH 1          /* shared (read) lock */
#define PORTALOCK_EX 2          /* exclusive (write) lock */
#define PORTALOCK_NB 4          /* fail with EWOULDBLOCK rather than wait */
#define PORTALOCK_UN 8          /* release */

/* The locking primitives.  See the manual's table for what each one's
   locks belong to and what a close(2) does to them.  */
enum portalock_backend
{
  PORTALOCK_BACKEND_DEFAULT = 0, /* PORTALOCK_BACKEND, else configure's */
  PORTALOCK_BACKEND_FLOCK,       /* flock(2): per open file description */
  PORTALOCK_BACKEND_OFD,         /* Linux F_OFD_SETLK: per open file
                                    description, byte ranges */
  PORTALOCK_BACKEND_FCNTL,       /* POSIX F_SETLK: per process, ranges */
  PORTALOCK_BACKEND_LOCKF,       /* lockf(3): per process, exclusive only */
  PORTALOCK_BACKEND_WIN32        /* LockFileEx (not built on POSIX) */
};

/* Return the library's version string, such as "0.3.0".  Never fails.  */
PORTALOCK_API const char *portalock_version (void);

/* Return the name of BACKEND ("flock", "ofd", "fcntl", "lockf", "win32");
   for PORTALOCK_BACKEND_DEFAULT, the name of the backend it stands for.
   Return NULL and set errno to EINVAL if BACKEND is not a backend.  */
PORTALOCK_API const char *portalock_backend_name (enum portalock_backend
                                                  backend);

/* Return the backend called NAME (as portalock_backend_name spells it,
   or "default"), or -1 with errno EINVAL if there is none.  */
PORTALOCK_API int portalock_backend_from_name (const char *name);

/* Return true if BACKEND is compiled into this library and usable.  */
PORTALOCK_API bool portalock_backend_available (enum portalock_backend
                                                backend);

/* Return the backend that PORTALOCK_BACKEND_DEFAULT stands for: the one
   the PORTALOCK_BACKEND environment variable names, read once, at the
   first call into the library; else the one chosen by configure.  An
   unknown or unavailable name in the variable is ignored.  */
PORTALOCK_API enum portalock_backend portalock_default_backend (void);

/* Descriptor-level locking.  These keep each backend's own semantics
   (see the manual): a lock belongs to the open file description (flock,
   ofd) or to the process (fcntl, lockf).

   FLAGS is PORTALOCK_SH, PORTALOCK_EX or PORTALOCK_UN, optionally with
   PORTALOCK_NB.  SECONDS bounds the wait: 0 tries once, INFINITY waits
   without limit.  A timed wait that has to wait blocks in the kernel, in
   a helper thread that is cancelled at the deadline; it installs no
   signal handler.  The helper is kept: a thread that made such a wait
   keeps one idle helper thread (64 KiB of stack, all signals blocked,
   no CPU), reused by its next timed waits, until the thread exits, a
   wait of it times out (the helper is then joined before the call
   returns), or it calls portalock_drop_wait_helper.  So after a timed
   wait a single-threaded program has a second thread; one that must be
   single-threaded again (for unshare (CLONE_NEWUSER), say) calls
   portalock_drop_wait_helper, or uses portalock_set_timeout_signal
   from the start, whose waits keep no thread.  A timed wait that gets
   the lock at once starts no helper; a forked child has none of its
   parent's.

   START and LENGTH are int64_t, not off_t, so that a program gets the
   same interface whatever _FILE_OFFSET_BITS it is built with: a 32-bit
   program needs no large-file flags to lock beyond 2 GiB.

   All return 0 on success, or -1 and set errno:
     EINVAL       FLAGS is not one request; SECONDS is negative or NaN;
                  START or LENGTH is negative.
     EOVERFLOW    START, LENGTH or the range's last byte (START + LENGTH
                  - 1) is beyond the largest file offset: 2^63 - 1, or
                  2^31 - 1 in a 32-bit build of the library without
                  large-file support.
     EWOULDBLOCK  the lock is held elsewhere and PORTALOCK_NB was given, or
                  SECONDS is 0 (one try, as for the lock objects).
     ETIMEDOUT    the lock was still held elsewhere when SECONDS ran out.
     ENOTSUP      the backend cannot do it: a byte range with flock, a
                  shared lock with lockf, or a backend not built here.
     EBADF, ENOLCK, EDEADLK, ...   from the system call, unchanged (an
                  exclusive fcntl, ofd or lockf lock needs a descriptor
                  open for writing: EBADF otherwise).
   A wait with time left is never ended by EINTR.  */

/* Lock or unlock all of FD with the default backend, waiting as long as
   it takes unless FLAGS has PORTALOCK_NB.  */
PORTALOCK_API int portalock_lock (int fd, int flags);

/* Like portalock_lock, but give up after SECONDS with ETIMEDOUT.  */
PORTALOCK_API int portalock_lock_timeout (int fd, int flags, double seconds);

/* Release the default backend's lock on all of FD.  Releasing a lock
   that is not held is not an error.  */
PORTALOCK_API int portalock_unlock (int fd);

/* Lock or unlock LENGTH bytes of FD from offset START (LENGTH 0: to the
   end of the file, however far it grows), waiting up to SECONDS.  START
   and LENGTH 0 mean the whole file, which every backend can lock.  */
PORTALOCK_API int portalock_lock_range (int fd, int flags, int64_t start,
                                        int64_t length, double seconds);

/* The general form: like portalock_lock_range, with BACKEND's primitive
   instead of the default one.  */
PORTALOCK_API int portalock_backend_lock (enum portalock_backend backend,
                                          int fd, int flags, int64_t start,
                                          int64_t length, double seconds);

/* Stop and join the calling thread's idle helper thread, if a timed
   wait of this thread left one; other threads' helpers are not touched.
   The thread's next timed wait that has to wait starts a new one.  When
   this returns the helper has ended and been joined, but the kernel may
   list it (in /proc/self/task, and to the single-thread check of
   unshare) for a moment more.  Return 0; it cannot fail, and keeps
   errno.  */
PORTALOCK_API int portalock_drop_wait_helper (void);

/* Let timed waits in this process block in the waiting thread itself, so
   that a released lock reaches it as fast as an untimed waiter, instead
   of in a helper thread.  At the deadline a per-thread timer sends SIGNO
   to the waiting thread; the library installs an empty handler for SIGNO
   (without SA_RESTART) and unblocks SIGNO during the wait.  The program
   must not use SIGNO for anything else; a real-time signal such as
   SIGRTMIN + 1 is a good choice.  SIGNO 0 goes back to helper threads and
   restores the handler the signal had before.  A change applies to the
   timed waits that start after it; while other threads are still in
   timed waits with the old signal, its handler stays until the last of
   them returns, and is restored then.
   Return 0, or -1 and set errno: EINVAL for SIGKILL, SIGSTOP, a number
   that is no signal or one the C library keeps for itself; EBUSY to
   install a third signal while timed waits with each of two earlier
   ones are still in flight; ENOTSUP where per-thread timers do not
   exist.  */
PORTALOCK_API int portalock_set_timeout_signal (int signo);

/* Flush STREAM and, if FLAGS has PORTALOCK_FSYNC, fsync its file; then
   release the default backend's lock on its descriptor, as
   portalock_unlock does.  This is portalocker's advice for network file
   systems (flush and fsync before unlocking) as one call.  Return 0, or
   -1 and set errno: EINVAL if STREAM is NULL or FLAGS has another bit;
   EBADF if STREAM has no descriptor; from fflush(3), fsync(2) (EIO,
   ENOSPC, ...), or the unlock.  If the flush or fsync fails, the lock is
   left held, so that the caller decides what the next holder may see.  */
#define PORTALOCK_FSYNC 16      /* portalock_unlock_stream: also fsync */
PORTALOCK_API int portalock_unlock_stream (FILE *stream, int flags);

/* Lock objects: portalocker's Lock, RLock, TemporaryFileLock and
   PidFileLock.  A lock object names a file; acquiring it opens the file
   and locks it, releasing it unlocks and closes it, and it can be
   acquired again.  Whatever the backend, two lock objects on one file
   exclude each other as two processes would, from any thread; releasing
   or freeing one never drops another's lock; an exec'd program never
   inherits the lock; a forked child that exits never releases it.  A
   lock object is used by one thread at a time; different objects may be
   used by different threads at once.  */
typedef struct portalock portalock;

/* Return a new, unheld lock object for PATH with portalocker's defaults:
   mode "a", PORTALOCK_EX, timeout 5 seconds, check interval 0.25
   seconds, fail_when_locked false, permissions 0644 (less the umask),
   the default backend.  Nothing is opened or created yet.  Return NULL
   and set errno to EINVAL if PATH is NULL or empty, ENOMEM if out of
   memory.  */
PORTALOCK_API portalock *portalock_new (const char *path);

/* The setters below change how the next acquire works; they return 0,
   or -1 with errno EINVAL for a NULL object or a bad value, and EBUSY
   if the object is held (its settings cannot change under the lock).  */

/* Open the file as fopen(3) MODE would: "r", "r+", "w", "w+", "a",
   "a+", "x", "x+", each optionally with 'b' after the letter or at the
   end.  "w" truncates only once the lock is held.  "x" creates the file
   (O_CREAT | O_EXCL) and then locks it: the acquire fails with EEXIST if
   the file exists; if it fails after creating the file, the file is
   removed again only if the path still names it, it is still empty and
   nobody else can have the file locked (see the manual).  */
PORTALOCK_API int portalock_set_mode (portalock *lock, const char *mode);

/* Lock with FLAGS: PORTALOCK_SH or PORTALOCK_EX, optionally with
   PORTALOCK_NB (same as fail_when_locked).  */
PORTALOCK_API int portalock_set_flags (portalock *lock, int flags);

/* Wait at most SECONDS for the lock: 0 tries once, a negative value waits
   without limit.  NaN is EINVAL.  */
PORTALOCK_API int portalock_set_timeout (portalock *lock, double seconds);

/* Bound each retry of the acquire loop (after the locked file turned out
   to be deleted or replaced) by SECONDS, which must be finite and not
   negative.  The wait for the lock itself never polls.  */
PORTALOCK_API int portalock_set_check_interval (portalock *lock,
                                                double seconds);

/* If FAIL, an acquire of a lock held elsewhere fails at once with
   EWOULDBLOCK instead of waiting.  */
PORTALOCK_API int portalock_set_fail_when_locked (portalock *lock,
                                                  bool fail);

/* Create the file, if it does not exist, with PERMISSIONS (less the
   umask).  Bits outside 07777 are EINVAL.  */
PORTALOCK_API int portalock_set_permissions (portalock *lock,
                                             mode_t permissions);

/* Lock with BACKEND.  ENOTSUP if it is not built here.  */
PORTALOCK_API int portalock_set_backend (portalock *lock,
                                         enum portalock_backend backend);

/* If REENTRANT, the object is an RLock: acquiring it while it is held
   only counts, and it is unlocked when as many releases have followed.
   The count belongs to the object, not to a thread.  */
PORTALOCK_API int portalock_set_reentrant (portalock *lock, bool reentrant);

/* If CHECK is false, an acquire skips the identity check: it does not
   look the path up after the grant to make sure that the path still
   names the file it locked, and a held object's acquire does not report
   ESTALE.  One system call fewer per acquire, for files that nobody
   deletes, renames or replaces while they are in use: a lock on a file
   that the path no longer names excludes nobody who opens the path.
   An acquire that writes to the file or may delete it (mode "w" or
   "w+", a PID record, a temporary lock) checks all the same.  The
   default is true.  */
PORTALOCK_API int portalock_set_identity_check (portalock *lock, bool check);

/* If TEMPORARY, the lock file is deleted on release, while still locked;
   every acquirer turns away a deleted file and retries on a fresh one.
   The file is created without following a symbolic link, and must be a
   regular file: anything else at the path (a FIFO, a socket, a device)
   makes the acquire fail with EINVAL, and the release deletes only the
   regular file the object locked.  A shared
   temporary lock is deleted by its last holder only: a releasing shared
   holder deletes the file only if it can make its lock exclusive without
   waiting.  */
PORTALOCK_API int portalock_set_temporary (portalock *lock, bool temporary);

/* If RECORD, the holder writes its PID record (see
   portalock_pid_record_write) into the file once locked, and empties the
   file again before unlocking if it still holds that record (a shared
   holder's record may have been replaced by another shared holder's).
   The file is then opened for reading and writing whatever the mode
   says, and with O_NOFOLLOW: a symbolic link is refused (ELOOP), so a
   link planted where the record goes never aims it at another file.  A
   file that holds anything but a record (data, a script) is never
   written: portalock_acquire then fails with EEXIST, the file as it
   was and the lock released.  */
PORTALOCK_API int portalock_set_record_pid (portalock *lock, bool record);

/* If SYNC, every unlock of the object (the last release, and a
   conversion to shared) first flushes the object's stream and fsyncs
   the file, so that the next holder, on any client of a network file
   system, reads what this one wrote.  A failed flush or fsync is
   reported by portalock_release (the object is released all the same)
   or portalock_convert (the lock is left as it was).  */
PORTALOCK_API int portalock_set_sync (portalock *lock, bool sync);

/* If PREFER, the object joins the writer-preferring protocol (the
   manual's "Reader/writer locks"): once an exclusive acquirer (a
   writer) waits, shared acquirers (readers) that come after it wait
   behind it, so that a stream of readers cannot starve it.  Writers
   hold a gate, the file PATH.gate beside the lock's file (created
   empty, never written nor deleted), while they wait; readers pass
   through it.  It works only if every participant on the file uses it,
   with the same backend and the same path.  The default is false.
   Return 0, or -1 with errno EINVAL (LOCK is NULL) or EBUSY (LOCK is
   held).  With it, portalock_acquire fails with ENOTSUP for a
   temporary lock; a conversion to exclusive never waits for the gate
   (it would deadlock with a waiting writer).  With a marker method the
   gate orders the processes of this machine (where the file system
   refuses kernel locks there is no gate, and none is needed); across
   machines the markers always prefer writers, with or without it.  */
PORTALOCK_API int portalock_set_writer_preference (portalock *lock,
                                                    bool prefer);

/* Lock methods: how a lock object locks (the manual's "Lock methods").
   A kernel lock (flock(2), fcntl(2), lockf(3): the backend) may exclude
   only the processes of one machine on a network file system; a marker
   lock excludes through the file system itself: the holder links a file
   of its own to the name PATH.marker beside the lock's file, which
   keeps its data.  */
enum portalock_method
{
  PORTALOCK_METHOD_DEFAULT = 0, /* PORTALOCK_METHOD in the environment,
                                   else the configure default (kernel) */
  PORTALOCK_METHOD_KERNEL = 1,  /* a kernel lock, through the backend */
  PORTALOCK_METHOD_STRICT = 2,  /* a marker, taken from its holder only
                                   when it is provably dead (same host
                                   and boot, process gone); else only by
                                   portalock_marker_break */
  PORTALOCK_METHOD_LEASE = 3,   /* a marker renewed by a heartbeat thread
                                   at a quarter of its TTL, which any
                                   host may evict once it is stale */
  PORTALOCK_METHOD_AUTO = 4     /* the kernel lock where portalock_fs_probe
                                   says it spans every client, else a
                                   lease */
};

/* Return the name of METHOD ("default", "kernel", "strict", "lease",
   "auto"), or NULL with errno EINVAL.  */
PORTALOCK_API const char *portalock_method_name (enum portalock_method
                                                 method);

/* Read a method as PORTALOCK_METHOD and plock --method write it: one of
   the names above, a lease optionally with its TTL in seconds
   ("lease=30", "lease=0.5"; positive, finite, at most 1e6).  Store the
   method in *METHOD and the TTL in *TTL (0 if none was given; TTL may
   be NULL if no TTL is accepted).  Return 0, or -1 with errno EINVAL,
   leaving both untouched.  */
PORTALOCK_API int portalock_method_from_name (const char *name,
                                              enum portalock_method *method,
                                              double *ttl);

/* The method an object of method PORTALOCK_METHOD_DEFAULT gets: the one
   PORTALOCK_METHOD names in the environment, else this library's
   configure default (configure --with-lock-method; kernel unless the
   builder chose otherwise), never PORTALOCK_METHOD_DEFAULT itself.
   Store it in *METHOD and a lease's TTL from the environment in *TTL
   (0 if none; TTL may be NULL).  Return 0, or -1 with errno EINVAL
   (METHOD is NULL, or PORTALOCK_METHOD names no method), leaving both
   untouched.  */
PORTALOCK_API int portalock_default_method (enum portalock_method *method,
                                            double *ttl);

/* Lock with METHOD from the next acquire on.  Marker methods take
   shared locks with reader markers beside the writer marker (manual:
   "Shared locks on markers"), but refuse conversions and shared
   temporary locks (ENOTSUP), and byte-range and backend settings that
   they cannot honour.
   Return 0, or -1 with errno EINVAL (LOCK is NULL, METHOD none),
   EBUSY (held).  */
PORTALOCK_API int portalock_set_method (portalock *lock,
                                        enum portalock_method method);

/* Return the method the object's lock uses while it is held
   (PORTALOCK_METHOD_KERNEL, _STRICT or _LEASE: what AUTO or DEFAULT
   chose), or -1 with errno EBADF if it holds nothing (EINVAL if LOCK is
   NULL).  */
PORTALOCK_API int portalock_held_method (const portalock *lock);

/* Set a lease's time to live, SECONDS (positive, finite, at most 1e6;
   default 30, or the TTL that PORTALOCK_METHOD gives).  The heartbeat
   renews it every SECONDS / 4; another host may evict it once it has
   seen the marker unchanged for 1.2 SECONDS.  Return 0, or -1 with
   errno EINVAL, EBUSY (held).  */
PORTALOCK_API int portalock_set_lease_ttl (portalock *lock, double seconds);

/* A function called once when a held lease is lost (its heartbeat could
   not renew it before its local deadline, or another host evicted it):
   from the heartbeat thread, before another host may take the lease if
   the clocks' assumptions hold (manual), or from the call that finds
   out.  It must not call the library on LOCK; it may set a flag, write
   to a pipe or send a signal.  */
typedef void (*portalock_lost_fn) (portalock *lock, void *arg);

/* Set the function called when LOCK's lease is lost (NULL: none).
   Return 0, or -1 with errno EINVAL, EBUSY (held).  */
PORTALOCK_API int portalock_set_lost_callback (portalock *lock,
                                               portalock_lost_fn fn,
                                               void *arg);

/* Return true if LOCK holds a marker lock that it has lost (a lease
   past its local deadline, or a marker found gone or replaced); the
   loss is reported through the callback first if it was not yet.  False
   for a kernel lock, a lock not held, or NULL.  Once lost, the object's
   portalock_release and portalock_acquire fail with ENOLCK, touching
   nothing at the marker's name.  */
PORTALOCK_API bool portalock_lost (portalock *lock);

/* Return the fencing token of LOCK's held marker lock: for an
   exclusive lock a number greater than every earlier holder's of the
   same lock name (manual); for a shared one the token of the last
   exclusive holder before it (0 if none ever); 0 for a kernel lock, a
   lock not held or NULL.  */
PORTALOCK_API uint64_t portalock_generation (const portalock *lock);

/* What a marker says (portalock_marker_read).  Every member has the same
   size whatever the program's flags; the caller passes sizeof (struct
   portalock_marker_info), and a later release fills only the members
   the caller knows.  */
struct portalock_marker_info
{
  uint32_t method;              /* PORTALOCK_METHOD_STRICT or _LEASE */
  uint32_t reserved0;
  int64_t pid;                  /* the holding process, on HOST */
  uint64_t start;               /* its start time, in clock ticks after
                                   boot; 0 if unknown */
  uint64_t ttl_ms;              /* a lease's TTL, 0 if strict */
  uint64_t generation;          /* the fencing token, 0 while being set */
  uint64_t beat;                /* heartbeats so far */
  char host[256];               /* the holder's host name */
  char boot[64];                /* its boot id, "-" if unknown */
  char token[40];               /* 32 hex digits naming this hold */
  uint64_t reserved[8];         /* zero */
};

/* Read the marker of the lock on PATH (the lock's path, not the
   marker's) into INFO, of INFO_SIZE bytes.  Return 1 if there is one, 0
   if there is none, or -1 with errno: EINVAL (NULL or empty PATH, NULL
   INFO, INFO_SIZE too small), EPROTO (a file at the marker's name that
   is not a marker), from open(2) and read(2).  Creates nothing.  */
PORTALOCK_API int portalock_marker_read (const char *path,
                                         struct portalock_marker_info *info,
                                         size_t info_size);

/* Read the reader markers of the lock on PATH (the holds of its shared
   marker locks) into INFOS, an array of up to MAX structures of
   INFO_SIZE bytes each.  Return how many there are (more than MAX if
   not all were stored), or -1 with errno: EINVAL (NULL or empty PATH,
   NULL INFOS with MAX > 0, INFO_SIZE too small, MAX over 65536),
   ENOMEM, from opendir(3); ENOTSUP on Windows.  A file at a reader
   marker's name that is not a marker is skipped.  Creates nothing.  */
PORTALOCK_API int portalock_marker_readers (const char *path,
                                            struct portalock_marker_info
                                            *infos, size_t info_size,
                                            size_t max);

/* Break the marker of the lock on PATH, whoever holds it: if TOKEN is
   not NULL, only if it is still the marker with that token, the
   writer's or a reader's (a reader marker is broken only by token).  For a
   strict marker whose holder cannot be proved dead, and for a holder
   that must be stopped at once.  The holder, if it runs, learns of it
   at its next heartbeat or release (ENOLCK).  Return 0, or -1 with
   errno: ENOENT (no marker), ESTALE (another marker is there now: left
   alone), EPROTO (not a marker: left alone), EINVAL (NULL or empty
   PATH, a TOKEN not of 32 hex digits), from the file system.  */
PORTALOCK_API int portalock_marker_break (const char *path,
                                          const char *token);

/* Open the file and lock it as the settings say.  If the object is held
   already, return 0 at once: an RLock counts one more acquire, a Lock
   (like portalocker's) changes nothing.  Return 0, or -1 and set errno:
     EWOULDBLOCK  the lock is held elsewhere and fail_when_locked,
                  PORTALOCK_NB or a timeout of 0 said not to wait;
     ETIMEDOUT    it was still held elsewhere when the timeout ran out;
     EINVAL       LOCK is NULL; a temporary lock's path names no
                  regular file (a planted FIFO);
     EEXIST       mode "x", and the file exists;
     ESTALE       LOCK is held, but its file was deleted or replaced
                  since (the object still holds it: release it);
     ENOTSUP      the backend cannot do it (a shared lock with lockf);
     EISDIR       an exclusive lock, or a writable mode, on a directory;
     ENXIO        a FIFO opened for writing alone while nobody reads
                  it (the open never blocks: a FIFO is locked like any
                  file, on its inode, its data untouched);
     EEXIST       a PID lock's file holds something that is not a PID
                  record (see portalock_set_record_pid): not held, the
                  file unchanged;
     EDEADLK      the calling thread would wait for itself: it
                  acquired another lock object on the same file (same
                  device and inode, a backend whose locks exclude this
                  one's) that still holds a lock in conflict with this
                  one (exclusive against anything, shared against
                  exclusive).  Reported at once, before any wait, for
                  any timeout but 0; an acquire that does not wait
                  (timeout 0, fail_when_locked, PORTALOCK_NB) fails with
                  EWOULDBLOCK instead.  Nothing is held, the file is
                  left as it was;
     EACCES, ENOENT, ENOTDIR, ENAMETOOLONG, EROFS, ELOOP, ...  from
                  open(2), unchanged; nothing is created or truncated.
   No other wait fails with EDEADLK: a wait for a lock held by another
   thread or process waits, and where the kernel's check for deadlocks
   between processes (fcntl, lockf) reports one that threads of two
   processes only seem to make, the object waits on.  */
PORTALOCK_API int portalock_acquire (portalock *lock);

/* Unlock and close the file (an RLock: once the count is back to zero;
   a temporary lock: deleting it first).  Return 0 if it was released, 1
   (changing nothing) if the object was not held, or -1 with errno:
   EINVAL if LOCK is NULL; otherwise the object is released anyway and
   errno tells what failed on the way: EFBIG, ENOSPC, EIO, ... from
   flushing the stream or from the fsync that portalock_set_sync asks
   for, or EIO if an earlier buffered write through
   portalock_stream had failed (the stream's error indicator was set, so
   the file lacks data that was written to the stream).  */
PORTALOCK_API int portalock_release (portalock *lock);

/* Change the held lock to FLAGS, PORTALOCK_SH or PORTALOCK_EX (with
   PORTALOCK_NB: do not wait), waiting up to the object's timeout.  The
   manual says per backend whether the change is atomic.  Return 0, or
   -1 and set errno: EINVAL for bad FLAGS or an unheld object (also in
   a forked child of the process that acquired it: the lock is the
   parent's and stays as it is; the child's copy is closed); ENOTSUP
   for a shared lock with lockf; EBADF if the file is not open for
   writing and FLAGS is exclusive (open it in a writable mode);
   EWOULDBLOCK, ETIMEDOUT as for portalock_acquire; EDEADLK for a
   conversion to exclusive that would wait for itself: the calling
   thread acquired another object that holds the same file (a shared
   lock), nothing changed; EIO, ENOSPC, ...
   from the flush and fsync that portalock_set_sync asks for before a
   conversion to shared.  On failure the
   object still holds its old lock, except with flock, which drops the
   old lock to convert: if another process took the lock meanwhile, the
   object is no longer held (portalock_fd returns -1).  */
PORTALOCK_API int portalock_convert (portalock *lock, int flags);

/* Return the held lock's file descriptor, or -1 (errno EBADF) if not
   held.  It belongs to the object: do not close it.  */
PORTALOCK_API int portalock_fd (const portalock *lock);

/* Return a stdio stream for the held lock's file, opened with the
   object's mode, or NULL (errno EBADF) if not held.  It belongs to the
   object: do not fclose it.  */
PORTALOCK_API FILE *portalock_stream (portalock *lock);

/* Release LOCK if held (however deep an RLock's count) and free it.
   LOCK may be NULL.  Keeps errno.  */
PORTALOCK_API void portalock_free (portalock *lock);

/* Return true if LOCK is held by this process: acquired here and not
   yet released.  False for an unheld object, NULL, and a forked child's
   copy of an object its parent holds (the lock is the parent's).  It
   asks neither the kernel nor the file system: portalock_lost tells
   whether a held marker lock was lost since, portalock_holders which
   processes hold a file's kernel lock.  Sets no errno.  */
PORTALOCK_API bool portalock_held (const portalock *lock);

/* Return how many acquires of LOCK its releases have still to match
   while portalock_held is true: an RLock's count, 1 for a held Lock
   (whose repeated acquires do not count); 0 when portalock_held is
   false.  Sets no errno.  */
PORTALOCK_API unsigned portalock_depth (const portalock *lock);

/* Pollable acquisition, for programs run by an event loop.  A pending
   acquisition runs portalock_acquire of a lock object, with all its
   settings (timeout, fail_when_locked, method, ...), in a thread of the
   library's pool, and makes a descriptor readable (on Windows: signals
   an event HANDLE) when the outcome is there.  The pool keeps at most
   1024 acquisitions pending at once, and so at most 2048 threads (a
   waiter blocked in the kernel and the thread that runs the acquire, 64
   and 128 KiB of stack, every signal blocked, no CPU while they wait);
   idle threads are reused, and all but 16 of them end.  Each
   acquisition that waits also has two descriptors open (the object's
   file and its own): past some 500 at once, raise RLIMIT_NOFILE's soft
   limit first.  On Windows the worker's wait polls the lock, with
   pauses of up to 10 ms, so that a cancel can end it (no helper thread
   there).  */
typedef struct portalock_pending portalock_pending;

/* Start acquiring LOCK and return at once with the pending acquisition,
   or NULL and set errno: EINVAL if LOCK is NULL; EBUSY if an
   acquisition of LOCK is pending already; EAGAIN if 1024 acquisitions
   are pending in the process, or no thread could be started; ENOMEM;
   EMFILE and the like for the descriptor or event.  Until
   portalock_acquire_finish, LOCK belongs to the acquisition: do not use
   or free it.  */
PORTALOCK_API portalock_pending *portalock_acquire_start (portalock *lock);

/* Return the descriptor of PENDING to poll for reading (POLLIN): it is
   readable once the outcome is known (held, timed out, failed or
   cancelled) and stays so.  It belongs to PENDING (close-on-exec; do
   not read, close or keep it past portalock_acquire_finish).  -1 with
   errno EINVAL if PENDING is NULL; ENOTSUP on Windows, whose loops wait
   for portalock_pending_handle instead.  */
PORTALOCK_API int portalock_pending_fd (const portalock_pending *pending);

/* On Windows, return the HANDLE (a HANDLE, declared void * here so that
   this header needs no <windows.h>) of an event that is signalled once
   the outcome of PENDING is known and stays signalled, to wait for with
   WaitForSingleObject, WaitForMultipleObjects and the like.  It belongs
   to PENDING: do not close, reset or signal it, nor use it past
   portalock_acquire_finish.  NULL with errno EINVAL if PENDING is NULL;
   ENOTSUP on other systems, whose loops poll portalock_pending_fd.  */
PORTALOCK_API void *portalock_pending_handle
  (const portalock_pending *pending);

/* Ask PENDING to stop waiting, and return at once: 0, or -1 with errno
   EINVAL if PENDING is NULL.  The descriptor turns readable (on
   Windows: the event is signalled) soon after; portalock_acquire_finish
   then tells what happened: -1 with ECANCELED and nothing held, or, if
   the lock was granted before the cancel took effect, 0 with the lock
   held (release it as any other).  Cancelling an acquisition that has
   ended already changes nothing.  Any thread may cancel, up to
   portalock_acquire_finish, not during or after it.  */
PORTALOCK_API int portalock_acquire_cancel (portalock_pending *pending);

/* Collect the outcome of PENDING, waiting for it if its descriptor is
   not readable (its event not signalled) yet, and free PENDING (which
   may not be NULL otherwise: EINVAL).  Return 0 with the lock object
   held, or -1 with errno as portalock_acquire sets it (EWOULDBLOCK,
   ETIMEDOUT, ...), or ECANCELED after portalock_acquire_cancel, with
   nothing held.  In a forked child, an acquisition its parent started
   is not pending: -1 with ECANCELED at once, and the lock object must
   only be freed.  */
PORTALOCK_API int portalock_acquire_finish (portalock_pending *pending);

/* PID records: the text a PidFileLock holder keeps in its lock file,
   the holder's PID in decimal and a line break ("4242\n"), as a classic
   pid file holds and Python portalocker's PidFileLock reads and writes.
   The records of portalock 0.1.0 (the PID line, then "host=NAME",
   "start=TICKS" and "mode=exclusive|shared" lines) are still read.  */

/* Write this process's record into FD, from offset 0, truncating the
   file, if the file is empty or already holds a record (of any
   process); anything else is the user's data and is left alone.  FLAGS
   (PORTALOCK_SH or PORTALOCK_EX) must name a lock, as a check of the
   caller.  FD must be open for writing, and for reading too unless the
   file is empty.  Return 0, or -1 with errno: EINVAL for bad FLAGS or
   a file that is not a regular file; EISDIR for a directory; EEXIST if
   the file holds something that is not a record (nothing written);
   EBADF, EIO, ENOSPC, ... from fstat(2), pread(2), ftruncate(2) or
   pwrite(2).  */
PORTALOCK_API int portalock_pid_record_write (int fd, int flags);

/* Read the record in the regular file at PATH.  Return 1 if it names a
   live holder: a process that, as the kernel tells (see
   portalock_holders), holds a lock on that file; *PID is then its PID.
   Return 0 if the file holds no valid record (empty, garbage), *PID
   then 0, or a stale one (the process holds no lock on the file, is
   gone, or a 0.1.0 record names another host), *PID then the recorded
   PID.  Where the system does not list locks, a PID in use counts as
   live.  Return -1 with errno: EINVAL for a NULL or empty PATH, a NULL
   PID, or a file that is not a regular file (a FIFO is never opened
   for long nor read); EISDIR for a directory; from open(2) or read(2)
   (ENOENT, EACCES, ...); or, with *PID the recorded PID, when it cannot
   be told whether the record is live (EACCES: the process's
   descriptors may not be inspected; EMFILE, ENOMEM, ...).  Repeated
   calls keep at most one descriptor open on a file this process holds
   through a lock object of the fcntl or lockf kind, and never drop that
   lock.  */
PORTALOCK_API int portalock_pid_record_read (const char *path, pid_t *pid);

/* Holders: who has a lock on a file, as the kernel tells.  */

/* Store in PIDS, up to MAX of them, the PIDs of the processes holding a
   lock (any backend, shared or exclusive, not a waiter) on the file at
   PATH, and return how many there are, which may exceed MAX.  On Linux
   this reads /proc/locks and, for flock and OFD locks (which a forked
   child shares and /proc/locks does not name), /proc/PID/fdinfo: a
   process whose descriptors this process may not inspect may be missed.
   PIDS may be NULL if MAX is 0.  Return -1 and set errno: EINVAL for a
   NULL or empty PATH; from stat(2) (ENOENT, ...); ENOTSUP where the
   system cannot tell.  */
PORTALOCK_API int portalock_holders (const char *path, pid_t *pids,
                                     size_t max);

/* Bounded semaphores: portalocker's BoundedSemaphore and
   NamedBoundedSemaphore.  At most MAXIMUM holders at once, across
   threads and processes: each holder holds a lock on one of the slot
   files NAME.00.lock, NAME.01.lock, ... in a directory.  Waiting blocks
   in the kernel (see the manual).  One object serves one thread at a
   time; give each thread its own object, and they exclude each other as
   processes do.  */
typedef struct portalock_semaphore portalock_semaphore;

/* The name portalocker's BoundedSemaphore uses when given none.  Pass it
   to share a semaphore with Python code that relies on that default.  */
#define PORTALOCK_SEMAPHORE_DEFAULT_NAME "bounded_semaphore"

/* Return a new semaphore, not held, of at most MAXIMUM holders, called
   NAME, whose slot files live in DIRECTORY (NULL: $TMPDIR if set and
   not empty, else /tmp).  Creates no file.  Return NULL and set errno:
     EINVAL        NAME is NULL or empty or contains '/'; MAXIMUM is 0.
     ENAMETOOLONG  a slot file's name or path would be too long.
     ENOENT, ENOTDIR, EACCES, ...  DIRECTORY is no directory (stat(2)).
     ENOMEM        out of memory.  */
PORTALOCK_API portalock_semaphore *
portalock_semaphore_new (const char *name, unsigned maximum,
                         const char *directory);

/* Name the slot files with PATTERN, a Python format string as
   portalocker's filename_pattern, instead of the default
   "{name}.{number:02d}.lock": the fields {name} (the semaphore's name)
   and {number} (the slot, from 0), each with an optional format spec
   (for {number}: [[fill]align][sign][#][0][width][,|_][b|d|o|x|X|n];
   for {name}: [[fill]align][width][.precision][s]), and the escapes
   "{{" and "}}".  Return 0, or -1 with errno: EINVAL if SEM is NULL or
   PATTERN is NULL, uses another field, conversion or spec, or does not
   name MAXIMUM distinct files that are plain names (no '/', not "." or
   "..", not empty); ENAMETOOLONG as for portalock_semaphore_new; EBUSY
   if SEM holds a slot; ENOMEM.  */
PORTALOCK_API int portalock_semaphore_set_pattern (portalock_semaphore *sem,
                                                   const char *pattern);

/* Make portalock_semaphore_acquire wait at most SECONDS for a slot
   (default 5, as portalocker; 0: one pass over the slots, no wait;
   negative or INFINITY: without limit).  Return 0, or -1 with errno
   EINVAL (SEM is NULL, SECONDS is NaN).  */
PORTALOCK_API int portalock_semaphore_set_timeout (portalock_semaphore *sem,
                                                   double seconds);

/* Bound how long a waiter may miss a slot freed other than the one it
   waits on, in seconds (default 0.25, as portalocker; values below 0.001
   count as 0.001).  Return 0, or -1 with errno EINVAL (SEM is NULL,
   SECONDS negative, infinite or NaN).  */
PORTALOCK_API int portalock_semaphore_set_check_interval
  (portalock_semaphore *sem, double seconds);

/* If FAIL (default false), portalock_semaphore_acquire makes one pass
   over the slots and fails with EWOULDBLOCK rather than wait.  Return 0,
   or -1 with errno EINVAL (SEM is NULL).  */
PORTALOCK_API int portalock_semaphore_set_fail_when_locked
  (portalock_semaphore *sem, bool fail);

/* Lock the slot files with BACKEND (default PORTALOCK_BACKEND_DEFAULT).
   Every user of one semaphore must use the same backend.  Return 0, or
   -1 with errno: EINVAL (SEM is NULL, BACKEND no backend), EBUSY (SEM
   holds a slot), ENOTSUP (BACKEND not built here).  */
PORTALOCK_API int portalock_semaphore_set_backend
  (portalock_semaphore *sem, enum portalock_backend backend);

/* Lock the slot files with METHOD (default PORTALOCK_METHOD_DEFAULT; see
   portalock_set_method).  Every user of one semaphore must use the same
   method.  Return 0, or -1 with errno: EINVAL (SEM is NULL, METHOD
   none), EBUSY (SEM holds a slot).  */
PORTALOCK_API int portalock_semaphore_set_method
  (portalock_semaphore *sem, enum portalock_method method);

/* Take a slot, creating its file if need be.  Return 0, or -1 with
   errno:
     EINVAL       SEM is NULL.
     EBUSY        SEM already holds a slot.
     EWOULDBLOCK  every slot is held, and fail_when_locked or a
                  timeout of 0 said not to wait.
     ETIMEDOUT    every slot was still held when the timeout ran out.
     ENOENT, EACCES, ENOLCK, ...  from open(2) or the lock call.
   On failure SEM holds nothing.  */
PORTALOCK_API int portalock_semaphore_acquire (portalock_semaphore *sem);

/* Start acquiring a slot of SEM as portalock_semaphore_acquire does, and
   return at once with the pending acquisition: see
   portalock_acquire_start, whose errors it shares (EBUSY: an acquisition
   of SEM is pending already); portalock_pending_fd (on Windows
   portalock_pending_handle), portalock_acquire_cancel and
   portalock_acquire_finish (0: SEM holds a slot) serve it.  Until
   portalock_acquire_finish, SEM belongs to the acquisition.  */
PORTALOCK_API portalock_pending *portalock_semaphore_acquire_start
  (portalock_semaphore *sem);

/* Return the number of the slot SEM holds (0 to MAXIMUM - 1), or -1 if
   it holds none (errno EINVAL if SEM is NULL, else unchanged).  */
PORTALOCK_API int portalock_semaphore_slot (const portalock_semaphore *sem);

/* Give back the slot SEM holds.  The slot file stays, for the next
   holder.  Return 0; 1 if SEM held no slot; -1 with errno EINVAL if SEM
   is NULL, or the unlock call's errno (the slot is given back all the
   same).  */
PORTALOCK_API int portalock_semaphore_release (portalock_semaphore *sem);

/* Release SEM's slot if it holds one, and free SEM.  NULL is ignored.
   Leaves errno unchanged.  */
PORTALOCK_API void portalock_semaphore_free (portalock_semaphore *sem);

/* Atomic writes: portalocker's open_atomic.  The new content goes to a
   temporary file in the target's directory; portalock_atomic_commit
   flushes it to disk and publishes it under the target's name in one
   step, so a reader sees the old file (or none) or all of the new one,
   never part of it.  */
typedef struct portalock_atomic portalock_atomic;

/* Flags for portalock_atomic_open.  Without PORTALOCK_ATOMIC_REPLACE, a
   commit never replaces a file (portalocker's behaviour): it fails with
   EEXIST if the target exists by then.  With it, a commit replaces the
   target as rename(2) does.  */
#define PORTALOCK_ATOMIC_REPLACE 1

/* With PORTALOCK_ATOMIC_MKDIRS, portalock_atomic_open first creates the
   target's missing parent directories (as portalocker does), each with
   permissions 0777 less the umask; without it, a missing directory is
   ENOENT.  */
#define PORTALOCK_ATOMIC_MKDIRS 2

/* Start writing a new version of the file at PATH: create a temporary
   file in PATH's directory, with permissions MODE as open(2) applies
   them (less the umask).  Return a handle, or NULL and set errno:
     EINVAL        PATH is NULL; FLAGS has an unknown bit; MODE has bits
                   beyond 07777.
     ENOENT        PATH is empty, or its directory does not exist (and
                   FLAGS lacks PORTALOCK_ATOMIC_MKDIRS).
     EEXIST        PATH exists and FLAGS lacks PORTALOCK_ATOMIC_REPLACE.
     EISDIR        PATH is a directory, or ends in '/', "." or "..".
     ENAMETOOLONG  PATH or its last component is too long.
     ENOTDIR, EACCES, EROFS, ENOSPC, EMFILE, ENOMEM, ...  from the
                   system.
   Nothing is created on failure, except directories made for
   PORTALOCK_ATOMIC_MKDIRS before the failure, which are left.  */
PORTALOCK_API portalock_atomic *portalock_atomic_open (const char *path,
                                                      int flags,
                                                      mode_t mode);

/* Return the temporary file's descriptor, open for reading and writing,
   or -1 with errno EINVAL if ATOMIC is NULL.  Do not close it.  */
PORTALOCK_API int portalock_atomic_fd (const portalock_atomic *atomic);

/* Return a stream on the temporary file ("w+"), made at the first call
   and the same one after; or NULL with errno EINVAL (ATOMIC is NULL) or
   ENOMEM.  Do not fclose it.  */
PORTALOCK_API FILE *portalock_atomic_stream (portalock_atomic *atomic);

/* Flush the stream, fsync the temporary file, publish it under the
   target's name, and fsync the directory; then free ATOMIC, whatever
   the outcome.  Nothing is published if any write through the stream
   failed, even one before the commit whose error only the stream's
   error indicator (ferror) kept.  Return 0, or -1 with errno:
     EINVAL   ATOMIC is NULL.
     EEXIST   the target exists and PORTALOCK_ATOMIC_REPLACE was not
              given: it is left as it is.
     EACCES   on Windows, with PORTALOCK_ATOMIC_REPLACE: another process
              kept the target open throughout about a second of
              retries.
     ESTALE   on POSIX systems: the target's directory was renamed or
              replaced since the open, so that the path no longer names
              it; nothing is published, at the path or in the moved
              directory.
     EFBIG, ENOSPC, EDQUOT, EIO, EISDIR, ...  from the system: from
              the flush, the fsync or the close, or why an earlier
              write through the stream failed (EIO if that can no
              longer be told).
   On failure the temporary file is removed and the target is
   untouched, except when only the final fsync of the directory failed:
   then the new file is in place but may not survive a crash.  */
PORTALOCK_API int portalock_atomic_commit (portalock_atomic *atomic);

/* Remove the temporary file and free ATOMIC; the target is untouched.
   NULL is ignored.  Leaves errno unchanged.  */
PORTALOCK_API void portalock_atomic_abort (portalock_atomic *atomic);

/* What a kernel lock means on the file system that holds a path.  A
   lock taken with flock(2), fcntl(2) or lockf(3) excludes other
   processes of this machine everywhere, but on a network file system
   it reaches the other clients only where the file system carries it to
   the server.  portalock_fs_probe tells, from the file system's type
   and its mount options, which is the case.  */
enum portalock_fs_verdict
{
  PORTALOCK_FS_UNKNOWN = 0,     /* the probe cannot tell */
  PORTALOCK_FS_LOCAL = 1,       /* a lock excludes only processes of
                                   this machine (perhaps only those
                                   locking through the same mount) */
  PORTALOCK_FS_SPANS = 2        /* a lock excludes every process that
                                   locks the file, on every client */
};

/* Flags of struct portalock_fs_info.  */
#define PORTALOCK_FS_MOUNTINFO 1  /* the mount was found in the system's
                                     mount table (else: statfs only) */
#define PORTALOCK_FS_TRUNCATED 2  /* a string did not fit its array */

/* What portalock_fs_probe found.  Every member has the same size
   whatever the program's _FILE_OFFSET_BITS or _TIME_BITS, and the
   caller passes sizeof (struct portalock_fs_info) to the call: a later
   release that adds members (first in the reserved tail, then after it)
   fills only the members the caller knows.  The strings are
   NUL-terminated, with the mount table's escapes (\040 for a space)
   undone; empty where unknown.  */
struct portalock_fs_info
{
  uint32_t verdict;             /* enum portalock_fs_verdict for every
                                   kind of lock: SPANS if both kinds
                                   span, LOCAL if either is local */
  uint32_t flock_verdict;       /* for flock(2) locks (backend flock) */
  uint32_t posix_verdict;       /* for fcntl(2) and lockf(3) locks
                                   (backends ofd, fcntl, lockf) */
  uint32_t flags;               /* PORTALOCK_FS_MOUNTINFO, ..._TRUNCATED */
  uint64_t magic;               /* statfs(2)'s f_type, 0 if unknown */
  uint32_t dev_major;           /* the file system's device */
  uint32_t dev_minor;
  char fstype[64];              /* "nfs4", "cifs", "fuse.sshfs", "ext4" */
  char source[512];             /* "server:/export", "/dev/sda1" */
  char mount_point[1024];       /* where it is mounted */
  char mount_options[512];      /* per mount: "rw,relatime" */
  char super_options[1024];     /* the file system's: "vers=4.2,..." */
  uint64_t reserved[16];        /* zero */
};

/* Tell what kernel locks mean on the file system that holds PATH (which
   must exist; a symbolic link is followed): fill INFO, of INFO_SIZE
   bytes (sizeof (struct portalock_fs_info)).  On Linux, from statfs(2)
   and the longest mount point in /proc/self/mountinfo that holds PATH
   on PATH's device; elsewhere every verdict is PORTALOCK_FS_UNKNOWN.
   The manual's table says which file system and mount options give
   which verdict.  Creates, opens for writing and locks nothing.  Return
   0, or -1 and set errno, leaving INFO untouched:
     EINVAL   PATH or INFO is NULL, PATH is empty, or INFO_SIZE is less
              than the size of this release's struct.
     ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG  from stat(2).
     ENOMEM   out of memory.  */
PORTALOCK_API int portalock_fs_probe (const char *path,
                                      struct portalock_fs_info *info,
                                      size_t info_size);

#ifdef __cplusplus
}
#endif

#endif /* PORTALOCK_H */
