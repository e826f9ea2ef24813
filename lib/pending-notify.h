/* pending-notify.h: what a pending acquisition's caller waits for, and
   how the pool starts a thread: one file per platform
   (pending-notify-posix.c, pending-notify-win32.c).

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_PENDING_NOTIFY_H
#define PORTALOCK_PENDING_NOTIFY_H

#include <stddef.h>

/* A readiness object: not ready when made, ready for good once
   signalled.  On POSIX systems an eventfd (or a pipe where there is
   none), close-on-exec; on Windows a manual-reset event, not
   inherited.  */
struct portalock_notify;

/* Make a readiness object.  Return it, or NULL with errno (ENOMEM,
   EMFILE, ...).  */
struct portalock_notify *portalock_notify_new (void);

/* Make N ready.  Keeps errno; any thread may call it, once.  */
void portalock_notify_signal (struct portalock_notify *n);

/* Free N.  Keeps errno.  */
void portalock_notify_free (struct portalock_notify *n);

/* N's descriptor, to poll for reading; -1 with ENOTSUP where the object
   is no descriptor (Windows).  */
int portalock_notify_fd (const struct portalock_notify *n);

/* N's event HANDLE, to wait for; NULL with ENOTSUP where the object is
   no HANDLE (POSIX systems).  */
void *portalock_notify_handle (const struct portalock_notify *n);

/* Start a detached thread running FN (NULL), with STACK bytes of stack
   and, where there are signals, every signal blocked.  Return 0 or an
   errno value.  */
int portalock_notify_start_thread (void *(*fn) (void *), size_t stack);

/* The cancel token of the calling thread (pending.c), NULL if it runs
   no pending acquisition.  A thread-local variable on POSIX systems
   (portalock_cancel_current, which wait.c reads too); on Windows a TLS
   slot, because mingw-w64 reaches a thread-local variable through
   libgcc's emulation, which libportalock-0.dll would then import from
   libgcc_s_seh-1.dll.  Set it only after portalock_notify_new
   succeeded once in the process.  */
struct portalock_cancel *portalock_notify_token (void);
void portalock_notify_set_token (struct portalock_cancel *token);

#endif
