/* process-none.c: process names, parent-death signals and closing
   descriptors where the system has neither prctl(2), /proc/PID/comm
   nor close_range(2).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "process.h"

#include <errno.h>

#include "holder.h"

/* Without a parent-death signal a holder outlives a plock killed while
   it waits; it notices when its report to plock fails (EPIPE) and lets
   go at once, so the lock is held only for that moment.  */
int
process_die_with_parent (int sig)
{
  (void) sig;
  errno = ENOSYS;
  return -1;
}

int
process_set_name (const char *name)
{
  (void) name;
  errno = ENOSYS;
  return -1;
}

/* No portable way tells what a process is, so none is taken for a
   holder: punlock signals no process it cannot check.  (Such a system
   has no portalock_holders either, so punlock stops before this.)  */
bool
is_holder_process (pid_t pid)
{
  (void) pid;
  return false;
}

/* The caller closes the descriptors one by one.  */
int
process_close_range (unsigned int low, unsigned int high)
{
  (void) low;
  (void) high;
  errno = ENOSYS;
  return -1;
}

/* Nothing tells a process's start time or the boot: a marker's holder
   is then never proved to be one of this machine's processes.  */
unsigned long long
process_start_time (pid_t pid)
{
  (void) pid;
  return 0;
}

void
process_boot_id (char *buf, size_t size)
{
  if (size > 1)
    {
      buf[0] = '-';
      buf[1] = '\0';
    }
}
