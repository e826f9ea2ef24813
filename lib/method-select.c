/* method-select.c: which method a lock object's method setting means:
   names, the environment, the configure default, and the probe of
   "auto".

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portalock-private.h"
#include "method.h"

/* The longest lease TTL accepted, in seconds (over eleven days).  */
#define TTL_MAX 1e6

/* The TTL of a lease when neither the object nor the environment names
   one.  */
#define TTL_DEFAULT 30

static const char *const names[] =
  { "default", "kernel", "strict", "lease", "auto" };

const char *
portalock_method_name (enum portalock_method method)
{
  if ((unsigned) method >= sizeof names / sizeof *names)
    {
      errno = EINVAL;
      return NULL;
    }
  return names[method];
}

/* Return true if TEXT is a whole decimal number of seconds that a TTL
   may be; set *SECONDS to it.  */
static bool
parse_ttl (const char *text, double *seconds)
{
  if (*text < '0' || *text > '9')
    return false;
  char *end;
  errno = 0;
  double v = strtod (text, &end);
  if (errno != 0 || *end != '\0' || !(v > 0) || !(v <= TTL_MAX))
    return false;
  *seconds = v;
  return true;
}

int
portalock_method_from_name (const char *name, enum portalock_method *method,
                            double *ttl)
{
  if (name == NULL || method == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  const char *eq = strchr (name, '=');
  size_t len = eq != NULL ? (size_t) (eq - name) : strlen (name);
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strlen (names[i]) == len && strncmp (name, names[i], len) == 0)
      {
        double seconds = 0;
        if (eq != NULL
            && (i != PORTALOCK_METHOD_LEASE || ttl == NULL
                || !parse_ttl (eq + 1, &seconds)))
          break;
        *method = i;
        if (ttl != NULL)
          *ttl = seconds;
        return 0;
      }
  errno = EINVAL;
  return -1;
}

int
portalock_default_method (enum portalock_method *method, double *ttl)
{
  if (method == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  const char *env = getenv ("PORTALOCK_METHOD");
  enum portalock_method m = PORTALOCK_CONFIGURED_METHOD;
  double t = 0;
  if (env != NULL && *env != '\0'
      && (portalock_method_from_name (env, &m, &t) != 0
          || m == PORTALOCK_METHOD_DEFAULT))
    {
      errno = EINVAL;
      return -1;
    }
  *method = m;
  if (ttl != NULL)
    *ttl = t;
  return 0;
}

double
portalock_method_lease_ttl (const portalock *lock)
{
  if (lock->lease_ttl > 0)
    return lock->lease_ttl;
  enum portalock_method method;
  double ttl;
  if (lock->method_setting == PORTALOCK_METHOD_DEFAULT
      && portalock_default_method (&method, &ttl) == 0 && ttl > 0)
    return ttl;
  return TTL_DEFAULT;
}

/* What "auto" means for LOCK: the kernel method where the probe says
   that the kind of lock LOCK's backend takes spans every client of the
   file system that holds its path (or the directory its file will be
   made in), else a lease.  Never a kernel lock that the probe cannot
   vouch for.  */
static const struct portalock_method_ops *
choose_auto (portalock *lock)
{
  if (lock->auto_choice != NULL)
    return lock->auto_choice;
  struct portalock_fs_info info;
  const char *where = lock->path;
  char *dir = NULL;
  struct stat st;
  if (stat (where, &st) != 0)
    {
      if (errno != ENOENT)
        return NULL;
      const char *slash = strrchr (lock->path, '/');
      size_t n = slash == NULL ? 0 : slash == lock->path ? 1
        : (size_t) (slash - lock->path);
      dir = malloc (n + 2);
      if (dir != NULL && n == 0)
        strcpy (dir, ".");
      else if (dir != NULL)
        {
          memcpy (dir, lock->path, n);
          dir[n] = '\0';
        }
      if (dir == NULL)
        {
          errno = ENOMEM;
          return NULL;
        }
      where = dir;
    }
  int r = portalock_fs_probe (where, &info, sizeof info);
  int e = errno;
  free (dir);
  if (r != 0)
    {
      errno = e;
      return NULL;
    }
  enum portalock_backend backend = lock->backend;
  if (backend == PORTALOCK_BACKEND_DEFAULT)
    backend = portalock_default_backend ();
  uint32_t verdict = backend == PORTALOCK_BACKEND_FLOCK
    ? info.flock_verdict : info.posix_verdict;
  lock->auto_choice = verdict == PORTALOCK_FS_SPANS
    ? &portalock_method_kernel : &portalock_method_lease;
  return lock->auto_choice;
}

const struct portalock_method_ops *
portalock_method_resolve (portalock *lock)
{
  enum portalock_method method = lock->method_setting;
  double ttl;
  if (method == PORTALOCK_METHOD_DEFAULT
      && portalock_default_method (&method, &ttl) != 0)
    return NULL;
  switch (method)
    {
    case PORTALOCK_METHOD_STRICT:
      return &portalock_method_strict;
    case PORTALOCK_METHOD_LEASE:
      return &portalock_method_lease;
    case PORTALOCK_METHOD_AUTO:
      return choose_auto (lock);
    default:
      return &portalock_method_kernel;
    }
}
