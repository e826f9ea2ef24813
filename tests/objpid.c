/* objpid.c: tests of PID records, PID-recording lock objects and the
   holder query on one backend.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: objpid BACKEND.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#ifndef HAVE_PROC_LOCKS
# define HAVE_PROC_LOCKS 0
#endif

static enum portalock_backend backend;
static const char *bname;
static bool has_shared;

static void
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t) strlen (text)
      || close (fd) != 0)
    die ("write %s", path);
}

static char *
read_file (const char *path)
{
  static char buf[1024];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

/* Return the start time of PID (field 22 of /proc/PID/stat), or 0.  */
static unsigned long long
start_of (pid_t pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  unsigned long long start = 0;
  int field = 2;
  for (char *tok = strtok (p + 1, " "); tok != NULL; tok = strtok (NULL, " "))
    if (++field == 22)
      {
        start = strtoull (tok, NULL, 10);
        break;
      }
  return start;
}

/* A child that does nothing until killed; reaped by the caller.  */
static pid_t
idle_child (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    for (;;)
      pause ();
  return pid;
}

static void
test_records (void)
{
  const char *path = test_path ("rec");
  pid_t pid = 42;
  char host[256], text[512];
  gethostname (host, sizeof host);

  check (fails_with (portalock_pid_record_read (path, &pid), ENOENT),
         "%s: record: a missing file: ENOENT", bname);
  check (fails_with (portalock_pid_record_read (NULL, &pid), EINVAL)
         && fails_with (portalock_pid_record_read ("", &pid), EINVAL)
         && fails_with (portalock_pid_record_read (path, NULL), EINVAL),
         "%s: record: NULL or empty arguments: EINVAL", bname);
  check (fails_with (portalock_pid_record_read (test_path (""), &pid),
                     EISDIR),
         "%s: record: a directory: EISDIR", bname);

  int fd = open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (write (fd, "some old text that is longer than a record\n", 44) != 44)
    die ("write");
  check (fails_with (portalock_pid_record_write (fd, 0), EINVAL)
         && fails_with (portalock_pid_record_write (fd, PORTALOCK_UN), EINVAL)
         && fails_with (portalock_pid_record_write (-1, PORTALOCK_EX), EBADF),
         "%s: record: bad flags: EINVAL; bad descriptor: EBADF", bname);
  check (portalock_pid_record_write (fd, PORTALOCK_EX) == 0,
         "%s: record: write (through an append descriptor)", bname);
  snprintf (text, sizeof text, "%ld\nhost=%s\nstart=%llu\nmode=exclusive\n",
            (long) getpid (), host, start_of (getpid ()));
  check (strcmp (read_file (path), text) == 0,
         "%s: record: PID, host, start time and mode, from offset 0", bname);
  pid = 0;
  check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: record: this process is a live holder", bname);
  portalock_pid_record_write (fd, PORTALOCK_SH | PORTALOCK_NB);
  check (strstr (read_file (path), "mode=shared\n") != NULL,
         "%s: record: mode shared", bname);
  close (fd);

  /* A bare PID, as classic pid files hold.  */
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: record: a bare live PID counts", bname);

  /* Dead, reused, elsewhere, garbage.  */
  pid_t dead = idle_child ();
  kill (dead, SIGKILL);
  waitpid (dead, NULL, 0);
  snprintf (text, sizeof text, "%ld\nhost=%s\n", (long) dead, host);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == dead,
         "%s: record: a dead process is stale; its PID is given", bname);

  pid_t zombie = idle_child ();
  unsigned long long zstart = start_of (zombie);
  snprintf (text, sizeof text, "%ld\nhost=%s\nstart=%llu\n", (long) zombie,
            host, zstart);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 1 && pid == zombie,
         "%s: record: a live child with its start time", bname);
  kill (zombie, SIGKILL);
  siginfo_t info;
  waitid (P_PID, zombie, &info, WEXITED | WNOWAIT);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == zombie,
         "%s: record: a process that exited (not yet reaped) is stale",
         bname);
  waitpid (zombie, NULL, 0);

  snprintf (text, sizeof text, "%ld\nhost=%s\nstart=%llu\n",
            (long) getpid (), host, start_of (getpid ()) + 1);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == getpid (),
         "%s: record: a live PID with another start time (reused) is stale",
         bname);
  snprintf (text, sizeof text, "%ld\nhost=%s-elsewhere\n", (long) getpid (),
            host);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == getpid (),
         "%s: record: another host's record is not trusted", bname);

  static const char *const garbage[] =
    { "", "\n", "not_a_number\n", "12x\n", "-5\n", "0\n",
      "99999999999999999999\n", " 12\n", "12 \n" };
  bool ok = true;
  for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++)
    {
      write_file (path, garbage[i]);
      pid = 42;
      ok &= portalock_pid_record_read (path, &pid) == 0 && pid == 0;
    }
  check (ok, "%s: record: empty or garbage files hold no record", bname);
  unlink (path);
}

