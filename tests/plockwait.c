/* plockwait.c: checks that plock's timed waits block in its own thread.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: plockwait PLOCK.  plock gives the library a timer signal
   (portalock_set_timeout_signal), so that 'plock -w' waits in its own
   thread, with no helper thread: while it waits for a lock that a
   holder process has, /proc/PID/task lists one thread.  The wait is
   seen through /proc/locks, then the holder lets go and plock must
   succeed.  */

#include <config.h>

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

extern char **environ;

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: plockwait PLOCK");
  if (access ("/proc/locks", R_OK) != 0)
    {
      unsupported ("plock -w: its threads (no /proc/locks)");
      return check_exit ();
    }
  const char *path = test_path ("plockwait");
  struct holder h;
  /* The holder, like plock, locks with the default backend
     (PORTALOCK_BACKEND picks it for both), so that plock has to wait.  */
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("holder");
  char *args[] = { argv[1], (char *) "-w", (char *) "30", (char *) path,
                   (char *) "true", NULL };
  pid_t pid;
  int e = posix_spawn (&pid, argv[1], NULL, NULL, args, environ);
  if (e != 0)
    {
      errno = e;
      die ("posix_spawn %s", argv[1]);
    }
  bool blocked = await_blocked_waiter (path);
  char task[64];
  snprintf (task, sizeof task, "/proc/%ld/task", (long) pid);
  int threads = count_entries (task);
  holder_release (&h);
  int status;
  waitpid (pid, &status, 0);
  check (blocked, "plock -w waits for the holder");
  const char *emulator = test_emulator ();
  if (emulator != NULL)
    unsupported ("plock -w waits in its own thread: %s, whose own threads "
                 "are listed too (%d threads)", emulator, threads);
  else
    check (threads == 1, "plock -w waits in its own thread, with a timer "
           "signal (%d threads)", threads);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "plock -w gets the lock once the holder lets go (status %#x)",
         status);
  unlink (path);
  return check_exit ();
}
