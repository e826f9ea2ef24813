/* process-linux.c: process names, parent-death signals and closing
   descriptors with prctl(2), /proc and close_range(2), on Linux.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "holder.h"

int
process_die_with_parent (int sig)
{
  return prctl (PR_SET_PDEATHSIG, sig);
}

int
process_set_name (const char *name)
{
  return prctl (PR_SET_NAME, name);
}

/* The kernel shows the name PR_SET_NAME gave in /proc/PID/comm.  */
bool
is_holder_process (pid_t pid)
{
  char path[64], name[32];
  snprintf (path, sizeof path, "/proc/%ld/comm", (long) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, name, sizeof name - 1);
  close (fd);
  if (n <= 0)
    return false;
  name[n] = '\0';
  name[strcspn (name, "\n")] = '\0';
  return strcmp (name, HOLDER_NAME) == 0;
}

/* close_range(2) came with Linux 5.9: older kernel headers do not name
   it, and an older kernel answers ENOSYS.  */
int
process_close_range (unsigned int low, unsigned int high)
{
#ifdef SYS_close_range
  return syscall (SYS_close_range, low, high, 0);
#else
  (void) low;
  (void) high;
  errno = ENOSYS;
  return -1;
#endif
}

/* Read up to SIZE - 1 bytes of PATH into BUF, NUL-terminated.  Return
   the count, or -1.  */
static ssize_t
read_small_file (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, size - 1);
  close (fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

unsigned long long
process_start_time (pid_t pid)
{
  char path[64], text[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
  if (read_small_file (path, text, sizeof text) <= 0)
    return 0;
  /* The command, field 2, is in parentheses and may hold anything:
     count the fields from its last ')'.  */
  char *p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  for (int field = 3; field <= 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return 0;
      p++;
    }
  return strtoull (p, NULL, 10);
}

void
process_boot_id (char *buf, size_t size)
{
  if (read_small_file ("/proc/sys/kernel/random/boot_id", buf, size) <= 0)
    snprintf (buf, size, "-");
  buf[strcspn (buf, "\n")] = '\0';
}