static void
test_pid_lock (void)
{
  const char *path = test_path ("pidlock");
  portalock *lock = portalock_new (path);
  portalock_set_backend (lock, backend);
  portalock_set_record_pid (lock, true);
  pid_t pid = 0;

  check (portalock_acquire (lock) == 0
         && portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: PID lock: the holder's record is in the file", bname);
  check (portalock_release (lock) == 0
         && portalock_pid_record_read (path, &pid) == 0 && pid == 0,
         "%s: PID lock: release empties the record", bname);

  /* Another process holds it: a failed acquire names the holder.  */
  int up[2], down[2];
  if (pipe2 (up, O_CLOEXEC) != 0 || pipe2 (down, O_CLOEXEC) != 0)
    die ("pipe");
  pid_t child = fork ();
  if (child == 0)
    {
      char c = 'L';
      if (portalock_acquire (lock) != 0)
        _exit (1);
      IGNORE_RESULT (write (up[1], &c, 1));
      IGNORE_RESULT (read (down[0], &c, 1));
      _exit (0);
    }
  char c;
  IGNORE_RESULT (read (up[0], &c, 1));
  portalock_set_fail_when_locked (lock, true);
  check (fails_with (portalock_acquire (lock), EWOULDBLOCK)
         && portalock_pid_record_read (path, &pid) == 1 && pid == child,
         "%s: PID lock: a refused acquire can read the holder's PID", bname);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == child,
         "%s: PID lock: a killed holder's record is stale", bname);
  portalock_set_fail_when_locked (lock, false);
  check (portalock_acquire (lock) == 0
         && portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: PID lock: the next holder replaces a stale record", bname);
  if (has_shared)
    {
      check (portalock_convert (lock, PORTALOCK_SH) == 0
             && strstr (read_file (path), "mode=shared\n") != NULL,
             "%s: PID lock: conversion rewrites the mode", bname);
    }
  portalock_release (lock);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == 0,
         "%s: PID lock: release of a converted lock empties the record",
         bname);

  if (has_shared)
    {
      portalock *a = portalock_new (path), *b = portalock_new (path);
      portalock_set_backend (a, backend);
      portalock_set_backend (b, backend);
      portalock_set_record_pid (a, true);
      portalock_set_flags (a, PORTALOCK_SH);
      struct holder h;
      if (!holder_start (&h, path, backend, PORTALOCK_SH, 0, 0))
        die ("holder");
      write_file (path, "1\n");
      check (portalock_acquire (a) == 0
             && portalock_pid_record_read (path, &pid) == 1
             && pid == getpid ()
             && strstr (read_file (path), "mode=shared\n") != NULL,
             "%s: PID lock: a shared holder writes its record", bname);
      check (portalock_release (a) == 0
             && portalock_pid_record_read (path, &pid) == 0 && pid == 0,
             "%s: PID lock: a shared holder clears its own record", bname);
      write_file (path, "1\n");
      portalock_acquire (a);
      write_file (path, "1\n");
      check (portalock_release (a) == 0
             && portalock_pid_record_read (path, &pid) == 1 && pid == 1,
             "%s: PID lock: a shared holder leaves another's record", bname);
      holder_release (&h);
      portalock_free (a);
      portalock_free (b);
    }

  /* Temporary and PID-recording: portalocker's PidFileLock.  */
  portalock_set_temporary (lock, true);
  portalock_set_mode (lock, "r");
  check (portalock_acquire (lock) == 0
         && portalock_pid_record_read (path, &pid) == 1 && pid == getpid ()
         && portalock_release (lock) == 0 && access (path, F_OK) != 0,
         "%s: PID lock: temporary too, even in mode \"r\": deleted on "
         "release", bname);
  portalock_free (lock);
  close (up[0]);
  close (up[1]);
  close (down[0]);
  close (down[1]);
}

