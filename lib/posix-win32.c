/* posix-win32.c: the POSIX file calls of posix-win32.h, on Windows.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
/* windows.h declares the system's gethostname, which must keep its name
   here.  */
#undef gethostname
#include <windows.h>

#include "portalock-private.h"

/* Return a malloc'd UTF-16 copy of the UTF-8 string PATH, or NULL with
   errno (EINVAL for bytes that are not UTF-8, ENOMEM).  */
wchar_t *
portalock_win32_wide (const char *path)
{
  int n = MultiByteToWideChar (CP_UTF8, MB_ERR_INVALID_CHARS, path, -1,
                               NULL, 0);
  if (n <= 0)
    {
      errno = EINVAL;
      return NULL;
    }
  wchar_t *wide = malloc (n * sizeof *wide);
  if (wide == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  MultiByteToWideChar (CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n);
  return wide;
}

/* Open PATH for the CreateFileW ACCESS with DISPOSITION and FLAGS,
   sharing everything.  Return the handle, or INVALID_HANDLE_VALUE with
   errno.  */
static HANDLE
open_handle (const char *path, DWORD access, DWORD disposition,
             DWORD flags)
{
  wchar_t *wide = portalock_win32_wide (path);
  if (wide == NULL)
    return INVALID_HANDLE_VALUE;
  HANDLE h = CreateFileW (wide, access,
                          FILE_SHARE_READ | FILE_SHARE_WRITE
                          | FILE_SHARE_DELETE,
                          NULL, disposition, flags, NULL);
  if (h == INVALID_HANDLE_VALUE)
    errno = portalock_win32_errno (GetLastError ());
  free (wide);
  return h;
}

/* The open flags of each descriptor open made, for F_GETFL.  */
#define MAX_TRACKED 4096
static int open_flags[MAX_TRACKED];
static pthread_mutex_t flags_mutex = PTHREAD_MUTEX_INITIALIZER;

int
portalock_win32_open (const char *path, int flags, ...)
{
  DWORD access = 0;
  switch (flags & O_ACCMODE)
    {
    case O_RDONLY: access = GENERIC_READ; break;
    case O_WRONLY: access = GENERIC_WRITE; break;
    default: access = GENERIC_READ | GENERIC_WRITE; break;
    }
  /* Never CREATE_ALWAYS or TRUNCATE_EXISTING: on a name whose deletion
     is pending they would truncate the doomed file.  O_TRUNC is carried
     out after the open, on the file actually opened.  */
  DWORD disposition = ((flags & O_CREAT) == 0 ? OPEN_EXISTING
                       : (flags & O_EXCL) ? CREATE_NEW : OPEN_ALWAYS);
  /* FILE_FLAG_BACKUP_SEMANTICS lets a directory be opened too.  */
  DWORD attributes = FILE_ATTRIBUTE_NORMAL | FILE_FLAG_BACKUP_SEMANTICS;
  if (flags & O_NOFOLLOW)
    attributes |= FILE_FLAG_OPEN_REPARSE_POINT;
  HANDLE h = open_handle (path, access, disposition, attributes);
  if (h == INVALID_HANDLE_VALUE)
    return -1;
  /* FILE_FLAG_BACKUP_SEMANTICS opens a directory for writing too; POSIX
     open refuses that with EISDIR, and so does this.  */
  BY_HANDLE_FILE_INFORMATION info;
  if ((flags & O_ACCMODE) != O_RDONLY
      && GetFileInformationByHandle (h, &info)
      && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
    {
      CloseHandle (h);
      errno = EISDIR;
      return -1;
    }
  if ((flags & O_TRUNC) && !SetEndOfFile (h))
    {
      errno = portalock_win32_errno (GetLastError ());
      CloseHandle (h);
      return -1;
    }
  int fd = _open_osfhandle ((intptr_t) h, (flags & (O_ACCMODE | O_APPEND))
                            | O_BINARY);
  if (fd < 0)
    {
      CloseHandle (h);
      errno = EMFILE;
      return -1;
    }
  if (fd < MAX_TRACKED)
    {
      pthread_mutex_lock (&flags_mutex);
      open_flags[fd] = (flags & (O_ACCMODE | O_APPEND)) | 0x1000000;
      pthread_mutex_unlock (&flags_mutex);
    }
  return fd;
}

int
portalock_win32_fcntl (int fd, int cmd, ...)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    {
      errno = EBADF;
      return -1;
    }
  if (cmd == F_SETFL)
    return 0;
  if (cmd != F_GETFL)
    {
      errno = EINVAL;
      return -1;
    }
  int flags = O_RDWR;
  if (fd >= 0 && fd < MAX_TRACKED)
    {
      pthread_mutex_lock (&flags_mutex);
      if (open_flags[fd] != 0)
        flags = open_flags[fd] & (O_ACCMODE | O_APPEND);
      pthread_mutex_unlock (&flags_mutex);
    }
  return flags;
}

/* Fill ST from the open handle H.  Return 0 or -1 with errno.  */
static int
stat_handle (HANDLE h, struct portalock_win32_stat *st)
{
  BY_HANDLE_FILE_INFORMATION info;
  /* A pipe or a console has no file information: fstat of one succeeds
     on POSIX, and says what it is.  */
  DWORD type = GetFileType (h);
  if (type == FILE_TYPE_PIPE || type == FILE_TYPE_CHAR)
    {
      memset (st, 0, sizeof *st);
      st->st_mode = (type == FILE_TYPE_PIPE ? S_IFIFO : S_IFCHR) | 0644;
      st->st_nlink = 1;
      return 0;
    }
  if (!GetFileInformationByHandle (h, &info))
    {
      errno = portalock_win32_errno (GetLastError ());
      return -1;
    }
  memset (st, 0, sizeof *st);
  st->st_dev = info.dwVolumeSerialNumber;
  st->st_ino = ((uint64_t) info.nFileIndexHigh << 32) | info.nFileIndexLow;
  st->st_nlink = info.nNumberOfLinks;
  st->st_size = ((int64_t) info.nFileSizeHigh << 32) | info.nFileSizeLow;
  if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
    st->st_mode = S_IFDIR | 0755;
  else if (GetFileType (h) == FILE_TYPE_DISK)
    st->st_mode = S_IFREG | 0644;
  else
    st->st_mode = S_IFIFO | 0644;
  FILE_STANDARD_INFO standard;
  if (GetFileInformationByHandleEx (h, FileStandardInfo, &standard,
                                    sizeof standard)
      && standard.DeletePending)
    st->st_nlink = 0;
  ULARGE_INTEGER t;
  t.LowPart = info.ftLastWriteTime.dwLowDateTime;
  t.HighPart = info.ftLastWriteTime.dwHighDateTime;
  st->st_mtime = (time_t) ((t.QuadPart - 116444736000000000ULL) / 10000000);
  return 0;
}

int
portalock_win32_fstat (int fd, struct portalock_win32_stat *st)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    {
      errno = EBADF;
      return -1;
    }
  return stat_handle (h, st);
}

