/* pending.c: pollable acquisitions of Redis locks, each waited for by a
   thread of its own.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* How it works.  portalock_redis_acquire_start makes two descriptors
   (what the caller polls, and what a cancel makes readable)
   and starts a thread, the acquisition's waiter, which runs the object's
   own portalock_redis_acquire, with every rule of it: tries, the queue,
   the sleep on the object's channel until a release wakes it, the
   timeout.  That sleep is a poll(2) on the subscription's socket and on
   the cancel descriptor (wait.c), so a waiter uses no CPU while the lock
   is held elsewhere, and a cancel ends its sleep at once.  When the
   acquire returns, the waiter records the outcome and makes the
   caller's descriptor readable.

   The two descriptors are eventfds, or pipes where there are none.

   The settle rule.  A cancel never interrupts a command: it is seen
   before the first try, and between tries, in the sleep.  Every answer
   of the server is read in full, so the waiter always knows whether it
   was granted: a grant (even one answered after the cancel was asked
   for) is reported held, and portalock_redis_acquire_finish returns 0;
   else the waiter leaves the lock's queue (waking the next waiter if it
   was first and the lock is free) and reports ECANCELED.  Only a
   connection lost while a try was under way leaves the outcome unknown;
   after a cancel the waiter then sends a release, which removes a grant
   the server may have made, and reports ECANCELED if the server
   answered it; if it could not, it reports the connection's error, and
   the object stays as after a failed acquire (release it, or acquire
   again).

   Threads.  At most PENDING_MAX acquisitions are pending at once in a
   process (start fails with EAGAIN past it), so at most PENDING_MAX
   waiters exist, each with a stack of WAITER_STACK bytes and every
   signal blocked.  A waiter ends once its outcome is recorded; it is
   detached, and touches nothing of its acquisition after that.

   Fork: the child has no waiters.  The child handler starts a new
   generation: an acquisition of an older one is its parent's, and is
   not pending in the child.  */

#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#if HAVE_EVENTFD
# include <sys/eventfd.h>
#endif

#include "redis-private.h"

#define PENDING_MAX 1024
#define WAITER_STACK (256 * 1024)

