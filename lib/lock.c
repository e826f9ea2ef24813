/* lock.c: the descriptor-level calls, portalocker's lock () and unlock ().

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "portalock-private.h"

/* The largest value of the library's off_t: 2^63 - 1 where it has 64
   bits, as wherever files may be large.  */
#define OFF_T_MAX \
  ((off_t) (((uintmax_t) 1 << (sizeof (off_t) * CHAR_BIT - 1)) - 1))

/* Return true if the range of LENGTH bytes from START, both not
   negative, fits the library's off_t: START and LENGTH each, and the
   range's last byte.  LENGTH 0 reaches to the end of the file.  The
   public interface takes int64_t whatever the program's off_t is, and
   the library's may be narrower (a 32-bit build without large-file
   support).  */
static bool
range_fits (int64_t start, int64_t length)
{
  return ((uintmax_t) start <= (uintmax_t) OFF_T_MAX
          && (uintmax_t) length <= (uintmax_t) OFF_T_MAX
          && (length == 0
              || (uintmax_t) (length - 1) <= (uintmax_t) OFF_T_MAX
                                             - (uintmax_t) start));
}

int
portalock_backend_lock (enum portalock_backend backend, int fd, int flags,
                        int64_t start, int64_t length, double seconds)
{
  int type = flags & ~PORTALOCK_NB;
  /* A timeout of 0 is one try, as PORTALOCK_NB is.  */
  bool nonblock = (flags & PORTALOCK_NB) != 0 || seconds == 0;

  if ((type != PORTALOCK_SH && type != PORTALOCK_EX
       && type != PORTALOCK_UN)
      || isnan (seconds) || seconds < 0 || start < 0 || length < 0)
    {
      errno = EINVAL;
      return -1;
    }

  const struct portalock_backend_ops *ops = portalock_backend_ops (backend);
  if (ops == NULL)
    return -1;
  if ((!ops->ranges && (start != 0 || length != 0))
      || (!ops->shared && type == PORTALOCK_SH))
    {
      errno = ENOTSUP;
      return -1;
    }
  if (!range_fits (start, length))
    {
      errno = EOVERFLOW;
      return -1;
    }

  if (type == PORTALOCK_UN)
    return ops->unlock (fd, start, length);

  struct timespec deadline;
  bool timed = portalock_deadline_after (seconds, &deadline);
  return portalock_wait_lock (ops, fd, type, start, length, nonblock,
                              timed ? &deadline : NULL);
}

int
portalock_lock_range (int fd, int flags, int64_t start, int64_t length,
                      double seconds)
{
  return portalock_backend_lock (PORTALOCK_BACKEND_DEFAULT, fd, flags,
                                 start, length, seconds);
}

int
portalock_lock (int fd, int flags)
{
  return portalock_backend_lock (PORTALOCK_BACKEND_DEFAULT, fd, flags, 0, 0,
                                 INFINITY);
}

int
portalock_lock_timeout (int fd, int flags, double seconds)
{
  return portalock_backend_lock (PORTALOCK_BACKEND_DEFAULT, fd, flags, 0, 0,
                                 seconds);
}

int
portalock_unlock (int fd)
{
  return portalock_backend_lock (PORTALOCK_BACKEND_DEFAULT, fd,
                                 PORTALOCK_UN, 0, 0, 0);
}
