/* semaphore.c: let at most two copies of a job run at once.

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <portalock.h>

int
main (int argc, char **argv)
{
  /* The slot files' directory; NULL means $TMPDIR, else /tmp.  */
  const char *directory = argc > 1 ? argv[1] : NULL;

  portalock_semaphore *jobs = portalock_semaphore_new ("example-jobs", 2,
                                                       directory);
  if (jobs == NULL)
    {
      perror ("portalock_semaphore_new");
      return EXIT_FAILURE;
    }
  portalock_semaphore_set_timeout (jobs, 60);

  if (portalock_semaphore_acquire (jobs) != 0)
    {
      if (errno == ETIMEDOUT)
        fprintf (stderr, "two jobs still running after a minute\n");
      else
        perror ("portalock_semaphore_acquire");
      portalock_semaphore_free (jobs);
      return EXIT_FAILURE;
    }
  printf ("running in slot %d\n", portalock_semaphore_slot (jobs));
  /* ... the job itself ... */

  portalock_semaphore_release (jobs);
  portalock_semaphore_free (jobs);
  return EXIT_SUCCESS;
}
