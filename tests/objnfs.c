/* objnfs.c: tests of the lock objects' retry after EBADF, as NFS gives
   for a flock(2) lock on a descriptor opened without write access.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* On NFS, Linux carries out flock(2) as a POSIX lock, so an exclusive
   flock on a read-only descriptor fails with EBADF.  No NFS mount is
   needed to test the library's answer: this program defines flock
   itself, which the library's calls then reach instead of the C
   library's, and gives NFS's answer for descriptors opened without
   write access.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static int refused;

int
flock (int fd, int op)
{
  int access = fcntl (fd, F_GETFL) & O_ACCMODE;
  if ((op & LOCK_EX) != 0 && access == O_RDONLY)
    {
      refused++;
      errno = EBADF;
      return -1;
    }
  return syscall (SYS_flock, fd, op);
}

int
main (void)
{
  if (!portalock_backend_available (PORTALOCK_BACKEND_FLOCK))
    {
      unsupported ("nfs: no flock backend here");
      return check_exit ();
    }
  const char *path = test_path ("nfs");
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  close (fd);

  portalock *lock = portalock_new (path);
  portalock_set_backend (lock, PORTALOCK_BACKEND_FLOCK);
  portalock_set_mode (lock, "r");
  check (portalock_acquire (lock) == 0 && refused == 1,
         "nfs: EBADF on a read-only descriptor is retried once");
  fd = portalock_fd (lock);
  check (fd >= 0 && (fcntl (fd, F_GETFL) & O_ACCMODE) == O_RDWR
         && (fcntl (fd, F_GETFD) & FD_CLOEXEC) != 0,
         "nfs: ... on the file reopened read-write, close-on-exec");
  check (probe_lock (path, PORTALOCK_BACKEND_FLOCK, PORTALOCK_EX, 0, 0)
         == EWOULDBLOCK, "nfs: ... and the lock is held");
  check (portalock_release (lock) == 0, "nfs: ... and released");

  /* Without write permission the retry cannot help: EBADF stays.  */
  const char *dir = test_path ("nfs-dir");
  mkdir (dir, 0755);
  portalock *dlock = portalock_new (dir);
  portalock_set_backend (dlock, PORTALOCK_BACKEND_FLOCK);
  portalock_set_mode (dlock, "r");
  refused = 0;
  check (portalock_acquire (dlock) == -1 && errno == EBADF && refused == 1,
         "nfs: a directory is not reopened: EBADF");
  portalock_free (dlock);
  portalock_free (lock);
  return check_exit ();
}
