/* eventloop-glib.c: a lock taken from a GLib main loop that keeps
   serving a timer, and a waiting acquisition cancelled.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <errno.h>
#include <stdio.h>
#include <glib.h>
#include <glib-unix.h>

#include <portalock.h>

static const char *path;
static portalock *lock, *second;
static portalock_pending *first, *waiting;
static GMainLoop *loop;
static int ticks_held;
static bool held;
static int status = 1;

static gboolean
on_tick (gpointer data)
{
  (void) data;
  if (held && ticks_held < 5 && ++ticks_held == 5)
    portalock_acquire_cancel (waiting);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_waiting (gint fd, GIOCondition condition, gpointer data)
{
  (void) fd;
  (void) condition;
  (void) data;
  /* Returning G_SOURCE_REMOVE stops watching the descriptor, which
     finish has closed.  */
  if (portalock_acquire_finish (waiting) == 0 || errno != ECANCELED)
    perror ("second acquire");
  else
    {
      printf ("the timer ticked %d times while the lock was held\n",
              ticks_held);
      printf ("cancelled the second acquisition\n");
      portalock_release (lock);
      printf ("released %s\n", path);
      status = 0;
    }
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_first (gint fd, GIOCondition condition, gpointer data)
{
  (void) fd;
  (void) condition;
  (void) data;
  if (portalock_acquire_finish (first) != 0)
    {
      perror ("acquire");
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  held = true;
  printf ("acquired %s\n", path);
  /* A second object on the same file must wait.  */
  waiting = portalock_acquire_start (second);
  if (waiting == NULL)
    g_main_loop_quit (loop);
  else
    g_unix_fd_add (portalock_pending_fd (waiting), G_IO_IN, on_waiting,
                   NULL);
  return G_SOURCE_REMOVE;
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

  loop = g_main_loop_new (NULL, FALSE);
  first = portalock_acquire_start (lock);
  if (first == NULL)
    {
      perror ("portalock_acquire_start");
      return 1;
    }
  g_unix_fd_add (portalock_pending_fd (first), G_IO_IN, on_first, NULL);
  guint timer = g_timeout_add (10, on_tick, NULL);

  g_main_loop_run (loop);
  g_source_remove (timer);
  g_main_loop_unref (loop);
  portalock_free (second);
  portalock_free (lock);
  return status;
}
