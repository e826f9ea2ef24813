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
#include <stdio.h>
#include <sys/types.h>

/* The release this header belongs to.  portalock_version () tells which
   release of the library a program actually runs with.  */
#define PORTALOCK_VERSION_MAJOR 0
#define PORTALOCK_VERSION_MINOR 1
#define PORTALOCK_VERSION_PATCH 0
#define PORTALOCK_VERSION "0.1.0"

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

/* Return the library's version string, such as "0.1.0".  Never fails.  */
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
   without limit.  A timed wait blocks in the kernel, in a helper thread
   that is cancelled at the deadline; it installs no signal handler and
   leaves nothing running when it returns.

   All return 0 on success, or -1 and set errno:
     EINVAL       FLAGS is not one request; SECONDS is negative or NaN;
                  START or LENGTH is negative.
     EWOULDBLOCK  PORTALOCK_NB was given and the lock is held elsewhere.
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
PORTALOCK_API int portalock_lock_range (int fd, int flags, off_t start,
                                        off_t length, double seconds);

/* The general form: like portalock_lock_range, with BACKEND's primitive
   instead of the default one.  */
PORTALOCK_API int portalock_backend_lock (enum portalock_backend backend,
                                          int fd, int flags, off_t start,
                                          off_t length, double seconds);

#ifdef __cplusplus
}
#endif

#endif /* PORTALOCK_H */
