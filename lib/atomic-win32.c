/* atomic-win32.c: atomic file writes on Windows, published with MoveFileExW.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#undef gethostname
#include <windows.h>

#include "portalock-private.h"

/* How a write is made atomic on Windows.  As in atomic.c, the new
   content goes to a temporary file in the target's own directory,
   created with CREATE_NEW (so it never opens, let alone truncates, a
   file that exists), under the name ".NAME.XXXXXX".  The commit
   flushes the stream, calls FlushFileBuffers and closes the file; then
   MoveFileExW gives it the target's name, with MOVEFILE_WRITE_THROUGH
   so that the call returns only once the new name is on the disk (the
   part that atomic.c does with an fsync of the directory).

   Without PORTALOCK_ATOMIC_REPLACE the move is made without
   MOVEFILE_REPLACE_EXISTING, and the system refuses it if the target
   exists (ERROR_ALREADY_EXISTS): an existing file is never replaced.
   With it, the move replaces the target in one step.

   A replacing move fails with ERROR_ACCESS_DENIED (or a sharing
   violation) while another process has the target open, even a
   reader that shares delete access; so the commit tries again, with
   pauses from 1 ms doubling up to 16 ms, for about a second before it
   gives up with EACCES.  ReplaceFileW is not used: it is not atomic
   under Wine, and it leaves files of its own behind when it fails.

   Windows has no directory descriptors to resolve names against, so
   the directory is resolved to a full path when the write starts: a
   chdir before the commit does not move the file, but a rename of the
   directory itself makes the commit fail (or publish under the new
   name of a directory that took the old one's place).  Full paths get
   the "\\?\" prefix, so that a long name is not cut at MAX_PATH.  */

/* The random part of a temporary file's name, how many names to try,
   and how many times a commit asks for a move that another process's
   open handle denies.  */
#define RANDOM_CHARS 6
#define TRIES 100
#define MOVE_TRIES 70

#ifndef NAME_MAX
# define NAME_MAX 255
#endif
#ifndef PATH_MAX
# define PATH_MAX 260
#endif

struct portalock_atomic
{
  int fd;               /* the temporary file, or -1 once closed */
  FILE *stream;         /* a stream on FD, once asked for; owns FD */
  int flags;
  wchar_t *target;      /* the target's full path */
  wchar_t *temp;        /* the temporary file's full path */
};

static int
last_errno (void)
{
  return portalock_win32_errno (GetLastError ());
}

static bool
is_separator (wchar_t c)
{
  return c == L'/' || c == L'\\';
}

/* Check the UTF-8 PATH as atomic.c does: its length, and its last
   component's.  Return 0 or an errno value.  */
static int
check_path (const char *path)
{
  size_t length = strlen (path);
  if (length == 0)
    return ENOENT;
  if (length >= PATH_MAX)
    return ENAMETOOLONG;
  const char *base = path;
  for (const char *p = path; *p != '\0'; p++)
    if (*p == '/' || *p == '\\' || (*p == ':' && p == path + 1))
      base = p + 1;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return EISDIR;
  /* A colon in a name would address a stream of another file.  */
  if (strchr (base, ':') != NULL)
    return EINVAL;
  if (strlen (base) > NAME_MAX)
    return ENAMETOOLONG;
  return 0;
}

/* Return a malloc'd "\\?\" path for the full path FULL, or NULL.  */
static wchar_t *
long_path (const wchar_t *full)
{
  size_t n = wcslen (full);
  wchar_t *p = malloc ((n + 9) * sizeof *p);
  if (p == NULL)
    return NULL;
  if (full[0] == L'\\' && full[1] == L'\\' && full[2] == L'?')
    wcscpy (p, full);
  else if (full[0] == L'\\' && full[1] == L'\\')
    {
      /* \\server\share\... is \\?\UNC\server\share\...  */
      wcscpy (p, L"\\\\?\\UNC\\");
      wcscat (p, full + 2);
    }
  else
    {
      wcscpy (p, L"\\\\?\\");
      wcscat (p, full);
    }
  return p;
}

/* Set *TARGET to the malloc'd full path of the UTF-8 PATH.  Return 0 or
   an errno value.  */
