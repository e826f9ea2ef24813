/* lockcore.c: tests of the descriptor-level calls on the default backend.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: lockcore LOCKPROBE [timer], where LOCKPROBE is the path of the
   lockprobe test program.  Every check names the backend under test: the
   default one, which configure's --with-lock-backend or PORTALOCK_BACKEND
   picks (core.exp runs the program once per backend; one that
   PORTALOCK_BACKEND names but is not built here is reported
   UNSUPPORTED).  With "timer", timed waits use a timer signal
   (portalock_set_timeout_signal) instead of helper threads.

   The Windows build runs it too (win32.exp), on the win32 backend, with
   the same checks where the contract is the same; the manual's Windows
   chapter states where it differs, and the checks follow it there.
   What needs fork, exec, signals or /proc/locks is reported
   UNSUPPORTED there.  LOCKPROBE is then unused.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <sys/wait.h>
#endif

#ifndef HAVE_THREAD_TIMER
# define HAVE_THREAD_TIMER 0
#endif

/* The signal asked for as the timer signal: a real-time one where there
   are any; Windows has none, and refuses every signal.  */
#ifdef SIGRTMIN
# define TIMER_SIGNAL (SIGRTMIN + 1)
#else
# define TIMER_SIGNAL SIGTERM
#endif

static const char *bname;      /* the backend under test */
static bool has_ranges;        /* it locks byte ranges */
static bool has_shared;        /* it has shared locks */
static bool process_scoped;    /* its locks belong to the process */
static bool whole_excludes_ranges; /* a whole-file lock and a lock of a
                                      range conflict */
static bool upgrade_drops;     /* a refused upgrade loses the shared lock */
static bool ro_exclusive;      /* a read-only fd can take an exclusive
                                  lock */
static const char *lockprobe;
static int timer_signal;       /* 0: timed waits use helper threads */
static const char *mode;       /* how timed waits wait, for the names */
static int base_threads;       /* threads of a quiet process: 1, or more
                                  under a sanitizer's own threads */

static int
open_rw (const char *path)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("open %s", path);
  return fd;
}

static int
open_ro (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die ("open %s", path);
  return fd;
}

#if TEST_POSIX
/* Which backends are built: on POSIX, every one but win32.  */
static void
test_built_backends (void)
{
  static const char *const names[] = { "flock", "ofd", "fcntl", "lockf" };
  check (!portalock_backend_available (PORTALOCK_BACKEND_WIN32),
         "win32 is not available on POSIX");
  int fd = open_rw (test_path ("win32"));
  check (fails_with (portalock_backend_lock (PORTALOCK_BACKEND_WIN32, fd,
                                             PORTALOCK_EX, 0, 0, 0), ENOTSUP),
         "a backend that is not built: ENOTSUP");
  /* Every backend compiled in works, whatever the default.  */
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    if (portalock_backend_available (b))
      check (portalock_backend_lock (b, fd, PORTALOCK_EX | PORTALOCK_NB,
                                     0, 0, 0) == 0
             && portalock_backend_lock (b, fd, PORTALOCK_UN, 0, 0, 0) == 0,
             "explicit backend %s locks and unlocks", names[b - 1]);
  close (fd);
}
#else
/* Which backends are built: on Windows, win32 alone (the manual's
   "Windows" chapter: the POSIX backends are not built there).  */
static void
test_built_backends (void)
{
  static const char *const names[] = { "flock", "ofd", "fcntl", "lockf" };
  int fd = open_rw (test_path ("win32"));
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    check (!portalock_backend_available (b)
           && fails_with (portalock_backend_lock (b, fd, PORTALOCK_EX, 0, 0,
                                                  0), ENOTSUP),
           "%s is not available on Windows: ENOTSUP", names[b - 1]);
  check (portalock_backend_available (PORTALOCK_BACKEND_WIN32)
         && portalock_backend_lock (PORTALOCK_BACKEND_WIN32, fd,
                                    PORTALOCK_EX | PORTALOCK_NB, 0, 0, 0) == 0
         && probe_lock (test_path ("win32"), 0, PORTALOCK_EX, 0, 0)
            == EWOULDBLOCK
         && portalock_backend_lock (PORTALOCK_BACKEND_WIN32, fd,
                                    PORTALOCK_UN, 0, 0, 0) == 0
         && probe_lock (test_path ("win32"), 0, PORTALOCK_EX, 0, 0) == 0,
         "explicit backend win32 locks and unlocks");
  close (fd);
}
#endif

