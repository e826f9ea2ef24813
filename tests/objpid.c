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
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <sys/resource.h>
# include <sys/wait.h>
#else
# include <io.h>
# include <windows.h>
#endif

#ifndef HAVE_PROC_LOCKS
# define HAVE_PROC_LOCKS 0
#endif

static enum portalock_backend backend;
static const char *bname;
static bool has_shared;

static char *
read_file (const char *path)
{
  static char buf[1024];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_BINARY);
  if (fd < 0)
    return NULL;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

#if TEST_POSIX
/* Return the PID of a process that has ended, and been reaped.  */
static pid_t
dead_pid (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    for (;;)
      pause ();
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  return pid;
}

/* Replace the content of FD's file by TEXT through FD: a descriptor of
   one's own, opened and closed, would drop this process's POSIX locks
   on the file.  */
static void
rewrite (int fd, const char *text)
{
  if (ftruncate (fd, 0) != 0
      || pwrite (fd, text, strlen (text), 0) != (ssize_t) strlen (text))
    die ("rewrite");
}

/* Make a pipe P whose ends no program this process starts inherits.  */
static int
make_pipe (int p[2])
{
  return pipe2 (p, O_CLOEXEC);
}

/* This system's host name, as the library asks it.  */
static void
host_name (char *name, int size)
{
  gethostname (name, size);
}
#else
/* On Windows the process is a holder killed and waited for, whose handle
   is closed: nothing keeps its process object alive.  */
static pid_t
dead_pid (void)
{
  struct holder h;
  if (!holder_start (&h, test_path ("dead-pid"), 0, PORTALOCK_EX, 0, 0))
    die ("holder");
  holder_kill (&h);
  return h.pid;
}

static void
rewrite (int fd, const char *text)
{
  if (_chsize (fd, 0) != 0 || _lseek (fd, 0, SEEK_SET) != 0
      || write (fd, text, strlen (text)) != (int) strlen (text))
    die ("rewrite");
}

static int
make_pipe (int p[2])
{
  return _pipe (p, 256, O_BINARY | O_NOINHERIT);
}

/* The library asks for the DNS host name.  */
static void
host_name (char *name, int size)
{
  DWORD n = size;
  if (!GetComputerNameExA (ComputerNameDnsHostname, name, &n))
    die ("GetComputerNameExA");
}
#endif

/* Return true if PATH holds exactly TEXT.  */
static bool
holds (const char *path, const char *text)
{
  const char *now_text = read_file (path);
  return now_text != NULL && strcmp (now_text, text) == 0;
}

