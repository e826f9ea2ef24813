/* plockfault.c: plock with flock(2) and open(2) that fail as NFS and a
   racing process would make them.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* tests/fault/plock is plock's own objects linked with this file, which
   defines flock and open itself: plock, and the library it calls
   (shared, or linked in), then reach these definitions instead of the C
   library's.  Each passes the call on to the kernel; the environment
   says when to do something else (tests/portalock.tools/fault.exp):

   PLOCK_FAULT_FLOCK=ERRNO (EBADF, EIO, ENOLCK, EINVAL)
     An exclusive flock on a descriptor open without write access fails
     with ERRNO.  With EBADF, that is what Linux gives on NFS, where it
     carries out flock(2) as a POSIX lock: flock(1) then opens the file
     again for reading and writing and tries once more, for EBADF and
     EIO only.

   PLOCK_FAULT_APPEAR=PATH
     A create of PATH (open with O_CREAT) is preceded by another
     process's: PATH appears, holding "someone else's file\n", just
     before the call goes to the kernel.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef O_LARGEFILE
# define O_LARGEFILE 0
#endif

int test_flock (int fd, int op) __asm__ ("flock");
int test_open (const char *path, int flags, ...) __asm__ ("open");
int test_open64 (const char *path, int flags, ...) __asm__ ("open64");

/* The errno PLOCK_FAULT_FLOCK names, or 0.  */
static int
flock_fault (void)
{
  static const struct { const char *name; int value; } names[] = {
    { "EBADF", EBADF }, { "EIO", EIO }, { "ENOLCK", ENOLCK },
    { "EINVAL", EINVAL }
  };
  const char *want = getenv ("PLOCK_FAULT_FLOCK");
  if (want != NULL)
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strcmp (want, names[i].name) == 0)
        return names[i].value;
  return 0;
}

int
test_flock (int fd, int op)
{
  int fault = flock_fault ();
  if (fault != 0 && (op & LOCK_EX) != 0
      && (fcntl (fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
    {
      errno = fault;
      return -1;
    }
  return syscall (SYS_flock, fd, op);
}

/* The one definition behind both names.  */
static int
interposed_open (const char *path, int flags, mode_t mode)
{
  const char *appear = getenv ("PLOCK_FAULT_APPEAR");
  if (appear != NULL && (flags & O_CREAT) != 0 && strcmp (path, appear) == 0)
    {
      static const char text[] = "someone else's file\n";
      int fd = syscall (SYS_openat, AT_FDCWD, path,
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          if (write (fd, text, sizeof text - 1) < 0)
            abort ();
          syscall (SYS_close, fd);
        }
    }
  return syscall (SYS_openat, AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

int
test_open (const char *path, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, mode_t);
      va_end (ap);
    }
  return interposed_open (path, flags, mode);
}

int
test_open64 (const char *path, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, mode_t);
      va_end (ap);
    }
  return interposed_open (path, flags, mode);
}
