/* pidfd-linux.c: a descriptor that tells when a process exits and
   signals it (pidfd_open(2), pidfd_send_signal(2), Linux 5.3).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "holder.h"

/* Through syscall(2): C libraries before glibc 2.36 have no wrapper.  A
   kernel older than the header fails with ENOSYS, which callers treat
   as "no pidfds".  */
int
open_pidfd (pid_t pid)
{
  return syscall (SYS_pidfd_open, pid, 0);
}

/* configure asked for both system calls, so SYS_pidfd_send_signal is
   known here; a kernel without it fails with ENOSYS.  */
int
signal_process (int pidfd, pid_t pid, int sig)
{
  if (pidfd >= 0)
    return syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
  return kill (pid, sig);
}