/* Writing: only over nothing or a record, and only a bare PID line.  */
static void
test_record_write (void)
{
  const char *path = test_path ("recw");
  char text[512], host[256];
  host_name (host, sizeof host);

  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC
                 | O_BINARY, 0644);
  check (fails_with (portalock_pid_record_write (fd, 0), EINVAL)
         && fails_with (portalock_pid_record_write (fd, PORTALOCK_UN), EINVAL)
         && fails_with (portalock_pid_record_write (-1, PORTALOCK_EX), EBADF),
         "%s: record: bad flags: EINVAL; bad descriptor: EBADF", bname);
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  check (portalock_pid_record_write (fd, PORTALOCK_EX) == 0
         && holds (path, text),
         "%s: record: an empty file gets the bare PID line", bname);
  check (portalock_pid_record_write (fd, PORTALOCK_SH | PORTALOCK_NB) == 0
         && holds (path, text),
         "%s: record: a record is replaced by a record", bname);
  close (fd);

  static const char *const data[] =
    { "important data line 1\nline 2\n", "#!/bin/sh\necho hi\n",
      "42\nimportant data\n", "42\nhost=x\nkey=value\n", " 42\n", "\n",
      "42\n\n", "0\n" };
  bool ok = true;
  for (size_t i = 0; i < sizeof data / sizeof *data; i++)
    {
      write_file (path, data[i]);
      fd = open (path, O_RDWR | O_APPEND | O_CLOEXEC | O_BINARY);
      ok &= fails_with (portalock_pid_record_write (fd, PORTALOCK_EX), EEXIST)
        && holds (path, data[i]);
      close (fd);
    }
  check (ok, "%s: record: never over data: EEXIST, the file unchanged",
         bname);

  /* Records of 0.1.0 and of Python portalocker may be replaced.  */
  snprintf (text, sizeof text, "4242\nhost=%s\nstart=77\nmode=shared\n",
            host);
  static const char *const records[] = { NULL, "4242", "4242\n" };
  ok = true;
  for (size_t i = 0; i < sizeof records / sizeof *records; i++)
    {
      write_file (path, records[i] != NULL ? records[i] : text);
      fd = open (path, O_RDWR | O_CLOEXEC | O_BINARY);
      ok &= portalock_pid_record_write (fd, PORTALOCK_EX) == 0;
      close (fd);
    }
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  check (ok && holds (path, text),
         "%s: record: old and bare-PID records are replaced", bname);

  /* Without read access, only an empty file can be known to hold no
     data.  */
  write_file (path, "data\n");
  fd = open (path, O_WRONLY | O_CLOEXEC | O_BINARY);
  check (fails_with (portalock_pid_record_write (fd, PORTALOCK_EX), EBADF)
         && holds (path, "data\n"),
         "%s: record: write-only over content: EBADF, unchanged", bname);
  close (fd);
  write_file (path, "");
  fd = open (path, O_WRONLY | O_CLOEXEC | O_BINARY);
  check (portalock_pid_record_write (fd, PORTALOCK_EX) == 0,
         "%s: record: write-only over an empty file", bname);
  close (fd);

  int p[2];
  if (make_pipe (p) != 0)
    die ("pipe");
  check (fails_with (portalock_pid_record_write (p[1], PORTALOCK_EX), EINVAL),
         "%s: record: a pipe is no record file: EINVAL", bname);
  close (p[0]);
  close (p[1]);
  unlink (path);
}

/* Return true if PATH holds exactly the LENGTH bytes of TEXT.  */
static bool
holds_bytes (const char *path, const char *text, size_t length)
{
  char buf[4096];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_BINARY);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf);
  close (fd);
  return n >= 0 && (size_t) n == length && memcmp (buf, text, length) == 0;
}

/* Fill TEXT with a 0.1.0 record of PID of exactly LENGTH bytes (at
   least 20): the PID line, then a "start=" line of as many digits as it
   takes.  */
static void
sized_record (char *text, size_t length, long pid)
{
  int head = snprintf (text, length, "%ld\nstart=", pid);
  memset (text + head, '7', length - head - 1);
  text[length - 1] = '\n';
  text[length] = '\0';
}

/* A record is at most 1024 bytes: one of exactly 1024 bytes is read and
   may be replaced; one of 1025 bytes, or one of 1024 followed by more,
   is no record: never read as one, never written over.  */
static void
test_record_size (void)
{
  const char *path = test_path ("recsize");
  char text[1100], mine[32];
  snprintf (mine, sizeof mine, "%ld\n", (long) getpid ());
  pid_t pid;

  sized_record (text, 1024, 4242);
  write_file (path, text);
  pid = 0;
  check (portalock_pid_record_read (path, &pid) >= 0 && pid == 4242,
         "%s: record: one of exactly 1024 bytes is read", bname);
  int fd = open (path, O_RDWR | O_CLOEXEC | O_BINARY);
  check (portalock_pid_record_write (fd, PORTALOCK_EX) == 0
         && holds_bytes (path, mine, strlen (mine)),
         "%s: record: one of exactly 1024 bytes is replaced", bname);
  close (fd);

  sized_record (text, 1025, 4242);
  write_file (path, text);
  pid = 42;
  check (portalock_pid_record_read (path, &pid) == 0 && pid == 0,
         "%s: record: 1025 bytes are no record", bname);
  fd = open (path, O_RDWR | O_CLOEXEC | O_BINARY);
  check (fails_with (portalock_pid_record_write (fd, PORTALOCK_EX), EEXIST)
         && holds_bytes (path, text, 1025),
         "%s: record: 1025 bytes are not written over: EEXIST, unchanged",
         bname);
  close (fd);

  sized_record (text, 1024, 4242);
  strcat (text, "data\n");
  write_file (path, text);
  pid = 42;
  check (portalock_pid_record_read (path, &pid) == 0 && pid == 0,
         "%s: record: 1024 bytes of record and then data are no record",
         bname);
  fd = open (path, O_RDWR | O_CLOEXEC | O_BINARY);
  check (fails_with (portalock_pid_record_write (fd, PORTALOCK_EX), EEXIST)
         && holds_bytes (path, text, 1029),
         "%s: record: 1024 bytes of record and then data are not written "
         "over: EEXIST, unchanged", bname);
  close (fd);
  unlink (path);
}

