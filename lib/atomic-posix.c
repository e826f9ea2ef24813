/* atomic-posix.c: where an atomic write goes on POSIX systems.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portalock-private.h"
#include "atomic-place.h"

/* The temporary file is created with O_EXCL, and fsync'd before it is
   published.  Publishing without replacing (the default, as in
   portalocker) uses renameat2 (RENAME_NOREPLACE) where the system and
   the file system have it, else link(2) and unlink(2): either fails with
   EEXIST if the target appeared meanwhile, and never exposes a partial
   file.  Publishing with PORTALOCK_ATOMIC_REPLACE uses rename(2), which
   swaps the name from the old file to the new one in one step.  An fsync
   of the directory then gets the new name onto the disk.

   The directory stays open from start to commit, and every name is
   resolved relative to it, so changing the working directory in between
   cannot make the commit publish somewhere else.  A directory renamed
   in between would take the new file with it, to a place where nobody
   looks for it: so the commit first checks that the target's directory
   path, resolved from where it was at the start, still names the
   directory it holds open, and fails with ESTALE (and deletes the
   temporary file, from wherever its directory went) if it does not.  A
   rename at the very moment of the commit can still slip between the
   check and the publishing call: no POSIX call publishes relative to a
   directory's path and its descriptor at once.  */

#ifndef NAME_MAX
# define NAME_MAX 255
#endif
#ifndef PATH_MAX
# define PATH_MAX 4096
#endif
#ifndef O_CLOEXEC
# define O_CLOEXEC 0
#endif
#ifndef O_DIRECTORY
# define O_DIRECTORY 0
#endif
#ifndef O_NOFOLLOW
# define O_NOFOLLOW 0
#endif
/* A descriptor that only names a directory to resolve paths from, which
   needs no permission to read it.  */
#if defined O_PATH
# define ANCHOR_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)
#elif defined O_SEARCH
# define ANCHOR_FLAGS (O_SEARCH | O_DIRECTORY | O_CLOEXEC)
#else
# define ANCHOR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

struct portalock_atomic_place
{
  int dirfd;            /* the target's directory */
  char *dir;            /* its path, or NULL: "." (nothing to check) */
  int anchor;           /* where a relative DIR starts: the working
                           directory at the start, or AT_FDCWD */
  char *name;           /* the target's name in the directory */
  char *temp;           /* the temporary file's name in the directory */
};

/* Split PATH into a malloc'd directory name in *DIR and the address of
   its last component in *BASE.  Return 0 or an errno value.  */
static int
split_path (const char *path, char **dir, const char **base)
{
  size_t length = strlen (path);
  if (length == 0)
    return ENOENT;
  if (length >= PATH_MAX)
    return ENAMETOOLONG;
  const char *slash = strrchr (path, '/');
  *base = slash != NULL ? slash + 1 : path;
  if (**base == '\0' || strcmp (*base, ".") == 0
      || strcmp (*base, "..") == 0)
    return EISDIR;
  if (strlen (*base) > NAME_MAX)
    return ENAMETOOLONG;
  if (slash == NULL)
    *dir = strdup (".");
  else if (slash == path)
    *dir = strdup ("/");
  else
    *dir = strndup (path, slash - path);
  return *dir != NULL ? 0 : ENOMEM;
}

/* Fill TEMP with a fresh hidden name for a temporary file next to NAME,
   no longer than NAME_MAX: ".NAME.XXXXXX", with NAME cut short if need
   be.  SEED and ATTEMPT make the X's differ; O_EXCL settles any
   collision.  */
static void
make_temp_name (char *temp, const char *name, uintptr_t seed,
                unsigned attempt)
{
  size_t keep = strlen (name);
  if (keep > NAME_MAX - (PORTALOCK_ATOMIC_RANDOM_CHARS + 2))
    keep = NAME_MAX - (PORTALOCK_ATOMIC_RANDOM_CHARS + 2);
  temp[0] = '.';
  memcpy (temp + 1, name, keep);
  temp[1 + keep] = '.';
  portalock_atomic_suffix (temp + 2 + keep, seed, attempt);
}

/* Create PLACE's temporary file with MODE, its descriptor in *FD.
   Return 0 or an errno value.  */
static int
create_temp (struct portalock_atomic_place *place, mode_t mode,
             uintptr_t seed, int *fd)
{
  place->temp = malloc (NAME_MAX + 1);
  if (place->temp == NULL)
    return ENOMEM;
  for (unsigned attempt = 0; attempt < PORTALOCK_ATOMIC_TRIES; attempt++)
    {
      make_temp_name (place->temp, place->name, seed, attempt);
      *fd = openat (place->dirfd, place->temp,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    mode);
      if (*fd >= 0)
        return 0;
      if (errno != EEXIST)
        return errno;
    }
  return EEXIST;
}

/* Check that the target may be written as FLAGS say.  Return 0 or an
   errno value.  */
static int
check_target (int dirfd, const char *name, int flags)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? 0 : errno;
  if (S_ISDIR (st.st_mode))
    return EISDIR;
  if (!(flags & PORTALOCK_ATOMIC_REPLACE))
    return EEXIST;
  return 0;
}

/* Create the directory DIR and its missing parents, each with
   permissions 0777 less the umask, as portalocker's open_atomic does for
   a target's directory (mkdir -p).  Return 0 or an errno value; the
   directories made before a failure stay.  */
static int
make_directories (const char *dir)
{
  char *copy = strdup (dir);
  if (copy == NULL)
    return ENOMEM;
  int e = 0;
  for (char *p = copy + 1; e == 0; p++)
    if (*p == '/' || *p == '\0')
      {
        char c = *p;
        *p = '\0';
        if (mkdir (copy, 0777) != 0 && errno != EEXIST)
          e = errno;
        *p = c;
        if (c == '\0')
          break;
      }
  free (copy);
  return e;
}

