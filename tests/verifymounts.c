/* verifymounts.c: plock --verify on one directory and across two FUSE
   mounts of one directory, with and without lock forwarding.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: verifymounts PLOCK.  plock --verify must report what
   fusemounts.c and marker.c prove with their own checks: across two
   plain bindfs mounts the kernel lock does not exclude and the marker
   methods (strict, lease, auto) do; with lock forwarding the kernel
   lock of the flock backend excludes too.  Its exit status follows the
   chosen method (--method, else PORTALOCK_METHOD), it leaves no file of its own
   behind and never touches the user's, and bad operands fail before
   anything is created.  plock's report is read when it has exited;
   nothing here waits on a clock.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuseharness.h"
#include "testutil.h"

static const char *plock;
static char out[16384];

/* Run plock --verify with ARGS (ended by NULL), PORTALOCK_METHOD set to
   METHOD (NULL: unset) and PORTALOCK_BACKEND to BACKEND (NULL: as it
   is); keep its standard output and error in OUT.  Return its exit
   status, or -1 if it did not exit.  */
static int
run_verify (const char *method, const char *backend, const char *const *args)
{
  const char *argv[16] = { plock, "--verify" };
  int n = 2;
  for (; *args != NULL && n < 15; args++)
    argv[n++] = *args;
  argv[n] = NULL;
  int p[2];
  if (pipe (p) != 0)
    die ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      if (method != NULL)
        setenv ("PORTALOCK_METHOD", method, 1);
      else
        unsetenv ("PORTALOCK_METHOD");
      if (backend != NULL)
        setenv ("PORTALOCK_BACKEND", backend, 1);
      dup2 (p[1], 1);
      dup2 (p[1], 2);
      close (p[0]);
      close (p[1]);
      execv (plock, (char **) argv);
      _exit (127);
    }
  fuse_child (pid);
  close (p[1]);
  size_t len = 0;
  ssize_t r;
  while ((r = read (p[0], out + len, sizeof out - 1 - len)) > 0)
    len += r;
  out[len] = '\0';
  close (p[0]);
  int status;
  if (waitpid (pid, &status, 0) != pid)
    die ("waitpid");
  fuse_child (0);
  printf ("plock --verify said:\n%s", out);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* Return true if a line of OUT matches the extended regex RE.  */
static bool
said (const char *re)
{
  regex_t rx;
  if (regcomp (&rx, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
    die ("regcomp %s", re);
  bool found = regexec (&rx, out, 0, NULL, 0) == 0;
  regfree (&rx);
  return found;
}

/* Return true if DIR holds exactly one entry, "data", with TEXT.  */
static bool
only_data (const char *dir, const char *text)
{
  char path[4200];
  snprintf (path, sizeof path, "%s/data", dir);
  return count_entries (dir) == 1 && has_text (path, text);
}

/* The marker methods exclude wherever link(2) is atomic: report it for
   WHAT.  */
static void
check_markers (const char *what)
{
  /* Under an emulator a process's start time in its own /proc/self/stat
     is the emulator's, so a live strict holder looks dead to another
     process (manual, "Architectures").  */
  if (test_emulator () != NULL)
    unsupported ("verify: %s: strict excludes: %s", what, test_emulator ());
  else
    check (said ("^strict: excludes: 0 overlaps in [1-9][0-9]* holds$"),
           "verify: %s: strict excludes", what);
  check (said ("^lease: excludes: 0 overlaps in [1-9][0-9]* holds$"),
         "verify: %s: lease excludes", what);
  check (said ("^auto: excludes: 0 overlaps in [1-9][0-9]* holds"),
         "verify: %s: auto excludes", what);
}

/* Operands that name no directory fail before anything is made.  */
static void
check_bad_operands (void)
{
  const char *dir = test_path ("plain");
  const char *missing = test_path ("missing");
  const char *file = test_path ("afile");
  if (make_dir (dir) != 0)
    die ("mkdir %s", dir);
  char data[4200];
  snprintf (data, sizeof data, "%s/data", dir);
  write_file (data, "user data\n");
  write_file (file, "a file, not a directory\n");

  const char *a1[] = { missing, NULL };
  int st = run_verify (NULL, NULL, a1);
  check (st == 66 && said ("missing: No such file or directory$")
         && !exists (missing),
         "verify: a missing DIR: 66, said, not created (status %d)", st);
  const char *a2[] = { file, NULL };
  st = run_verify (NULL, NULL, a2);
  check (st == 66 && said ("afile: Not a directory$")
         && has_text (file, "a file, not a directory\n"),
         "verify: a file for DIR: 66, said, the file as it was (status %d)",
         st);
  const char *a3[] = { dir, missing, NULL };
  st = run_verify (NULL, NULL, a3);
  check (st == 66 && only_data (dir, "user data\n"),
         "verify: a good DIR and a missing one: 66, nothing made in the "
         "good one (status %d)", st);
  const char *a4[] = { NULL };
  st = run_verify (NULL, NULL, a4);
  check (st == 64 && said ("--verify needs one DIR or more"),
         "verify: no DIR: a usage error (status %d)", st);
}

/* One directory given twice: every method excludes; the directory holds
   only the user's file afterwards.  */
static void
check_plain_dir (void)
{
  const char *dir = test_path ("plain");
  const char *args[] = { dir, dir, NULL };
  int st = run_verify (NULL, NULL, args);
  check (st == 0 && said ("^kernel/[a-z]+: excludes: 0 overlaps in "
                          "[1-9][0-9]* holds$")
         && !said ("DOES NOT EXCLUDE"),
         "verify: one directory: the kernel lock excludes, exit 0 "
         "(status %d)", st);
  check_markers ("one directory");
  check (only_data (dir, "user data\n"),
         "verify: one directory: only the user's file is left, unchanged");
}

/* SIGTERM in the middle of a check: plock stops its workers, removes
   its files, and dies of the signal.  Its lock file showing up in DIR
   says the check has begun.  */
static void
check_interrupted (void)
{
  const char *dir = test_path ("plain");
  char lockfile[4200];
  snprintf (lockfile, sizeof lockfile, "%s/.plock-verify", dir);
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 1);
      execl (plock, plock, "--verify", "-w", "60", dir, dir, (char *) NULL);
      _exit (127);
    }
  fuse_child (pid);
  bool begun = false;
  for (int i = 0; i < 60000 && !(begun = exists (lockfile)); i++)
    usleep (1000);
  kill (pid, SIGTERM);
  int status;
  if (waitpid (pid, &status, 0) != pid)
    die ("waitpid");
  fuse_child (0);
  check (begun && WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM
         && only_data (dir, "user data\n"),
         "verify: SIGTERM: plock dies of it, leaving only the user's file "
         "(status %#x)", status);
}

