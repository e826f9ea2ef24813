/* atomic-win32.c: where an atomic write goes on Windows: MoveFileExW.

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
#include "atomic-place.h"

/* The temporary file is created with CREATE_NEW (so it never opens, let
   alone truncates, a file that exists), and FlushFileBuffers gets it
   onto the disk.  MoveFileExW gives it the target's name, with
   MOVEFILE_WRITE_THROUGH so that the call returns only once the new
   name is on the disk (what atomic-posix.c does with an fsync of the
   directory).

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
   chdir before the commit does not move the file.  A rename of the
   directory itself would leave the temporary file in the moved
   directory, out of reach of the commit's full paths: so the write
   keeps a handle on the directory from start to commit that does not
   share delete access, and Windows refuses to rename (or delete) the
   directory meanwhile (a sharing violation).  Full paths get the
   "\\?\" prefix, so that a long name is not cut at MAX_PATH.  */

/* How many times a commit asks for a move that another process's open
   handle denies.  */
#define MOVE_TRIES 70

#ifndef NAME_MAX
# define NAME_MAX 255
#endif
#ifndef PATH_MAX
# define PATH_MAX 260
#endif

struct portalock_atomic_place
{
  wchar_t *target;      /* the target's full path */
  wchar_t *temp;        /* the temporary file's full path */
  HANDLE dir;           /* the target's directory, kept from being
                           renamed; or INVALID_HANDLE_VALUE */
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

/* Check the UTF-8 PATH as atomic-posix.c does: its length, and its
   last component's.  Return 0 or an errno value.  */
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

/* Open a handle on TARGET's directory that keeps it from being
   renamed or deleted until it is closed: it reads (so that Windows
   records its sharing) and does not share delete access.  Set *DIR to
   it, or to INVALID_HANDLE_VALUE if it cannot be had.  Return 0 or an
   errno value.  */
static int
guard_directory (wchar_t *target, HANDLE *dir)
{
  size_t n = directory_length (target);
  if (n >= 2 && target[n - 2] == L':')
    n++;
  wchar_t saved = target[n - 1];
  target[n - 1] = L'\0';
  *dir = CreateFileW (target, GENERIC_READ,
                      FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                      OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
  DWORD error = *dir == INVALID_HANDLE_VALUE ? GetLastError () : 0;
  target[n - 1] = saved;
  /* A directory that may not be read, or that someone else holds open
     without sharing reads, is left unguarded.  */
  if (error == 0 || error == ERROR_ACCESS_DENIED
      || error == ERROR_SHARING_VIOLATION)
    return 0;
  return portalock_win32_errno (error);
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

/* Make PLACE->temp a fresh name for a temporary file next to the
   target: ".NAME.XXXXXX", with NAME cut short to fit NAME_MAX.  SEED and
   ATTEMPT make it differ; CREATE_NEW settles any collision.  Return 0 or
   ENOMEM.  */
static int
make_temp_name (struct portalock_atomic_place *place, uintptr_t seed,
                unsigned attempt)
{
  size_t dir = directory_length (place->target);
  const wchar_t *name = place->target + dir;
  size_t keep = wcslen (name);
  if (keep > NAME_MAX - (PORTALOCK_ATOMIC_RANDOM_CHARS + 2))
    keep = NAME_MAX - (PORTALOCK_ATOMIC_RANDOM_CHARS + 2);
  /* Never keep half of a surrogate pair.  */
  if (keep > 0 && name[keep - 1] >= 0xD800 && name[keep - 1] < 0xDC00)
    keep--;
  free (place->temp);
  place->temp = malloc ((dir + keep + PORTALOCK_ATOMIC_RANDOM_CHARS + 3)
                        * sizeof *place->temp);
  if (place->temp == NULL)
    return ENOMEM;
  wchar_t *p = place->temp;
  wmemcpy (p, place->target, dir);
  p += dir;
  *p++ = L'.';
  wmemcpy (p, name, keep);
  p += keep;
  *p++ = L'.';
  char suffix[PORTALOCK_ATOMIC_RANDOM_CHARS + 1];
  portalock_atomic_suffix (suffix, seed, attempt);
  for (int i = 0; i <= PORTALOCK_ATOMIC_RANDOM_CHARS; i++)
    *p++ = (wchar_t) (unsigned char) suffix[i];
  return 0;
}

/* Create PLACE's temporary file, its descriptor in *FD.  Return 0 or
   an errno value.  */
static int
create_temp (struct portalock_atomic_place *place, uintptr_t seed, int *fd)
{
  int e = EEXIST;
  for (unsigned attempt = 0; attempt < PORTALOCK_ATOMIC_TRIES; attempt++)
    {
      e = make_temp_name (place, seed, attempt);
      if (e != 0)
        return e;
      /* Not inheritable: the handle is close-on-exec.  Sharing delete
         lets a commit's move, or an abort, proceed whoever else opened
         the name meanwhile.  */
      HANDLE h = CreateFileW (place->temp, GENERIC_READ | GENERIC_WRITE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE
                              | FILE_SHARE_DELETE, NULL, CREATE_NEW,
                              FILE_ATTRIBUTE_NORMAL, NULL);
      if (h != INVALID_HANDLE_VALUE)
        {
          *fd = _open_osfhandle ((intptr_t) h, _O_RDWR | _O_BINARY);
          if (*fd >= 0)
            return 0;
          CloseHandle (h);
          DeleteFileW (place->temp);
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

void
portalock_atomic_place_free (struct portalock_atomic_place *place)
{
  if (place == NULL)
    return;
  if (place->dir != INVALID_HANDLE_VALUE)
    CloseHandle (place->dir);
  free (place->target);
  free (place->temp);
  free (place);
}

int
portalock_atomic_place_open (const char *path, int flags, mode_t mode,
                             uintptr_t seed,
                             struct portalock_atomic_place **result,
                             int *fd)
{
  /* Windows applies no permission bits: MODE is checked by atomic.c and
     has nothing to set here.  */
  (void) mode;
  int e = check_path (path);
  if (e != 0)
    return e;
  struct portalock_atomic_place *place = calloc (1, sizeof *place);
  if (place == NULL)
    return ENOMEM;
  place->dir = INVALID_HANDLE_VALUE;
  e = full_path (path, &place->target);
  if (e == 0)
    e = check_target (place->target, flags);
  if (e == 0)
    e = guard_directory (place->target, &place->dir);
  if (e == 0)
    e = create_temp (place, seed, fd);
  if (e != 0)
    {
      /* The temporary file was not created, or create_temp removed
         it.  */
      portalock_atomic_place_free (place);
      return e;
    }
  *result = place;
  return 0;
}

int
portalock_atomic_place_sync (int fd)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  if (h == INVALID_HANDLE_VALUE)
    return EBADF;
  return FlushFileBuffers (h) ? 0 : last_errno ();
}

int
portalock_atomic_place_write_error (int fd)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
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

/* Give PLACE's temporary file the target's name, replacing it only if
   FLAGS allow.  Return 0 or an errno value; on failure the
   temporary file is still there and the target untouched.  */
static int
move_temp (struct portalock_atomic_place *place, int flags)
{
  DWORD how = MOVEFILE_WRITE_THROUGH;
  if (flags & PORTALOCK_ATOMIC_REPLACE)
    how |= MOVEFILE_REPLACE_EXISTING;
  DWORD pause = 1;
  for (int attempt = 0;; attempt++)
    {
      if (MoveFileExW (place->temp, place->target, how))
        return 0;
      DWORD error = GetLastError ();
      if (error == ERROR_ALREADY_EXISTS || error == ERROR_FILE_EXISTS)
        return EEXIST;
      /* A directory took the target's name.  */
      DWORD attributes = GetFileAttributesW (place->target);
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
portalock_atomic_place_publish (struct portalock_atomic_place *place,
                                int flags)
{
  int e = move_temp (place, flags);
  if (e != 0)
    portalock_atomic_place_discard (place);
  return e;
}

void
portalock_atomic_place_discard (struct portalock_atomic_place *place)
{
  int saved = errno;
  DWORD saved_error = GetLastError ();
  DeleteFileW (place->temp);
  SetLastError (saved_error);
  errno = saved;
}
