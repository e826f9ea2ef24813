/* wait.c: waiting for a lock in the kernel, with or without a deadline.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "portalock-private.h"

/* How a timed wait works.  A waiter must get a just-released lock as fast
   as it can and must not burn CPU, so it never polls.  The kernel has no
   lock call with a timeout, and interrupting a blocked call with a timer
   signal would need a signal handler, which a library must not install.
   So the blocking call runs in a short-lived helper thread, with every
   signal blocked, while the caller waits on a condition variable with the
   deadline (CLOCK_MONOTONIC).  If the lock comes first, the helper
   reports and ends.  If the deadline comes first, the caller cancels the
   helper and joins it before it returns.

   The cancel must end the blocked call on every C library, whichever
   calls it counts as cancellation points: glibc counts fcntl's F_SETLKW
   but not flock(2); musl counts neither F_OFD_SETLKW nor flock.  So the
   helper does not rely on that list: it switches to asynchronous
   cancellation for exactly the one blocking lock call and back to
   deferred right after it.  The cancel signal then ends the thread
   wherever it is in that stretch, inside the system call included.
   Asynchronous cancellation is unsafe around code that takes a lock,
   allocates or otherwise leaves shared state half changed; the stretch
   holds nothing of the kind: the backend's call is one system call
   through the C library's thin wrapper (no libc lock, no allocation,
   no state but the registers and the helper's own stack), and the
   outcome reaches the shared state only after the switch back.  The
   helper has no cleanup handlers and owns nothing that its end would
   leak.

   A cancel can thus land just after the kernel granted the lock but
   before the helper reported it (the helper is then gone, the lock
   granted).  The outcome is then unknown, so the caller settles it with
   one more non-blocking request on the same descriptor: if the helper's
   lock was granted, that request is granted too (the descriptor already
   holds it) and the wait succeeds; if not, the request either finds the
   lock free and takes it, or fails and leaves the descriptor as a
   failed request does.  Either answer is true.  */

/* Waits longer than this are waits without a deadline.  */
#define FOREVER 1e9

bool
portalock_deadline_after (double seconds, struct timespec *deadline)
{
  if (seconds >= FOREVER)
    return false;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  time_t whole = (time_t) seconds;
  deadline->tv_sec = now.tv_sec + whole;
  deadline->tv_nsec = now.tv_nsec + (long) ((seconds - whole) * 1e9);
  if (deadline->tv_nsec >= 1000000000L)
    {
      deadline->tv_sec++;
      deadline->tv_nsec -= 1000000000L;
    }
  return true;
}

bool
portalock_deadline_passed (const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec > deadline->tv_sec
          || (now.tv_sec == deadline->tv_sec
              && now.tv_nsec >= deadline->tv_nsec));
}

/* What the caller and its helper share.  It lives on the caller's stack,
   which outlasts the helper: the caller always joins it.  */
struct waiter
{
  const struct portalock_backend_ops *ops;
  int fd;
  int type;
  off_t start;
  off_t length;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  bool done;            /* the lock call returned */
  int result;           /* its return value ... */
  int error;            /* ... and errno */
};

static void *
helper (void *arg)
{
  struct waiter *w = arg;
  int r, error, oldtype;

  /* Asynchronous cancellation for the blocking call only: see above.  */
  pthread_setcanceltype (PTHREAD_CANCEL_ASYNCHRONOUS, &oldtype);
  r = w->ops->lock (w->fd, w->type, w->start, w->length, true);
  error = errno;
  pthread_setcanceltype (oldtype, NULL);
  /* From here on the lock call's outcome must reach the caller.  */
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);

  pthread_mutex_lock (&w->mutex);
  w->result = r;
  w->error = error;
  w->done = true;
  pthread_mutex_unlock (&w->mutex);
  /* Signal after unlocking, so that the woken caller does not find the
     mutex still held and sleep once more.  The caller joins this thread
     before the condition variable goes away.  */
  pthread_cond_signal (&w->cond);
  return NULL;
}

static int
start_helper (struct waiter *w, pthread_t *thread)
{
  pthread_attr_t attr;
  sigset_t all, old;
  int e = pthread_attr_init (&attr);
  if (e != 0)
    return e;
  pthread_attr_setstacksize (&attr, 64 * 1024);
  /* The helper inherits this mask, so no application signal is ever
     delivered to it and its call never returns EINTR.  */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  e = pthread_create (thread, &attr, helper, w);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  return e;
}

/* After a cancelled helper: take the lock if it is ours or free, else
   report the timeout.  Return 0 or an errno value.  */
static int
settle (const struct portalock_backend_ops *ops, int fd, int type,
        off_t start, off_t length)
{
  int r;
  do
    r = ops->lock (fd, type, start, length, false);
  while (r != 0 && errno == EINTR);
  if (r == 0)
    return 0;
  return errno == EWOULDBLOCK ? ETIMEDOUT : errno;
}

static int
timed_wait (const struct portalock_backend_ops *ops, int fd, int type,
            off_t start, off_t length, const struct timespec *deadline)
{
  struct waiter w = { .ops = ops, .fd = fd, .type = type, .start = start,
                      .length = length, .done = false };
  pthread_condattr_t cattr;
  pthread_t thread;
  int e;

  pthread_mutex_init (&w.mutex, NULL);
  pthread_condattr_init (&cattr);
  pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
  pthread_cond_init (&w.cond, &cattr);
  pthread_condattr_destroy (&cattr);

  e = start_helper (&w, &thread);
  if (e == 0)
    {
      bool timed_out = false;
      pthread_mutex_lock (&w.mutex);
      while (!w.done && !timed_out)
        timed_out = (pthread_cond_timedwait (&w.cond, &w.mutex, deadline)
                     == ETIMEDOUT);
      pthread_mutex_unlock (&w.mutex);
      if (!w.done)
        pthread_cancel (thread);
      pthread_join (thread, NULL);
      if (w.done)
        e = w.result == 0 ? 0 : w.error;
      else
        e = settle (ops, fd, type, start, length);
    }
  pthread_cond_destroy (&w.cond);
  pthread_mutex_destroy (&w.mutex);
  if (e == 0)
    return 0;
  errno = e;
  return -1;
}

int
portalock_wait_lock (const struct portalock_backend_ops *ops, int fd,
                     int type, off_t start, off_t length, bool nonblock,
                     const struct timespec *deadline)
{
  int r;

  /* Try first: an uncontended lock costs one system call.  */
  do
    r = ops->lock (fd, type, start, length, false);
  while (r != 0 && errno == EINTR);
  if (r == 0 || errno != EWOULDBLOCK || nonblock)
    return r;

  if (deadline == NULL)
    {
      do
        r = ops->lock (fd, type, start, length, true);
      while (r != 0 && errno == EINTR);
      return r;
    }

  if (portalock_deadline_passed (deadline))
    {
      errno = ETIMEDOUT;
      return -1;
    }
  int signo = portalock_timer_signal_hold ();
  if (signo != 0)
    {
      r = portalock_timer_wait (ops, fd, type, start, length, deadline,
                                signo);
      portalock_timer_signal_unhold (signo);
      return r;
    }
  return timed_wait (ops, fd, type, start, length, deadline);
}