static void
test_names (void)
{
  static const char *const names[] = { "flock", "ofd", "fcntl", "lockf" };
  check (strcmp (portalock_version (), PORTALOCK_VERSION) == 0
         && strcmp (portalock_version (), PACKAGE_VERSION) == 0,
         "portalock_version matches the header and the package");
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    check (strcmp (portalock_backend_name (b), names[b - 1]) == 0
           && portalock_backend_from_name (names[b - 1]) == b,
           "backend %s: name and number agree", names[b - 1]);
  errno = 0;
  check (portalock_backend_name ((enum portalock_backend) 42) == NULL
         && errno == EINVAL, "portalock_backend_name of no backend: EINVAL");
  errno = 0;
  check (portalock_backend_from_name ("nfs") == -1 && errno == EINVAL,
         "portalock_backend_from_name (\"nfs\"): EINVAL");
  check (portalock_backend_from_name (NULL) == -1 && errno == EINVAL,
         "portalock_backend_from_name (NULL): EINVAL");
  check (strcmp (portalock_backend_name (PORTALOCK_BACKEND_WIN32), "win32")
         == 0
         && portalock_backend_from_name ("win32") == PORTALOCK_BACKEND_WIN32,
         "backend win32: name and number agree");
  check (strcmp (portalock_backend_name (PORTALOCK_BACKEND_DEFAULT), bname)
         == 0, "%s: the default backend names itself", bname);
  test_built_backends ();
}

