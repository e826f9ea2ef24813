/* inodetable.c: tests of the per-inode table behind the process-scoped
   backends (fcntl, lockf).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock-private.h"
#include "testutil.h"

static const struct portalock_backend_ops *ops;
static const char *path;

static int
open_rw (void)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("open %s", path);
  return fd;
}

static struct portalock_inode *
ref (int fd)
{
  struct portalock_inode *node = portalock_inode_ref (fd);
  if (node == NULL)
    die ("portalock_inode_ref");
  return node;
}

static int
acquire (struct portalock_inode *node, int fd, int type, bool nonblock,
         double seconds)
{
  struct timespec deadline;
  bool timed = seconds >= 0 && portalock_deadline_after (seconds, &deadline);
  return portalock_inode_acquire (node, ops, fd, type, nonblock,
                                  timed ? &deadline : NULL);
}

static bool
is_open (int fd)
{
  return fcntl (fd, F_GETFD) != -1;
}

static void
test_exclusion (void)
{
  int fd1 = open_rw (), fd2 = open_rw ();
  struct portalock_inode *a = ref (fd1), *b = ref (fd2);

  check (a == b, "%s: two descriptors of one file share an entry",
         ops->name);
  check (acquire (a, fd1, PORTALOCK_EX, false, -1) == 0,
         "%s: first holder takes the lock", ops->name);
  check (probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: the kernel lock is held", ops->name);
  errno = 0;
  check (acquire (b, fd2, PORTALOCK_EX, true, -1) == -1
         && errno == EWOULDBLOCK,
         "%s: a second holder in the process: EWOULDBLOCK", ops->name);
  double t0 = now ();
  int r = acquire (b, fd2, PORTALOCK_EX, false, 0.2);
  double elapsed = now () - t0;
  check (r == -1 && errno == ETIMEDOUT && elapsed >= 0.2,
         "%s: a second holder times out, no earlier than asked", ops->name);

  portalock_inode_close (b, fd2);
  check (is_open (fd2), "%s: the close of a second descriptor waits",
         ops->name);
  check (probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: closing another object's descriptor keeps the lock",
         ops->name);
  portalock_inode_unref (b);

  check (portalock_inode_release (a, ops, fd1, PORTALOCK_EX) == 0,
         "%s: release", ops->name);
  check (!is_open (fd2), "%s: the deferred descriptor is closed after the "
         "last holder", ops->name);
  check (probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == 0,
         "%s: the kernel lock is gone after the last holder", ops->name);
  errno = 0;
  check (portalock_inode_release (a, ops, fd1, PORTALOCK_EX) == -1
         && errno == EINVAL, "%s: release when not held: EINVAL",
         ops->name);
  portalock_inode_close (a, fd1);
  check (!is_open (fd1), "%s: a close with no holder is immediate",
         ops->name);
  portalock_inode_unref (a);
}

static void
test_shared (void)
{
  if (!ops->shared)
    return;
  int fd1 = open_rw (), fd2 = open_rw ();
  struct portalock_inode *a = ref (fd1), *b = ref (fd2);
  bool exclusive;

  check (acquire (a, fd1, PORTALOCK_SH, true, -1) == 0
         && acquire (b, fd2, PORTALOCK_SH, true, -1) == 0
         && portalock_inode_holders (a, &exclusive) == 2 && !exclusive,
         "%s: two shared holders", ops->name);
  errno = 0;
  check (acquire (a, fd1, PORTALOCK_EX, true, -1) == -1
         && errno == EWOULDBLOCK, "%s: exclusive vs shared holders",
         ops->name);
  portalock_inode_release (a, ops, fd1, PORTALOCK_SH);
  check (probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: releasing one shared holder keeps the process's lock",
         ops->name);
  portalock_inode_release (b, ops, fd2, PORTALOCK_SH);
  check (probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == 0,
         "%s: the last shared holder unlocks", ops->name);
  portalock_inode_close (a, fd1);
  portalock_inode_close (b, fd2);
  portalock_inode_unref (a);
  portalock_inode_unref (b);
}

static void
test_other_process (void)
{
  struct holder h;
  int fd = open_rw ();
  struct portalock_inode *a = ref (fd);

  if (!holder_start (&h, path, ops->id, PORTALOCK_EX, 0, 0))
    die ("%s: holder", ops->name);
  errno = 0;
  check (acquire (a, fd, PORTALOCK_EX, true, -1) == -1
         && errno == EWOULDBLOCK, "%s: held by another process: EWOULDBLOCK",
         ops->name);
  errno = 0;
  check (acquire (a, fd, PORTALOCK_EX, false, 0.1) == -1
         && errno == ETIMEDOUT, "%s: held by another process: ETIMEDOUT",
         ops->name);
  holder_release (&h);
  check (acquire (a, fd, PORTALOCK_EX, false, 30) == 0,
         "%s: a failed wait leaves the entry usable", ops->name);
  portalock_inode_release (a, ops, fd, PORTALOCK_EX);
  portalock_inode_close (a, fd);
  portalock_inode_unref (a);
}

/* A lock object's release in one step: the last holder's close gives the
   kernel lock back (no unlock before it); an earlier holder's close
   waits and keeps the lock.  */