static int
full_path (const char *path, wchar_t **target)
{
  wchar_t *wide = portalock_win32_wide (path);
  if (wide == NULL)
    return errno;
  DWORD n = GetFullPathNameW (wide, 0, NULL, NULL);
  wchar_t *full = n > 0 ? malloc (n * sizeof *full) : NULL;
  int e = 0;
  if (n == 0)
    e = last_errno ();
  else if (full == NULL)
    e = ENOMEM;
  else if (GetFullPathNameW (wide, n, full, NULL) == 0)
    e = last_errno ();
  free (wide);
  if (e == 0)
    {
      *target = long_path (full);
      if (*target == NULL)
        e = ENOMEM;
    }
  free (full);
  return e;
}

/* The length of the directory part of the full path PATH, with its
   last separator.  */
static size_t
directory_length (const wchar_t *path)
{
  size_t n = wcslen (path);
  while (n > 0 && !is_separator (path[n - 1]))
    n--;
  return n;
}

/* Create the directory DIR (a full path) and its missing parents.
   Return 0 or an errno value; directories made before a failure
   stay.  */
static int
make_directories (wchar_t *dir)
{
  if (CreateDirectoryW (dir, NULL))
    return 0;
  DWORD error = GetLastError ();
  if (error == ERROR_ALREADY_EXISTS)
    {
      DWORD attributes = GetFileAttributesW (dir);
      return (attributes != INVALID_FILE_ATTRIBUTES
              && (attributes & FILE_ATTRIBUTE_DIRECTORY)) ? 0 : ENOTDIR;
    }
  if (error != ERROR_PATH_NOT_FOUND)
    return portalock_win32_errno (error);
  size_t n = directory_length (dir);
  if (n < 2)
    return ENOENT;
  /* Make the parent, then try again.  */
  wchar_t saved = dir[n - 1];
  dir[n - 1] = L'\0';
  int e = make_directories (dir);
  dir[n - 1] = saved;
  if (e != 0)
    return e;
  return CreateDirectoryW (dir, NULL) ? 0 : last_errno ();
}

/* Check that TARGET's directory exists (creating it with
   PORTALOCK_ATOMIC_MKDIRS in FLAGS) and that TARGET may be written as
   FLAGS say.  Return 0 or an errno value.  */
static int
check_target (wchar_t *target, int flags)
{
  /* The directory's name: without its last separator, but for a
     drive's root ("X:\").  */
  size_t n = directory_length (target);
  if (n >= 2 && target[n - 2] == L':')
    n++;
  wchar_t saved = target[n - 1];
  target[n - 1] = L'\0';
  int e = 0;
  DWORD attributes = GetFileAttributesW (target);
  if (attributes == INVALID_FILE_ATTRIBUTES)
    {
      e = last_errno ();
      if (e == ENOENT && (flags & PORTALOCK_ATOMIC_MKDIRS))
        e = make_directories (target);
    }
  else if (!(attributes & FILE_ATTRIBUTE_DIRECTORY))
    e = ENOTDIR;
  target[n - 1] = saved;
  if (e != 0)
    return e;

  /* A symbolic link's own attributes: it counts as a name that
     exists, and is replaced, not followed.  */
  attributes = GetFileAttributesW (target);
  if (attributes == INVALID_FILE_ATTRIBUTES)
    {
      e = last_errno ();
      return e == ENOENT ? 0 : e;
    }
  if (attributes & FILE_ATTRIBUTE_DIRECTORY)
    return EISDIR;
  if (!(flags & PORTALOCK_ATOMIC_REPLACE))
    return EEXIST;
  return 0;
}

/* Make ATOMIC->temp a fresh name for a temporary file next to the
   target: ".NAME.XXXXXX", with NAME cut short to fit NAME_MAX.  SEED and
   ATTEMPT make it differ between handles, processes and tries;
   CREATE_NEW settles any collision.  Return 0 or ENOMEM.  */