/* Locks on a directory's descriptor.  */
#if TEST_POSIX
static void
test_directory (void)
{
  int dir = open (test_path (""), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = portalock_lock (dir, PORTALOCK_EX | PORTALOCK_NB);
  if (strcmp (bname, "flock") == 0)
    check (r == 0, "%s: a directory can be locked", bname);
  else
    check (fails_with (r, EBADF), "%s: exclusive lock on a directory: EBADF",
           bname);
  if (has_shared)
    check (portalock_lock (dir, PORTALOCK_SH | PORTALOCK_NB) == 0,
           "%s: shared lock on a directory", bname);
  close (dir);
}
#else
static void
test_directory (void)
{
  unsupported ("%s: locks on a directory: Windows has no directory "
               "descriptors", bname);
}
#endif

static void
test_bad_input (void)
{
  const char *path = test_path ("bad");
  int fd = open_rw (path);
  static const int bad_flags[] = {
    0, PORTALOCK_NB, PORTALOCK_SH | PORTALOCK_EX, PORTALOCK_SH | PORTALOCK_UN,
    PORTALOCK_EX | PORTALOCK_UN, 16, PORTALOCK_EX | 32, -1
  };
  for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++)
    check (fails_with (portalock_lock (fd, bad_flags[i]), EINVAL),
           "%s: flags %d: EINVAL", bname, bad_flags[i]);
  check (fails_with (portalock_lock (-1, PORTALOCK_EX), EBADF),
         "%s: fd -1: EBADF", bname);
  int closed = open_rw (path);
  close (closed);
  check (fails_with (portalock_lock (closed, PORTALOCK_EX | PORTALOCK_NB),
                     EBADF), "%s: a closed fd: EBADF", bname);
  check (fails_with (portalock_lock_timeout (fd, PORTALOCK_EX, -1), EINVAL),
         "%s: negative timeout: EINVAL", bname);
  check (fails_with (portalock_lock_timeout (fd, PORTALOCK_EX, NAN), EINVAL),
         "%s: NaN timeout: EINVAL", bname);
  check (fails_with (portalock_lock_range (fd, PORTALOCK_EX, -1, 10, 0),
                     EINVAL), "%s: negative range start: EINVAL", bname);
  check (fails_with (portalock_lock_range (fd, PORTALOCK_EX, 0, -10, 0),
                     EINVAL), "%s: negative range length: EINVAL", bname);
  check (portalock_unlock (fd) == 0, "%s: unlock when not locked", bname);
  check (probe_lock (path, 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: bad requests left no lock behind", bname);

  if (!has_shared)
    check (fails_with (portalock_lock (fd, PORTALOCK_SH), ENOTSUP),
           "%s: a shared lock: ENOTSUP", bname);
  if (!has_ranges)
    check (fails_with (portalock_lock_range (fd, PORTALOCK_EX, 0, 10, 0),
                       ENOTSUP), "%s: a byte range: ENOTSUP", bname);
  close (fd);

  /* An exclusive POSIX-style lock needs a descriptor open for writing;
     flock does not care, nor does LockFileEx (any read or write access
     will do).  */
  int ro = open_ro (path);
  int r = portalock_lock (ro, PORTALOCK_EX | PORTALOCK_NB);
  if (ro_exclusive)
    check (r == 0, "%s: exclusive lock on a read-only fd works", bname);
  else
    check (fails_with (r, EBADF), "%s: exclusive lock on a read-only fd: "
           "EBADF", bname);
  close (ro);
  test_directory ();
}

static void
test_conflicts (void)
{
  const char *path = test_path ("conflict");
  struct holder h;
  int fd = open_rw (path);

  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  check (fails_with (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB),
                     EWOULDBLOCK), "%s: EX vs EX, NB: EWOULDBLOCK", bname);
  if (has_shared)
    check (fails_with (portalock_lock (fd, PORTALOCK_SH | PORTALOCK_NB),
                       EWOULDBLOCK), "%s: SH vs EX, NB: EWOULDBLOCK", bname);
  check (fails_with (portalock_lock_timeout (fd, PORTALOCK_EX, 0),
                     EWOULDBLOCK),
         "%s: timeout 0 on a held lock: EWOULDBLOCK", bname);
  holder_kill (&h);
  check (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB) == 0,
         "%s: the lock goes when its holder is killed", bname);
  portalock_unlock (fd);

  if (has_shared)
    {
      int ro = open_ro (path);
      if (!holder_start (&h, path, 0, PORTALOCK_SH, 0, 0))
        die ("%s: shared holder", bname);
      check (portalock_lock (ro, PORTALOCK_SH | PORTALOCK_NB) == 0,
             "%s: SH and SH coexist", bname);
      check (fails_with (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB),
                         EWOULDBLOCK), "%s: EX vs SH: EWOULDBLOCK", bname);
      holder_release (&h);
      close (ro);
    }
  close (fd);
}

struct waiter
{
  const char *path;
  double seconds;    /* < 0: portalock_lock without a timeout */
  int result;
  int error;
};

static void *
waiter_thread (void *arg)
{
  struct waiter *w = arg;
  int fd = open_rw (w->path);
  if (w->seconds < 0)
    w->result = portalock_lock (fd, PORTALOCK_EX);
  else
    w->result = portalock_lock_timeout (fd, PORTALOCK_EX, w->seconds);
  w->error = errno;
  /* Closing the descriptor releases the lock on every backend.  */
  close (fd);
  return NULL;
}

#if TEST_POSIX
/* Set by the handler, in the waiting thread; read by the main one.  */
static int interrupted;

static void
on_usr1 (int sig)
{
  int saved_errno = errno;
  (void) sig;
  __atomic_store_n (&interrupted, 1, __ATOMIC_SEQ_CST);
  errno = saved_errno;
}

/* Make SIGUSR1 interrupt system calls: its handler does not restart
   them.  */
static void
catch_usr1 (void)
{
  struct sigaction sa = { .sa_handler = on_usr1 };   /* no SA_RESTART */
  sigemptyset (&sa.sa_mask);
  sigaction (SIGUSR1, &sa, NULL);
}