struct portalock_redis_pending
{
  portalock_redis *lock;
  int ready_fd;                 /* what the caller polls */
  int ready_wfd;                /* what the waiter writes to it */
  int cancel_fd;                /* what a cancel makes readable */
  int cancel_wfd;               /* what the cancel writes to it */
  unsigned long generation;     /* the fork generation that started it */
  bool cancel_asked;            /* under MUTEX */
  bool done;                    /* under MUTEX */
  int result;
  int error;
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned pending_count;
static unsigned long generation;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
fork_prepare (void)
{
  pthread_mutex_lock (&mutex);
}

static void
fork_parent (void)
{
  pthread_mutex_unlock (&mutex);
}

/* In the child: no waiter exists; what was pending is the parent's.  */
static void
fork_child (void)
{
  generation++;
  pending_count = 0;
  pthread_mutex_init (&mutex, NULL);
}

static void
init (void)
{
  pthread_atfork (fork_prepare, fork_parent, fork_child);
}

/* Open a descriptor that turns readable once written: an eventfd (*R
   and *W the same), or a pipe where there is none.  Return 0, or -1
   with errno.  */
static int
open_signal (int *r, int *w)
{
#if HAVE_EVENTFD
  *r = *w = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  return *r < 0 ? -1 : 0;
#else
  int fds[2];
# if HAVE_PIPE2
  if (pipe2 (fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
# else
  if (pipe (fds) != 0)
    return -1;
  for (int i = 0; i < 2; i++)
    {
      fcntl (fds[i], F_SETFD, FD_CLOEXEC);
      fcntl (fds[i], F_SETFL, O_NONBLOCK);
    }
# endif
  *r = fds[0];
  *w = fds[1];
  return 0;
#endif
}

static void
close_signal (int r, int w)
{
  if (r >= 0)
    close (r);
  if (w >= 0 && w != r)
    close (w);
}

/* Make the descriptor written through W readable.  Keeps errno.  */
static void
signal_fd (int w)
{
  int saved_errno = errno;
#if HAVE_EVENTFD
  uint64_t one = 1;
  while (write (w, &one, sizeof one) < 0 && errno == EINTR)
    ;
#else
  char c = 0;
  while (write (w, &c, 1) < 0 && errno == EINTR)
    ;
#endif
  errno = saved_errno;
}

static void *
waiter_main (void *arg)
{
  struct portalock_redis_pending *p = arg;
  portalock_redis *lock = p->lock;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);

  int r, e;
  if (plr_cancel_requested (lock))
    r = -1, e = ECANCELED;
  else
    {
      r = portalock_redis_acquire (lock);
      e = r == 0 ? 0 : errno;
      /* The settle step for an outcome the connection lost: remove the
         grant the server may have made.  An object that held the lock
         before keeps it, as after a failed acquire.  */
      if (r != 0 && e != ECANCELED && lock->maybe_held && !lock->held
          && plr_cancel_requested (lock)
          && portalock_redis_release (lock) >= 0)
        e = ECANCELED;
    }
  lock->cancel_fd = -1;

  pthread_mutex_lock (&mutex);
  p->result = r;
  p->error = e;
  p->done = true;
  signal_fd (p->ready_wfd);
  pthread_mutex_unlock (&mutex);
  return NULL;
}

static void
pending_free (struct portalock_redis_pending *p)
{
  int saved_errno = errno;
  close_signal (p->ready_fd, p->ready_wfd);
  close_signal (p->cancel_fd, p->cancel_wfd);
  free (p);
  errno = saved_errno;
}

/* Start P's waiter, detached, with every signal blocked.  Return 0,
   or EAGAIN or ENOMEM.  */
static int
start_waiter (struct portalock_redis_pending *p)
{
  pthread_attr_t attr;
  pthread_t thread;
  sigset_t all_signals, old;
  int e = pthread_attr_init (&attr);
  if (e != 0)
    return ENOMEM;
  pthread_attr_setstacksize (&attr, WAITER_STACK);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  sigfillset (&all_signals);
  pthread_sigmask (SIG_SETMASK, &all_signals, &old);
  e = pthread_create (&thread, &attr, waiter_main, p);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  return e == 0 ? 0 : e == ENOMEM ? ENOMEM : EAGAIN;
}

portalock_redis_pending *
portalock_redis_acquire_start (portalock_redis *lock)
{
  if (lock == NULL)
    {
      errno = EINVAL;
      return NULL;
    }
  pthread_once (&once, init);
  struct portalock_redis_pending *p = calloc (1, sizeof *p);
  if (p == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  p->lock = lock;
  p->ready_fd = p->ready_wfd = p->cancel_fd = p->cancel_wfd = -1;
  if (open_signal (&p->ready_fd, &p->ready_wfd) != 0
      || open_signal (&p->cancel_fd, &p->cancel_wfd) != 0)
    {
      pending_free (p);
      return NULL;
    }

  int e = 0;
  pthread_mutex_lock (&mutex);
  /* The object names its acquisition while one is pending in this
     generation; one of an older generation was the parent's.  */
  struct portalock_redis_pending *other = lock->pending;
  if (other != NULL && lock->pending_generation == generation)
    e = EBUSY;
  else if (pending_count >= PENDING_MAX)
    e = EAGAIN;
  else
    {
      p->generation = generation;
      lock->cancel_fd = p->cancel_fd;
      e = start_waiter (p);
      if (e == 0)
        {
          pending_count++;
          lock->pending = p;
          lock->pending_generation = generation;
        }
      else
        lock->cancel_fd = -1;
    }
  pthread_mutex_unlock (&mutex);
  if (e != 0)
    {
      pending_free (p);
      errno = e;
      return NULL;
    }
  return p;
}

int
portalock_redis_pending_fd (const portalock_redis_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  return p->ready_fd;
}

int
portalock_redis_acquire_cancel (portalock_redis_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  pthread_mutex_lock (&mutex);
  /* In a forked child the parent's acquisition goes on in the parent
     only: nothing to do here.  */
  if (p->generation == generation && !p->done && !p->cancel_asked)
    {
      p->cancel_asked = true;
      signal_fd (p->cancel_wfd);
    }
  pthread_mutex_unlock (&mutex);
  return 0;
}

int
portalock_redis_acquire_finish (portalock_redis_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  pthread_mutex_lock (&mutex);
  bool parents = p->generation != generation;
  pthread_mutex_unlock (&mutex);
  if (parents)
    {
      /* Forked: the acquisition went on in the parent only.  The
         object may only be freed.  */
      pending_free (p);
      errno = ECANCELED;
      return -1;
    }

  /* Not a cancellation point: the acquisition must be collected.  */
  int cancel_state;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, &cancel_state);
  for (;;)
    {
      pthread_mutex_lock (&mutex);
      bool done = p->done;
      pthread_mutex_unlock (&mutex);
      if (done)
        break;
      struct pollfd pfd = { .fd = p->ready_fd, .events = POLLIN };
      poll (&pfd, 1, -1);
    }
  pthread_mutex_lock (&mutex);
  pending_count--;
  p->lock->pending = NULL;
  pthread_mutex_unlock (&mutex);
  pthread_setcancelstate (cancel_state, NULL);

  int r = p->result, e = p->error;
  pending_free (p);
  if (r == 0)
    return 0;
  errno = e;
  return -1;
}
