/* atomic.c: replace a settings file so that no reader sees half of it.

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <stdio.h>
#include <stdlib.h>
#include <portalock.h>

int
main (int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "settings.conf";

  /* Write the new version next to the file, under a temporary name.  */
  portalock_atomic *update = portalock_atomic_open (path,
                                                    PORTALOCK_ATOMIC_REPLACE,
                                                    0644);
  if (update == NULL)
    {
      perror (path);
      return EXIT_FAILURE;
    }
  FILE *out = portalock_atomic_stream (update);
  if (out == NULL)
    {
      perror (path);
      portalock_atomic_abort (update);   /* removes the temporary file */
      return EXIT_FAILURE;
    }
  fprintf (out, "colour = blue\n");
  fprintf (out, "size = %d\n", 42);

  /* Flush it to disk and put it in place in one step.  Until here,
     readers see the old version; from here, all of the new one.  */
  if (portalock_atomic_commit (update) != 0)
    {
      perror (path);
      return EXIT_FAILURE;
    }
  printf ("%s updated\n", path);
  return EXIT_SUCCESS;
}