#if TEST_POSIX
/* A FIFO: no hang in open, no data taken from it.  */
static void
test_record_fifo (void)
{
  pid_t pid = 42;
  const char *fifo = test_path ("rec.fifo");
  if (mkfifo (fifo, 0600) != 0)
    die ("mkfifo");
  check (fails_with (portalock_pid_record_read (fifo, &pid), EINVAL),
         "%s: record: a FIFO: EINVAL at once", bname);
  unlink (fifo);
}

/* A /proc error is "cannot tell", not "stale", for PATH, whose lock this
   process holds.  */
static void
test_record_emfile (const char *path)
{
  if (!HAVE_PROC_LOCKS)
    {
      unsupported ("%s: record: out of descriptors: no /proc/locks to ask",
                   bname);
      return;
    }
  /* Fill the descriptor table but for what the read needs for the file
     itself (nothing where it takes back the descriptor kept open
     above).  */
  struct rlimit old, lim;
  getrlimit (RLIMIT_NOFILE, &old);
  lim = old;
  lim.rlim_cur = count_fds () + 16;
  setrlimit (RLIMIT_NOFILE, &lim);
  int fill[64], nfill = 0;
  while (nfill < 64 && (fill[nfill] = open ("/dev/null", O_RDONLY)) >= 0)
    nfill++;
  bool process_scoped = (backend == PORTALOCK_BACKEND_FCNTL
                         || backend == PORTALOCK_BACKEND_LOCKF);
  if (!process_scoped && nfill > 0)
    close (fill[--nfill]);
  pid_t pid = 0;
  int r = portalock_pid_record_read (path, &pid);
  int err = errno;
  while (nfill > 0)
    close (fill[--nfill]);
  setrlimit (RLIMIT_NOFILE, &old);
  errno = err;
  check (fails_with (r, EMFILE) && pid == getpid (),
         "%s: record: out of descriptors: -1 EMFILE (cannot tell), not "
         "stale", bname);
}
#else
static void
test_record_fifo (void)
{
  unsupported ("%s: record: a FIFO: needs mkfifo (POSIX only)", bname);
}

static void
test_record_emfile (const char *path)
{
  (void) path;
  unsupported ("%s: record: out of descriptors: no /proc/locks to ask",
               bname);
}
#endif

