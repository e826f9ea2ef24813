/* eventloop-win32.c: a lock taken from a Windows loop
   (WaitForMultipleObjects) that keeps serving a waitable timer, and a
   waiting acquisition cancelled.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <windows.h>

#include <portalock.h>

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

  /* A timer that ticks every 10 ms, from 10 ms on (relative times are
     negative, in units of 100 ns).  */
  HANDLE timer = CreateWaitableTimerW (NULL, FALSE, NULL);
  LARGE_INTEGER due = { .QuadPart = -100000 };
  if (timer == NULL || !SetWaitableTimer (timer, &due, 10, NULL, NULL, FALSE))
    return 1;

  /* Ask for the lock; the loop learns the answer.  */
  portalock_pending *first = portalock_acquire_start (lock);
  portalock_pending *waiting = NULL;
  if (first == NULL)
    {
      perror ("portalock_acquire_start");
      return 1;
    }

  int ticks_held = 0;
  bool held = false, done = false;
  while (!done)
    {
      /* The timer first, then the acquisition there is.  The events
         belong to the acquisitions: they are waited for, never closed.  */
      HANDLE handles[2] = { timer };
      portalock_pending *which = first != NULL ? first : waiting;
      DWORD n = 1;
      if (which != NULL)
        handles[n++] = portalock_pending_handle (which);
      DWORD w = WaitForMultipleObjects (n, handles, FALSE, INFINITE);
      if (w == WAIT_OBJECT_0)
        {
          /* The timer.  */
          if (held && ticks_held < 5 && ++ticks_held == 5)
            portalock_acquire_cancel (waiting);
        }
      else if (w == WAIT_OBJECT_0 + 1 && which == first)
        {
          first = NULL;
          if (portalock_acquire_finish (which) != 0)
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
      else if (w == WAIT_OBJECT_0 + 1)
        {
          waiting = NULL;
          if (portalock_acquire_finish (which) == 0)
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
      else
        return 1;
    }
  CloseHandle (timer);
  portalock_free (second);
  portalock_free (lock);
  return 0;
}
