/* pidrecord.c: fuzz target for the PID-record reader, which reads lock
   files that any process may have written.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "portalock.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The reader takes a path: the input becomes the file's content.  */
  const char *path = fuzz_path ("record");
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, data, size) != (ssize_t) size || close (fd) != 0)
    abort ();

  pid_t pid = -1;
  int r = portalock_pid_record_read (path, &pid);
  char *text = fuzz_string (data, size);
  if (r < -1 || r > 1)
    fuzz_fail ("portalock_pid_record_read returned no documented value",
               text);
  if (r == 1 && pid <= 0)
    fuzz_fail ("a live record with no PID", text);
  if (r == 0 && pid < 0)
    fuzz_fail ("a stale record with a negative PID", text);
  free (text);
  return 0;
}