/* Send SIGUSR1 to THREAD, blocked in a wait, and let its handler run.  */
static void
interrupt_thread (pthread_t thread)
{
  __atomic_store_n (&interrupted, 0, __ATOMIC_SEQ_CST);
  pthread_kill (thread, SIGUSR1);
  /* Bounded: ThreadSanitizer runs a handler only once the blocked
     call returns, which here needs the holder's release.  */
  for (int i = 0; i < 10000
       && !__atomic_load_n (&interrupted, __ATOMIC_SEQ_CST); i++)
    usleep (1000);
}
#else
/* Windows cannot send a signal to a thread: no wait is interrupted.  */
static void
catch_usr1 (void)
{
}

static void
interrupt_thread (pthread_t thread)
{
  (void) thread;
  die ("interrupt_thread: no signals on Windows");
}
#endif

/* A waiter blocked in the kernel gets the lock once the holder lets go.
   With INTERRUPT, a signal whose handler does not restart system calls
   reaches the waiting thread first: it must not end the wait.  */
static void
test_waiter (const char *what, double seconds, bool interrupt)
{
  const char *path = test_path ("waiter");
  struct holder h;
  struct waiter w = { path, seconds, -1, 0 };
  pthread_t thread;

  /* Threads joined before may still be listed for a moment.  */
  await_thread_count (base_threads);
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  pthread_create (&thread, NULL, waiter_thread, &w);
  bool blocked = await_blocked_waiter (path);
  if (blocked && seconds >= 0)
    {
      /* This thread and the waiter, and a helper unless a timer signal
         interrupts the waiter's own call.  The helper is what the
         kernel lists as blocked, so it exists by now; the count waits
         only for threads of earlier checks to leave the list.  */
      int expected = timer_signal != 0 ? 2 : 3;
      int threads = await_thread_count (base_threads - 1 + expected)
                    - base_threads + 1;
      check (threads == expected,
             "%s: %s (%s) waits with %d threads", bname, what, mode,
             threads);
    }
  if (interrupt)
    interrupt_thread (thread);
  holder_release (&h);
  pthread_join (thread, NULL);
  errno = w.error;
  check (w.result == 0, "%s: %s (%s) gets the lock after release%s", bname,
         what, mode, blocked ? "" : " (no /proc/locks: not seen blocked)");
}

/* A waiter interrupted by a signal: POSIX only.  */
static void
test_interrupted_waiter (const char *what, double seconds)
{
  if (TEST_POSIX)
    test_waiter (what, seconds, true);
  else
    unsupported ("%s: %s: needs a signal sent to a thread (POSIX only)",
                 bname, what);
}

#if TEST_POSIX
static void
check_no_timer_pending (void)
{
  sigset_t pending;
  sigpending (&pending);
  check (!sigismember (&pending, timer_signal), "%s: no timer signal "
         "left pending after a timed-out wait", bname);
}
#else
/* No timer signal on Windows: never called there.  */
static void
check_no_timer_pending (void)
{
  die ("check_no_timer_pending: no timer signal on Windows");
}
#endif

/* A signal's disposition: its handler.  */
typedef void (*handler_t) (int);

#if TEST_POSIX
/* Set HANDLERS[S] to the handler of every signal S.  */
static void
read_dispositions (handler_t handlers[NSIG])
{
  struct sigaction sa;
  for (int s = 1; s < NSIG; s++)
    handlers[s] = sigaction (s, NULL, &sa) == 0 ? sa.sa_handler : SIG_ERR;
}
#else
/* Set HANDLERS[S] to the handler of every signal S that the C runtime
   knows; reading one means setting it, and putting it back at once.  */
static void
read_dispositions (handler_t handlers[NSIG])
{
  for (int s = 1; s < NSIG; s++)
    {
      handlers[s] = signal (s, SIG_DFL);
      if (handlers[s] != SIG_ERR)
        signal (s, handlers[s]);
    }
}
#endif

