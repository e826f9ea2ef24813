/* wait-win32.c: waiting for a lock on Windows, with or without a deadline.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <time.h>
#include <windows.h>

#include "portalock-private.h"

/* How a wait works on Windows, and why it differs from wait.c.

   Without a deadline, the wait is one synchronous LockFileEx, blocked in
   the system until the lock is granted: no polling, no latency.

   With a deadline, a synchronous LockFileEx cannot be used: nothing can
   interrupt it (CancelSynchronousIo does not reach it, and closing the
   handle does not wake it), so a helper thread blocked in it would
   outlive the call and take the lock after the caller gave up.  The
   documented way to time out a lock wait on Windows is an overlapped
   LockFileEx waited for with WaitForSingleObject and cancelled with
   CancelIoEx, but that needs a handle opened with FILE_FLAG_OVERLAPPED,
   and a lock belongs to the handle that took it: the descriptor a
   caller passes in (or a lock object's, which its caller reads and
   writes through) is an ordinary synchronous one.  And Wine, where this
   port is tested, never completes an overlapped lock wait and then
   reports success for a lock it does not hold, so that path could not
   be tested at all.

   So a timed wait polls: LOCKFILE_FAIL_IMMEDIATELY, then a pause that
   starts at 1 ms and doubles up to MAX_PAUSE_MS, never past the
   deadline.  A lock released during a wait is taken at most
   MAX_PAUSE_MS later, the waiter burns no CPU to speak of, nothing is
   left running when the call returns, and the code that runs under
   Wine is the code that runs on Windows.  The manual states the
   trade-off.

   A pending acquisition's wait (pending.c) must end when it is
   cancelled, and the synchronous LockFileEx cannot be made to: so in a
   thread of the pool every wait polls, with a deadline or without, and
   looks at the cancel before each pause.  A cancelled wait fails with
   ECANCELED holding nothing; a try that was granted is reported held,
   cancel or not (the settle rule: exactly one of the two is true).  Its
   pauses wait on a condition variable registered with the cancel token
   (portalock_cancel_register), so that a cancel ends a pause at once.  */

/* The longest pause between two tries of a timed wait, in ms.  */
#define MAX_PAUSE_MS 10

/* Return the milliseconds left until DEADLINE, at most LIMIT.  */
static DWORD
ms_left (const struct timespec *deadline, DWORD limit)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  double left = ((double) (deadline->tv_sec - now.tv_sec) * 1e3
                 + (double) (deadline->tv_nsec - now.tv_nsec) / 1e6);
  if (left <= 0)
    return 0;
  return left < limit ? (DWORD) left + 1 : limit;
}

/* What a pending acquisition's pauses wait on: WAKE, signalled by the
   cancel under MUTEX.  */
struct cancel_wake
{
  pthread_mutex_t mutex;
  pthread_cond_t wake;
};

/* Pause MS milliseconds, or in a pending acquisition's wait (W not NULL)
   until its cancel, if that comes first.  The cancel is looked at with
   W's mutex held, which the cancel must take to signal: it cannot slip
   in between the look and the wait.  The pause is relative (winpthread's
   relative timed wait), so a change of the system clock cannot stretch
   it.  */
static void
pause_ms (DWORD ms, struct cancel_wake *w)
{
  if (w == NULL)
    {
      Sleep (ms);
      return;
    }
  struct timespec span = { .tv_sec = ms / 1000,
                           .tv_nsec = (long) (ms % 1000) * 1000000L };
  pthread_mutex_lock (&w->mutex);
  if (!portalock_cancel_requested ())
    pthread_cond_timedwait_relative_np (&w->wake, &w->mutex, &span);
  pthread_mutex_unlock (&w->mutex);
}

/* The polling wait: see above.  */
static int
poll_lock (const struct portalock_backend_ops *ops, int fd, int type,
           off_t start, off_t length, const struct timespec *deadline,
           struct cancel_wake *w)
{
  DWORD pause = 1;
  for (;;)
    {
      if (w != NULL && portalock_cancel_requested ())
        {
          errno = ECANCELED;
          return -1;
        }
      DWORD ms = deadline != NULL ? ms_left (deadline, pause) : pause;
      if (ms == 0)
        {
          errno = ETIMEDOUT;
          return -1;
        }
      pause_ms (ms, w);
      int r = ops->lock (fd, type, start, length, false);
      if (r == 0 || errno != EWOULDBLOCK)
        return r;
      if (pause < MAX_PAUSE_MS)
        pause = pause * 2 < MAX_PAUSE_MS ? pause * 2 : MAX_PAUSE_MS;
    }
}

int
portalock_wait_lock (const struct portalock_backend_ops *ops, int fd,
                     int type, off_t start, off_t length, bool nonblock,
                     const struct timespec *deadline)
{
  /* Try first: an uncontended lock costs one call.  */
  int r = ops->lock (fd, type, start, length, false);
  if (r == 0 || errno != EWOULDBLOCK || nonblock)
    return r;

  if (!portalock_cancel_active ())
    {
      if (deadline == NULL)
        return ops->lock (fd, type, start, length, true);
      return poll_lock (ops, fd, type, start, length, deadline, NULL);
    }

  struct cancel_wake w;
  pthread_mutex_init (&w.mutex, NULL);
  pthread_cond_init (&w.wake, NULL);
  portalock_cancel_register (&w.mutex, &w.wake);
  r = poll_lock (ops, fd, type, start, length, deadline, &w);
  int saved_errno = errno;
  /* Forgotten under the token's mutex: no cancel touches W after this.  */
  portalock_cancel_register (NULL, NULL);
  pthread_cond_destroy (&w.wake);
  pthread_mutex_destroy (&w.mutex);
  errno = saved_errno;
  return r;
}

/* Windows cannot aim a signal at a thread: timed waits never use one.
   Asking for one fails with ENOTSUP, after the same check of the
   argument as elsewhere; asking for none (0) succeeds.  */

int
portalock_timer_signal (void)
{
  return 0;
}

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

/* Timed waits here poll in the calling thread: no helper to drop.  */
int
portalock_drop_wait_helper (void)
{
  return 0;
}

int
portalock_set_timeout_signal (int signo)
{
  if (signo < 0 || signo >= NSIG)
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
