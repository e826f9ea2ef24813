/* emulator.c: say whether the test programs run under a user-mode
   emulator, for the .exp files (tests/lib/portalock.exp).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: emulator.  Print test_emulator's phrase (tests/testutil.h) if
   the program runs under the emulator PORTALOCK_TEST_EMULATOR names,
   nothing on a real machine; exit 0.  */

#include <config.h>

#include <stdio.h>

#include "testutil.h"

int
main (void)
{
  const char *emulator = test_emulator ();
  if (emulator != NULL)
    puts (emulator);
  return 0;
}
