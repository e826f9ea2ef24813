/* rlock.c: a recursive function that takes a re-entrant lock (RLock) at
   every level.

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <portalock.h>

static portalock *lock;

/* Write N lines, taking the lock for each level of the recursion: only
   the outermost acquire locks the file, only the last release unlocks.  */
static int
countdown (int n)
{
  if (portalock_acquire (lock) != 0)
    return -1;
  fprintf (portalock_stream (lock), "%d\n", n);
  int r = n > 1 ? countdown (n - 1) : 0;
  if (portalock_release (lock) != 0)
    r = -1;
  return r;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FILE\n", argv[0]);
      return 2;
    }
  lock = portalock_new (argv[1]);
  if (lock == NULL || portalock_set_reentrant (lock, true) != 0
      || portalock_set_mode (lock, "w") != 0)
    {
      perror ("portalock_new");
      return 1;
    }
  if (countdown (3) != 0)
    {
      fprintf (stderr, "%s: %s\n", argv[1], strerror (errno));
      portalock_free (lock);
      return 1;
    }
  /* Balanced: one more release would be an error.  */
  if (portalock_release (lock) == -1 && errno == EINVAL)
    printf ("released after 3 nested acquires\n");
  portalock_free (lock);
  return 0;
}