static void
test_release_close (void)
{
  int fd1 = open_rw (), fd2 = open_rw ();
  struct portalock_inode *a = ref (fd1), *b = ref (fd2);

  check (acquire (a, fd1, PORTALOCK_EX, true, -1) == 0,
         "%s: release_close: exclusive holder", ops->name);
  errno = 0;
  check (acquire (b, fd2, PORTALOCK_EX, true, -1) == -1
         && errno == EWOULDBLOCK, "%s: release_close: a second one waits",
         ops->name);
  portalock_inode_close (b, fd2);
  portalock_inode_unref (b);
  check (portalock_inode_release_close (a, fd1, NULL, PORTALOCK_EX) == 0
         && !is_open (fd1) && !is_open (fd2)
         && probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == 0,
         "%s: release_close of the last holder closes its descriptor and "
         "the deferred one, and the kernel lock is gone", ops->name);

  fd1 = open_rw ();
  a = ref (fd1);
  errno = 0;
  check (portalock_inode_release_close (a, fd1, NULL, PORTALOCK_EX) == -1
         && errno == EINVAL && !is_open (fd1),
         "%s: release_close of no holder: EINVAL, and the descriptor is "
         "closed", ops->name);

  if (!ops->shared)
    return;
  fd1 = open_rw ();
  fd2 = open_rw ();
  a = ref (fd1);
  b = ref (fd2);
  FILE *stream = fdopen (fd2, "r+");
  if (stream == NULL)
    die ("fdopen");
  check (acquire (a, fd1, PORTALOCK_SH, true, -1) == 0
         && acquire (b, fd2, PORTALOCK_SH, true, -1) == 0,
         "%s: release_close: two shared holders", ops->name);
  check (portalock_inode_release_close (a, fd1, NULL, PORTALOCK_SH) == 0
         && is_open (fd1)
         && probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: release_close of one shared holder defers its close and "
         "keeps the process's lock", ops->name);
  check (portalock_inode_release_close (b, fd2, stream, PORTALOCK_SH) == 0
         && !is_open (fd1) && !is_open (fd2)
         && probe_lock (path, ops->id, PORTALOCK_EX, 0, 0) == 0,
         "%s: release_close of the last shared holder, with a stream: "
         "everything closed, and the kernel lock is gone", ops->name);
}

/* Threads, each with its own descriptor, increment a counter under the
   lock with a read, a yield and a write: any overlap loses increments.  */
enum { THREADS = 4, ROUNDS = 500 };
static long counter;
static int inside;
static bool overlap;

static void *
worker (void *arg)
{
  (void) arg;
  int fd = open_rw ();
  struct portalock_inode *node = ref (fd);
  for (int i = 0; i < ROUNDS; i++)
    {
      if (acquire (node, fd, PORTALOCK_EX, false, -1) != 0)
        die ("acquire in a thread");
      if (__atomic_add_fetch (&inside, 1, __ATOMIC_SEQ_CST) != 1)
        overlap = true;
      long v = counter;
      sched_yield ();
      counter = v + 1;
      __atomic_sub_fetch (&inside, 1, __ATOMIC_SEQ_CST);
      portalock_inode_release (node, ops, fd, PORTALOCK_EX);
    }
  portalock_inode_close (node, fd);
  portalock_inode_unref (node);
  return NULL;
}

