/* timer-wait.c: timed waits interrupted by a per-thread timer signal, for
   programs that give the library a signal.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "portalock-private.h"

/* The default timed wait (wait.c) blocks in a helper thread, so the lock
   reaches the caller through a second wake-up and the helper's exit.  A
   program that can spare a signal may let the wait block in its own
   thread instead: a POSIX timer aimed at that thread (SIGEV_THREAD_ID)
   sends the signal at the deadline, its empty handler makes the blocked
   call fail with EINTR, and the wait ends.  The timer keeps firing every
   TICK after the deadline, so a signal that lands just before the call
   blocks (and so interrupts nothing) is followed by one that does.  The
   library installs the handler only when the program asks, and puts the
   old one back when it says 0 (once no timed wait uses it any more).

   configure builds this file only where timer_create(2) takes
   SIGEV_THREAD_ID, and names the member of struct sigevent that holds
   the thread: sigev_notify_thread_id where the C library offers that
   name (musl, newer glibc), else glibc's own _sigev_un._tid.  Elsewhere
   timer-wait-none.c says ENOTSUP.  */

#if !HAVE_GETTID
/* glibc before 2.30 has the system call but no wrapper.  */
# define gettid() ((pid_t) syscall (SYS_gettid))
#endif

#define TICK_NS 10000000L       /* 10 ms */

/* Switching the signal off (or to another) while another thread is in a
   timed wait must not put the old disposition back under that wait: its
   timer may still fire, and the default action of a real-time signal
   ends the process.  So each timed wait takes a hold on the signal it
   uses (portalock_timer_signal_hold), counted per installed signal; a
   change takes effect for new waits at once, and the handler of a
   signal that still has waits in flight is put back only by the last of
   them to return.  All of it under SETTING_MUTEX.  */

static pthread_mutex_t setting_mutex = PTHREAD_MUTEX_INITIALIZER;
static int timeout_signal;      /* for new waits; 0: helper threads */

/* A signal whose handler the library installed.  */
struct installed
{
  int signo;                    /* 0: slot unused */
  unsigned waits;               /* timed waits in flight with it */
  bool retired;                 /* restore SAVED once WAITS is 0 */
  struct sigaction saved;       /* the disposition before */
};

/* The current signal and, at most, one retired one still in use.  */
static struct installed installed[2];

int
portalock_timer_signal (void)
{
  return __atomic_load_n (&timeout_signal, __ATOMIC_ACQUIRE);
}

/* Does nothing: being called is what interrupts the blocked lock call.  */
static void
on_timeout_signal (int signo)
{
  (void) signo;
}

static struct installed *
find_installed (int signo)
{
  for (int i = 0; i < 2; i++)
    if (installed[i].signo == signo && signo != 0)
      return &installed[i];
  return NULL;
}

/* Put SLOT's old disposition back if nothing uses it any more.  With
   SETTING_MUTEX held.  */
static void
restore_if_unused (struct installed *slot)
{
  if (slot->retired && slot->waits == 0)
    {
      sigaction (slot->signo, &slot->saved, NULL);
      slot->signo = 0;
      slot->retired = false;
    }
}

int
portalock_timer_signal_hold (void)
{
  if (portalock_timer_signal () == 0)
    return 0;
  pthread_mutex_lock (&setting_mutex);
  int signo = timeout_signal;
  struct installed *slot = find_installed (signo);
  if (slot != NULL)
    slot->waits++;
  else
    signo = 0;
  pthread_mutex_unlock (&setting_mutex);
  return signo;
}

void
portalock_timer_signal_unhold (int signo)
{
  int saved_errno = errno;
  pthread_mutex_lock (&setting_mutex);
  struct installed *slot = find_installed (signo);
  if (slot != NULL)
    {
      slot->waits--;
      restore_if_unused (slot);
    }
  pthread_mutex_unlock (&setting_mutex);
  errno = saved_errno;
}

int
portalock_set_timeout_signal (int signo)
{
  if (signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
    {
      errno = EINVAL;
      return -1;
    }
  pthread_mutex_lock (&setting_mutex);
  int old = timeout_signal;
  if (signo != old)
    {
      struct installed *again = find_installed (signo);
      struct installed *free_slot = NULL;
      if (again == NULL && signo != 0)
        {
          /* The slot the new signal needs: the one not taken by OLD
             (which is retired below) nor by an older retired signal.  */
          free_slot = NULL;
          for (int i = 0; i < 2; i++)
            if (installed[i].signo == 0
                || (installed[i].signo == old && installed[i].waits == 0))
              free_slot = &installed[i];
          if (free_slot == NULL)
            {
              /* Waits with two earlier signals are still in flight.  */
              pthread_mutex_unlock (&setting_mutex);
              errno = EBUSY;
              return -1;
            }
        }
      /* Install the new signal's handler first: if the system refuses
         it (a signal the C library keeps for itself is EINVAL), the
         old signal must still be in place, its handler installed and
         new waits using it.  */
      struct sigaction saved;
      if (again == NULL && signo != 0)
        {
          struct sigaction sa = { .sa_handler = on_timeout_signal };
          sigemptyset (&sa.sa_mask);
          sa.sa_flags = 0;      /* no SA_RESTART: the call must fail */
          if (sigaction (signo, &sa, &saved) != 0)
            {
              int e = errno;
              pthread_mutex_unlock (&setting_mutex);
              errno = e;
              return -1;
            }
        }
      /* Nothing can fail from here on.  Retiring OLD may free the slot
         chosen above (when OLD has no waits in flight), so the new
         signal is recorded only after.  */
      struct installed *old_slot = find_installed (old);
      if (old_slot != NULL)
        {
          __atomic_store_n (&timeout_signal, 0, __ATOMIC_RELEASE);
          old_slot->retired = true;
          restore_if_unused (old_slot);
        }
      if (again != NULL)
        {
          /* Still installed for waits in flight: use it again.  */
          again->retired = false;
          __atomic_store_n (&timeout_signal, signo, __ATOMIC_RELEASE);
        }
      else if (signo != 0)
        {
          free_slot->signo = signo;
          free_slot->saved = saved;
          free_slot->waits = 0;
          free_slot->retired = false;
          __atomic_store_n (&timeout_signal, signo, __ATOMIC_RELEASE);
        }
    }
  pthread_mutex_unlock (&setting_mutex);
  return 0;
}

int
portalock_timer_wait (const struct portalock_backend_ops *ops, int fd,
                      int type, off_t start, off_t length,
                      const struct timespec *deadline, int signo)
{
  struct sigevent sev = { 0 };
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = signo;
  sev.PORTALOCK_SIGEV_THREAD_ID = gettid ();
  timer_t timer;
  if (timer_create (CLOCK_MONOTONIC, &sev, &timer) != 0)
    return -1;
  struct itimerspec when = { .it_value = *deadline,
                             .it_interval = { 0, TICK_NS } };
  timer_settime (timer, TIMER_ABSTIME, &when, NULL);

  sigset_t set, old;
  sigemptyset (&set);
  sigaddset (&set, signo);
  pthread_sigmask (SIG_UNBLOCK, &set, &old);
  int r;
  for (;;)
    {
      r = ops->lock (fd, type, start, length, true);
      if (r == 0 || errno != EINTR)
        break;
      if (portalock_deadline_passed (deadline))
        {
          errno = ETIMEDOUT;
          break;
        }
    }
  int saved_errno = errno;
  /* A signal the timer already sent is delivered, to the empty handler,
     as timer_delete returns, while the signal is still unblocked: none
     is left for after this call.  */
  timer_delete (timer);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  errno = saved_errno;
  return r;
}
