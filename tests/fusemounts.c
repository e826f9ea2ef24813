/* fusemounts.c: kernel locks across two FUSE mounts of one directory, the
   test suite's stand-in for two machines on a network file system.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* No NFS client is needed to see what a network file system does to
   kernel locks.  bindfs shows a directory again at another path through
   FUSE; two bindfs mounts of one directory are two clients of one file
   system.  Plain bindfs keeps locks in each mount, as NFS with
   local_lock= or nolock keeps them on each client: a lock taken through
   one mount does not stop one through the other.  With
   --enable-lock-forwarding, bindfs passes locks on to the directory, as
   NFS with a lock manager passes them to the server, and they exclude
   across the mounts.  Each case is shown for flock(2) and fcntl(2)
   locks: the first proves the harness real, the second that it can
   tell.  A process holding the lock through mount 1 stands for one
   machine, this program locking through mount 2 for another.

   The mounts are undone on every way out: at exit (die included) and on
   the signals a test run sends.  Without bindfs, fusermount or
   /dev/fuse, or where the mount is refused (no privilege), the checks
   are UNSUPPORTED.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuseharness.h"
#include "portalock.h"
#include "testutil.h"

#ifndef HAVE_MOUNTINFO
# define HAVE_MOUNTINFO 0
#endif

static pid_t holder_pid;

/* Take an exclusive lock of KIND ("flock" or "fcntl") on FD without
   waiting; return 0, or the errno of the refusal.  */
static int
try_lock (const char *kind, int fd)
{
  int r;
  if (strcmp (kind, "flock") == 0)
    r = flock (fd, LOCK_EX | LOCK_NB);
  else
    {
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      r = fcntl (fd, F_SETLK, &fl);
    }
  if (r == 0)
    return 0;
  return errno == EAGAIN || errno == EACCES ? EWOULDBLOCK : errno;
}

/* Start a process that locks FILE with KIND and keeps it until this
   one says; return once it holds the lock (its 'L' on the pipe).  */
static int
start_holder (const char *kind, const char *file)
{
  int ready[2], release[2];
  if (pipe (ready) != 0 || pipe (release) != 0)
    die ("pipe");
  holder_pid = fork ();
  if (holder_pid < 0)
    die ("fork");
  fuse_child (holder_pid);
  if (holder_pid == 0)
    {
      close (ready[0]);
      close (release[1]);
      int fd = open (file, O_RDWR | O_CREAT, 0644);
      char c = fd >= 0 && try_lock (kind, fd) == 0 ? 'L' : 'E';
      if (write (ready[1], &c, 1) != 1 || read (release[0], &c, 1) < 0)
        _exit (1);
      _exit (0);
    }
  close (ready[1]);
  close (release[0]);
  char c = 0;
  if (read (ready[0], &c, 1) != 1 || c != 'L')
    die ("the holder could not lock %s with %s", file, kind);
  close (ready[0]);
  return release[1];
}

static void
stop_holder (int release)
{
  close (release);
  int status;
  if (waitpid (holder_pid, &status, 0) != holder_pid
      || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    die ("the holder failed");
  holder_pid = 0;
  fuse_child (0);
}

/* With a lock of KIND held through mount 1: a lock through mount 1 is
   refused (the same "machine"), and one through mount 2 is taken
   unless FORWARD.  */
static void
check_exclusion (const char *kind, bool forward)
{
  const char *what = forward ? "forwarding" : "no forwarding";
  char file1[4200], file2[4200];
  snprintf (file1, sizeof file1, "%s/lock-%s", fuse_mounts[0], kind);
  snprintf (file2, sizeof file2, "%s/lock-%s", fuse_mounts[1], kind);
  int release = start_holder (kind, file1);

  int fd1 = open (file1, O_RDWR);
  int fd2 = open (file2, O_RDWR);
  if (fd1 < 0 || fd2 < 0)
    die ("open through the mounts");
  /* bindfs takes every forwarded POSIX lock in its own process, where
     two locks of one file never conflict: through one forwarding
     mount, fcntl locks of two processes do not exclude each other.  An
     NFS client does not behave so; the harness cannot show it.  */
  if (!forward || strcmp (kind, "fcntl") != 0)
    check (try_lock (kind, fd1) == EWOULDBLOCK,
           "fusemounts: %s, %s: the same mount excludes", what, kind);
  int r = try_lock (kind, fd2);
  if (forward)
    check (r == EWOULDBLOCK,
           "fusemounts: %s, %s: the other mount excludes too", what, kind);
  else
    check (r == 0,
           "fusemounts: %s, %s: the other mount does not exclude", what,
           kind);
  close (fd1);
  close (fd2);
  stop_holder (release);
}

/* The probe sees a FUSE mount whose source is the directory, and calls
   it local whether or not it forwards locks (which it cannot see).  */
static void
check_probe (bool forward)
{
  if (!HAVE_MOUNTINFO)
    {
      unsupported ("fusemounts: the probe has no mount table here");
      return;
    }
  struct portalock_fs_info info;
  char *resolved = realpath (fuse_source, NULL);
  check (portalock_fs_probe (fuse_mounts[1], &info, sizeof info) == 0
         && strcmp (info.fstype, "fuse") == 0
         && resolved != NULL && strcmp (info.source, resolved) == 0
         && info.verdict == PORTALOCK_FS_LOCAL
         && info.flock_verdict == PORTALOCK_FS_LOCAL
         && info.posix_verdict == PORTALOCK_FS_LOCAL,
         "fusemounts: %s: the probe says fuse, local",
         forward ? "forwarding" : "no forwarding");
  free (resolved);
}

static void
one_case (bool forward)
{
  if (!fuse_mount_both (forward))
    {
      fuse_unmount_all ();
      unsupported ("fusemounts: bindfs%s refused to mount here",
                   forward ? " --enable-lock-forwarding" : "");
      return;
    }
  check_exclusion ("flock", forward);
  check_exclusion ("fcntl", forward);
  check_probe (forward);
  fuse_unmount_all ();
}

int
main (void)
{
  if (!fuse_setup ())
    {
      unsupported ("fusemounts: no /dev/fuse, bindfs or fusermount here");
      return check_exit ();
    }
  one_case (false);
  one_case (true);
  return check_exit ();
}
