/* pidfd-none.c: no process descriptors on this system.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <errno.h>
#include <signal.h>

#include "holder.h"

/* Callers without a pidfd look at the process with kill(PID, 0) at a
   bounded interval instead: a holder checks its owner every second,
   punlock its targets every 10 ms.  Between two looks a PID could go to
   a new process; that is the cost of a system without pidfds.  */
int
open_pidfd (pid_t pid)
{
  (void) pid;
  errno = ENOSYS;
  return -1;
}

/* With no pidfd, the PID it is.  */
int
signal_process (int pidfd, pid_t pid, int sig)
{
  (void) pidfd;
  return kill (pid, sig);
}
