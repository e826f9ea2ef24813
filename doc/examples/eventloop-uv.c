/* eventloop-uv.c: a lock taken from a libuv loop that keeps serving a
   timer, and a waiting acquisition cancelled.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <errno.h>
#include <stdio.h>
#include <uv.h>

#include <portalock.h>

static const char *path;
static portalock *lock, *second;
static portalock_pending *first, *waiting;
static uv_poll_t first_watch, waiting_watch;
static uv_timer_t timer;
static int ticks_held;
static bool held;
static int status = 1;

static void
on_tick (uv_timer_t *t)
{
  (void) t;
  if (held && ticks_held < 5 && ++ticks_held == 5)
    portalock_acquire_cancel (waiting);
}

static void
on_waiting (uv_poll_t *w, int st, int events)
{
  (void) st;
  (void) events;
  /* Stop watching before finish closes the descriptor.  */
  uv_poll_stop (w);
  uv_close ((uv_handle_t *) w, NULL);
  uv_timer_stop (&timer);
  uv_close ((uv_handle_t *) &timer, NULL);
  if (portalock_acquire_finish (waiting) == 0 || errno != ECANCELED)
    {
      perror ("second acquire");
      return;
    }
  printf ("the timer ticked %d times while the lock was held\n", ticks_held);
  printf ("cancelled the second acquisition\n");
  portalock_release (lock);
  printf ("released %s\n", path);
  status = 0;
}

static void
on_first (uv_poll_t *w, int st, int events)
{
  (void) st;
  (void) events;
  uv_poll_stop (w);
  uv_close ((uv_handle_t *) w, NULL);
  if (portalock_acquire_finish (first) != 0)
    {
      perror ("acquire");
      uv_stop (w->loop);
      return;
    }
  held = true;
  printf ("acquired %s\n", path);
  /* A second object on the same file must wait.  */
  waiting = portalock_acquire_start (second);
  if (waiting == NULL)
    {
      uv_stop (w->loop);
      return;
    }
  uv_poll_init (w->loop, &waiting_watch, portalock_pending_fd (waiting));
  uv_poll_start (&waiting_watch, UV_READABLE, on_waiting);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FILE\n", argv[0]);
      return 2;
    }
  path = argv[1];
  lock = portalock_new (path);
  second = portalock_new (path);
  if (lock == NULL || second == NULL)
    return 1;
  portalock_set_timeout (lock, 10);
  portalock_set_timeout (second, 10);

  uv_loop_t *loop = uv_default_loop ();
  first = portalock_acquire_start (lock);
  if (first == NULL)
    {
      perror ("portalock_acquire_start");
      return 1;
    }
  uv_poll_init (loop, &first_watch, portalock_pending_fd (first));
  uv_poll_start (&first_watch, UV_READABLE, on_first);
  uv_timer_init (loop, &timer);
  uv_timer_start (&timer, on_tick, 10, 10);

  uv_run (loop, UV_RUN_DEFAULT);
  uv_loop_close (loop);
  portalock_free (second);
  portalock_free (lock);
  return status;
}
