/* pending-none.c: pollable acquisitions where they are not built
   (Windows): ENOTSUP.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>

#include "portalock-private.h"

portalock_pending *
portalock_acquire_start (portalock *lock)
{
  errno = lock == NULL ? EINVAL : ENOTSUP;
  return NULL;
}

portalock_pending *
portalock_semaphore_acquire_start (portalock_semaphore *sem)
{
  errno = sem == NULL ? EINVAL : ENOTSUP;
  return NULL;
}

int
portalock_pending_fd (const portalock_pending *p)
{
  (void) p;
  errno = EINVAL;
  return -1;
}

int
portalock_acquire_cancel (portalock_pending *p)
{
  (void) p;
  errno = EINVAL;
  return -1;
}

int
portalock_acquire_finish (portalock_pending *p)
{
  (void) p;
  errno = EINVAL;
  return -1;
}

/* Nothing waits for a pending acquisition here: no wait is ever
   cancelled.  */
bool
portalock_cancel_active (void)
{
  return false;
}

void
portalock_cancel_request (struct portalock_cancel *token)
{
  (void) token;
}

void
portalock_cancel_register (pthread_mutex_t *mutex, pthread_cond_t *cond)
{
  (void) mutex;
  (void) cond;
}

bool
portalock_cancel_requested (void)
{
  return false;
}
