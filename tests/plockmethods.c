/* plockmethods.c: plock --method across two FUSE mounts of one directory,
   and the exit status of a lock lost while held.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: plockmethods PLOCK PUNLOCK.

   Two plain bindfs mounts of one directory stand for two machines whose
   kernel locks do not reach each other (fusemounts.c): a plock that
   holds a lock through mount 1 does not stop a plock of the kernel
   method through mount 2, which shows the harness real, but does stop
   one of the strict, lease and auto methods, whose marker file
   excludes through the file system itself.  The holder is plock's
   command form, which says "held" on a pipe once COMMAND runs under the
   lock, and lets go when this program closes COMMAND's standard input.

   A lock lost while held (its marker broken by 'punlock --break') ends
   plock with 74, in the command form and in the holder that the hold
   form leaves; this program is the holder's subreaper, so that it can
   see the holder's exit status.

   Nothing waits on a clock: every wait is for a line on a pipe or a
   process's exit.  The data in the lock file stays as it was.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "fuseharness.h"
#include "testutil.h"

static const char *plock;
static const char *punlock;

/* The content every lock file holds, which must survive every lock.  */
static const char data[] = "data that no lock may change\n";

/* Run ARGV with its output thrown away; return its exit status, or
   128+N if it was killed by signal N.  */
static int
run (const char *const *argv)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null >= 0)
        {
          dup2 (null, 0);
          dup2 (null, 1);
          dup2 (null, 2);
        }
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
  return WIFEXITED (status) ? WEXITSTATUS (status)
    : 128 + WTERMSIG (status);
}

/* Write the data into FILE, made anew.  */
static void
put_data (const char *file)
{
  int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write (fd, data, sizeof data - 1) != sizeof data - 1
      || close (fd) != 0)
    die ("write %s", file);
}

/* Return true if FILE still holds the data, and nothing else.  */
static bool
data_intact (const char *file)
{
  char buf[sizeof data + 16];
  int fd = open (file, O_RDONLY);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf);
  close (fd);
  return n == sizeof data - 1 && memcmp (buf, data, n) == 0;
}

/* A plock of the command form holding a lock.  */
struct holding
{
  pid_t pid;            /* plock */
  int input;            /* COMMAND's standard input: closing it ends it */
};

/* Start "plock --method=METHOD FILE sh -c 'echo held; exec cat
   >/dev/null'" and return once COMMAND runs under the lock.  */
static struct holding
hold_with_command (const char *method, const char *file)
{
  int out[2], in[2];
  if (pipe (out) != 0 || pipe (in) != 0)
    die ("pipe");
  struct holding h;
  h.pid = fork ();
  if (h.pid < 0)
    die ("fork");
  if (h.pid == 0)
    {
      dup2 (in[0], 0);
      dup2 (out[1], 1);
      close (in[0]);
      close (in[1]);
      close (out[0]);
      close (out[1]);
      execl (plock, plock, method, file, "/bin/sh", "-c",
             "echo held; exec cat >/dev/null", (char *) NULL);
      _exit (127);
    }
  fuse_child (h.pid);
  close (in[0]);
  close (out[1]);
  h.input = in[1];
  char line[8] = "";
  ssize_t n;
  do
    n = read (out[0], line, 5);
  while (n < 0 && errno == EINTR);
  close (out[0]);
  if (n != 5 || memcmp (line, "held\n", 5) != 0)
    die ("plock %s %s did not take the lock", method, file);
  return h;
}

