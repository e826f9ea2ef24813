/* atomic.c: atomic file writes: readers see the old content or all of the new.

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
#include <time.h>
#include <unistd.h>

#include "portalock-private.h"
#include "atomic-place.h"

/* How a write is made atomic.  The new content goes to a temporary file
   created in the target's own directory (a rename cannot cross file
   systems) under a hidden name made from the target's, by a call that
   never opens a file that exists.  The commit flushes the stream, gets
   the file onto the disk and closes it, so that the data is on disk
   before any name points to it; then publishes it under the target's
   name in one system call, and gets the new name onto the disk too.  A
   failure at any step deletes the temporary file and leaves the target
   as it was.  The system's part, which names, creates, publishes and
   deletes the files, is behind atomic-place.h.  */

struct portalock_atomic
{
  int fd;               /* the temporary file, or -1 once closed */
  FILE *stream;         /* a stream on FD, once asked for; owns FD */
  int flags;
  struct portalock_atomic_place *place;
};

void
portalock_atomic_suffix (char *suffix, uintptr_t seed, unsigned attempt)
{
  static const char chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  uint64_t x = ((uint64_t) now.tv_nsec * 0x9E3779B97F4A7C15ULL)
               ^ ((uint64_t) now.tv_sec << 20) ^ ((uint64_t) getpid () << 40)
               ^ (uint64_t) seed ^ ((uint64_t) attempt * 0xBF58476D1CE4E5B9ULL);
  for (int i = 0; i < PORTALOCK_ATOMIC_RANDOM_CHARS; i++)
    {
      x ^= x >> 31;
      x *= 0x94D049BB133111EBULL;
      x ^= x >> 29;
      suffix[i] = chars[x % (sizeof chars - 1)];
    }
  suffix[PORTALOCK_ATOMIC_RANDOM_CHARS] = '\0';
}

/* Close ATOMIC's temporary file, through its stream if it has one.
   Return what the close returned.  */
static int
close_file (portalock_atomic *atomic)
{
  int r = 0;
  if (atomic->stream != NULL)
    r = fclose (atomic->stream);
  else if (atomic->fd >= 0)
    r = close (atomic->fd);
  atomic->stream = NULL;
  atomic->fd = -1;
  return r;
}

static void
destroy (portalock_atomic *atomic)
{
  close_file (atomic);
  portalock_atomic_place_free (atomic->place);
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
  portalock_atomic *atomic = calloc (1, sizeof *atomic);
  if (atomic == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  atomic->flags = flags;
  int e = portalock_atomic_place_open (path, flags, mode,
                                       (uintptr_t) atomic, &atomic->place,
                                       &atomic->fd);
  if (e != 0)
    {
      free (atomic);
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
  /* Binary where the system makes a difference: the bytes written are
     the bytes published.  */
  if (atomic->stream == NULL)
    {
      errno = 0;
      atomic->stream = fdopen (atomic->fd, "w+b");
      if (atomic->stream == NULL && errno == 0)
        errno = ENOMEM;
    }
  return atomic->stream;
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
  /* A write that failed before the commit left the stream's error
     indicator set: the file is incomplete, however the flush went, and
     stdio kept no errno of it.  */
  if (e == 0 && atomic->stream != NULL && ferror (atomic->stream))
    e = portalock_atomic_place_write_error (atomic->fd);
  if (e == 0)
    e = portalock_atomic_place_sync (atomic->fd);
  /* Some file systems report a failed write only when the file is
     closed; that too must stop the commit.  */
  if (close_file (atomic) != 0 && e == 0 && errno != EINTR)
    e = errno;
  return e;
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
    e = portalock_atomic_place_publish (atomic->place, atomic->flags);
  else
    portalock_atomic_place_discard (atomic->place);
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
  /* Closed first: Windows deletes a name only once no handle is open
     on it, or every one shares delete, as this one does.  */
  close_file (atomic);
  portalock_atomic_place_discard (atomic->place);
  destroy (atomic);
  errno = saved;
}
