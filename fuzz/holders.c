/* holders.c: fuzz target for the parsers of /proc/locks and
   /proc/PID/fdinfo lines (lib/holders.c), kernel text that
   portalock_holders trusts.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "portalock-private.h"
#include "fuzz.h"

/* The file the seed lines name: device fe:01, inode 5678.  */
#define SEED_MAJOR 0xfe
#define SEED_MINOR 0x01
#define SEED_INODE 5678

static void
check_kind (enum portalock_lock_kind k, const char *line)
{
  if (k != PORTALOCK_KIND_NONE && k != PORTALOCK_KIND_POSIX
      && k != PORTALOCK_KIND_SHARED_OWNER)
    fuzz_fail ("the line parser returned no kind", line);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);
  dev_t dev = makedev (SEED_MAJOR, SEED_MINOR);

  /* Feed every line to both parsers, as holders.c reads them: one
     line at a time, each ending at its newline.  */
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line != NULL;
       line = strtok_r (NULL, "\n", &save))
    {
      long pid = 0;
      check_kind (portalock_parse_lock_line (line, dev, SEED_INODE, &pid),
                  line);
      check_kind (portalock_parse_fdinfo_line (line, dev, SEED_INODE, &pid),
                  line);
      /* One line names one file: it cannot match two inodes.  */
      if (portalock_parse_lock_line (line, dev, SEED_INODE + 1, &pid)
            != PORTALOCK_KIND_NONE
          && portalock_parse_lock_line (line, dev, SEED_INODE, &pid)
               != PORTALOCK_KIND_NONE)
        fuzz_fail ("one line matched two inodes", line);
    }
  free (text);
  return 0;
}