/* End COMMAND of H and return plock's exit status.  */
static int
end_holding (struct holding h)
{
  close (h.input);
  int status;
  while (waitpid (h.pid, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
  fuse_child (0);
  return WIFEXITED (status) ? WEXITSTATUS (status)
    : 128 + WTERMSIG (status);
}

/* With METHOD, a lock held through mount 1 stops (EXCLUDES) or does
   not stop a plock -n through mount 2; once it is given back, the
   plock through mount 2 gets it.  */
static void
check_across_mounts (const char *method, bool excludes)
{
  char file1[4200], file2[4200];
  snprintf (file1, sizeof file1, "%s/lock-%s", fuse_mounts[0], method + 9);
  snprintf (file2, sizeof file2, "%s/lock-%s", fuse_mounts[1], method + 9);
  put_data (file1);
  struct holding h = hold_with_command (method, file1);
  const char *try2[] = { plock, "-n", method, file2, "/bin/true", NULL };
  int r = run (try2);
  if (excludes)
    check (r == 1, "plockmethods: %s: a lock held through one mount stops "
           "plock -n through the other (status %d)", method, r);
  else
    check (r == 0, "plockmethods: %s: a lock held through one mount does "
           "not stop plock -n through the other (status %d)", method, r);
  int s = end_holding (h);
  check (s == 0, "plockmethods: %s: the holder through mount 1 ends with "
         "status 0 (%d)", method, s);
  r = run (try2);
  check (r == 0, "plockmethods: %s: once given back, the lock is taken "
         "through the other mount (status %d)", method, r);
  check (data_intact (file2), "plockmethods: %s: the lock file's data "
         "stays", method);
}

static void
across_mounts (void)
{
  if (!fuse_setup ())
    {
      unsupported ("plockmethods: no /dev/fuse, bindfs or fusermount here");
      return;
    }
  if (!fuse_mount_both (false))
    {
      fuse_unmount_all ();
      unsupported ("plockmethods: bindfs refused to mount here");
      return;
    }
  check_across_mounts ("--method=kernel", false);
  const char *emulator = test_emulator ();
  if (emulator != NULL)
    /* QEMU puts in /proc/self/stat the time the emulator started, not
       the kernel's start time of the process: the holder's marker then
       says it is another process than /proc/PID/stat does, and it looks
       dead to a strict marker of this host.  */
    unsupported ("plockmethods: --method=strict: a lock held through one "
                 "mount stops plock -n through the other: %s, whose start "
                 "time in /proc/self/stat is not the kernel's", emulator);
  else
    check_across_mounts ("--method=strict", true);
  check_across_mounts ("--method=lease", true);
  check_across_mounts ("--method=auto", true);
  fuse_unmount_all ();
}

/* A lock of METHOD whose marker is broken while COMMAND runs: plock
   exits 74, and the file's data stays.  */
static void
check_lost_command (const char *method)
{
  const char *file = test_path ("lost-command");
  put_data (file);
  struct holding h = hold_with_command (method, file);
  const char *brk[] = { punlock, "--break", file, NULL };
  int r = run (brk);
  check (r == 0, "plockmethods: %s: punlock --break breaks the lock of a "
         "running command (status %d)", method, r);
  int s = end_holding (h);
  check (s == 74, "plockmethods: %s: plock exits 74 when its lock is lost "
         "while COMMAND runs (status %d)", method, s);
  check (data_intact (file), "plockmethods: %s: a lost lock leaves the "
         "file's data", method);
}

/* A holder (the hold form) of a lease broken by punlock --break exits
   74.  This process is the holder's subreaper, so that the holder,
   whose parent plock has exited, is its child.  */
static void
check_lost_holder (void)
{
#if defined __linux__ && defined PR_SET_CHILD_SUBREAPER
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0)
    {
      unsupported ("plockmethods: no subreaper: the holder's exit status "
                   "cannot be seen");
      return;
    }
  const char *file = test_path ("lost-holder");
  put_data (file);
  const char *hold[] = { plock, "--verbose", "--detach", "--method=lease=5",
                         file, NULL };
  pid_t plock_pid;
  FILE *out = command_output (hold, &plock_pid);
  char line[256];
  long holder = 0;
  while (fgets (line, sizeof line, out) != NULL)
    sscanf (line, "plock: holder %ld keeps the lock", &holder);
  if (!command_succeeded (out, plock_pid) || holder <= 0)
    die ("plock --method=lease %s left no holder", file);
  /* A holder of some other lock would never lose it: end it rather
     than wait for it.  */
  const char *query[] = { plock, "--holder", file, NULL };
  FILE *q = command_output (query, &plock_pid);
  bool lease = false;
  while (fgets (line, sizeof line, q) != NULL)
    lease |= strstr (line, " lease\n") != NULL;
  command_succeeded (q, plock_pid);
  if (!check (lease, "plockmethods: the holder holds a lease"))
    kill (holder, SIGTERM);
  const char *brk[] = { punlock, "--break", file, NULL };
  int r = run (brk);
  check (r == 0, "plockmethods: punlock --break breaks a holder's lease "
         "(status %d)", r);
  int status;
  while (waitpid (holder, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid of the holder");
  check (WIFEXITED (status) && WEXITSTATUS (status) == 74,
         "plockmethods: a holder whose lease is lost exits 74 (status %d)",
         WIFEXITED (status) ? WEXITSTATUS (status)
         : 128 + WTERMSIG (status));
  check (data_intact (file), "plockmethods: the holder's lost lease leaves "
         "the file's data");
  prctl (PR_SET_CHILD_SUBREAPER, 0);
#else
  unsupported ("plockmethods: no subreaper: the holder's exit status "
               "cannot be seen");
#endif
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    die ("usage: plockmethods PLOCK PUNLOCK");
  plock = argv[1];
  punlock = argv[2];
  signal (SIGPIPE, SIG_IGN);
  check_lost_command ("--method=lease=2");
  check_lost_command ("--method=strict");
  check_lost_holder ();
  across_mounts ();
  return check_exit ();
}