static void
test_records (void)
{
  const char *path = test_path ("rec");
  pid_t pid = 42;
  char host[256], text[512];
  host_name (host, sizeof host);

  check (fails_with (portalock_pid_record_read (path, &pid), ENOENT),
         "%s: record: a missing file: ENOENT", bname);
  check (fails_with (portalock_pid_record_read (NULL, &pid), EINVAL)
         && fails_with (portalock_pid_record_read ("", &pid), EINVAL)
         && fails_with (portalock_pid_record_read (path, NULL), EINVAL),
         "%s: record: NULL or empty arguments: EINVAL", bname);
  check (fails_with (portalock_pid_record_read (test_path (""), &pid),
                     EISDIR),
         "%s: record: a directory: EISDIR", bname);

  test_record_fifo ();

  /* Live means: that process holds a lock on that file.  */
  portalock *lock = portalock_new (path);
  portalock_set_backend (lock, backend);
  portalock_set_record_pid (lock, true);
  if (portalock_acquire (lock) != 0)
    die ("acquire");
  pid = 0;
  check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: record: this process holds the lock: live", bname);
  int before = count_fds ();
  bool same = true;
  for (int i = 0; i < 200; i++)
    same &= portalock_pid_record_read (path, &pid) == 1 && pid == getpid ();
  check (same && count_fds () <= before + 1,
         "%s: record: 200 reads of a held file keep at most one descriptor "
         "(%d, then %d)", bname, before, count_fds ());
  /* That descriptor (fcntl, lockf: its close waits for the lock object)
     is not for exec'd programs either.  */
  bool cloexec = true;
  for (int fd = 3; fd < 1024; fd++)
    if (fd_names (fd, path) && !not_inherited (fd))
      cloexec = false;
  check (cloexec, "%s: record: no descriptor of a read reaches an exec'd "
         "program", bname);

  test_record_emfile (path);

  /* The old format, and Python's bare PID, of a live holder.  */
  snprintf (text, sizeof text, "%ld\nhost=%s\nstart=1\nmode=exclusive\n",
            (long) getpid (), host);
  rewrite (portalock_fd (lock), text);
  check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: record: a 0.1.0 record of a holder is live", bname);
  snprintf (text, sizeof text, "%ld", (long) getpid ());
  rewrite (portalock_fd (lock), text);
  check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: record: a bare PID without a line break is live", bname);
  snprintf (text, sizeof text, "%ld\nhost=%s-elsewhere\n", (long) getpid (),
            host);
  rewrite (portalock_fd (lock), text);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == getpid (),
         "%s: record: another host's 0.1.0 record is not trusted", bname);
  portalock_release (lock);
  portalock_free (lock);

  /* Not holding the lock: stale, however alive.  */
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  write_file (path, text);
  if (HAVE_PROC_LOCKS)
    check (portalock_pid_record_read (path, &pid) == 0 && pid == getpid (),
           "%s: record: a live process without the lock is stale", bname);
  else
    check (portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
           "%s: record: without /proc/locks, a live PID counts as live",
           bname);
  pid_t dead = dead_pid ();
  snprintf (text, sizeof text, "%ld\n", (long) dead);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == dead,
         "%s: record: a dead process is stale; its PID is given", bname);

  /* Another process holding the lock, with a bare record.  */
  struct holder h;
  write_file (path, "");
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    die ("holder");
  snprintf (text, sizeof text, "%ld\n", (long) h.pid);
  write_file (path, text);
  check (portalock_pid_record_read (path, &pid) == 1 && pid == h.pid,
         "%s: record: another process's held lock is live", bname);
  holder_kill (&h);
  check (portalock_pid_record_read (path, &pid) == 0 && pid == h.pid,
         "%s: record: killed, it is stale", bname);

  static const char *const garbage[] =
    { "", "\n", "not_a_number\n", "12x\n", "-5\n", "0\n", "012\n",
      "99999999999999999999\n", " 12\n", "12 \n", "12\nimportant data\n" };
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

#if TEST_POSIX
/* A PID lock never writes through a symbolic link.  */
static void
test_data_symlink (const char *path)
{
  const char *link = test_path ("data.link");
  unlink (link);
  if (symlink (path, link) != 0)
    die ("symlink");
  write_file (path, "");
  portalock *lock = portalock_new (link);
  portalock_set_backend (lock, backend);
  portalock_set_record_pid (lock, true);
  check (fails_with (portalock_acquire (lock), ELOOP) && holds (path, ""),
         "%s: PID lock through a symbolic link: ELOOP, the target "
         "unchanged", bname);
  portalock_free (lock);
  unlink (link);
}
#else
static void
test_data_symlink (const char *path)
{
  (void) path;
  unsupported ("%s: PID lock through a symbolic link (POSIX only: "
               "Windows makes them for administrators only)", bname);
}
#endif

/* A PID lock never destroys a data file, and never writes through a
   symbolic link.  */
