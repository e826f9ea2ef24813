/* mode.c: fuzz target for portalock_set_mode, whose argument often
   comes from a configuration or a binding's caller.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portalock.h"
#include "fuzz.h"

/* The modes the manual lists: "r", "r+", "w", "w+", "a", "a+", "x",
   "x+", each optionally with 'b' after the letter or at the end.  */
static bool
documented_mode (const char *m)
{
  if (m[0] != 'r' && m[0] != 'w' && m[0] != 'a' && m[0] != 'x')
    return false;
  const char *rest = m + 1;
  return strcmp (rest, "") == 0 || strcmp (rest, "b") == 0
    || strcmp (rest, "+") == 0 || strcmp (rest, "b+") == 0
    || strcmp (rest, "+b") == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *mode = fuzz_string (data, size);
  const char *path = fuzz_path ("lock");
  portalock *lock = portalock_new (path);
  if (lock == NULL)
    abort ();

  errno = 0;
  int r = portalock_set_mode (lock, mode);
  if (r == 0 && !documented_mode (mode))
    fuzz_fail ("portalock_set_mode accepted an undocumented mode", mode);
  if (r != 0 && (r != -1 || errno != EINVAL))
    fuzz_fail ("portalock_set_mode failed without EINVAL", mode);
  if (r != 0 && documented_mode (mode))
    fuzz_fail ("portalock_set_mode refused a documented mode", mode);

  portalock_free (lock);
  struct stat st;
  if (lstat (path, &st) == 0)
    fuzz_fail ("setting a mode created the file", mode);
  free (mode);
  return 0;
}
