/* hook.c: a pause for the test suite between a waiter's failed try and
   its subscription; empty in the installed library.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "redis-private.h"

/* Built with PLR_TEST_HOOKS (the tests' copy of the library only): if
   PORTALOCK_REDIS_TEST_PAUSE is "W,R", write a byte to descriptor W and
   wait for one on descriptor R, so that a test can release the lock at
   the worst moment.  */
void
plr_test_hook_before_subscribe (void)
{
#ifdef PLR_TEST_HOOKS
  const char *fds = getenv ("PORTALOCK_REDIS_TEST_PAUSE");
  int w, r;
  char c = 'P';
  if (fds != NULL && sscanf (fds, "%d,%d", &w, &r) == 2
      && write (w, &c, 1) == 1)
    while (read (r, &c, 1) < 0)
      continue;
#endif
}
