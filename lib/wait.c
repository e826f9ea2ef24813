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
#include <stdlib.h>
#include <time.h>

#include "portalock-private.h"

/* How a timed wait works.  A waiter must get a just-released lock as fast
   as it can and must not burn CPU, so it never polls.  The kernel has no
   lock call with a timeout, and interrupting a blocked call with a timer
   signal would need a signal handler, which a library must not install
   unasked (timer-wait.c does it for programs that ask).  So the blocking
   call runs in a helper thread, with every signal blocked, while the
   caller waits on a condition variable with the deadline
   (CLOCK_MONOTONIC).  If the lock comes first, the helper reports it and
   parks; if the deadline comes first, the caller cancels the helper and
   joins it before it returns.

   Why not one wake-up without a signal: the thread that asked must end
   up running with the lock, and it can leave a blocking system call only
   when the call returns, or when a signal (whose handler the program or
   the library installed) interrupts it.  Without a handler, a thread
   blocked in F_SETLKW or flock(2) cannot be made to return at a
   deadline; so either the caller blocks in the kernel and cannot time
   out, or something else blocks there and must then wake the caller: a
   second wake-up.  (Polling with non-blocking tries wakes up even more
   often and adds the polling interval.)  The hand-off therefore costs
   the kernel's wake-up of the helper plus the helper's wake-up of the
   caller, and the work here is to add nothing to those two.

   The helper is kept: each thread that makes a timed wait gets one, the
   first time, and it stays parked on its condition variable between
   waits, so a wait creates, joins and ends nothing on its way.  A helper
   ends only when
   - a wait times out while it is still blocked: it is cancelled (below)
     and joined, and the thread's next timed wait starts a new one;
   - its thread exits: the thread-specific key's destructor stops and
     joins it, so no idle helper outlives its thread;
   - the process forks: the child has none of its parent's threads, and
     the fork handler forgets the forking thread's helper in the child
     (its memory is freed; its mutex and condition variable, copied
     while the helper slept on them, are not touched again).
   - the thread calls portalock_drop_wait_helper, which stops and joins
     it as the destructor does.
   The manual says so: a thread that used a timed wait keeps one idle
   thread (64 KiB of stack) until it exits or drops it.

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
   outcome reaches the shared state only after the switch back.  Outside
   that stretch cancellation is disabled, so a parked helper never acts
   on a cancel; a helper that sees the cancel's flag (ABANDONED) when it
   reports ends by itself instead of parking, and the join completes
   either way.  The helper has no cleanup handlers and owns nothing that
   its end would leak.

   A cancel can thus land just after the kernel granted the lock but
   before the helper reported it (the helper is then gone, the lock
   granted).  The outcome is then unknown, so the caller settles it with
   one more non-blocking request on the same descriptor: if the helper's
   lock was granted, that request is granted too (the descriptor already
   holds it) and the wait succeeds; if not, the request either finds the
   lock free and takes it, or fails and leaves the descriptor as a
   failed request does.  Either answer is true.

   A pending acquisition's wait (pending.c) is the same, with one more
   way to end: the thread of the pool that runs it has a cancel token,
   and its wait always blocks in the helper, with or without a deadline,
   so that portalock_acquire_cancel can wake the waiting thread (through
   the ANSWERED condition variable, registered in the token) and end the
   helper as a deadline would.  The settle rule then decides, and a
   wait that the cancel ended and that did not get the lock fails with
   ECANCELED.  Such a wait never uses the timer signal: the thread is the
   library's own.  When the kernel grants such a wait, the helper asks
   pending.c whether that grant decides the acquisition, and if so makes
   the acquisition's descriptor readable itself, after waking the
   waiting thread (portalock_cancel_granted, portalock_cancel_tell).  */

/* A thread's kept helper, and what it shares with that thread.  */
struct helper
{
  pthread_t thread;
  pthread_mutex_t mutex;
  pthread_cond_t asked;         /* a request came, or QUIT */
  pthread_cond_t answered;      /* DONE (CLOCK_MONOTONIC) */
  /* The request, under MUTEX.  */
  const struct portalock_backend_ops *ops;
  int fd;
  int type;
  off_t start;
  off_t length;
  struct portalock_cancel *token;       /* a pending acquisition's */
  unsigned long requests;       /* bumped for each request */
  bool done;                    /* the lock call returned */
  int result;                   /* its return value ... */
  int error;                    /* ... and errno */
  bool abandoned;               /* the caller timed out: end, don't park */
  bool quit;                    /* the caller's thread exits */
};

static pthread_key_t helper_key;
static pthread_once_t helper_once = PTHREAD_ONCE_INIT;
/* Whether HELPER_KEY exists: pthread_key_create can fail (EAGAIN).  */
static bool helper_key_made;

