/* process.h: what the tools ask of the system about processes, where
   systems differ (pidfds, process names, parent-death signals, closing
   descriptors).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef PROCESS_H
#define PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* configure picks one file of each pair: process-linux.c (prctl(2) and
   /proc) or process-none.c; pidfd-linux.c (pidfd_open(2)) or
   pidfd-none.c.  The callers work with either answer: without a pidfd
   they look at the process with kill(PID, 0) at a bounded interval.  */

/* Have this process receive SIG when its parent exits; 0 cancels that.
   Return 0, or -1 with errno ENOSYS where the system cannot: a holder
   whose plock died then learns it only when its report to plock
   fails.  */
int process_die_with_parent (int sig);

/* Give this process NAME (at most 15 bytes), seen by ps and by
   is_holder_process.  Return 0, or -1 with errno ENOSYS where the
   system has no way.  */
int process_set_name (const char *name);

/* Close every descriptor from LOW to HIGH, both included, in one call
   (close_range(2)).  Return 0, or -1 with errno (ENOSYS where the
   system has no such call): the caller then closes them one by one.  */
int process_close_range (unsigned int low, unsigned int high);

/* Return process PID's start time in clock ticks after boot (field 22
   of /proc/PID/stat), which a marker lock's record names so that a
   reused PID is told from its holder; 0 if it cannot be read (the
   process is gone, or the system does not tell).  */
unsigned long long process_start_time (pid_t pid);

/* Store this boot's id (/proc/sys/kernel/random/boot_id), as a marker
   lock's record names it, in BUF of SIZE bytes; "-" where the system
   has none.  */
void process_boot_id (char *buf, size_t size);

#endif /* PROCESS_H */
