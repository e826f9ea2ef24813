/* templock.c: run one job at a time, with a lock file that exists only
   while the job runs (portalocker's TemporaryFileLock).

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <portalock.h>

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s LOCKFILE\n", argv[0]);
      return 2;
    }
  portalock *lock = portalock_new (argv[1]);
  if (lock == NULL || portalock_set_temporary (lock, true) != 0
      || portalock_set_fail_when_locked (lock, true) != 0)
    {
      perror ("portalock_new");
      return 1;
    }

  if (portalock_acquire (lock) != 0)
    {
      if (errno == EWOULDBLOCK)
        printf ("another job is running\n");
      else
        fprintf (stderr, "%s: %s\n", argv[1], strerror (errno));
      portalock_free (lock);
      return 1;
    }

  printf ("job running, lock file %s\n",
          access (argv[1], F_OK) == 0 ? "present" : "missing");

  /* The file is deleted while still locked, then unlocked.  */
  portalock_release (lock);
  portalock_free (lock);
  printf ("job done, lock file %s\n",
          access (argv[1], F_OK) == 0 ? "present" : "removed");
  return 0;
}
