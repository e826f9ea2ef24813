/* pending-notify-posix.c: the readiness object of a pending acquisition
   on POSIX systems, an eventfd or a pipe, and the pool's threads.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#if HAVE_EVENTFD
# include <sys/eventfd.h>
#endif

#include "pending-notify.h"
#include "portalock-private.h"

/* The caller polls RFD; the worker writes WFD (RFD itself for an
   eventfd).  */
struct portalock_notify
{
  int rfd;
  int wfd;
};

_Thread_local struct portalock_cancel *portalock_cancel_current;

struct portalock_cancel *
portalock_notify_token (void)
{
  return portalock_cancel_current;
}

void
portalock_notify_set_token (struct portalock_cancel *token)
{
  portalock_cancel_current = token;
}

struct portalock_notify *
portalock_notify_new (void)
{
  struct portalock_notify *n = malloc (sizeof *n);
  if (n == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
#if HAVE_EVENTFD
  n->rfd = n->wfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (n->rfd < 0)
    goto fail;
#else
  int fds[2];
# if HAVE_PIPE2
  if (pipe2 (fds, O_CLOEXEC | O_NONBLOCK) != 0)
    goto fail;
# else
  if (pipe (fds) != 0)
    goto fail;
  for (int i = 0; i < 2; i++)
    {
      fcntl (fds[i], F_SETFD, FD_CLOEXEC);
      fcntl (fds[i], F_SETFL, O_NONBLOCK);
    }
# endif
  n->rfd = fds[0];
  n->wfd = fds[1];
#endif
  return n;

 fail:;
  int e = errno;
  free (n);
  errno = e;
  return NULL;
}

void
portalock_notify_signal (struct portalock_notify *n)
{
  int saved_errno = errno;
#if HAVE_EVENTFD
  uint64_t one = 1;
  while (write (n->wfd, &one, sizeof one) < 0 && errno == EINTR)
    ;
#else
  char c = 0;
  while (write (n->wfd, &c, 1) < 0 && errno == EINTR)
    ;
#endif
  errno = saved_errno;
}

void
portalock_notify_free (struct portalock_notify *n)
{
  int saved_errno = errno;
  close (n->rfd);
  if (n->wfd != n->rfd)
    close (n->wfd);
  free (n);
  errno = saved_errno;
}

int
portalock_notify_fd (const struct portalock_notify *n)
{
  return n->rfd;
}

void *
portalock_notify_handle (const struct portalock_notify *n)
{
  (void) n;
  errno = ENOTSUP;
  return NULL;
}

int
portalock_notify_start_thread (void *(*fn) (void *), size_t stack)
{
  pthread_attr_t attr;
  pthread_t thread;
  sigset_t all_signals, old;
  int e = pthread_attr_init (&attr);
  if (e != 0)
    return e;
  pthread_attr_setstacksize (&attr, stack);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  sigfillset (&all_signals);
  pthread_sigmask (SIG_SETMASK, &all_signals, &old);
  e = pthread_create (&thread, &attr, fn, NULL);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  return e;
}