static void
test_threads (void)
{
  pthread_t t[THREADS];
  counter = 0;
  overlap = false;
  for (int i = 0; i < THREADS; i++)
    pthread_create (&t[i], NULL, worker, NULL);
  for (int i = 0; i < THREADS; i++)
    pthread_join (t[i], NULL);
  check (!overlap && counter == THREADS * ROUNDS,
         "%s: %d threads exclude each other (%ld of %d increments)",
         ops->name, THREADS, counter, THREADS * ROUNDS);
}

/* Conversion: a lone holder converts; a shared holder with company
   must wait for it; a stream's close is deferred like a descriptor's.  */
static void
test_convert (void)
{
  int fd1 = open_rw (), fd2 = open_rw ();
  struct portalock_inode *a = ref (fd1), *b = ref (fd2);
  bool exclusive;

  if (!ops->shared)
    {
      portalock_inode_unref (a);
      portalock_inode_unref (b);
      close (fd1);
      close (fd2);
      return;
    }
  acquire (a, fd1, PORTALOCK_EX, false, -1);
  check (portalock_inode_convert (a, ops, fd1, PORTALOCK_EX, PORTALOCK_SH,
                                  true, NULL) == 0
         && portalock_inode_holders (a, &exclusive) == 1 && !exclusive,
         "%s: convert a lone exclusive holder to shared", ops->name);
  check (acquire (b, fd2, PORTALOCK_SH, true, 0) == 0,
         "%s: ... which another holder then shares", ops->name);
  check (portalock_inode_convert (a, ops, fd1, PORTALOCK_SH, PORTALOCK_EX,
                                  true, NULL) == -1
         && errno == EWOULDBLOCK
         && portalock_inode_holders (a, &exclusive) == 2 && !exclusive,
         "%s: a shared holder with company cannot convert: EWOULDBLOCK",
         ops->name);
  check (portalock_inode_convert (a, ops, fd1, PORTALOCK_EX, PORTALOCK_SH,
                                  true, NULL) == -1 && errno == EINVAL,
         "%s: converting a hold not held: EINVAL", ops->name);

  FILE *stream = fdopen (fd2, "r+");
  portalock_inode_release (b, ops, fd2, PORTALOCK_SH);
  portalock_inode_fclose (b, stream);
  check (is_open (fd2),
         "%s: a stream's close waits while another holder holds",
         ops->name);
  check (portalock_inode_convert (a, ops, fd1, PORTALOCK_SH, PORTALOCK_EX,
                                  true, NULL) == 0
         && portalock_inode_holders (a, &exclusive) == 1 && exclusive,
         "%s: alone again, it converts to exclusive", ops->name);
  portalock_inode_release (a, ops, fd1, PORTALOCK_EX);
  check (!is_open (fd2), "%s: ... and the stream is closed after the last "
         "holder", ops->name);
  portalock_inode_close (a, fd1);
  portalock_inode_unref (a);
  portalock_inode_unref (b);
}

/* A forked child holds none of its parent's POSIX locks: its table
   starts empty, so it can lock for itself (and waits for the parent).  */
static void
test_fork (void)
{
  int fd = open_rw ();
  struct portalock_inode *node = ref (fd);
  acquire (node, fd, PORTALOCK_EX, false, -1);
  pid_t pid = fork ();
  if (pid == 0)
    {
      int r = portalock_inode_holders (node, NULL) == 0 ? 0 : 1;
      if (acquire (node, fd, PORTALOCK_EX, true, 0) != -1
          || errno != EWOULDBLOCK)
        r |= 2;
      _exit (r);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: a forked child's table starts with no holders (status %d)",
         ops->name, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  check (portalock_inode_holders (node, NULL) == 1,
         "%s: ... and the parent's is unchanged", ops->name);
  portalock_inode_release (node, ops, fd, PORTALOCK_EX);
  portalock_inode_close (node, fd);
  portalock_inode_unref (node);
}

int
main (void)
{
  static const enum portalock_backend scoped[] =
    { PORTALOCK_BACKEND_FCNTL, PORTALOCK_BACKEND_LOCKF };
  path = test_path ("inode");
  for (size_t i = 0; i < sizeof scoped / sizeof scoped[0]; i++)
    {
      ops = portalock_backend_ops (scoped[i]);
      if (ops == NULL)
        {
          unsupported ("%s: not built", portalock_backend_name (scoped[i]));
          continue;
        }
      test_exclusion ();
      test_shared ();
      test_other_process ();
      test_release_close ();
      test_threads ();
      test_convert ();
      test_fork ();
    }
  return check_exit ();
}