static void
test_data_file (void)
{
  const char *path = test_path ("data");
  const char *content = "important data line 1\nline 2\n";
  write_file (path, content);
  portalock *lock = portalock_new (path);
  portalock_set_backend (lock, backend);
  portalock_set_record_pid (lock, true);
  check (fails_with (portalock_acquire (lock), EEXIST)
         && holds (path, content)
         && probe_lock (path, backend, PORTALOCK_EX, 0, 0) == 0,
         "%s: PID lock on a data file: EEXIST, unchanged, not held", bname);
  portalock_free (lock);

  test_data_symlink (path);
  write_file (path, "");

  lock = portalock_new (path);
  portalock_set_backend (lock, backend);
  portalock_set_record_pid (lock, true);
  char text[32];
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  check (portalock_acquire (lock) == 0 && holds (path, text)
         && portalock_release (lock) == 0 && holds (path, ""),
         "%s: PID lock on an empty file: the record, then empty again",
         bname);
  check (portalock_acquire (lock) == 0, "%s: PID lock again", bname);
  rewrite (portalock_fd (lock), "written meanwhile\n");
  check (portalock_release (lock) == 0 && holds (path, "written meanwhile\n"),
         "%s: PID lock: release empties only its own record", bname);
  portalock_free (lock);
  unlink (path);
}

#if TEST_POSIX
/* Another process holds LOCK, a PID lock on PATH, through its copy of
   the object: a failed acquire names the holder.  LOCK is held at the
   end.  */
static void
test_pid_lock_process (portalock *lock, const char *path)
{
  pid_t pid = 0;
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
  close (up[0]);
  close (up[1]);
  close (down[0]);
  close (down[1]);
}
#else
/* The holder process would need the same object: fork.  The record a
   killed holder leaves behind is made by hand here.  LOCK is held at
   the end.  */
static void
test_pid_lock_process (portalock *lock, const char *path)
{
  pid_t pid = 0;
  char text[32];
  unsupported ("%s: PID lock: a refused acquire reads the holder's PID: "
               "needs fork (POSIX only)", bname);
  snprintf (text, sizeof text, "%ld\n", (long) dead_pid ());
  write_file (path, text);
  check (portalock_acquire (lock) == 0
         && portalock_pid_record_read (path, &pid) == 1 && pid == getpid (),
         "%s: PID lock: the next holder replaces a stale record", bname);
}
#endif

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

  test_pid_lock_process (lock, path);
  if (has_shared)
    {
      check (portalock_convert (lock, PORTALOCK_SH) == 0
             && portalock_pid_record_read (path, &pid) == 1
             && pid == getpid (),
             "%s: PID lock: the record survives a conversion", bname);
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
             && pid == getpid (),
             "%s: PID lock: a shared holder writes its record", bname);
      check (portalock_release (a) == 0
             && portalock_pid_record_read (path, &pid) == 0 && pid == 0,
             "%s: PID lock: a shared holder clears its own record", bname);
      write_file (path, "1\n");
      portalock_acquire (a);
      rewrite (portalock_fd (a), "1\n");
      check (portalock_release (a) == 0 && holds (path, "1\n"),
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
}

static void test_holder_lists (const char *path);

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
  test_holder_lists (path);
}

#if TEST_POSIX
static bool
contains (const pid_t *pids, int n, pid_t pid)
{
  for (int i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* The holders of PATH, an unlocked file.  */
static void
test_holder_lists (const char *path)
{
  pid_t pids[8];
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
#else
/* Not reached: Windows has no /proc/locks.  */
static void
test_holder_lists (const char *path)
{
  (void) path;
}
#endif

int
main (int argc, char **argv)
{
  bname = argv[1];
  backend = backend_from_args (argc, argv, 1, "objpid BACKEND");
  if (backend == 0)
    return check_exit ();
  has_shared = backend != PORTALOCK_BACKEND_LOCKF;

  test_record_write ();
  test_records ();
  test_record_size ();
  test_data_file ();
  test_pid_lock ();
  test_holders ();
  return check_exit ();
}
