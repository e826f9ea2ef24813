/* eventloop-poll.c: a lock taken from a poll(2) loop that keeps serving
   a timer, and a waiting acquisition cancelled.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <portalock.h>

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
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FILE\n", argv[0]);
      return 2;
    }
  portalock *lock = portalock_new (argv[1]);
  portalock *second = portalock_new (argv[1]);
  if (lock == NULL || second == NULL)
    return 1;
  portalock_set_timeout (lock, 10);
  portalock_set_timeout (second, 10);

  /* Ask for the lock; the loop learns the answer.  */
  portalock_pending *first = portalock_acquire_start (lock);
  portalock_pending *waiting = NULL;
  if (first == NULL)
    {
      perror ("portalock_acquire_start");
      return 1;
    }

  int ticks = 0, ticks_held = 0;
  bool held = false, done = false;
  double next_tick = now () + 0.01;
  while (!done)
    {
      struct pollfd fds[2];
      int n = 0;
      portalock_pending *which[2];
      if (first != NULL)
        {
          fds[n] = (struct pollfd) { portalock_pending_fd (first), POLLIN, 0 };
          which[n++] = first;
        }
      if (waiting != NULL)
        {
          fds[n] = (struct pollfd) { portalock_pending_fd (waiting), POLLIN, 0 };
          which[n++] = waiting;
        }
      int ms = (int) ((next_tick - now ()) * 1000);
      if (poll (fds, n, ms > 0 ? ms : 0) < 0 && errno != EINTR)
        return 1;

      /* The timer.  */
      if (now () >= next_tick)
        {
          next_tick += 0.01;
          ticks++;
          if (held && ticks_held < 5 && ++ticks_held == 5)
            portalock_acquire_cancel (waiting);
        }

      for (int i = 0; i < n; i++)
        {
          if (!(fds[i].revents & POLLIN))
            continue;
          if (which[i] == first)
            {
              first = NULL;
              if (portalock_acquire_finish (which[i]) != 0)
                {
                  perror ("acquire");
                  return 1;
                }
              held = true;
              printf ("acquired %s\n", argv[1]);
              /* A second object on the same file must wait.  */
              waiting = portalock_acquire_start (second);
              if (waiting == NULL)
                return 1;
            }
          else
            {
              waiting = NULL;
              if (portalock_acquire_finish (which[i]) == 0)
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
              portalock_release (lock);
              printf ("released %s\n", argv[1]);
              done = true;
            }
        }
    }
  portalock_free (second);
  portalock_free (lock);
  return 0;
}
