/* semaphore.c: bounded semaphores: at most N holders across processes.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portalock-private.h"
#include "selfdeadlock.h"

/* How a semaphore works, and how it waits.

   A semaphore of at most N holders called NAME is the set of slot files
   NAME.00.lock to NAME.(N-1).lock in one directory, the names Python's
   portalocker uses; holding the semaphore means holding an exclusive
   lock on one of them.  Each slot is a lock object (object.c), so two
   semaphore objects in one process exclude each other as two processes
   do on every backend, and a deleted or replaced slot file is handled
   there.

   An acquire first makes one pass over the slots, trying each without
   waiting, from a starting slot picked at random for each acquire: two
   processes arriving together then rarely contend for the same slot,
   and the pass finds the free slot after N/2 tries on average when only
   one is free.  If every slot is held, the waiter blocks in the kernel
   on one slot (the starting one, so that waiters spread over the slots)
   for at most the check interval, or the time left if sooner; then it
   makes another pass, starting at the next slot.  The kernel has no call
   that waits for any one of several locks, and the holder of another
   slot may go away without a word (even killed), so the waiter hears at
   once of its own slot and at most one check interval late of another.
   It burns no CPU meanwhile.  A semaphore of one slot is a plain lock:
   its waiter blocks until the timeout.  */

/* A check interval shorter than this would come close to spinning.  */
#define MIN_CHECK_INTERVAL 0.001

struct portalock_semaphore
{
  char *directory;
  char *name;
  unsigned maximum;
  char *pattern;                /* portalocker's filename_pattern; NULL:
                                   "{name}.{number:02d}.lock" */

  /* Settings.  */
  double timeout;               /* < 0: no limit */
  double check_interval;
  bool fail_when_locked;
  enum portalock_backend backend;
  enum portalock_method method;

  portalock **slots;            /* a lock object per slot, made on first
                                   use */
  int held;                     /* the slot held, or -1 */
  pid_t owner;                  /* the process that took it */
  uint64_t random;              /* picks where each acquire starts */
};

static int
invalid (void)
{
  errno = EINVAL;
  return -1;
}

/* Return the number of characters of slot SLOT's file name beyond NAME:
   ".NN.lock", with at least two digits.  */
static size_t
suffix_length (unsigned slot)
{
  char buf[32];
  return snprintf (buf, sizeof buf, ".%02u.lock", slot);
}

/* Check that DIRECTORY names a directory.  Return 0 or an errno
   value.  */
static int
check_directory (const char *directory)
{
  struct stat st;
  if (*directory == '\0')
    return ENOENT;
  if (stat (directory, &st) != 0)
    return errno;
  return S_ISDIR (st.st_mode) ? 0 : ENOTDIR;
}

portalock_semaphore *
portalock_semaphore_new (const char *name, unsigned maximum,
                         const char *directory)
{
  if (name == NULL || *name == '\0' || strchr (name, '/') != NULL
      || maximum == 0)
    {
      errno = EINVAL;
      return NULL;
    }
  if (directory == NULL)
    {
      directory = getenv ("TMPDIR");
      if (directory == NULL || *directory == '\0')
        directory = "/tmp";
    }
  size_t longest = strlen (name) + suffix_length (maximum - 1);
  if (longest > NAME_MAX || strlen (directory) + 1 + longest >= PATH_MAX)
    {
      errno = ENAMETOOLONG;
      return NULL;
    }
  int e = check_directory (directory);
  if (e != 0)
    {
      errno = e;
      return NULL;
    }

  portalock_semaphore *sem = calloc (1, sizeof *sem);
  if (sem == NULL
      || (sem->directory = strdup (directory)) == NULL
      || (sem->name = strdup (name)) == NULL
      || (sem->slots = calloc (maximum, sizeof *sem->slots)) == NULL)
    {
      portalock_semaphore_free (sem);
      errno = ENOMEM;
      return NULL;
    }
  sem->maximum = maximum;
  sem->timeout = 5;
  sem->check_interval = 0.25;
  sem->backend = PORTALOCK_BACKEND_DEFAULT;
  sem->held = -1;
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  sem->random = ((uint64_t) now.tv_nsec << 32) ^ (uint64_t) now.tv_sec
                ^ ((uint64_t) getpid () << 16) ^ (uint64_t) (uintptr_t) sem;
  return sem;
}

int
portalock_semaphore_set_timeout (portalock_semaphore *sem, double seconds)
{
  if (sem == NULL || isnan (seconds))
    return invalid ();
  sem->timeout = seconds < 0 ? -1 : seconds;
  return 0;
}

