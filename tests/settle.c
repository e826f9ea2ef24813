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
   lock seen held by another process.  Every backend built is tested.

   On Windows the same is done to the library's import of LockFileEx,
   for the window of a polling wait (the manual's "Timed waits on
   Windows"): a try granted once the deadline has passed must be
   reported as a success, never as a timeout.  Both builds then race a
   holder's release against deadlines on the default backend, where no
   window is widened: whichever way each wait ends, its answer must
   match the lock's state.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <sys/file.h>
# include <sys/syscall.h>
#else
# include <windows.h>
#endif

#if TEST_POSIX
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

/* The one definition behind the three names: the library calls one,
   depending on how the C library maps large-file calls and, on a
   32-bit system with a 64-bit time_t (_TIME_BITS=64, as armhf), 64-bit
   time calls (__fcntl_time64).  */
static int
interposed_fcntl (int fd, int cmd, va_list ap)
{
  void *arg = va_arg (ap, void *);
  bool delay = blocking_record_lock (cmd) && take_armed ();
  /* A 32-bit system has two calls: the C library's fcntl, with the
     64-bit off_t the library is built with, makes fcntl64, whose
     struct flock64 the older fcntl would read in another layout.  */
#ifdef SYS_fcntl64
  long r = syscall (SYS_fcntl64, fd, cmd, arg);
#else
  long r = syscall (SYS_fcntl, fd, cmd, arg);
#endif
  if (delay && r == 0)
    hold_until_cancelled ();
  return r;
}

int test_fcntl (int fd, int cmd, ...) __asm__ ("fcntl");
int test_fcntl64 (int fd, int cmd, ...) __asm__ ("fcntl64");
int test_fcntl_time64 (int fd, int cmd, ...) __asm__ ("__fcntl_time64");
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
test_fcntl_time64 (int fd, int cmd, ...)
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

static void
test_interposed (void)
{
  static const char *const names[] = { "flock", "ofd", "fcntl", "lockf" };
  /* A timer signal would make the waiting thread itself block: this
     program tests the helper thread.  */
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    if (portalock_backend_available (b))
      test_backend (b, names[b - 1]);
    else
      unsupported ("%s: not built here", names[b - 1]);
}
#else
/* Windows: a timed wait polls with LOCKFILE_FAIL_IMMEDIATELY (the
   manual's "Timed waits on Windows"), and its last try may be granted
   after the deadline has passed: the wait must then report the lock it
   got, not a timeout.  To make that certain, the library's import of
   LockFileEx is pointed at a definition here, which, once armed and
   once a try was refused, lets a granted try return only after the
   deadline.  */

static BOOL (WINAPI *real_lock_file_ex) (HANDLE, DWORD, DWORD, DWORD, DWORD,
                                         LPOVERLAPPED);
/* Armed: the next granted try is the one to delay.  */
static int armed;
/* Tries refused while armed.  */
static int refused;
/* When the wait under test has surely reached its deadline, on now ()'s
   clock.  */
static double deadline;

static bool
take_armed (void)
{
  return __atomic_exchange_n (&armed, 0, __ATOMIC_SEQ_CST) != 0;
}

static BOOL WINAPI
test_lock_file_ex (HANDLE h, DWORD flags, DWORD reserved, DWORD low,
                   DWORD high, LPOVERLAPPED ov)
{
  BOOL ok = real_lock_file_ex (h, flags, reserved, low, high, ov);
  DWORD error = GetLastError ();
  if (!ok && __atomic_load_n (&armed, __ATOMIC_SEQ_CST))
    __atomic_add_fetch (&refused, 1, __ATOMIC_SEQ_CST);
  else if (ok && take_armed ())
    while (now () <= deadline)
      Sleep (1);
  SetLastError (error);
  return ok;
}

/* Point the library's import of LockFileEx from kernel32.dll at
   test_lock_file_ex.  Return true if it was found.  */
static bool
interpose_lock_file_ex (void)
{
  BYTE *base = (BYTE *) GetModuleHandleA ("libportalock-0.dll");
  if (base == NULL)
    return false;
  IMAGE_NT_HEADERS *nt
    = (IMAGE_NT_HEADERS *) (base + ((IMAGE_DOS_HEADER *) base)->e_lfanew);
  IMAGE_DATA_DIRECTORY dir
    = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
  for (IMAGE_IMPORT_DESCRIPTOR *d
         = (IMAGE_IMPORT_DESCRIPTOR *) (base + dir.VirtualAddress);
       d->Name != 0; d++)
    {
      if (_stricmp ((const char *) base + d->Name, "kernel32.dll") != 0)
        continue;
      IMAGE_THUNK_DATA *name
        = (IMAGE_THUNK_DATA *) (base + d->OriginalFirstThunk);
      IMAGE_THUNK_DATA *slot = (IMAGE_THUNK_DATA *) (base + d->FirstThunk);
      for (; name->u1.AddressOfData != 0; name++, slot++)
        {
          if (IMAGE_SNAP_BY_ORDINAL (name->u1.Ordinal))
            continue;
          IMAGE_IMPORT_BY_NAME *by_name
            = (IMAGE_IMPORT_BY_NAME *) (base + name->u1.AddressOfData);
          if (strcmp ((const char *) by_name->Name, "LockFileEx") != 0)
            continue;
          DWORD old;
          if (!VirtualProtect (&slot->u1.Function, sizeof slot->u1.Function,
                               PAGE_READWRITE, &old))
            return false;
          real_lock_file_ex = (BOOL (WINAPI *) (HANDLE, DWORD, DWORD, DWORD,
                                                DWORD, LPOVERLAPPED))
                              slot->u1.Function;
          slot->u1.Function = (ULONG_PTR) test_lock_file_ex;
          VirtualProtect (&slot->u1.Function, sizeof slot->u1.Function, old,
                          &old);
          return true;
        }
    }
  return false;
}

struct waiter
{
  int fd;
  double seconds;
  int result;
  int error;
};

static void *
wait_thread (void *arg)
{
  struct waiter *w = arg;
  /* The library reads its clock once this call starts, a little later;
     a margin covers that, and the two clocks' resolutions.  */
  deadline = now () + w->seconds + 0.05;
  w->result = portalock_lock_timeout (w->fd, PORTALOCK_EX, w->seconds);
  w->error = errno;
  return NULL;
}

static void
test_interposed (void)
{
  const char *bname = portalock_backend_name (PORTALOCK_BACKEND_DEFAULT);
  const char *path = test_path (bname);
  struct holder h;
  int fd = open (path, O_RDWR | O_CREAT, 0644);
  if (fd < 0 || !interpose_lock_file_ex ())
    die ("%s: setup", bname);
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);

  struct waiter w = { fd, 1, -1, 0 };
  pthread_t thread;
  __atomic_store_n (&refused, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n (&armed, 1, __ATOMIC_SEQ_CST);
  pthread_create (&thread, NULL, wait_thread, &w);
  /* Once a try was refused, the wait is polling: let the holder go, so
     that a later try is granted, and returns after the deadline.  */
  for (int i = 0; i < 10000
       && __atomic_load_n (&refused, __ATOMIC_SEQ_CST) == 0; i++)
    Sleep (1);
  holder_release (&h);
  pthread_join (thread, NULL);
  bool granted = !__atomic_exchange_n (&armed, 0, __ATOMIC_SEQ_CST);
  int held = probe_lock (path, 0, PORTALOCK_EX, 0, 0);
  errno = w.error;
  if (granted)
    check (w.result == 0 && held == EWOULDBLOCK,
           "%s: a try granted after the deadline: the wait returns 0 and "
           "the lock is held (result %d, probe %d)", bname, w.result, held);
  else
    {
      check ((w.result == 0 && held == EWOULDBLOCK)
             || (w.result == -1 && w.error == ETIMEDOUT && held == 0),
             "%s: a timed wait's answer matches the lock's state", bname);
      printf ("UNTESTED: %s: no try was granted before the deadline\n",
              bname);
      fflush (stdout);
    }
  close (fd);
}
#endif

struct racer
{
  int fd;
  double seconds;
  int result;
  int error;
};

static void *
race_thread (void *arg)
{
  struct racer *r = arg;
  r->result = portalock_lock_timeout (r->fd, PORTALOCK_EX, r->seconds);
  r->error = errno;
  return NULL;
}

/* Rounds of a timed wait whose holder lets go while it waits.  The
   release comes once a probe from yet another process has found the
   lock still held, which takes a while; the deadlines grow from 2 ms to
   about half a second, round by round, across that while: early waits
   time out, late ones get the lock, and those in between meet the
   release near their deadline.  Each answer must match the lock's
   state, seen from another process: held after 0, free after
   ETIMEDOUT.  */
static void
test_release_races (void)
{
  enum { ROUNDS = 20 };
  const char *bname = portalock_backend_name (PORTALOCK_BACKEND_DEFAULT);
  const char *path = test_path ("race");
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("open %s", path);
  int got = 0, timed_out = 0, wrong = 0;
  double seconds = 0.002;
  for (int i = 0; i < ROUNDS; i++, seconds *= 1.35)
    {
      struct holder h;
      struct racer r = { fd, seconds, -1, 0 };
      pthread_t thread;
      if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
        die ("%s: holder", bname);
      pthread_create (&thread, NULL, race_thread, &r);
      if (probe_lock (path, 0, PORTALOCK_EX, 0, 0) != EWOULDBLOCK)
        die ("%s: the holder let go by itself", bname);
      holder_release (&h);
      pthread_join (thread, NULL);
      int held = probe_lock (path, 0, PORTALOCK_EX, 0, 0);
      if (r.result == 0 && held == EWOULDBLOCK)
        got++;
      else if (r.result == -1 && r.error == ETIMEDOUT && held == 0)
        timed_out++;
      else
        {
          wrong++;
          printf ("round %d: result %d, errno %d, probe %d\n", i, r.result,
                  r.error, held);
          fflush (stdout);
        }
      portalock_unlock (fd);
    }
  close (fd);
  printf ("%s: %d waits got the lock, %d timed out, %d answered wrong\n",
          bname, got, timed_out, wrong);
  errno = 0;
  check (wrong == 0, "%s: timed waits raced with a release: each answer "
         "matches the lock's state", bname);
  if (got == 0 || timed_out == 0)
    {
      printf ("UNTESTED: %s: the releases all came %s the deadlines\n",
              bname, got == 0 ? "after" : "before");
      fflush (stdout);
    }
}

int
main (void)
{
  test_interposed ();
  test_release_races ();
  return check_exit ();
}