static void
test_timeout (void)
{
  const char *path = test_path ("timeout");
  struct holder h;
  handler_t before[NSIG], after[NSIG];
  int fd = open_rw (path);

  read_dispositions (before);
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  double t0 = now ();
  int r = portalock_lock_timeout (fd, PORTALOCK_EX, 0.3);
  double elapsed = now () - t0;
  check (fails_with (r, ETIMEDOUT), "%s: a timed wait (%s) on a held "
         "lock: ETIMEDOUT", bname, mode);
  check (elapsed >= 0.3, "%s: ETIMEDOUT (%s) no earlier than the timeout "
         "(%.3f s)", bname, mode, elapsed);
  /* A timeout that has run out by the time the first try is refused
     (a nanosecond) is a timeout too, not a refusal.  */
  check (fails_with (portalock_lock_timeout (fd, PORTALOCK_EX, 1e-9),
                     ETIMEDOUT),
         "%s: a timed wait (%s) of 1 ns on a held lock: ETIMEDOUT", bname,
         mode);
  /* The helper the deadline cancelled is joined, but may still be
     listed for a moment.  */
  int threads = await_thread_count (base_threads) - base_threads + 1;
  check (threads == 1, "%s: nothing left running after a timed-out wait "
         "(%s, %d threads)", bname, mode, threads);
  if (timer_signal != 0)
    check_no_timer_pending ();
  read_dispositions (after);
  bool same = true;
  for (int s = 1; s < NSIG; s++)
    if (after[s] != before[s])
      same = false;
  check (same, "%s: a timed wait (%s) changes no signal disposition",
         bname, mode);
  holder_release (&h);
  check (probe_lock (path, 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: a timed-out wait (%s) leaves no lock behind", bname, mode);
  close (fd);
}

#if TEST_POSIX
static void
test_exec (void)
{
  const char *path = test_path ("exec");
  int fd = open_rw (path);
  int in[2], out[2];

  if (portalock_lock (fd, PORTALOCK_EX) != 0)
    die ("%s: lock", bname);
  if (pipe (in) != 0 || pipe (out) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (in[0], STDIN_FILENO);
      dup2 (out[1], STDOUT_FILENO);
      close (in[1]);
      close (out[0]);
      execl (lockprobe, lockprobe, "idle", (char *) NULL);
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  char c;
  if (read (out[0], &c, 1) != 1)
    die ("lockprobe idle did not start");
  /* The exec'd program is alive.  Once this process closes its
     descriptor, nobody may hold the lock: the program did not inherit
     the descriptor (O_CLOEXEC), so it holds nothing.  */
  close (fd);
  pid_t probe = fork ();
  if (probe == 0)
    {
      execl (lockprobe, lockprobe, "try", path, (char *) NULL);
      _exit (127);
    }
  int status;
  waitpid (probe, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: an exec'd program does not inherit the lock", bname);
  close (in[1]);
  waitpid (pid, &status, 0);
  close (out[0]);
}
#else
static void
test_exec (void)
{
  unsupported ("%s: an exec'd program does not inherit the lock: needs "
               "fork and exec (POSIX only)", bname);
}
#endif

static void *
lock_in_thread (void *arg)
{
  int *fd = arg;
  return (void *) (intptr_t) (portalock_lock (*fd, PORTALOCK_EX
                                              | PORTALOCK_NB) == 0
                              ? 0 : errno);
}

/* Two descriptors of one file in one process: open file description
   locks (flock, ofd) conflict; process locks (fcntl, lockf) do not, and
   closing either descriptor drops the process's lock.  */
static void
test_two_descriptors (void)
{
  const char *path = test_path ("twofd");
  int fd1 = open_rw (path), fd2 = open_rw (path);
  void *ret;
  pthread_t thread;

  if (portalock_lock (fd1, PORTALOCK_EX) != 0)
    die ("lock");
  pthread_create (&thread, NULL, lock_in_thread, &fd2);
  pthread_join (thread, &ret);
  int e = (int) (intptr_t) ret;
  if (process_scoped)
    check (e == 0, "%s: a second descriptor in another thread gets the "
           "process's lock too", bname);
  else
    check (e == EWOULDBLOCK, "%s: a second descriptor in another thread "
           "conflicts", bname);
  close (fd2);
  int p = probe_lock (path, 0, PORTALOCK_EX, 0, 0);
  if (process_scoped)
    check (p == 0, "%s: closing another descriptor drops the lock "
           "(the kernel's rule)", bname);
  else
    check (p == EWOULDBLOCK, "%s: closing another descriptor keeps the "
           "lock", bname);
  close (fd1);
}

static void
test_ranges (void)
{
  if (!has_ranges)
    return;
  const char *path = test_path ("ranges");
  int fd = open_rw (path);
  struct holder h;
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 10))
    die ("%s: range holder", bname);
  check (portalock_lock_range (fd, PORTALOCK_EX | PORTALOCK_NB, 10, 10, 0)
         == 0, "%s: a disjoint range is free", bname);
  check (fails_with (portalock_lock_range (fd, PORTALOCK_EX | PORTALOCK_NB,
                                           5, 10, 0), EWOULDBLOCK),
         "%s: an overlapping range conflicts", bname);
  if (whole_excludes_ranges)
    check (fails_with (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB),
                       EWOULDBLOCK), "%s: the whole file conflicts", bname);
  else
    /* Windows: a whole-file lock is a lock of the far byte, which no
       range of the data includes (the manual's "The win32 backend").  */
    check (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB) == 0
           && portalock_unlock (fd) == 0,
           "%s: the whole file does not conflict with a range of the data",
           bname);
  check (portalock_lock_range (fd, PORTALOCK_UN, 10, 10, 0) == 0,
         "%s: unlock a range", bname);
  holder_release (&h);
  check (probe_lock (path, 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: ranges released", bname);

  /* A range with a start and no length reaches past any data: it meets
     a whole-file lock on every backend (on Windows, it includes the far
     byte).  */
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  check (fails_with (portalock_lock_range (fd, PORTALOCK_EX | PORTALOCK_NB,
                                           1000, 0, 0), EWOULDBLOCK),
         "%s: a range to the end of the file meets a whole-file lock",
         bname);
  holder_release (&h);
  check (portalock_lock_range (fd, PORTALOCK_EX | PORTALOCK_NB, 1000, 0, 0)
         == 0
         && probe_lock (path, 0, PORTALOCK_EX, 0, 0) == EWOULDBLOCK
         && portalock_lock_range (fd, PORTALOCK_UN, 1000, 0, 0) == 0
         && probe_lock (path, 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: a whole-file lock meets a range to the end of the file",
         bname);
  close (fd);
}

static void
test_conversion (void)
{
  if (!has_shared)
    return;
  const char *path = test_path ("convert");
  int fd = open_rw (path);
  struct holder h;

  check (portalock_lock (fd, PORTALOCK_SH) == 0
         && portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB) == 0,
         "%s: convert SH to EX", bname);
  check (probe_lock (path, 0, PORTALOCK_SH, 0, 0) == EWOULDBLOCK,
         "%s: after conversion the lock is exclusive", bname);
  check (portalock_lock (fd, PORTALOCK_SH | PORTALOCK_NB) == 0
         && probe_lock (path, 0, PORTALOCK_SH, 0, 0) == 0
         && probe_lock (path, 0, PORTALOCK_EX, 0, 0) == EWOULDBLOCK,
         "%s: convert EX to SH", bname);

  /* An upgrade that cannot be granted: flock drops the shared lock first
     (flock(2) says conversion is not atomic), and so does win32 (the
     manual's "The win32 backend", Conversions); the POSIX-style ones
     keep it.  */
  if (!holder_start (&h, path, 0, PORTALOCK_SH, 0, 0))
    die ("%s: holder", bname);
  check (fails_with (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB),
                     EWOULDBLOCK), "%s: refused upgrade", bname);
  holder_release (&h);
  int p = probe_lock (path, 0, PORTALOCK_EX, 0, 0);
  if (upgrade_drops)
    check (p == 0, "%s: a refused upgrade loses the shared lock", bname);
  else
    check (p == EWOULDBLOCK, "%s: a refused upgrade keeps the shared lock",
           bname);
  close (fd);
}

#if TEST_POSIX
/* portalock_set_timeout_signal: bad signals change nothing; 0 puts the
   old handler back.  */
static void
test_timeout_signal_setting (void)
{
  static const int bad[] = { -1, SIGKILL, SIGSTOP, NSIG, 1000 };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    check (fails_with (portalock_set_timeout_signal (bad[i]), EINVAL),
           "portalock_set_timeout_signal (%d): EINVAL", bad[i]);
  int signo = SIGRTMIN + 2;
  struct sigaction before, during, after;
  sigaction (signo, NULL, &before);
  check (portalock_set_timeout_signal (signo) == 0,
         "portalock_set_timeout_signal (SIGRTMIN + 2)");
  sigaction (signo, NULL, &during);
  check (during.sa_handler != before.sa_handler
         && !(during.sa_flags & SA_RESTART),
         "the timeout signal gets a handler that does not restart calls");
  check (portalock_set_timeout_signal (0) == 0,
         "portalock_set_timeout_signal (0)");
  sigaction (signo, NULL, &after);
  check (after.sa_handler == before.sa_handler,
         "portalock_set_timeout_signal (0) restores the old handler");
}

/* A signal number below NSIG that sigaction refuses (one the C library
   keeps for itself), or 0 if there is none.  */
static int
reserved_signal (void)
{
  struct sigaction sa;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP && sigaction (s, NULL, &sa) != 0
        && errno == EINVAL)
      return s;
  return 0;
}

