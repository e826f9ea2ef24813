/* atomic.c: atomic file writes: readers see the old content or all of the new.

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

/* How a write is made atomic.  The new content goes to a temporary file
   created with O_EXCL in the target's own directory (a rename or link
   cannot cross file systems), under a hidden name made from the
   target's.  The commit flushes the stream, fsyncs the file and closes
   it, so that the data is on disk before any name points to it; then
   publishes it under the target's name in one system call, and fsyncs
   the directory so that the new name survives a crash too.

   Publishing without replacing (the default, as in portalocker) uses
   renameat2 (RENAME_NOREPLACE) where the system and the file system
   have it, else link(2) and unlink(2): either fails with EEXIST if the
   target appeared meanwhile, and never exposes a partial file.
   Publishing with PORTALOCK_ATOMIC_REPLACE uses rename(2), which swaps
   the name from the old file to the new one in one step.

   The directory stays open from start to commit, and every name is
   resolved relative to it, so renaming the directory or changing the
   working directory in between cannot make the commit publish somewhere
   else.  */

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

/* The random part of a temporary file's name, and how many names to try
   before giving up.  */
#define RANDOM_CHARS 6
#define TRIES 100

struct portalock_atomic
{
  int dirfd;            /* the target's directory */
  int fd;               /* the temporary file, or -1 once closed */
  FILE *stream;         /* a stream on FD, once asked for; owns FD */
  int flags;
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
   be.  SEED and ATTEMPT make the X's differ between handles, processes
   and tries; O_EXCL settles any collision.  */
static void
make_temp_name (char *temp, const char *name, uintptr_t seed,
                unsigned attempt)
{
  static const char chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  uint64_t x = ((uint64_t) now.tv_nsec * 0x9E3779B97F4A7C15ULL)
               ^ ((uint64_t) now.tv_sec << 20) ^ ((uint64_t) getpid () << 40)
               ^ (uint64_t) seed ^ ((uint64_t) attempt * 0xBF58476D1CE4E5B9ULL);
  size_t keep = strlen (name);
  if (keep > NAME_MAX - (RANDOM_CHARS + 2))
    keep = NAME_MAX - (RANDOM_CHARS + 2);
  temp[0] = '.';
  memcpy (temp + 1, name, keep);
  temp[1 + keep] = '.';
  char *p = temp + 2 + keep;
  for (int i = 0; i < RANDOM_CHARS; i++)
    {
      x ^= x >> 31;
      x *= 0x94D049BB133111EBULL;
      x ^= x >> 29;
      p[i] = chars[x % (sizeof chars - 1)];
    }
  p[RANDOM_CHARS] = '\0';
}

/* Create ATOMIC's temporary file with MODE.  Return 0 or an errno
   value.  */
static int
create_temp (portalock_atomic *atomic, mode_t mode)
{
  atomic->temp = malloc (NAME_MAX + 1);
  if (atomic->temp == NULL)
    return ENOMEM;
  for (unsigned attempt = 0; attempt < TRIES; attempt++)
    {
      make_temp_name (atomic->temp, atomic->name, (uintptr_t) atomic,
                      attempt);
      atomic->fd = openat (atomic->dirfd, atomic->temp,
                           O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
                           | O_CLOEXEC, mode);
      if (atomic->fd >= 0)
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

static void
destroy (portalock_atomic *atomic)
{
  if (atomic->stream != NULL)
    fclose (atomic->stream);
  else if (atomic->fd >= 0)
    close (atomic->fd);
  /* A lock object of this process may hold a POSIX lock on the
     directory, which a plain close of this descriptor would drop.  */
  if (atomic->dirfd >= 0)
    portalock_close_fd (atomic->dirfd);
  free (atomic->name);
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

  char *dir;
  const char *base;
  int e = split_path (path, &dir, &base);
  if (e != 0)
    {
      errno = e;
      return NULL;
    }

  portalock_atomic *atomic = calloc (1, sizeof *atomic);
  if (atomic == NULL)
    {
      free (dir);
      errno = ENOMEM;
      return NULL;
    }
  atomic->fd = -1;
  atomic->flags = flags;
  atomic->dirfd = open_directory (dir, flags);
  e = atomic->dirfd < 0 ? errno : 0;
  free (dir);
  if (e == 0)
    {
      atomic->name = strdup (base);
      e = atomic->name == NULL ? ENOMEM : 0;
    }
  if (e == 0)
    e = check_target (atomic->dirfd, atomic->name, flags);
  if (e == 0)
    e = create_temp (atomic, mode);
  if (e != 0)
    {
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
  if (atomic->stream == NULL)
    atomic->stream = fdopen (atomic->fd, "w+");
  return atomic->stream;
}

/* Return why an earlier write through ATOMIC's stream failed.  The
   stream's error indicator says that one did, and that the file lacks
   some of what was written, but not why: stdio drops the data and the
   errno with it, and a later fflush succeeds.  The temporary file is
   deleted anyway, so one byte written past its end asks the file system
   again (EFBIG, ENOSPC, EDQUOT, EIO); if that write succeeds, the cause
   has passed, and EIO stands for it.  */
static int
stream_error (const portalock_atomic *atomic)
{
  struct stat st;
  if (fstat (atomic->fd, &st) == 0
      && pwrite (atomic->fd, "", 1, st.st_size) < 0 && errno != EINTR)
    return errno;
  return EIO;
}

/* Get the temporary file's content onto the disk and close it.  Return
   0 or an errno value.  */
static int
finish_file (portalock_atomic *atomic)
{
  int e = 0;
  if (atomic->stream != NULL && fflush (atomic->stream) != 0)
    e = errno;
  /* A write that failed before the commit left the stream's error
     indicator set: the file is incomplete, however the flush went.  */
  if (e == 0 && atomic->stream != NULL && ferror (atomic->stream))
    e = stream_error (atomic);
  if (e == 0 && fsync (atomic->fd) != 0)
    e = errno;
  /* Some file systems report a failed write only when the file is
     closed; that too must stop the commit.  */
  int r = atomic->stream != NULL ? fclose (atomic->stream)
                                 : close (atomic->fd);
  if (r != 0 && e == 0 && errno != EINTR)
    e = errno;
  atomic->stream = NULL;
  atomic->fd = -1;
  return e;
}

/* Give the temporary file the target's name, not replacing anything.
   Return 0 or an errno value; on failure the temporary file is still
   there.  */
static int
publish_new (portalock_atomic *atomic)
{
#ifdef RENAME_NOREPLACE
  if (renameat2 (atomic->dirfd, atomic->temp, atomic->dirfd, atomic->name,
                 RENAME_NOREPLACE) == 0)
    return 0;
  /* EINVAL or ENOSYS: the kernel or the file system cannot do it.  */
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
#endif
  if (linkat (atomic->dirfd, atomic->temp, atomic->dirfd, atomic->name, 0)
      != 0)
    return errno;
  /* The new file is published; a temporary name left over if this
     fails does not change that.  */
  unlinkat (atomic->dirfd, atomic->temp, 0);
  return 0;
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
    {
      if (atomic->flags & PORTALOCK_ATOMIC_REPLACE)
        e = renameat (atomic->dirfd, atomic->temp, atomic->dirfd,
                      atomic->name) == 0 ? 0 : errno;
      else
        e = publish_new (atomic);
      if (e != 0)
        unlinkat (atomic->dirfd, atomic->temp, 0);
      else if (fsync (atomic->dirfd) != 0 && errno != EINVAL)
        /* EINVAL: a file system that cannot sync a directory.  */
        e = errno;
    }
  else
    unlinkat (atomic->dirfd, atomic->temp, 0);

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
  unlinkat (atomic->dirfd, atomic->temp, 0);
  destroy (atomic);
  errno = saved;
}
