/* pending-notify-win32.c: the readiness object of a pending acquisition
   on Windows, a manual-reset event, and the pool's threads.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <windows.h>

#include "portalock-private.h"
#include "pending-notify.h"

/* Windows loops wait for HANDLEs (WaitForMultipleObjects,
   MsgWaitForMultipleObjects, a thread pool's wait objects), not for
   descriptors: the caller waits for EVENT, which is manual-reset (it
   stays signalled, as the POSIX descriptor stays readable) and not
   inherited by child processes (as the descriptor is close-on-exec).  */
struct portalock_notify
{
  HANDLE event;
};

/* The TLS slot of the calling thread's cancel token (see
   pending-notify.h), allocated once, at the first acquisition.  */
static INIT_ONCE token_once = INIT_ONCE_STATIC_INIT;
static DWORD token_slot = TLS_OUT_OF_INDEXES;

static BOOL CALLBACK
token_init (PINIT_ONCE once, PVOID parameter, PVOID *context)
{
  (void) once;
  (void) parameter;
  (void) context;
  token_slot = TlsAlloc ();
  return TRUE;
}

struct portalock_cancel *
portalock_notify_token (void)
{
  if (token_slot == TLS_OUT_OF_INDEXES)
    return NULL;
  /* TlsGetValue resets the thread's last error.  */
  DWORD saved_error = GetLastError ();
  struct portalock_cancel *token = TlsGetValue (token_slot);
  SetLastError (saved_error);
  return token;
}

void
portalock_notify_set_token (struct portalock_cancel *token)
{
  TlsSetValue (token_slot, token);
}

struct portalock_notify *
portalock_notify_new (void)
{
  /* Without the slot, a cancel could not reach the wait: no start.  */
  InitOnceExecuteOnce (&token_once, token_init, NULL, NULL);
  if (token_slot == TLS_OUT_OF_INDEXES)
    {
      errno = EAGAIN;
      return NULL;
    }
  struct portalock_notify *n = malloc (sizeof *n);
  if (n == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  n->event = CreateEventW (NULL, TRUE, FALSE, NULL);
  if (n->event == NULL)
    {
      int e = portalock_win32_errno (GetLastError ());
      free (n);
      errno = e;
      return NULL;
    }
  return n;
}

void
portalock_notify_signal (struct portalock_notify *n)
{
  int saved_errno = errno;
  DWORD saved_error = GetLastError ();
  SetEvent (n->event);
  SetLastError (saved_error);
  errno = saved_errno;
}

void
portalock_notify_free (struct portalock_notify *n)
{
  int saved_errno = errno;
  CloseHandle (n->event);
  free (n);
  errno = saved_errno;
}

int
portalock_notify_fd (const struct portalock_notify *n)
{
  (void) n;
  errno = ENOTSUP;
  return -1;
}

void *
portalock_notify_handle (const struct portalock_notify *n)
{
  return n->event;
}

/* There are no signals to block: a thread of winpthread, which the
   library links in, with its stack size.  */
int
portalock_notify_start_thread (void *(*fn) (void *), size_t stack)
{
  pthread_attr_t attr;
  pthread_t thread;
  int e = pthread_attr_init (&attr);
  if (e != 0)
    return e;
  pthread_attr_setstacksize (&attr, stack);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  e = pthread_create (&thread, &attr, fn, NULL);
  pthread_attr_destroy (&attr);
  return e;
}