int
portalock_semaphore_set_check_interval (portalock_semaphore *sem,
                                        double seconds)
{
  if (sem == NULL || isnan (seconds) || seconds < 0 || isinf (seconds))
    return invalid ();
  sem->check_interval = (seconds < MIN_CHECK_INTERVAL ? MIN_CHECK_INTERVAL
                         : seconds);
  return 0;
}

int
portalock_semaphore_set_fail_when_locked (portalock_semaphore *sem,
                                          bool fail)
{
  if (sem == NULL)
    return invalid ();
  sem->fail_when_locked = fail;
  return 0;
}

int
portalock_semaphore_set_backend (portalock_semaphore *sem,
                                 enum portalock_backend backend)
{
  if (sem == NULL || portalock_backend_name (backend) == NULL)
    return invalid ();
  if (sem->held >= 0)
    {
      errno = EBUSY;
      return -1;
    }
  if (backend != PORTALOCK_BACKEND_DEFAULT
      && !portalock_backend_available (backend))
    {
      errno = ENOTSUP;
      return -1;
    }
  sem->backend = backend;
  return 0;
}

int
portalock_semaphore_set_method (portalock_semaphore *sem,
                                enum portalock_method method)
{
  if (sem == NULL || portalock_method_name (method) == NULL)
    return invalid ();
  if (sem->held >= 0)
    {
      errno = EBUSY;
      return -1;
    }
  sem->method = method;
  return 0;
}

/* Return the lock object of slot SLOT, made if need be, or NULL with
   errno.  */
static portalock *
slot_lock (portalock_semaphore *sem, unsigned slot)
{
  if (sem->slots[slot] == NULL)
    {
      char *path;
      if (sem->pattern != NULL)
        {
          char *file;
          int e = portalock_format_slot (sem->pattern, sem->name, slot,
                                         &file);
          if (e != 0)
            {
              errno = e;
              return NULL;
            }
          int r = asprintf (&path, "%s/%s", sem->directory, file);
          free (file);
          if (r < 0)
            {
              errno = ENOMEM;
              return NULL;
            }
        }
      else if (asprintf (&path, "%s/%s.%02u.lock", sem->directory, sem->name,
                         slot) < 0)
        {
          errno = ENOMEM;
          return NULL;
        }
      sem->slots[slot] = portalock_new (path);
      free (path);
      /* A thread may hold several slots, through several semaphores
         of one name.  A semaphore waits on one slot for a while and
         then looks at the others, so a slot that the waiting thread
         holds itself is no deadlock (semaphore.texi: never
         EDEADLK).  */
      portalock_selfdeadlock_exempt (sem->slots[slot]);
    }
  return sem->slots[slot];
}

/* Try to take slot SLOT, waiting up to SECONDS (0: not at all, EWOULDBLOCK
   if held; negative: without limit).  Return 0 or -1 with errno.  */
static int
try_slot (portalock_semaphore *sem, unsigned slot, double seconds)
{
  portalock *lock = slot_lock (sem, slot);
  if (lock == NULL
      || portalock_set_backend (lock, sem->backend) != 0
      || portalock_set_method (lock, sem->method) != 0
      || portalock_set_timeout (lock, seconds) != 0
      || portalock_acquire (lock) != 0)
    return -1;
  sem->held = slot;
  sem->owner = getpid ();
  return 0;
}

/* Try every slot once, without waiting, from START on.  Return 0 with a
   slot held, or -1 with errno (EWOULDBLOCK: all are held).  */
static int
scan (portalock_semaphore *sem, unsigned start)
{
  for (unsigned k = 0; k < sem->maximum; k++)
    {
      unsigned slot = (start + k) % sem->maximum;
      if (try_slot (sem, slot, 0) == 0)
        return 0;
      if (errno != EWOULDBLOCK)
        return -1;
    }
  errno = EWOULDBLOCK;
  return -1;
}

/* Return a slot number picked at random.  */
static unsigned
pick_slot (portalock_semaphore *sem)
{
  /* splitmix64: cheap, and good enough to spread processes over the
     slots.  The PID keeps a forked child off its parent's sequence.  */
  uint64_t x = (sem->random += 0x9E3779B97F4A7C15ULL) ^ (uint64_t) getpid ();
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x % sem->maximum;
}

/* Return the seconds from now until DEADLINE, at most 0 if it has
   passed.  */
static double
seconds_left (const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return ((double) (deadline->tv_sec - now.tv_sec)
          + (deadline->tv_nsec - now.tv_nsec) / 1e9);
}

/* If SEM's slot was taken by another process (SEM is a forked child's
   copy), let go of this process's copy of the file, keeping the other
   process's lock, and return true: SEM holds nothing here.  */