static int
make_temp_name (portalock_atomic *atomic, uintptr_t seed, unsigned attempt)
{
  static const wchar_t chars[] =
    L"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t dir = directory_length (atomic->target);
  const wchar_t *name = atomic->target + dir;
  size_t keep = wcslen (name);
  if (keep > NAME_MAX - (RANDOM_CHARS + 2))
    keep = NAME_MAX - (RANDOM_CHARS + 2);
  /* Never keep half of a surrogate pair.  */
  if (keep > 0 && name[keep - 1] >= 0xD800 && name[keep - 1] < 0xDC00)
    keep--;
  free (atomic->temp);
  atomic->temp = malloc ((dir + keep + RANDOM_CHARS + 3)
                         * sizeof *atomic->temp);
  if (atomic->temp == NULL)
    return ENOMEM;
  wchar_t *p = atomic->temp;
  wmemcpy (p, atomic->target, dir);
  p += dir;
  *p++ = L'.';
  wmemcpy (p, name, keep);
  p += keep;
  *p++ = L'.';
  LARGE_INTEGER counter;
  QueryPerformanceCounter (&counter);
  uint64_t x = ((uint64_t) counter.QuadPart * 0x9E3779B97F4A7C15ULL)
               ^ ((uint64_t) GetCurrentProcessId () << 40)
               ^ ((uint64_t) GetCurrentThreadId () << 20) ^ (uint64_t) seed
               ^ ((uint64_t) attempt * 0xBF58476D1CE4E5B9ULL);
  for (int i = 0; i < RANDOM_CHARS; i++)
    {
      x ^= x >> 31;
      x *= 0x94D049BB133111EBULL;
      x ^= x >> 29;
      *p++ = chars[x % (sizeof chars / sizeof chars[0] - 1)];
    }
  *p = L'\0';
  return 0;
}

/* Create ATOMIC's temporary file.  Return 0 or an errno value.  */
static int
create_temp (portalock_atomic *atomic)
{
  int e = EEXIST;
  for (unsigned attempt = 0; attempt < TRIES; attempt++)
    {
      e = make_temp_name (atomic, (uintptr_t) atomic, attempt);
      if (e != 0)
        return e;
      /* Not inheritable: the handle is close-on-exec.  Sharing delete
         lets a commit's move, or an abort, proceed whoever else opened
         the name meanwhile.  */
      HANDLE h = CreateFileW (atomic->temp, GENERIC_READ | GENERIC_WRITE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE
                              | FILE_SHARE_DELETE, NULL, CREATE_NEW,
                              FILE_ATTRIBUTE_NORMAL, NULL);
      if (h != INVALID_HANDLE_VALUE)
        {
          atomic->fd = _open_osfhandle ((intptr_t) h, _O_RDWR | _O_BINARY);
          if (atomic->fd >= 0)
            return 0;
          CloseHandle (h);
          DeleteFileW (atomic->temp);
          return EMFILE;
        }
      DWORD error = GetLastError ();
      e = portalock_win32_errno (error);
      /* A name that exists, or whose deletion is pending (access
         denied): try another.  */
      if (error != ERROR_FILE_EXISTS && error != ERROR_ALREADY_EXISTS
          && error != ERROR_ACCESS_DENIED)
        return e;
    }
  return e;
}

static void
destroy (portalock_atomic *atomic)
{
  if (atomic->stream != NULL)
    fclose (atomic->stream);
  else if (atomic->fd >= 0)
    close (atomic->fd);
  free (atomic->target);
  free (atomic->temp);
  free (atomic);
}

