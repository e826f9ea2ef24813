/* settle.c: a timed wait whose deadline cancels the helper thread just
   after the kernel granted its lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The default timed wait blocks in a helper thread and cancels it at the
   deadline.  A cancel may land after the kernel granted the lock but
   before the helper reported it; the waiter then asks once more, without
   waiting, to learn the truth (settle () in lib/wait.c).  That window is
   a few instructions wide, so this program widens it: it defines the
   lock system calls itself (fcntl, fcntl64, flock), and the library,
   linked as a shared library, calls these definitions instead of the C
   library's.  Once armed, the next blocking lock request is made to the
   kernel, and if granted, the call reports that on a pipe and then
   sleeps in a cancellation point until the helper is cancelled.  The
   timed wait must then report what the kernel did: success, with the
   lock seen held by another process.  Every backend built is tested.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

/* Armed: the next blocking lock request is the one to delay.  */
static int armed;
/* Written 'G' once the delayed request was granted.  */
static int granted_pipe[2];

/* After a blocking lock request that the kernel granted: say so, then
   wait to be cancelled.  Signals are blocked in the helper thread, so
   only a cancel ends pause ().  */
static void
hold_until_cancelled (void)
{
  char c = 'G';
  IGNORE_RESULT (write (granted_pipe[1], &c, 1));
  for (;;)
    pause ();
}

static bool
take_armed (void)
{
  return __atomic_exchange_n (&armed, 0, __ATOMIC_SEQ_CST) != 0;
}

static bool
blocking_record_lock (int cmd)
{
#ifdef F_OFD_SETLKW
  if (cmd == F_OFD_SETLKW)
    return true;
#endif
  return cmd == F_SETLKW;
}

/* The one definition behind both names: the library may call either,
   depending on how the C library maps large-file calls.  */
static int
interposed_fcntl (int fd, int cmd, va_list ap)
{
  void *arg = va_arg (ap, void *);
  bool delay = blocking_record_lock (cmd) && take_armed ();
  long r = syscall (SYS_fcntl, fd, cmd, arg);
  if (delay && r == 0)
    hold_until_cancelled ();
  return r;
}

int test_fcntl (int fd, int cmd, ...) __asm__ ("fcntl");
int test_fcntl64 (int fd, int cmd, ...) __asm__ ("fcntl64");
int test_flock (int fd, int op) __asm__ ("flock");

int
test_fcntl (int fd, int cmd, ...)
{
  va_list ap;
  va_start (ap, cmd);
  int r = interposed_fcntl (fd, cmd, ap);
  va_end (ap);
  return r;
}

int
test_fcntl64 (int fd, int cmd, ...)
{
  va_list ap;
  va_start (ap, cmd);
  int r = interposed_fcntl (fd, cmd, ap);
  va_end (ap);
  return r;
}

int
test_flock (int fd, int op)
{
  bool delay = (op & LOCK_NB) == 0 && (op & LOCK_UN) == 0 && take_armed ();
  long r = syscall (SYS_flock, fd, op);
  if (delay && r == 0)
    hold_until_cancelled ();
  return r;
}

struct waiter
{
  int backend;
  int fd;
  int result;
  int error;
};

static void *
wait_thread (void *arg)
{
  struct waiter *w = arg;
  w->result = portalock_backend_lock (w->backend, w->fd, PORTALOCK_EX, 0, 0,
                                      2);
  w->error = errno;
  return NULL;
}

static void
test_backend (int backend, const char *bname)
{
  const char *path = test_path (bname);
  struct holder h;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || pipe2 (granted_pipe, O_CLOEXEC) != 0)
    die ("%s: setup", bname);
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);

  struct waiter w = { backend, fd, -1, 0 };
  pthread_t thread;
  __atomic_store_n (&armed, 1, __ATOMIC_SEQ_CST);
  pthread_create (&thread, NULL, wait_thread, &w);
  /* The helper is blocked in the kernel: let the holder go, so that the
     grant comes before the deadline, and the cancel after it.  */
  bool blocked = await_blocked_waiter (path);
  holder_release (&h);
  pthread_join (thread, NULL);
  __atomic_store_n (&armed, 0, __ATOMIC_SEQ_CST);

  char c;
  int flags = fcntl (granted_pipe[0], F_GETFL);
  fcntl (granted_pipe[0], F_SETFL, flags | O_NONBLOCK);
  bool granted = read (granted_pipe[0], &c, 1) == 1;
  int held = probe_lock (path, backend, PORTALOCK_EX, 0, 0);
  errno = w.error;
  if (granted)
    check (w.result == 0 && held == EWOULDBLOCK,
           "%s: the kernel granted the lock, then the deadline cancelled the "
           "helper: the wait returns 0 and the lock is held (result %d, "
           "probe %d)", bname, w.result, held);
  else
    {
      /* The deadline came first (a very slow machine): the answer must
         still match the kernel's, but the race was not tested.  */
      check ((w.result == 0 && held == EWOULDBLOCK)
             || (w.result == -1 && w.error == ETIMEDOUT && held == 0),
             "%s: a timed wait's answer matches the kernel's", bname);
      printf ("UNTESTED: %s: the grant did not come before the deadline%s\n",
              bname, blocked ? "" : " (the waiter was not seen blocked)");
      fflush (stdout);
    }
  close (fd);
  close (granted_pipe[0]);
  close (granted_pipe[1]);
}

int
main (void)
{
  static const char *const names[] = { "flock", "ofd", "fcntl", "lockf" };
  /* A timer signal would make the waiting thread itself block: this
     program tests the helper thread.  */
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    if (portalock_backend_available (b))
      test_backend (b, names[b - 1]);
    else
      unsupported ("%s: not built here", names[b - 1]);
  return check_exit ();
}