static bool
forget_inherited (portalock_semaphore *sem)
{
  if (sem->held < 0 || sem->owner == getpid ())
    return false;
  /* The lock object knows the lock is not this process's to unlock.  */
  int saved_errno = errno;
  portalock_release (sem->slots[sem->held]);
  errno = saved_errno;
  sem->held = -1;
  return true;
}

int
portalock_semaphore_acquire (portalock_semaphore *sem)
{
  if (sem == NULL)
    return invalid ();
  forget_inherited (sem);
  if (sem->held >= 0)
    {
      errno = EBUSY;
      return -1;
    }

  struct timespec deadline;
  bool timed = (sem->timeout >= 0
                && portalock_deadline_after (sem->timeout, &deadline));
  bool wait = !sem->fail_when_locked && sem->timeout != 0;
  unsigned start = pick_slot (sem);

  for (;;)
    {
      if (scan (sem, start) == 0)
        return 0;
      if (errno != EWOULDBLOCK)
        return -1;
      if (!wait)
        return -1;

      /* Every slot is held: block on one, then look again.  */
      double seconds = -1;
      if (timed)
        {
          seconds = seconds_left (&deadline);
          if (seconds <= 0)
            {
              errno = ETIMEDOUT;
              return -1;
            }
        }
      if (sem->maximum > 1 && (seconds < 0 || seconds > sem->check_interval))
        seconds = sem->check_interval;
      if (try_slot (sem, start, seconds) == 0)
        return 0;
      if (errno != ETIMEDOUT && errno != EWOULDBLOCK)
        return -1;
      start = (start + 1) % sem->maximum;
    }
}

int
portalock_semaphore_slot (const portalock_semaphore *sem)
{
  if (sem == NULL)
    return invalid ();
  return sem->owner == getpid () ? sem->held : -1;
}

int
portalock_semaphore_release (portalock_semaphore *sem)
{
  if (sem == NULL)
    return invalid ();
  if (sem->held < 0 || forget_inherited (sem))
    return 1;
  int r = portalock_release (sem->slots[sem->held]);
  sem->held = -1;
  return r < 0 ? -1 : 0;
}

void
portalock_semaphore_free (portalock_semaphore *sem)
{
  if (sem == NULL)
    return;
  int saved_errno = errno;
  if (sem->slots != NULL)
    {
      /* portalock_free releases a held slot.  */
      for (unsigned slot = 0; slot < sem->maximum; slot++)
        portalock_free (sem->slots[slot]);
      free (sem->slots);
    }
  free (sem->name);
  free (sem->directory);
  free (sem->pattern);
  free (sem);
  errno = saved_errno;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Check that PATTERN names MAXIMUM distinct plain files for SEM, each
   short enough.  Return 0 or an errno value.  */
static int
check_pattern (const portalock_semaphore *sem, const char *pattern)
{
  char **names = calloc (sem->maximum, sizeof *names);
  if (names == NULL)
    return ENOMEM;
  int e = 0;
  size_t dirlength = strlen (sem->directory);
  unsigned made = 0;
  for (; made < sem->maximum && e == 0; made++)
    {
      e = portalock_format_slot (pattern, sem->name, made, &names[made]);
      if (e != 0)
        break;
      const char *n = names[made];
      size_t length = strlen (n);
      if (length == 0 || strchr (n, '/') != NULL || strcmp (n, ".") == 0
          || strcmp (n, "..") == 0)
        e = EINVAL;
      else if (length > NAME_MAX || dirlength + 1 + length >= PATH_MAX)
        e = ENAMETOOLONG;
    }
  if (e == 0)
    {
      qsort (names, sem->maximum, sizeof *names, compare_names);
      for (unsigned i = 1; i < sem->maximum && e == 0; i++)
        if (strcmp (names[i - 1], names[i]) == 0)
          e = EINVAL;
    }
  for (unsigned i = 0; i < sem->maximum; i++)
    free (names[i]);
  free (names);
  return e;
}

int
portalock_semaphore_set_pattern (portalock_semaphore *sem,
                                 const char *pattern)
{
  if (sem == NULL || pattern == NULL)
    return invalid ();
  if (sem->held >= 0 && sem->owner == getpid ())
    {
      errno = EBUSY;
      return -1;
    }
  int e = check_pattern (sem, pattern);
  char *copy = e == 0 ? strdup (pattern) : NULL;
  if (e == 0 && copy == NULL)
    e = ENOMEM;
  if (e != 0)
    {
      errno = e;
      return -1;
    }
  forget_inherited (sem);
  /* The slots' lock objects name the old files: make them anew.  */
  for (unsigned slot = 0; slot < sem->maximum; slot++)
    {
      portalock_free (sem->slots[slot]);
      sem->slots[slot] = NULL;
    }
  free (sem->pattern);
  sem->pattern = copy;
  return 0;
}