portalock_atomic *
portalock_atomic_open (const char *path, int flags, mode_t mode)
{
  if (path == NULL
      || (flags & ~(PORTALOCK_ATOMIC_REPLACE | PORTALOCK_ATOMIC_MKDIRS)) != 0
      || (mode & ~(mode_t) 07777) != 0)
    {
      errno = EINVAL;
      return NULL;
    }
  int e = check_path (path);
  if (e != 0)
    {
      errno = e;
      return NULL;
    }
  portalock_atomic *atomic = calloc (1, sizeof *atomic);
  if (atomic == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  atomic->fd = -1;
  atomic->flags = flags;
  e = full_path (path, &atomic->target);
  if (e == 0)
    e = check_target (atomic->target, flags);
  if (e == 0)
    e = create_temp (atomic);
  if (e != 0)
    {
      /* The temporary file was not created, or create_temp removed
         it.  */
      destroy (atomic);
      errno = e;
      return NULL;
    }
  return atomic;
}

int
portalock_atomic_fd (const portalock_atomic *atomic)
{
  if (atomic == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  return atomic->fd;
}

FILE *
portalock_atomic_stream (portalock_atomic *atomic)
{
  if (atomic == NULL)
    {
      errno = EINVAL;
      return NULL;
    }
  /* Binary, as on POSIX: the bytes written are the bytes published.  */
  if (atomic->stream == NULL)
    {
      atomic->stream = _fdopen (atomic->fd, "w+b");
      if (atomic->stream == NULL)
        errno = ENOMEM;
    }
  return atomic->stream;
}

/* Return why an earlier write through ATOMIC's stream failed, as
   atomic.c does: ask the file system again with one byte past the end
   of the temporary file (deleted anyway), or say EIO.  */
static int
stream_error (const portalock_atomic *atomic)
{
  HANDLE h = (HANDLE) _get_osfhandle (atomic->fd);
  LARGE_INTEGER size;
  if (h != INVALID_HANDLE_VALUE && GetFileSizeEx (h, &size))
    {
      OVERLAPPED ov = { 0 };
      ov.Offset = (DWORD) size.QuadPart;
      ov.OffsetHigh = (DWORD) ((uint64_t) size.QuadPart >> 32);
      DWORD done;
      if (!WriteFile (h, "", 1, &done, &ov))
        return last_errno ();
    }
  return EIO;
}

/* Get the temporary file's content onto the disk and close it.  Return
   0 or an errno value.  */
static int
finish_file (portalock_atomic *atomic)
{
  int e = 0;
  errno = 0;
  if (atomic->stream != NULL && fflush (atomic->stream) != 0)
    e = errno != 0 ? errno : EIO;
  if (e == 0 && atomic->stream != NULL && ferror (atomic->stream))
    e = stream_error (atomic);
  HANDLE h = (HANDLE) _get_osfhandle (atomic->fd);
  if (e == 0 && (h == INVALID_HANDLE_VALUE || !FlushFileBuffers (h)))
    e = h == INVALID_HANDLE_VALUE ? EBADF : last_errno ();
  int r = atomic->stream != NULL ? fclose (atomic->stream)
                                 : close (atomic->fd);
  if (r != 0 && e == 0)
    e = errno;
  atomic->stream = NULL;
  atomic->fd = -1;
  return e;
}

/* Give the temporary file the target's name, replacing it only if
   ATOMIC's flags allow.  Return 0 or an errno value; on failure the
   temporary file is still there and the target untouched.  */
static int
publish (portalock_atomic *atomic)
{
  DWORD how = MOVEFILE_WRITE_THROUGH;
  if (atomic->flags & PORTALOCK_ATOMIC_REPLACE)
    how |= MOVEFILE_REPLACE_EXISTING;
  DWORD pause = 1;
  for (int attempt = 0;; attempt++)
    {
      if (MoveFileExW (atomic->temp, atomic->target, how))
        return 0;
      DWORD error = GetLastError ();
      if (error == ERROR_ALREADY_EXISTS || error == ERROR_FILE_EXISTS)
        return EEXIST;
      /* A directory took the target's name.  */
      DWORD attributes = GetFileAttributesW (atomic->target);
      if (attributes != INVALID_FILE_ATTRIBUTES
          && (attributes & FILE_ATTRIBUTE_DIRECTORY))
        return EISDIR;
      /* Another process has the target open (or the name is about to be
         deleted): wait for it to let go, a while.  */
      if ((error != ERROR_ACCESS_DENIED && error != ERROR_SHARING_VIOLATION)
          || attempt + 1 >= MOVE_TRIES)
        return portalock_win32_errno (error);
      Sleep (pause);
      if (pause < 16)
        pause *= 2;
    }
}

int
portalock_atomic_commit (portalock_atomic *atomic)
{
  if (atomic == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  int e = finish_file (atomic);
  if (e == 0)
    e = publish (atomic);
  if (e != 0)
    DeleteFileW (atomic->temp);
  destroy (atomic);
  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return 0;
}

void
portalock_atomic_abort (portalock_atomic *atomic)
{
  if (atomic == NULL)
    return;
  int saved = errno;
  DWORD saved_error = GetLastError ();
  /* Close first: Windows deletes a name only when no handle is open,
     or with every handle sharing delete, as ours does.  */
  if (atomic->stream != NULL)
    fclose (atomic->stream);
  else if (atomic->fd >= 0)
    close (atomic->fd);
  atomic->stream = NULL;
  atomic->fd = -1;
  DeleteFileW (atomic->temp);
  destroy (atomic);
  SetLastError (saved_error);
  errno = saved;
}