static void *
helper_main (void *arg)
{
  struct helper *h = arg;
  unsigned long served = 0;

  /* Only the lock call itself may be cancelled: see above.  */
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
  pthread_mutex_lock (&h->mutex);
  for (;;)
    {
      while (h->requests == served && !h->quit && !h->abandoned)
        pthread_cond_wait (&h->asked, &h->mutex);
      if (h->quit || h->abandoned)
        break;
      served = h->requests;
      const struct portalock_backend_ops *ops = h->ops;
      int fd = h->fd, type = h->type;
      off_t start = h->start, length = h->length;
      struct portalock_cancel *token = h->token;
      pthread_mutex_unlock (&h->mutex);

      pthread_setcancelstate (PTHREAD_CANCEL_ENABLE, NULL);
      pthread_setcanceltype (PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
      int r = ops->lock (fd, type, start, length, true);
      int error = errno;
      pthread_setcanceltype (PTHREAD_CANCEL_DEFERRED, NULL);
      /* From here on the lock call's outcome must reach the caller.  */
      pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
      /* A pending acquisition's grant may be its answer: if so, tell
         the event loop from here (below), rather than after the worker
         has woken up and made its way back.  */
      bool tell = (r == 0 && token != NULL
                   && portalock_cancel_granted (token, ops, fd));

      pthread_mutex_lock (&h->mutex);
      h->result = r;
      h->error = error;
      h->done = true;
      /* Abandoned, this thread has been cancelled, and glibc may act on
         that cancel at a cancellation point even now, with
         cancellation disabled (a cancel signal sent while the thread
         was in the asynchronous stretch, handled in the write of the
         tell): so it tells nothing, and the worker reports the settled
         outcome as usual.  */
      if (h->abandoned)
        break;
      if (tell)
        portalock_cancel_will_tell (token);
      /* Signal after unlocking, so that the woken caller does not find
         the mutex still held and sleep once more.  H outlives this: it
         is freed only after this thread is joined.  The worker first,
         then the loop: the worker's way back then overlaps the loop's
         wake-up.  The acquisition outlives the tell: its finish waits
         for it (pending.c).  */
      pthread_mutex_unlock (&h->mutex);
      pthread_cond_signal (&h->answered);
      if (tell)
        portalock_cancel_tell (token);
      pthread_mutex_lock (&h->mutex);
    }
  pthread_mutex_unlock (&h->mutex);
  return NULL;
}

/* Stop and join H's thread, and free H.  */
static void
helper_stop (struct helper *h)
{
  pthread_mutex_lock (&h->mutex);
  h->quit = true;
  pthread_cond_signal (&h->asked);
  pthread_mutex_unlock (&h->mutex);
  pthread_join (h->thread, NULL);
  pthread_cond_destroy (&h->asked);
  pthread_cond_destroy (&h->answered);
  pthread_mutex_destroy (&h->mutex);
  free (h);
}

/* The thread that owned H exits.  */
static void
helper_key_destroy (void *arg)
{
  int saved_errno = errno;
  helper_stop (arg);
  errno = saved_errno;
}

/* In a forked child: the forking thread's helper is its parent's, and
   does not exist here.  Forget it; a wait in the child starts a new one.
   Its mutex and condition variables are copies of objects another thread
   was using, so they are not destroyed, only freed.  */
static void
helper_after_fork_child (void)
{
  if (!helper_key_made)
    return;
  struct helper *h = pthread_getspecific (helper_key);
  if (h != NULL)
    {
      pthread_setspecific (helper_key, NULL);
      free (h);
    }
}

static void
helper_init (void)
{
  helper_key_made = pthread_key_create (&helper_key, helper_key_destroy) == 0;
  if (helper_key_made)
    pthread_atfork (NULL, NULL, helper_after_fork_child);
}

/* Return a new helper, started and parked; NULL with errno.  */
static struct helper *
helper_start (void)
{
  struct helper *h = calloc (1, sizeof *h);
  if (h == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  pthread_condattr_t cattr;
  pthread_condattr_init (&cattr);
  pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
  pthread_cond_init (&h->answered, &cattr);
  pthread_condattr_destroy (&cattr);
  pthread_cond_init (&h->asked, NULL);
  pthread_mutex_init (&h->mutex, NULL);

  pthread_attr_t attr;
  sigset_t all, old;
  int e = pthread_attr_init (&attr);
  if (e == 0)
    {
      pthread_attr_setstacksize (&attr, 64 * 1024);
      /* The helper inherits this mask, so no application signal is ever
         delivered to it and its call never returns EINTR.  */
      sigfillset (&all);
      pthread_sigmask (SIG_SETMASK, &all, &old);
      e = pthread_create (&h->thread, &attr, helper_main, h);
      pthread_sigmask (SIG_SETMASK, &old, NULL);
      pthread_attr_destroy (&attr);
    }
  if (e != 0)
    {
      pthread_cond_destroy (&h->asked);
      pthread_cond_destroy (&h->answered);
      pthread_mutex_destroy (&h->mutex);
      free (h);
      errno = e;
      return NULL;
    }
  return h;
}

/* Return the calling thread's helper, starting it if need be; NULL with
   errno.  */
static struct helper *
own_helper (void)
{
  pthread_once (&helper_once, helper_init);
  struct helper *h = helper_key_made ? pthread_getspecific (helper_key)
                     : NULL;
  if (h != NULL)
    return h;
  h = helper_start ();
  if (h != NULL && helper_key_made
      && pthread_setspecific (helper_key, h) != 0)
    {
      helper_stop (h);
      errno = ENOMEM;
      return NULL;
    }
  /* Without a key (the process ran out of them) the helper serves one
     wait and is stopped after it.  */
  return h;
}

int
portalock_drop_wait_helper (void)
{
  int saved_errno = errno;
  /* Joining is a cancellation point; the call is not one.  */
  int cancel_state;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, &cancel_state);
  pthread_once (&helper_once, helper_init);
  struct helper *h = helper_key_made ? pthread_getspecific (helper_key)
                     : NULL;
  if (h != NULL)
    {
      pthread_setspecific (helper_key, NULL);
      helper_stop (h);
    }
  pthread_setcancelstate (cancel_state, NULL);
  errno = saved_errno;
  return 0;
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

/* Wait for the lock in H until DEADLINE.  Return 0 or an errno value;
   set *GONE if H was cancelled and joined (and so must not be used
   again).  */
static int
helper_wait (struct helper *h, const struct portalock_backend_ops *ops,
             int fd, int type, off_t start, off_t length,
             const struct timespec *deadline, bool *gone)
{
  bool timed_out = false;
  pthread_mutex_lock (&h->mutex);
  h->ops = ops;
  h->fd = fd;
  h->type = type;
  h->start = start;
  h->length = length;
  h->token = portalock_cancel_current;
  h->done = false;
  h->requests++;
  pthread_cond_signal (&h->asked);
  pthread_mutex_unlock (&h->mutex);
  /* A pending acquisition's wait (pending.c) also ends on its cancel,
     which signals ANSWERED.  */
  portalock_cancel_register (&h->mutex, &h->answered);
  pthread_mutex_lock (&h->mutex);
  bool cancelled = false;
  while (!h->done && !timed_out
         && !(cancelled = portalock_cancel_requested ()))
    {
      if (deadline == NULL)
        pthread_cond_wait (&h->answered, &h->mutex);
      else
        timed_out = (pthread_cond_timedwait (&h->answered, &h->mutex,
                                             deadline) == ETIMEDOUT);
    }
  bool done = h->done;
  int e = h->result == 0 ? 0 : h->error;
  if (!done)
    h->abandoned = true;
  pthread_mutex_unlock (&h->mutex);
  portalock_cancel_register (NULL, NULL);
  *gone = !done;
  if (done)
    return e;
  pthread_cancel (h->thread);
  pthread_join (h->thread, NULL);
  e = settle (ops, fd, type, start, length);
  return e == ETIMEDOUT && cancelled ? ECANCELED : e;
}

static int
timed_wait (const struct portalock_backend_ops *ops, int fd, int type,
            off_t start, off_t length, const struct timespec *deadline)
{
  /* A cancel of the caller in the middle would leave the helper with a
     request nobody collects (and perhaps a lock nobody knows of): the
     timed wait is not a cancellation point.  */
  int cancel_state;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, &cancel_state);
  struct helper *h = own_helper ();
  int e;
  if (h == NULL)
    e = errno;
  else
    {
      bool gone;
      e = helper_wait (h, ops, fd, type, start, length, deadline, &gone);
      bool kept = helper_key_made && pthread_getspecific (helper_key) == h;
      if (gone)
        {
          if (kept)
            pthread_setspecific (helper_key, NULL);
          pthread_cond_destroy (&h->asked);
          pthread_cond_destroy (&h->answered);
          pthread_mutex_destroy (&h->mutex);
          free (h);
        }
      else if (!kept)
        helper_stop (h);
    }
  pthread_setcancelstate (cancel_state, NULL);
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

  /* A pending acquisition (pending.c) waits in a helper, even without a
     deadline, so that its cancel can end the wait.  */
  bool cancellable = portalock_cancel_current != NULL;
  if (cancellable && portalock_cancel_requested ())
    {
      errno = ECANCELED;
      return -1;
    }
  if (deadline == NULL && !cancellable)
    {
      do
        r = ops->lock (fd, type, start, length, true);
      while (r != 0 && errno == EINTR);
      return r;
    }

  if (deadline != NULL && portalock_deadline_passed (deadline))
    {
      errno = ETIMEDOUT;
      return -1;
    }
  int signo = cancellable ? 0 : portalock_timer_signal_hold ();
  if (signo != 0)
    {
      r = portalock_timer_wait (ops, fd, type, start, length, deadline,
                                signo);
      portalock_timer_signal_unhold (signo);
      return r;
    }
  return timed_wait (ops, fd, type, start, length, deadline);
}
