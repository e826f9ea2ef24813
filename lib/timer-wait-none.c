/* timer-wait-none.c: timed waits without per-thread timers: helper
   threads only.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <signal.h>

#include "portalock-private.h"

/* configure builds this file where timer_create(2) cannot aim a signal
   at one thread (no SIGEV_THREAD_ID, as on the BSDs and macOS).  Timed
   waits then always block in a helper thread (wait.c), which works
   everywhere; a program's request for the signal-timer wait fails with
   ENOTSUP, after the same checks of its argument as where it exists,
   and asking for helper threads (0) succeeds, as it changes nothing.  */

int
portalock_timer_signal (void)
{
  return 0;
}

/* No signal is ever installed, so a timed wait never holds one.  */
int
portalock_timer_signal_hold (void)
{
  return 0;
}

void
portalock_timer_signal_unhold (int signo)
{
  (void) signo;
}

int
portalock_set_timeout_signal (int signo)
{
  if (signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
    {
      errno = EINVAL;
      return -1;
    }
  if (signo == 0)
    return 0;
  errno = ENOTSUP;
  return -1;
}

int
portalock_timer_wait (const struct portalock_backend_ops *ops, int fd,
                      int type, off_t start, off_t length,
                      const struct timespec *deadline, int signo)
{
  (void) ops;
  (void) fd;
  (void) type;
  (void) start;
  (void) length;
  (void) deadline;
  (void) signo;
  errno = ENOTSUP;
  return -1;
}
