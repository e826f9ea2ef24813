/* backend-win32.c: locks with LockFileEx, owned by the Windows handle.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <io.h>
#include <stdint.h>
#include <windows.h>

#include "portalock-private.h"

/* Windows byte-range locks are mandatory: while one handle holds a range,
   other handles' reads and writes of it fail.  A lock of the whole file
   would thus stop everyone else from even reading the data, which no
   POSIX user of a lock file expects.  So a request for the whole file
   (START 0, LENGTH 0: what lock objects and plock ask for, and what
   portalock_lock asks for) locks one byte that no file can hold, the
   last one of the 64-bit offset space.  Whole-file locks then exclude
   each other exactly as flock's do, and the data stays readable and
   writable by everyone; see the Windows section of the manual.

   An explicit range locks exactly the bytes asked for (mandatory on
   Windows).  A LENGTH of 0 with a START means "to the end of the file
   and beyond", as for fcntl: the bytes from START to the end of the
   offset space, which include the far byte.

   The locks belong to the handle behind the descriptor (_get_osfhandle):
   a second descriptor of the file in the same process conflicts like
   another process, and closing a descriptor drops only its locks.

   Windows stacks locks where POSIX replaces them: a handle that holds a
   shared lock and asks for another shared lock holds two, and an
   exclusive request over its own lock fails.  So a lock request first
   drops whatever the handle holds on the range, as flock(2) does for a
   conversion (which is not atomic there either).  */

/* The far byte that stands for the whole file.  */
#define FAR_OFFSET UINT64_MAX

/* Set OFFSET and COUNT to the bytes that START and LENGTH name.  */
static void
win32_range (off_t start, off_t length, uint64_t *offset, uint64_t *count)
{
  if (start == 0 && length == 0)
    {
      *offset = FAR_OFFSET;
      *count = 1;
    }
  else
    {
      *offset = (uint64_t) start;
      /* Offset plus count may reach 2^64 but not pass it.  */
      *count = length == 0 ? UINT64_MAX - (uint64_t) start + 1
                           : (uint64_t) length;
      if (*count == 0)
        *count = UINT64_MAX;
    }
}

/* Return the handle of FD, or INVALID_HANDLE_VALUE with errno EBADF.  */
static HANDLE
win32_handle (int fd)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    errno = EBADF;
  return h;
}

int
portalock_win32_errno (unsigned long error)
{
  switch (error)
    {
    case ERROR_LOCK_VIOLATION:
    case ERROR_SHARING_VIOLATION:
    case ERROR_IO_PENDING:
      return EWOULDBLOCK;
    case ERROR_INVALID_HANDLE:
      return EBADF;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
      return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return EACCES;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return EEXIST;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return ENOMEM;
    case ERROR_TOO_MANY_OPEN_FILES:
      return EMFILE;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_NO_UNICODE_TRANSLATION:
      return EINVAL;
    case ERROR_DIRECTORY:
      return ENOTDIR;
    case ERROR_FILENAME_EXCED_RANGE:
      return ENAMETOOLONG;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
      return ENOTSUP;
    case ERROR_OPERATION_ABORTED:
    case ERROR_SEM_TIMEOUT:
    case WAIT_TIMEOUT:
      return ETIMEDOUT;
    default:
      return EIO;
    }
}

/* Drop whatever HANDLE holds on OFFSET, COUNT; keeps errno.  Locks of
   the same range stack (see above), so repeat until none is left.  */
static void
win32_drop (HANDLE h, uint64_t offset, uint64_t count)
{
  OVERLAPPED ov = { 0 };
  ov.Offset = (DWORD) offset;
  ov.OffsetHigh = (DWORD) (offset >> 32);
  for (int i = 0; i < 64; i++)
    if (!UnlockFileEx (h, 0, (DWORD) count, (DWORD) (count >> 32), &ov))
      break;
}

static int
win32_lock (int fd, int type, off_t start, off_t length, bool wait)
{
  HANDLE h = win32_handle (fd);
  if (h == INVALID_HANDLE_VALUE)
    return -1;
  uint64_t offset, count;
  win32_range (start, length, &offset, &count);
  win32_drop (h, offset, count);

  OVERLAPPED ov = { 0 };
  ov.Offset = (DWORD) offset;
  ov.OffsetHigh = (DWORD) (offset >> 32);
  DWORD flags = ((type == PORTALOCK_EX ? LOCKFILE_EXCLUSIVE_LOCK : 0)
                 | (wait ? 0 : LOCKFILE_FAIL_IMMEDIATELY));
  if (LockFileEx (h, flags, 0, (DWORD) count, (DWORD) (count >> 32), &ov))
    return 0;
  errno = portalock_win32_errno (GetLastError ());
  return -1;
}

static int
win32_unlock (int fd, off_t start, off_t length)
{
  HANDLE h = win32_handle (fd);
  if (h == INVALID_HANDLE_VALUE)
    return -1;
  uint64_t offset, count;
  win32_range (start, length, &offset, &count);
  OVERLAPPED ov = { 0 };
  ov.Offset = (DWORD) offset;
  ov.OffsetHigh = (DWORD) (offset >> 32);
  if (UnlockFileEx (h, 0, (DWORD) count, (DWORD) (count >> 32), &ov))
    {
      /* Drop any stacked lock too.  */
      win32_drop (h, offset, count);
      return 0;
    }
  DWORD error = GetLastError ();
  /* Releasing what one does not hold succeeds, as flock(2) and fcntl(2)
     do.  Windows says ERROR_NOT_LOCKED, Wine ERROR_LOCK_VIOLATION.  */
  if (error == ERROR_NOT_LOCKED || error == ERROR_LOCK_VIOLATION)
    return 0;
  errno = portalock_win32_errno (error);
  return -1;
}

const struct portalock_backend_ops portalock_backend_win32 =
{
  .id = PORTALOCK_BACKEND_WIN32,
  .name = "win32",
  .ranges = true,
  .shared = true,
  .process_scoped = false,
  .converts_by_unlocking = true,
  .lock = win32_lock,
  .unlock = win32_unlock,
};
