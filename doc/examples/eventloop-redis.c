/* eventloop-redis.c: a Redis lock taken from a poll(2) loop that keeps
   serving a timer, and a waiting acquisition cancelled.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include <portalock-redis.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s URL NAME\n", argv[0]);
      return 2;
    }
  portalock_redis *lock = portalock_redis_new (argv[1], argv[2]);
  portalock_redis *second = portalock_redis_new (argv[1], argv[2]);
  if (lock == NULL || second == NULL)
    {
      perror ("bad URL or lock name");
      return 1;
    }
  portalock_redis_set_timeout (lock, 10);
  portalock_redis_set_timeout (second, 10);

  /* Ask for the lock; the loop learns the answer.  */
  portalock_redis_pending *first = portalock_redis_acquire_start (lock);
  portalock_redis_pending *waiting = NULL;
  if (first == NULL)
    {
      perror ("portalock_redis_acquire_start");
      return 1;
    }

  int ticks_held = 0;
  bool held = false, done = false;
  double next_tick = now () + 0.01;
  while (!done)
    {
      struct pollfd fds[2];
      int n = 0;
      portalock_redis_pending *which[2];
      if (first != NULL)
        {
          fds[n] = (struct pollfd) { portalock_redis_pending_fd (first),
                                     POLLIN, 0 };
          which[n++] = first;
        }
      if (waiting != NULL)
        {
          fds[n] = (struct pollfd) { portalock_redis_pending_fd (waiting),
                                     POLLIN, 0 };
          which[n++] = waiting;
        }
      int ms = (int) ((next_tick - now ()) * 1000);
      if (poll (fds, n, ms > 0 ? ms : 0) < 0 && errno != EINTR)
        return 1;

      /* The timer.  */
      if (now () >= next_tick)
        {
          next_tick += 0.01;
          if (held && ticks_held < 5 && ++ticks_held == 5)
            portalock_redis_acquire_cancel (waiting);
        }

      for (int i = 0; i < n; i++)
        {
          if (!(fds[i].revents & POLLIN))
            continue;
          if (which[i] == first)
            {
              first = NULL;
              if (portalock_redis_acquire_finish (which[i]) != 0)
                {
                  perror ("acquire");
                  return 1;
                }
              held = true;
              printf ("acquired %s\n", argv[2]);
              /* A second object on the same lock must wait.  */
              waiting = portalock_redis_acquire_start (second);
              if (waiting == NULL)
                return 1;
            }
          else
            {
              waiting = NULL;
              if (portalock_redis_acquire_finish (which[i]) == 0)
                {
                  printf ("the second object got the lock?\n");
                  return 1;
                }
              if (errno != ECANCELED)
                {
                  perror ("second acquire");
                  return 1;
                }
              printf ("the timer ticked %d times while the lock was held\n",
                      ticks_held);
              printf ("cancelled the second acquisition\n");
              if (portalock_redis_release (lock) != 0)
                {
                  perror ("release");
                  return 1;
                }
              printf ("released %s\n", argv[2]);
              done = true;
            }
        }
    }
  portalock_redis_free (second);
  portalock_redis_free (lock);
  return 0;
}
