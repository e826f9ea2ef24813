/* deadline.c: deadlines of timed waits, on the monotonic clock.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <stdbool.h>
#include <time.h>

#include "portalock-private.h"

/* Waits longer than this are waits without a deadline.  */
#define FOREVER 1e9

bool
portalock_deadline_after (double seconds, struct timespec *deadline)
{
  if (seconds >= FOREVER)
    return false;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  time_t whole = (time_t) seconds;
  deadline->tv_sec = now.tv_sec + whole;
  deadline->tv_nsec = now.tv_nsec + (long) ((seconds - whole) * 1e9);
  if (deadline->tv_nsec >= 1000000000L)
    {
      deadline->tv_sec++;
      deadline->tv_nsec -= 1000000000L;
    }
  return true;
}

bool
portalock_deadline_passed (const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec > deadline->tv_sec
          || (now.tv_sec == deadline->tv_sec
              && now.tv_nsec >= deadline->tv_nsec));
}
