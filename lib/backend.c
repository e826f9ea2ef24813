/* backend.c: the one place that knows which backends are built.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "portalock-private.h"

/* Indexed by enum portalock_backend; NULL where a backend is not built.  */
static const struct portalock_backend_ops *const
backends[PORTALOCK_BACKEND_WIN32 + 1] =
{
  [PORTALOCK_BACKEND_DEFAULT] = NULL,
#if HAVE_BACKEND_FLOCK
  [PORTALOCK_BACKEND_FLOCK] = &portalock_backend_flock,
#endif
#if HAVE_BACKEND_OFD
  [PORTALOCK_BACKEND_OFD] = &portalock_backend_ofd,
#endif
#if HAVE_BACKEND_FCNTL
  [PORTALOCK_BACKEND_FCNTL] = &portalock_backend_fcntl,
#endif
#if HAVE_BACKEND_LOCKF
  [PORTALOCK_BACKEND_LOCKF] = &portalock_backend_lockf,
#endif
#if HAVE_BACKEND_WIN32
  [PORTALOCK_BACKEND_WIN32] = &portalock_backend_win32,
#endif
};

static const char *const names[] =
{
  [PORTALOCK_BACKEND_DEFAULT] = "default",
  [PORTALOCK_BACKEND_FLOCK] = "flock",
  [PORTALOCK_BACKEND_OFD] = "ofd",
  [PORTALOCK_BACKEND_FCNTL] = "fcntl",
  [PORTALOCK_BACKEND_LOCKF] = "lockf",
  [PORTALOCK_BACKEND_WIN32] = "win32",
};

#define NBACKENDS (sizeof names / sizeof names[0])

static enum portalock_backend default_backend = PORTALOCK_CONFIGURED_BACKEND;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* Read PORTALOCK_BACKEND once: getenv is not safe against a concurrent
   setenv, so later changes of the variable are not seen.  */
static void
read_environment (void)
{
  const char *name = getenv ("PORTALOCK_BACKEND");
  if (name == NULL)
    return;
  int saved_errno = errno;
  int b = portalock_backend_from_name (name);
  if (b > PORTALOCK_BACKEND_DEFAULT && backends[b] != NULL)
    default_backend = b;
  errno = saved_errno;
}

enum portalock_backend
portalock_default_backend (void)
{
  pthread_once (&default_once, read_environment);
  return default_backend;
}

int
portalock_backend_from_name (const char *name)
{
  if (name != NULL)
    for (size_t b = 0; b < NBACKENDS; b++)
      if (strcmp (name, names[b]) == 0)
        return b;
  errno = EINVAL;
  return -1;
}

const char *
portalock_backend_name (enum portalock_backend backend)
{
  if ((unsigned) backend >= NBACKENDS)
    {
      errno = EINVAL;
      return NULL;
    }
  if (backend == PORTALOCK_BACKEND_DEFAULT)
    backend = portalock_default_backend ();
  return names[backend];
}

bool
portalock_backend_available (enum portalock_backend backend)
{
  int saved_errno = errno;
  bool available = portalock_backend_ops (backend) != NULL;
  errno = saved_errno;
  return available;
}

const struct portalock_backend_ops *
portalock_backend_ops (enum portalock_backend backend)
{
  if ((unsigned) backend >= NBACKENDS)
    {
      errno = EINVAL;
      return NULL;
    }
  if (backend == PORTALOCK_BACKEND_DEFAULT)
    backend = portalock_default_backend ();
  if (backends[backend] == NULL)
    {
      errno = ENOTSUP;
      return NULL;
    }
  return backends[backend];
}