/* With the timer signal in use, a change to a signal the system refuses
   fails with EINVAL and changes nothing: the signal in use keeps its
   handler, and timed waits go on using it (test_waiter, which main runs
   next, counts no helper thread).  */
static void
test_refused_change (void)
{
  int reserved = reserved_signal ();
  if (reserved == 0)
    {
      unsupported ("portalock_set_timeout_signal: no signal here that "
                   "the C library keeps for itself");
      return;
    }
  struct sigaction before, after;
  sigaction (timer_signal, NULL, &before);
  check (fails_with (portalock_set_timeout_signal (reserved), EINVAL),
         "portalock_set_timeout_signal (%d), kept by the C library: EINVAL",
         reserved);
  sigaction (timer_signal, NULL, &after);
  check (after.sa_handler == before.sa_handler
         && after.sa_handler != SIG_DFL && after.sa_handler != SIG_IGN,
         "... and the signal in use keeps its handler");
}

struct timed_waiter
{
  int fd;
  double seconds;
  int result;
  int error;
};

static void *
timed_waiter_thread (void *arg)
{
  struct timed_waiter *w = arg;
  w->result = portalock_lock_timeout (w->fd, PORTALOCK_EX, w->seconds);
  w->error = errno;
  return NULL;
}

/* Switching the timer signal off while another thread is in a timed
   wait with it: that wait's timer still fires at its deadline, so the
   handler must stay until the wait is over (the default action of a
   real-time signal ends the process), and be restored after.  */