static void
check_mounts (bool forward)
{
  const char *what = forward ? "forwarding mounts" : "plain mounts";
  if (!fuse_mount_both (forward))
    {
      fuse_unmount_all ();
      unsupported ("verify: bindfs%s refused to mount here",
                   forward ? " --enable-lock-forwarding" : "");
      return;
    }
  char data[4200];
  snprintf (data, sizeof data, "%s/data", fuse_source);
  write_file (data, "shared data\n");
  const char *args[] = { fuse_mounts[0], fuse_mounts[1], NULL };
  if (!forward)
    {
      int st = run_verify (NULL, NULL, args);
      check (st == 1 && said ("^kernel/[a-z]+: DOES NOT EXCLUDE: "
                              "[1-9][0-9]* overlaps in [1-9][0-9]* holds$")
             && !said ("^kernel/[a-z]+: excludes"),
             "verify: %s: the kernel lock does not exclude, exit 1 "
             "(status %d)", what, st);
      check_markers (what);
      check (only_data (fuse_source, "shared data\n"),
             "verify: %s: only the user's file is left, unchanged", what);
      st = run_verify ("strict", NULL, args);
      if (test_emulator () != NULL)
        unsupported ("verify: %s: PORTALOCK_METHOD=strict: exit 0: %s", what,
                     test_emulator ());
      else
        check (st == 0, "verify: %s: PORTALOCK_METHOD=strict: exit 0 "
               "(status %d)", what, st);
      const char *lease[] = { "--method=lease", fuse_mounts[0],
                              fuse_mounts[1], NULL };
      st = run_verify (NULL, NULL, lease);
      check (st == 0 && said ("^lease \\(chosen\\) excludes"),
             "verify: %s: --method=lease: exit 0 (status %d)", what, st);
      const char *kernel[] = { "--method=kernel", fuse_mounts[0],
                               fuse_mounts[1], NULL };
      st = run_verify ("strict", NULL, kernel);
      check (st == 1, "verify: %s: --method=kernel over "
             "PORTALOCK_METHOD=strict: exit 1 (status %d)", what, st);
    }
  else
    {
      /* bindfs forwards flock locks to the directory, but takes POSIX
         locks in its own process, where they never conflict
         (fusemounts.c): the flock backend is the one that excludes.  */
      int st = run_verify (NULL, "flock", args);
      check (st == 0 && said ("^kernel/flock: excludes: 0 overlaps in "
                              "[1-9][0-9]* holds$"),
             "verify: %s: the kernel lock (flock) excludes, exit 0 "
             "(status %d)", what, st);
      check_markers (what);
      check (only_data (fuse_source, "shared data\n"),
             "verify: %s: only the user's file is left, unchanged", what);
    }
  unlink (data);
  fuse_unmount_all ();
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: verifymounts PLOCK");
  plock = argv[1];
  check_bad_operands ();
  check_plain_dir ();
  check_interrupted ();
  if (!fuse_setup ())
    {
      unsupported ("verify: no /dev/fuse, bindfs or fusermount here");
      return check_exit ();
    }
  check_mounts (false);
  check_mounts (true);
  return check_exit ();
}