/* Open DIR, the target's directory; with PORTALOCK_ATOMIC_MKDIRS in
   FLAGS, create it first if it is missing.  Return the descriptor, or -1
   with errno.  */
static int
open_directory (const char *dir, int flags)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && (flags & PORTALOCK_ATOMIC_MKDIRS))
    {
      int e = make_directories (dir);
      if (e != 0)
        {
          errno = e;
          return -1;
        }
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  return fd;
}

/* Keep DIR, the malloc'd path of PLACE's directory, for the check at
   commit (directory_moved); free it if there is nothing to check.  A
   relative DIR is resolved then from the working directory of now,
   which the program may change meanwhile: keep a descriptor of that,
   or if it cannot be opened, resolve from the working directory of
   then.  */
static void
keep_directory_path (struct portalock_atomic_place *place, char *dir)
{
  /* A target in the working directory: the directory is the one the
     relative path starts from, wherever it went.  */
  if (strcmp (dir, ".") == 0)
    {
      free (dir);
      return;
    }
  place->dir = dir;
  if (dir[0] != '/')
    {
      place->anchor = open (".", ANCHOR_FLAGS);
      if (place->anchor < 0)
        place->anchor = AT_FDCWD;
    }
}

/* Return 0 if PLACE's directory path still names the directory PLACE
   holds open, ESTALE if it names another one or none, or an errno
   value if that cannot be told.  */
static int
directory_moved (const struct portalock_atomic_place *place)
{
  if (place->dir == NULL)
    return 0;
  struct stat held, named;
  if (fstat (place->dirfd, &held) != 0)
    return errno;
  if (fstatat (place->anchor, place->dir, &named, 0) != 0)
    return errno == ENOENT || errno == ENOTDIR ? ESTALE : errno;
  if (held.st_dev != named.st_dev || held.st_ino != named.st_ino)
    return ESTALE;
  return 0;
}

void
portalock_atomic_place_free (struct portalock_atomic_place *place)
{
  if (place == NULL)
    return;
  /* A lock object of this process may hold a POSIX lock on the
     directory, which a plain close of this descriptor would drop.  */
  if (place->dirfd >= 0)
    portalock_close_fd (place->dirfd);
  if (place->anchor >= 0)
    portalock_close_fd (place->anchor);
  free (place->dir);
  free (place->name);
  free (place->temp);
  free (place);
}

int
portalock_atomic_place_open (const char *path, int flags, mode_t mode,
                             uintptr_t seed,
                             struct portalock_atomic_place **result,
                             int *fd)
{
  char *dir;
  const char *base;
  int e = split_path (path, &dir, &base);
  if (e != 0)
    return e;
  struct portalock_atomic_place *place = calloc (1, sizeof *place);
  if (place == NULL)
    {
      free (dir);
      return ENOMEM;
    }
  place->anchor = AT_FDCWD;
  place->dirfd = open_directory (dir, flags);
  e = place->dirfd < 0 ? errno : 0;
  if (e == 0)
    keep_directory_path (place, dir);
  else
    free (dir);
  if (e == 0)
    {
      place->name = strdup (base);
      e = place->name == NULL ? ENOMEM : 0;
    }
  if (e == 0)
    e = check_target (place->dirfd, place->name, flags);
  if (e == 0)
    e = create_temp (place, mode, seed, fd);
  if (e != 0)
    {
      portalock_atomic_place_free (place);
      return e;
    }
  *result = place;
  return 0;
}

int
portalock_atomic_place_sync (int fd)
{
  return fsync (fd) == 0 ? 0 : errno;
}

int
portalock_atomic_place_write_error (int fd)
{
  struct stat st;
  if (fstat (fd, &st) == 0
      && pwrite (fd, "", 1, st.st_size) < 0 && errno != EINTR)
    return errno;
  return EIO;
}

/* Give PLACE's temporary file the target's name, not replacing
   anything.  Return 0 or an errno value; on failure the temporary file
   is still there.  */
static int
publish_new (struct portalock_atomic_place *place)
{
#ifdef RENAME_NOREPLACE
  if (renameat2 (place->dirfd, place->temp, place->dirfd, place->name,
                 RENAME_NOREPLACE) == 0)
    return 0;
  /* EINVAL or ENOSYS: the kernel or the file system cannot do it.  */
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
#endif
  if (linkat (place->dirfd, place->temp, place->dirfd, place->name, 0)
      != 0)
    return errno;
  /* The new file is published; a temporary name left over if this
     fails does not change that.  */
  unlinkat (place->dirfd, place->temp, 0);
  return 0;
}

int
portalock_atomic_place_publish (struct portalock_atomic_place *place,
                                int flags)
{
  /* Published in a directory that was moved away, the file would be
     lost to whoever looks for it at the path.  */
  int e = directory_moved (place);
  if (e == 0 && (flags & PORTALOCK_ATOMIC_REPLACE))
    e = renameat (place->dirfd, place->temp, place->dirfd, place->name) == 0
        ? 0 : errno;
  else if (e == 0)
    e = publish_new (place);
  if (e != 0)
    portalock_atomic_place_discard (place);
  else if (fsync (place->dirfd) != 0 && errno != EINVAL)
    /* EINVAL: a file system that cannot sync a directory.  */
    e = errno;
  return e;
}

void
portalock_atomic_place_discard (struct portalock_atomic_place *place)
{
  int saved = errno;
  unlinkat (place->dirfd, place->temp, 0);
  errno = saved;
}