static void
test_signal_off_during_wait (void)
{
  const char *path = test_path ("signal-off");
  struct holder h;
  struct sigaction during, after;
  struct timed_waiter w = { open_rw (path), 2, -1, 0 };
  pthread_t thread;

  sigaction (timer_signal, NULL, &during);
  if (!holder_start (&h, path, 0, PORTALOCK_EX, 0, 0))
    die ("%s: holder", bname);
  pthread_create (&thread, NULL, timed_waiter_thread, &w);
  bool blocked = await_blocked_waiter (path);
  check (portalock_set_timeout_signal (0) == 0,
         "%s: the timer signal switched off during a timed wait%s", bname,
         blocked ? "" : " (not seen blocked)");
  pthread_join (thread, NULL);
  errno = w.error;
  check (w.result == -1 && w.error == ETIMEDOUT,
         "%s: ... the wait still ends with ETIMEDOUT, the process alive",
         bname);
  sigaction (timer_signal, NULL, &after);
  check (after.sa_handler != during.sa_handler,
         "%s: ... and its end restores the old handler", bname);
  holder_release (&h);
  close (w.fd);
  if (portalock_set_timeout_signal (timer_signal) != 0)
    die ("portalock_set_timeout_signal");
}
#else
/* Windows has no per-thread timers: main reports the timer signal
   UNSUPPORTED before these could run.  */