static bool
contains (const pid_t *pids, int n, pid_t pid)
{
  for (int i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

static void
test_holders (void)
{
  const char *path = test_path ("holders");
  pid_t pids[8];

  check (fails_with (portalock_holders (path, pids, 8), ENOENT),
         "%s: holders: a missing file: ENOENT", bname);
  check (fails_with (portalock_holders (NULL, pids, 8), EINVAL)
         && fails_with (portalock_holders ("", pids, 8), EINVAL)
         && fails_with (portalock_holders (path, NULL, 8), EINVAL),
         "%s: holders: bad arguments: EINVAL", bname);
  write_file (path, "");
  if (!HAVE_PROC_LOCKS || access ("/proc/locks", R_OK) != 0)
    {
      check (fails_with (portalock_holders (path, pids, 8), ENOTSUP),
             "%s: holders: without /proc/locks: ENOTSUP", bname);
      unsupported ("%s: holders: the lists of holders", bname);
      return;
    }
  check (portalock_holders (path, pids, 8) == 0,
         "%s: holders: an unlocked file has none", bname);

  struct holder h1, h2;
  if (!holder_start (&h1, path, backend, PORTALOCK_EX, 0, 0))
    die ("holder");
  int n = portalock_holders (path, pids, 8);
  check (n == 1 && pids[0] == h1.pid,
         "%s: holders: an exclusive holder in another process", bname);
  check (portalock_holders (path, NULL, 0) == 1,
         "%s: holders: counting only", bname);

  /* A waiter is not a holder.  */
  pid_t waiter = fork ();
  if (waiter == 0)
    {
      int fd = open (path, O_RDWR | O_CLOEXEC);
      portalock_backend_lock (backend, fd, PORTALOCK_EX, 0, 0, 60);
      _exit (0);
    }
  await_blocked_waiter (path);
  n = portalock_holders (path, pids, 8);
  check (n == 1 && pids[0] == h1.pid, "%s: holders: a waiter is not listed",
         bname);
  kill (waiter, SIGKILL);
  waitpid (waiter, NULL, 0);
  holder_release (&h1);

  if (has_shared)
    {
      holder_start (&h1, path, backend, PORTALOCK_SH, 0, 0);
      holder_start (&h2, path, backend, PORTALOCK_SH, 0, 0);
      n = portalock_holders (path, pids, 8);
      check (n == 2 && contains (pids, n, h1.pid)
             && contains (pids, n, h2.pid),
             "%s: holders: two shared holders", bname);
      pids[1] = 0;
      n = portalock_holders (path, pids, 1);
      check (n == 2 && (pids[0] == h1.pid || pids[0] == h2.pid)
             && pids[1] == 0,
             "%s: holders: more holders than room: the count, MAX filled",
             bname);
      holder_release (&h1);
      holder_release (&h2);
    }

  /* A lock object of this process, and a child that inherited its
     descriptor.  The lock belongs to both for flock and OFD locks (the
     open file description), to the parent alone for POSIX ones.  */
  portalock *lock = portalock_new (path);
  portalock_set_backend (lock, backend);
  portalock_acquire (lock);
  int in[2];
  if (pipe2 (in, O_CLOEXEC) != 0)
    die ("pipe");
  pid_t child = fork ();
  if (child == 0)
    {
      char c;
      close (in[1]);
      IGNORE_RESULT (read (in[0], &c, 1));
      _exit (0);
    }
  n = portalock_holders (path, pids, 8);
  bool shared_description = (backend == PORTALOCK_BACKEND_FLOCK
                             || backend == PORTALOCK_BACKEND_OFD);
  if (shared_description)
    check (n == 2 && contains (pids, n, getpid ())
           && contains (pids, n, child),
           "%s: holders: a lock inherited over fork lists both processes",
           bname);
  else
    check (n == 1 && pids[0] == getpid (),
           "%s: holders: a POSIX lock is not inherited over fork", bname);
  close (in[1]);
  waitpid (child, NULL, 0);
  close (in[0]);
  portalock_release (lock);
  check (portalock_holders (path, pids, 8) == 0,
         "%s: holders: none after release", bname);
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: objpid BACKEND");
  int b = portalock_backend_from_name (argv[1]);
  if (b <= 0)
    die ("no backend %s", argv[1]);
  backend = b;
  bname = argv[1];
  if (!portalock_backend_available (backend))
    {
      unsupported ("%s: not built here", bname);
      return check_exit ();
    }
  has_shared = backend != PORTALOCK_BACKEND_LOCKF;

  test_records ();
  test_pid_lock ();
  test_holders ();
  return check_exit ();
}
