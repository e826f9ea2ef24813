/* fuseharness.c: two FUSE mounts of one directory, the test suite's two
   machines on a network file system.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* bindfs shows a directory again at another path through FUSE; two
   bindfs mounts of one directory are two clients of one file system
   (see fusemounts.c for what they show of kernel locks).  The mounts
   are undone on every way out: at exit (die included) and on the
   signals a test run sends.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuseharness.h"
#include "testutil.h"

char fuse_source[4096];
char fuse_mounts[2][4096];
static bool mounted[2];
static pid_t child_pid;

bool
fuse_run (const char *const *argv)
{
  pid_t pid = fork ();
  if (pid < 0)
    return false;
  if (pid == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 1);
      dup2 (null, 2);
      execvp (argv[0], (char **) argv);
      _exit (127);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

void
fuse_child (pid_t pid)
{
  child_pid = pid;
}

void
fuse_unmount_all (void)
{
  /* A busy mount refuses to go.  */
  if (child_pid > 0)
    {
      kill (child_pid, SIGKILL);
      waitpid (child_pid, NULL, 0);
      child_pid = 0;
    }
  for (int i = 0; i < 2; i++)
    if (mounted[i])
      {
        const char *argv[] = { "fusermount", "-u", fuse_mounts[i], NULL };
        const char *lazy[] = { "fusermount", "-u", "-z", fuse_mounts[i],
                               NULL };
        if (!fuse_run (argv))
          fuse_run (lazy);
        mounted[i] = false;
      }
}

static void
on_signal (int sig)
{
  fuse_unmount_all ();
  signal (sig, SIG_DFL);
  raise (sig);
}

bool
fuse_setup (void)
{
  const char *version[] = { "bindfs", "--version", NULL };
  const char *fusermount[] = { "fusermount", "-V", NULL };
  if (access ("/dev/fuse", R_OK | W_OK) != 0 || !fuse_run (version)
      || !fuse_run (fusermount))
    return false;
  snprintf (fuse_source, sizeof fuse_source, "%s", test_path ("source"));
  snprintf (fuse_mounts[0], sizeof fuse_mounts[0], "%s",
            test_path ("mount1"));
  snprintf (fuse_mounts[1], sizeof fuse_mounts[1], "%s",
            test_path ("mount2"));
  if (mkdir (fuse_source, 0755) != 0 || mkdir (fuse_mounts[0], 0755) != 0
      || mkdir (fuse_mounts[1], 0755) != 0)
    die ("mkdir");
  /* Registered after test_path's clean-up, so run before it.  */
  atexit (fuse_unmount_all);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  signal (SIGHUP, on_signal);
  return true;
}

bool
fuse_mount_both (bool forward)
{
  struct stat src, mnt;
  if (stat (fuse_source, &src) != 0)
    die ("stat %s", fuse_source);
  for (int i = 0; i < 2; i++)
    {
      const char *plain[] = { "bindfs", fuse_source, fuse_mounts[i], NULL };
      const char *fwd[] = { "bindfs", "--multithreaded",
                            "--enable-lock-forwarding", fuse_source,
                            fuse_mounts[i], NULL };
      /* bindfs returns once the mount is in place.  */
      if (!fuse_run (forward ? fwd : plain))
        return false;
      mounted[i] = true;
      if (stat (fuse_mounts[i], &mnt) != 0 || mnt.st_dev == src.st_dev)
        die ("bindfs did not mount %s", fuse_mounts[i]);
    }
  return true;
}