static int
stat_path (const char *path, struct portalock_win32_stat *st, DWORD flags)
{
  HANDLE h = open_handle (path, 0, OPEN_EXISTING,
                          FILE_FLAG_BACKUP_SEMANTICS | flags);
  if (h == INVALID_HANDLE_VALUE)
    return -1;
  int r = stat_handle (h, st);
  int saved_errno = errno;
  CloseHandle (h);
  errno = saved_errno;
  return r;
}

int
portalock_win32_stat (const char *path, struct portalock_win32_stat *st)
{
  return stat_path (path, st, 0);
}

int
portalock_win32_lstat (const char *path, struct portalock_win32_stat *st)
{
  return stat_path (path, st, FILE_FLAG_OPEN_REPARSE_POINT);
}

int
portalock_win32_unlink (const char *path)
{
  wchar_t *wide = portalock_win32_wide (path);
  if (wide == NULL)
    return -1;
  BOOL ok = DeleteFileW (wide);
  if (!ok)
    errno = portalock_win32_errno (GetLastError ());
  free (wide);
  return ok ? 0 : -1;
}

/* Read or write SIZE bytes at OFFSET of FD through BUF.  */
static ssize_t
transfer (int fd, void *buf, size_t size, off_t offset, bool write)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    {
      errno = EBADF;
      return -1;
    }
  OVERLAPPED ov = { 0 };
  ov.Offset = (DWORD) (uint64_t) offset;
  ov.OffsetHigh = (DWORD) ((uint64_t) offset >> 32);
  DWORD done = 0;
  DWORD n = size > 0x7fffffff ? 0x7fffffff : (DWORD) size;
  BOOL ok = (write ? WriteFile (h, buf, n, &done, &ov)
             : ReadFile (h, buf, n, &done, &ov));
  if (!ok)
    {
      DWORD error = GetLastError ();
      if (error == ERROR_HANDLE_EOF)
        return 0;
      /* A handle not open for this transfer: EBADF, as read(2) and
         write(2) say for a descriptor without that access.  */
      errno = (error == ERROR_ACCESS_DENIED ? EBADF
               : portalock_win32_errno (error));
      return -1;
    }
  return done;
}

ssize_t
portalock_win32_pread (int fd, void *buf, size_t size, off_t offset)
{
  return transfer (fd, buf, size, offset, false);
}

ssize_t
portalock_win32_pwrite (int fd, const void *buf, size_t size, off_t offset)
{
  return transfer (fd, (void *) buf, size, offset, true);
}

int
portalock_win32_fsync (int fd)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    {
      errno = EBADF;
      return -1;
    }
  /* A handle open for reading only cannot be flushed, and has nothing
     to flush.  */
  if (!FlushFileBuffers (h) && GetLastError () != ERROR_ACCESS_DENIED)
    {
      errno = portalock_win32_errno (GetLastError ());
      return -1;
    }
  return 0;
}

int
portalock_win32_kill (pid_t pid, int signo)
{
  if (signo != 0)
    {
      errno = ENOTSUP;
      return -1;
    }
  HANDLE p = OpenProcess (PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                          (DWORD) pid);
  if (p == NULL)
    {
      errno = GetLastError () == ERROR_ACCESS_DENIED ? EPERM : ESRCH;
      return -1;
    }
  DWORD code = 0;
  BOOL ok = GetExitCodeProcess (p, &code);
  CloseHandle (p);
  if (ok && code != STILL_ACTIVE)
    {
      errno = ESRCH;
      return -1;
    }
  return 0;
}

int
portalock_win32_gethostname (char *name, int size)
{
  DWORD n = size < 0 ? 0 : (DWORD) size;
  if (!GetComputerNameExA (ComputerNameDnsHostname, name, &n))
    {
      errno = GetLastError () == ERROR_MORE_DATA ? ENAMETOOLONG : EIO;
      return -1;
    }
  return 0;
}