static void
test_timeout_signal_setting (void)
{
  unsupported ("portalock_set_timeout_signal: needs per-thread timers "
               "(POSIX only)");
}

static void
test_refused_change (void)
{
  unsupported ("portalock_set_timeout_signal: a refused change: needs "
               "per-thread timers (POSIX only)");
}

static void
test_signal_off_during_wait (void)
{
  unsupported ("%s: the timer signal switched off during a timed wait: "
               "needs per-thread timers (POSIX only)", bname);
}
#endif

/* Return the thread's ID, to wait until it has left the list.  */
static void *
first_thread (void *arg)
{
  (void) arg;
  return (void *) (intptr_t) thread_id ();
}

int
main (int argc, char **argv)
{
  if (argc != 2 && !(argc == 3 && strcmp (argv[2], "timer") == 0))
    die ("usage: lockcore LOCKPROBE [timer]");
  /* A sanitizer starts a thread of its own along with the program's
     first one: count after a first thread has come and gone.  */
  pthread_t first;
  void *first_id;
  pthread_create (&first, NULL, first_thread, NULL);
  pthread_join (first, &first_id);
  await_thread_gone ((intptr_t) first_id);
  base_threads = count_threads ();
  lockprobe = argv[1];
  /* A timed wait on Windows polls, in the calling thread (the manual's
     "Timed waits on Windows").  */
  mode = TEST_POSIX ? "helper thread" : "polling";
  if (argc == 3 && !HAVE_THREAD_TIMER)
    {
      check (fails_with (portalock_set_timeout_signal (TIMER_SIGNAL),
                         ENOTSUP)
             && portalock_set_timeout_signal (0) == 0,
             "portalock_set_timeout_signal: ENOTSUP without per-thread timers");
      unsupported ("timed waits with a timer signal");
      return check_exit ();
    }
  if (argc == 3)
    {
      test_timeout_signal_setting ();
      timer_signal = TIMER_SIGNAL;
      if (portalock_set_timeout_signal (timer_signal) != 0)
        die ("portalock_set_timeout_signal");
      mode = "timer signal";
      test_refused_change ();
    }
  bname = portalock_backend_name (PORTALOCK_BACKEND_DEFAULT);
  const char *wanted = getenv ("PORTALOCK_BACKEND");
  if (wanted != NULL && *wanted != '\0' && strcmp (wanted, bname) != 0)
    {
      unsupported ("%s: not built here", wanted);
      return check_exit ();
    }
  has_ranges = strcmp (bname, "flock") != 0;
  has_shared = strcmp (bname, "lockf") != 0;
  process_scoped = strcmp (bname, "fcntl") == 0
                   || strcmp (bname, "lockf") == 0;
  /* What the win32 backend does otherwise: the manual's "The win32
     backend".  */
  bool win32 = strcmp (bname, "win32") == 0;
  whole_excludes_ranges = !win32;
  upgrade_drops = strcmp (bname, "flock") == 0 || win32;
  ro_exclusive = strcmp (bname, "flock") == 0 || win32;

  catch_usr1 ();

  if (timer_signal == 0)
    {
      test_names ();
      test_bad_input ();
      test_conflicts ();
      test_waiter ("a blocked waiter", -1, false);
      test_interrupted_waiter ("a blocked waiter interrupted by a signal",
                               -1);
    }
  test_waiter ("a timed waiter", 30, false);
  test_interrupted_waiter ("a timed waiter interrupted by a signal", 30);
  test_timeout ();
  if (timer_signal != 0)
    test_signal_off_during_wait ();
  if (timer_signal == 0)
    {
      test_exec ();
      test_two_descriptors ();
      test_ranges ();
      test_conversion ();
    }
  return check_exit ();
}
