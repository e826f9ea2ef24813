/* lock.c: append a line to a shared log file under an exclusive lock.

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
      fprintf (stderr, "usage: %s LOGFILE\n", argv[0]);
      return 2;
    }

  /* Mode "a", exclusive, 5 seconds: portalocker's defaults.  */
  portalock *lock = portalock_new (argv[1]);
  if (lock == NULL || portalock_set_timeout (lock, 10) != 0)
    {
      perror ("portalock_new");
      return 1;
    }

  if (portalock_acquire (lock) != 0)
    {
      /* ETIMEDOUT: someone held it for 10 seconds.  */
      fprintf (stderr, "%s: %s\n", argv[1], strerror (errno));
      portalock_free (lock);
      return 1;
    }

  /* Only one process at a time gets here.  */
  FILE *log = portalock_stream (lock);
  fprintf (log, "process %ld was here\n", (long) getpid ());

  /* Release flushes the stream, unlocks and closes the file.  */
  if (portalock_release (lock) != 0)
    perror ("portalock_release");
  portalock_free (lock);
  printf ("appended to %s\n", argv[1]);
  return 0;
}
