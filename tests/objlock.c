/* objlock.c: tests of the lock objects (Lock, RLock, temporary locks,
   conversion) on one backend.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: objlock BACKEND LOCKPROBE, where BACKEND names the backend under
   test (flock, ofd, fcntl, lockf; win32 in a Windows build) and LOCKPROBE
   is the path of the lockprobe test program (unused on Windows).  Every
   check names the backend.  A backend not built here is reported
   UNSUPPORTED.  On Windows the checks that need fork, signals, POSIX
   file modes or special files are reported UNSUPPORTED, each once.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <dirent.h>
# include <sys/mount.h>
# include <sys/resource.h>
# include <sys/socket.h>
# include <sys/un.h>
# include <sys/wait.h>
#else
# include <io.h>
# include <windows.h>
#endif

static enum portalock_backend backend;
static const char *bname;
static bool has_shared;         /* the backend has shared locks */
static bool checks_access;      /* its locks check the descriptor's access */
static const char *lockprobe;

/* mingw-w64 has no ESTALE: the library gives it the value of
   lib/posix-win32.h.  */
#ifndef ESTALE
# define ESTALE 10116
#endif

/* A backend that is not built here.  */
#if TEST_POSIX
# define UNBUILT_BACKEND PORTALOCK_BACKEND_WIN32
#else
# define UNBUILT_BACKEND PORTALOCK_BACKEND_FLOCK
#endif

#if TEST_POSIX
/* The errno of a path that goes through a regular file, and whether E
   is the errno of a name too long.  */
# define THROUGH_FILE_ERRNO ENOTDIR
# define THROUGH_FILE_ERRNO_NAME "ENOTDIR"
# define NAME_TOO_LONG_NAME "ENAMETOOLONG"

static bool
name_too_long (int e)
{
  return e == ENAMETOOLONG;
}

/* Return true if FD is closed.  */
static bool
fd_closed (int fd)
{
  return fcntl (fd, F_GETFD) == -1;
}

#else
/* Windows reports a path through a regular file as a path not found,
   which the library maps to ENOENT ("Files on Windows" in the manual).
   A name too long is ENAMETOOLONG on Windows, but Wine says the path
   was not found, or that the name is invalid (EINVAL).  */
# define THROUGH_FILE_ERRNO ENOENT
# define THROUGH_FILE_ERRNO_NAME "ENOENT"
# define NAME_TOO_LONG_NAME "ENAMETOOLONG, or Wine's ENOENT or EINVAL"

static bool
name_too_long (int e)
{
  return e == ENAMETOOLONG || e == ENOENT || e == EINVAL;
}

static bool
fd_closed (int fd)
{
  return _get_osfhandle (fd) == -1;
}
#endif

/* A new lock object on PATH for the backend under test.  */
static portalock *
new_lock (const char *path)
{
  return new_backend_lock (path, backend);
}

/* Probe PATH's lock from another process: 0 if free, else its errno.  */
static int
probe (const char *path, int flags)
{
  return probe_lock (path, backend, flags, 0, 0);
}

#if TEST_POSIX
/* A buffered write through the object's stream that fails before the
   release (the file size limit is reached while the buffer fills) is
   kept only in the stream's error indicator: the release's flush then
   succeeds, and must not hide it.  The release reports EIO and still
   lets go of the lock.  In a child, because of the size limit; exit
   codes: 0 as it should, 1 the release said 0, 2 another errno, 3 the
   lock stayed held, 4 setup.  */
static void
test_stream_write_error (void)
{
  const char *path = test_path ("efbig");
  pid_t pid = fork ();
  if (pid == 0)
    {
      static char big[64 * 1024];
      struct rlimit limit = { 4, 4 };
      signal (SIGXFSZ, SIG_IGN);
      memset (big, 'x', sizeof big);
      portalock *lock = new_lock (path);
      if (portalock_set_mode (lock, "w") != 0
          || portalock_acquire (lock) != 0
          || setrlimit (RLIMIT_FSIZE, &limit) != 0)
        _exit (4);
      FILE *f = portalock_stream (lock);
      if (f == NULL || fwrite (big, 1, sizeof big, f) == sizeof big)
        _exit (4);
      int r = portalock_release (lock);
      int e = errno;
      if (r == 0)
        _exit (1);
      if (r != -1 || e != EIO)
        _exit (2);
      if (portalock_fd (lock) != -1 || probe (path, PORTALOCK_EX) != 0)
        _exit (3);
      _exit (0);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: a buffered write that failed before the release: the release "
         "fails with EIO and lets go (child status %d)", bname,
         WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  unlink (path);
}

/* Bind a Unix socket at PATH and return it.  */
static int
plant_socket (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || strlen (path) >= sizeof addr.sun_path)
    die ("socket");
  strcpy (addr.sun_path, path);
  if (bind (sock, (struct sockaddr *) &addr, sizeof addr) != 0)
    die ("bind %s", path);
  return sock;
}
#else
static void
test_stream_write_error (void)
{
  unsupported ("%s: a buffered write that failed before the release: "
               "needs setrlimit and fork (POSIX only)", bname);
}
#endif

/* The defaults, and the life cycle: acquire, use, release, again.  */
static void
test_lifecycle (void)
{
  const char *path = test_path ("life");
  portalock *lock = new_lock (path);

  check (portalock_fd (lock) == -1 && errno == EBADF
         && portalock_stream (lock) == NULL,
         "%s: a new lock object holds nothing", bname);
  check (!exists (path), "%s: portalock_new creates no file", bname);
  check (portalock_release (lock) == 1,
         "%s: release of an unheld Lock is a no-op that returns 1", bname);

  check (portalock_acquire (lock) == 0, "%s: acquire with defaults", bname);
  int fd = portalock_fd (lock);
  check (fd >= 0 && not_inherited (fd),
         "%s: the descriptor is close-on-exec", bname);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: the default lock is exclusive: another process cannot lock",
         bname);
  FILE *f = portalock_stream (lock);
  check (f != NULL && portalock_stream (lock) == f
         && fileno (f) == fd, "%s: the stream is the descriptor's", bname);
  check (f != NULL && fputs ("one\n", f) >= 0,
         "%s: the stream writes (mode \"a\")", bname);
  check (portalock_acquire (lock) == 0 && portalock_fd (lock) == fd,
         "%s: acquiring a held Lock hands back what it holds", bname);
  check (portalock_release (lock) == 0,
         "%s: release returns 0", bname);
  check (portalock_fd (lock) == -1 && fd_closed (fd),
         "%s: release closes the descriptor", bname);
  check (has_text (path, "one\n"), "%s: release flushes the stream", bname);
  check (probe (path, PORTALOCK_EX) == 0,
         "%s: one release of a Lock acquired twice unlocks", bname);
  check (portalock_release (lock) == 1,
         "%s: a second release is a no-op", bname);

  check (portalock_acquire (lock) == 0
         && fputs ("two\n", portalock_stream (lock)) >= 0
         && portalock_release (lock) == 0
         && has_text (path, "one\ntwo\n"),
         "%s: the object can be acquired again; mode \"a\" appends", bname);
  portalock_free (lock);
  unlink (path);
}

/* Modes: what each opens, and "w" truncating only under the lock.  */
static void
test_modes (void)
{
  const char *path = test_path ("modes");
  portalock *lock = new_lock (path);
  char buf[16];

  check (portalock_set_mode (lock, "r") == 0
         && fails_with (portalock_acquire (lock), ENOENT) && !exists (path),
         "%s: mode \"r\" on a missing file: ENOENT, nothing created", bname);

  write_file (path, "content");
  check (portalock_acquire (lock) == 0
         && fgets (buf, sizeof buf, portalock_stream (lock)) != NULL
         && strcmp (buf, "content") == 0
         && portalock_release (lock) == 0,
         "%s: mode \"r\" reads the file", bname);

  /* "w" must not truncate a file another process holds.  */
  struct holder h;
  if (holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    {
      portalock_set_mode (lock, "w");
      portalock_set_timeout (lock, 0);
      check (fails_with (portalock_acquire (lock), EWOULDBLOCK)
             && has_text (path, "content"),
             "%s: mode \"w\" on a file held elsewhere: EWOULDBLOCK, "
             "not truncated", bname);
      holder_release (&h);
    }
  else
    check (false, "%s: start a holder", bname);
  check (portalock_acquire (lock) == 0 && has_text (path, "")
         && fputs ("new", portalock_stream (lock)) >= 0
         && portalock_release (lock) == 0 && has_text (path, "new"),
         "%s: mode \"w\" truncates once the lock is held", bname);

  check (portalock_set_mode (lock, "a+") == 0
         && portalock_acquire (lock) == 0
         && fputs ("er", portalock_stream (lock)) >= 0
         && fseek (portalock_stream (lock), 0, SEEK_SET) == 0
         && fgets (buf, sizeof buf, portalock_stream (lock)) != NULL
         && strcmp (buf, "newer") == 0 && portalock_release (lock) == 0,
         "%s: mode \"a+\" appends and reads", bname);
  check (portalock_set_mode (lock, "r+b") == 0
         && portalock_acquire (lock) == 0
         && fputs ("N", portalock_stream (lock)) >= 0
         && portalock_release (lock) == 0 && has_text (path, "Newer"),
         "%s: mode \"r+b\" writes in place", bname);
  check (portalock_set_mode (lock, "w+") == 0
         && portalock_acquire (lock) == 0 && has_text (path, "")
         && portalock_release (lock) == 0,
         "%s: mode \"w+\" truncates once held", bname);
  portalock_free (lock);
}

#if TEST_POSIX
/* The permissions a created file gets.  */
static void
test_creation_mode (void)
{
  const char *path = test_path ("mode");
  portalock *lock = new_lock (path);
  mode_t old_umask = umask (022);
  struct stat st;
  check (portalock_acquire (lock) == 0 && stat (path, &st) == 0
         && (st.st_mode & 07777) == 0644,
         "%s: the file is created 0644 (less the umask)", bname);
  umask (old_umask);
  portalock_free (lock);
  unlink (path);

  const char *perm_path = test_path ("perm");
  portalock *p = new_lock (perm_path);
  old_umask = umask (022);
  check (portalock_set_permissions (p, 0666) == 0
         && portalock_acquire (p) == 0 && stat (perm_path, &st) == 0
         && (st.st_mode & 07777) == 0644,
         "%s: permissions 0666 with umask 022 create 0644", bname);
  umask (old_umask);
  portalock_free (p);
  unlink (perm_path);
  p = new_lock (perm_path);
  check (portalock_set_permissions (p, 0600) == 0
         && portalock_acquire (p) == 0 && stat (perm_path, &st) == 0
         && (st.st_mode & 07777) == 0600,
         "%s: permissions 0600 create 0600", bname);
  portalock_free (p);
}
#else
static void
test_creation_mode (void)
{
  unsupported ("%s: the permissions of a created file: POSIX modes, "
               "which Windows does not apply", bname);
}
#endif

/* Waiting: fail_when_locked, PORTALOCK_NB, timeout 0, a timeout, and a
   waiter that gets the lock once it is released.  */
struct waiter
{
  portalock *lock;
  int result;
  int error;
  bool *released;           /* set just before the release (atomic) */
  bool after_release;
};

static void *
wait_thread (void *arg)
{
  struct waiter *w = arg;
  w->result = portalock_acquire (w->lock);
  w->error = errno;
  w->after_release = (w->released == NULL
                      || __atomic_load_n (w->released, __ATOMIC_SEQ_CST));
  return NULL;
}

static void
test_waiting (void)
{
  const char *path = test_path ("wait");
  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    {
      check (false, "%s: start a holder", bname);
      return;
    }
  portalock *lock = new_lock (path);
  portalock_set_fail_when_locked (lock, true);
  check (fails_with (portalock_acquire (lock), EWOULDBLOCK)
         && portalock_fd (lock) == -1,
         "%s: fail_when_locked: EWOULDBLOCK at once", bname);
  portalock_set_fail_when_locked (lock, false);
  portalock_set_flags (lock, PORTALOCK_EX | PORTALOCK_NB);
  check (fails_with (portalock_acquire (lock), EWOULDBLOCK),
         "%s: PORTALOCK_NB: EWOULDBLOCK", bname);
  portalock_set_flags (lock, PORTALOCK_EX);
  portalock_set_timeout (lock, 0);
  check (fails_with (portalock_acquire (lock), EWOULDBLOCK),
         "%s: timeout 0: one try, EWOULDBLOCK", bname);
  portalock_set_timeout (lock, 0.05);
  check (fails_with (portalock_acquire (lock), ETIMEDOUT)
         && portalock_fd (lock) == -1,
         "%s: a timeout that runs out: ETIMEDOUT", bname);

  /* A waiter with a long timeout gets the lock once it is released.  */
  bool released = false;
  portalock_set_timeout (lock, 60);
  struct waiter w = { .lock = lock, .released = &released };
  pthread_t t;
  pthread_create (&t, NULL, wait_thread, &w);
  await_blocked_waiter (path);
  __atomic_store_n (&released, true, __ATOMIC_SEQ_CST);
  holder_release (&h);
  pthread_join (t, NULL);
  errno = w.error;
  check (w.result == 0 && w.after_release,
         "%s: a waiter gets the lock once the holder releases", bname);
  portalock_release (lock);

  /* Negative: no limit.  */
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    die ("holder");
  __atomic_store_n (&released, false, __ATOMIC_SEQ_CST);
  portalock_set_timeout (lock, -1);
  pthread_create (&t, NULL, wait_thread, &w);
  await_blocked_waiter (path);
  __atomic_store_n (&released, true, __ATOMIC_SEQ_CST);
  holder_release (&h);
  pthread_join (t, NULL);
  errno = w.error;
  check (w.result == 0 && w.after_release,
         "%s: a negative timeout waits without limit", bname);
  portalock_free (lock);
}

#if TEST_POSIX
/* A directory: writable modes cannot open it; "r" can lock it, as
   flock(1) does, where the backend does not need write access.  */
static void
test_directory (void)
{
  const char *dir = test_path ("dir");
  make_dir (dir);
  portalock *lock = new_lock (dir);
  check (fails_with (portalock_acquire (lock), EISDIR),
         "%s: a directory in mode \"a\": EISDIR", bname);
  portalock_set_mode (lock, "r");
  if (checks_access)
    check (fails_with (portalock_acquire (lock), EISDIR),
           "%s: an exclusive lock on a directory needs write access: "
           "EISDIR", bname);
  else
    check (portalock_acquire (lock) == 0 && portalock_release (lock) == 0,
           "%s: a directory opened read-only takes an exclusive lock",
           bname);
  if (has_shared)
    {
      portalock_set_flags (lock, PORTALOCK_SH);
      check (portalock_acquire (lock) == 0 && portalock_release (lock) == 0,
             "%s: a directory takes a shared lock in mode \"r\"", bname);
    }
  portalock_free (lock);
  rmdir (dir);
}
#else
/* Windows locks no directory: LockFileEx needs a file.  Every mode is
   refused, and nothing stays open.  */
static void
test_directory (void)
{
  const char *dir = test_path ("dir");
  make_dir (dir);
  int fds = count_fds ();
  portalock *lock = new_lock (dir);
  bool refused = portalock_acquire (lock) == -1;
  portalock_set_mode (lock, "r");
  refused &= portalock_acquire (lock) == -1;
  portalock_set_flags (lock, PORTALOCK_SH);
  refused &= portalock_acquire (lock) == -1;
  portalock_free (lock);
  check (refused && count_fds () == fds,
         "%s: a directory is refused in every mode, nothing left open",
         bname);
  rmdir (dir);
}
#endif

/* Bad input: the documented errno, and nothing changed.  */
static void
test_bad_input (void)
{
  const char *path = test_path ("bad");
  int fds = count_fds ();

  errno = 0;
  check (portalock_new (NULL) == NULL && errno == EINVAL,
         "%s: portalock_new (NULL): EINVAL", bname);
  errno = 0;
  check (portalock_new ("") == NULL && errno == EINVAL,
         "%s: portalock_new (\"\"): EINVAL", bname);

  portalock *lock = new_lock (path);
  static const char *const bad_modes[] =
    { "", "xx", "rw", "r++", "rbb", "w+x", "+", "b", "rt", "r+b+" };
  bool ok = true;
  for (size_t i = 0; i < sizeof bad_modes / sizeof *bad_modes; i++)
    ok &= fails_with (portalock_set_mode (lock, bad_modes[i]), EINVAL);
  ok &= fails_with (portalock_set_mode (lock, NULL), EINVAL);
  check (ok, "%s: bad mode strings: EINVAL", bname);
  static const char *const good_modes[] =
    { "r", "rb", "r+", "r+b", "rb+", "w", "wb", "w+", "a", "ab", "a+",
      "a+b" };
  ok = true;
  for (size_t i = 0; i < sizeof good_modes / sizeof *good_modes; i++)
    ok &= portalock_set_mode (lock, good_modes[i]) == 0;
  check (ok, "%s: every fopen mode of r, w, a is accepted", bname);
  portalock_set_mode (lock, "a");

  check (fails_with (portalock_set_flags (lock, 0), EINVAL)
         && fails_with (portalock_set_flags (lock, PORTALOCK_SH
                                             | PORTALOCK_EX), EINVAL)
         && fails_with (portalock_set_flags (lock, PORTALOCK_UN), EINVAL)
         && fails_with (portalock_set_flags (lock, PORTALOCK_NB), EINVAL)
         && fails_with (portalock_set_flags (lock, 16 | PORTALOCK_EX),
                        EINVAL),
         "%s: bad flags: EINVAL", bname);
  check (fails_with (portalock_set_timeout (lock, NAN), EINVAL)
         && portalock_set_timeout (lock, INFINITY) == 0
         && portalock_set_timeout (lock, -INFINITY) == 0
         && portalock_set_timeout (lock, 5) == 0,
         "%s: timeout NaN: EINVAL; infinities accepted", bname);
  check (fails_with (portalock_set_check_interval (lock, NAN), EINVAL)
         && fails_with (portalock_set_check_interval (lock, -1), EINVAL)
         && fails_with (portalock_set_check_interval (lock, INFINITY),
                        EINVAL)
         && portalock_set_check_interval (lock, 0) == 0,
         "%s: check_interval NaN, negative, infinite: EINVAL", bname);
  check (fails_with (portalock_set_permissions (lock, 010000), EINVAL),
         "%s: permissions beyond 07777: EINVAL", bname);
  check (fails_with (portalock_set_backend (lock, 42), EINVAL)
         && fails_with (portalock_set_backend (lock,
                                               UNBUILT_BACKEND),
                        ENOTSUP),
         "%s: no backend: EINVAL; one not built: ENOTSUP", bname);

  check (fails_with (portalock_set_mode (NULL, "r"), EINVAL)
         && fails_with (portalock_set_flags (NULL, PORTALOCK_EX), EINVAL)
         && fails_with (portalock_set_timeout (NULL, 1), EINVAL)
         && fails_with (portalock_set_check_interval (NULL, 1), EINVAL)
         && fails_with (portalock_set_fail_when_locked (NULL, true), EINVAL)
         && fails_with (portalock_set_permissions (NULL, 0600), EINVAL)
         && fails_with (portalock_set_backend (NULL, backend), EINVAL)
         && fails_with (portalock_set_reentrant (NULL, true), EINVAL)
         && fails_with (portalock_set_temporary (NULL, true), EINVAL)
         && fails_with (portalock_set_record_pid (NULL, true), EINVAL)
         && fails_with (portalock_acquire (NULL), EINVAL)
         && fails_with (portalock_release (NULL), EINVAL)
         && fails_with (portalock_convert (NULL, PORTALOCK_SH), EINVAL)
         && portalock_fd (NULL) == -1 && portalock_stream (NULL) == NULL,
         "%s: a NULL object: EINVAL", bname);
  errno = 1234;
  portalock_free (NULL);
  check (errno == 1234, "%s: portalock_free (NULL) is harmless", bname);
  check (!exists (path), "%s: no bad input created the file", bname);

  check (portalock_acquire (lock) == 0
         && fails_with (portalock_set_mode (lock, "r"), EBUSY)
         && fails_with (portalock_set_flags (lock, PORTALOCK_SH), EBUSY)
         && fails_with (portalock_set_timeout (lock, 1), EBUSY)
         && fails_with (portalock_set_backend (lock, backend), EBUSY)
         && fails_with (portalock_set_temporary (lock, true), EBUSY),
         "%s: settings of a held object: EBUSY", bname);
  check (fails_with (portalock_convert (lock, 0), EINVAL)
         && fails_with (portalock_convert (lock, PORTALOCK_UN), EINVAL),
         "%s: convert to bad flags: EINVAL", bname);
  portalock_release (lock);
  check (fails_with (portalock_convert (lock, PORTALOCK_EX), EINVAL),
         "%s: convert of an unheld object: EINVAL", bname);
  unlink (path);

  if (!has_shared)
    {
      portalock_set_flags (lock, PORTALOCK_SH);
      check (fails_with (portalock_acquire (lock), ENOTSUP)
             && !exists (path),
             "%s: a shared lock: ENOTSUP, no file created", bname);
      portalock_set_flags (lock, PORTALOCK_EX);
    }
  if (!has_shared)
    {
      portalock_set_temporary (lock, true);
      portalock_set_flags (lock, PORTALOCK_SH);
      check (fails_with (portalock_acquire (lock), ENOTSUP)
             && !exists (path),
             "%s: a shared temporary lock: refused, no file created", bname);
    }
  portalock_free (lock);

  /* Paths that cannot work.  */
  const char *missing = test_path ("no-such-dir/file");
  lock = new_lock (missing);
  check (fails_with (portalock_acquire (lock), ENOENT) && !exists (missing),
         "%s: a path in a missing directory: ENOENT", bname);
  portalock_free (lock);

  const char *file = test_path ("plain");
  write_file (file, "x");
  char sub[4096];
  snprintf (sub, sizeof sub, "%s/sub", file);
  lock = new_lock (sub);
  check (fails_with (portalock_acquire (lock), THROUGH_FILE_ERRNO)
         && !exists (sub),
         "%s: a path through a regular file: %s", bname,
         THROUGH_FILE_ERRNO_NAME);
  portalock_free (lock);

  char longname[4096];
  snprintf (longname, sizeof longname, "%s/", test_path (""));
  size_t len = strlen (longname);
  memset (longname + len, 'n', 300);
  longname[len + 300] = '\0';
  lock = new_lock (longname);
  check (portalock_acquire (lock) == -1 && name_too_long (errno)
         && !exists (longname),
         "%s: a name too long: %s", bname, NAME_TOO_LONG_NAME);
  portalock_free (lock);

  test_directory ();

  check (count_fds () == fds, "%s: no descriptor leaked by bad input",
         bname);
}

#if TEST_POSIX
/* Permission denied, tested from a child that gives up root.  */
static void
test_permission (void)
{
  const char *path = test_path ("secret");
  write_file (path, "keep");
  chmod (path, 0600);
  /* Let the unprivileged child reach the file, not read it.  */
  char dir[4096];
  snprintf (dir, sizeof dir, "%s", test_path (""));
  chmod (dir, 0711);

  pid_t pid = fork ();
  if (pid == 0)
    {
      if (geteuid () == 0 && (setgid (65534) != 0 || setuid (65534) != 0))
        {
          unsupported ("%s: permission denied (cannot drop root)", bname);
          fflush (stdout);
          _exit (0);
        }
      if (geteuid () == 0)
        _exit (0);
      portalock *lock = new_lock (path);
      portalock_set_mode (lock, "w");
      check (fails_with (portalock_acquire (lock), EACCES),
             "%s: permission denied: EACCES", bname);
      portalock_set_mode (lock, "r");
      portalock_set_flags (lock, has_shared ? PORTALOCK_SH : PORTALOCK_EX);
      check (fails_with (portalock_acquire (lock), EACCES),
             "%s: permission denied reading: EACCES", bname);
      portalock_free (lock);
      const char *created = test_path ("not-mine");
      lock = new_lock (created);
      check (fails_with (portalock_acquire (lock), EACCES)
             && !exists (created),
             "%s: no permission to create: EACCES, nothing created", bname);
      portalock_free (lock);
      fflush (stdout);
      _exit (0);
    }
  int status;
  waitpid (pid, &status, 0);
  chmod (dir, 0700);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0
         && has_text (path, "keep"),
         "%s: a refused acquire leaves the file alone", bname);
  unlink (path);
}

/* A read-only filesystem, made in a private mount namespace.  */
static void
test_read_only (void)
{
  const char *dir = test_path ("ro");
  char file[4096], fresh[4096];
  mkdir (dir, 0755);
  snprintf (file, sizeof file, "%s/file", dir);
  snprintf (fresh, sizeof fresh, "%s/fresh", dir);
  write_file (file, "keep");

  pid_t pid = fork ();
  if (pid == 0)
    {
      if (unshare (CLONE_NEWNS) != 0
          || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0
          || mount (dir, dir, "none", MS_BIND, NULL) != 0
          || mount ("none", dir, "none", MS_REMOUNT | MS_BIND | MS_RDONLY,
                    NULL) != 0)
        {
          unsupported ("%s: a read-only filesystem (cannot mount one)",
                       bname);
          fflush (stdout);
          _exit (0);
        }
      portalock *lock = new_lock (file);
      portalock_set_mode (lock, "w");
      check (fails_with (portalock_acquire (lock), EROFS)
             && has_text (file, "keep"),
             "%s: read-only filesystem: EROFS, nothing truncated", bname);
      portalock_free (lock);
      lock = new_lock (fresh);
      check (fails_with (portalock_acquire (lock), EROFS) && !exists (fresh),
             "%s: read-only filesystem: EROFS, nothing created", bname);
      portalock_free (lock);
      lock = new_lock (file);
      portalock_set_mode (lock, "r");
      if (has_shared)
        {
          portalock_set_flags (lock, PORTALOCK_SH);
          check (portalock_acquire (lock) == 0
                 && portalock_release (lock) == 0,
                 "%s: a shared lock in mode \"r\" works read-only", bname);
        }
      portalock_free (lock);
      fflush (stdout);
      _exit (0);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: the read-only test process ended well", bname);
  unlink (file);
  rmdir (dir);
}
#else
static void
test_permission (void)
{
  unsupported ("%s: permission denied: needs fork and setuid (POSIX only)",
               bname);
}

static void
test_read_only (void)
{
  unsupported ("%s: a read-only filesystem: needs fork and a mount "
               "namespace (POSIX only)", bname);
}
#endif

#if TEST_POSIX
/* The kernel's deadlock detector for POSIX locks sees processes: with
   P1.T1 holding A, P2.T1 holding B and P1.T2 waiting for B, P2.T2's wait
   for A looks like a cycle (P2 waits for P1, which waits for P2), though
   each T1 will let go.  Lock objects exclude each other as processes
   do, so that wait must simply wait, not fail with EDEADLK.  One process
   of the pair: it holds MINE in its main thread, and on 'W' waits for
   OTHER in a second thread; on 'R' it lets go of MINE.  It reports 'H'
   once MINE is held, then the second thread's result (0 or an errno)
   as one byte.  */
struct deadlock_view
{
  const char *other;
  int report;
};

static void *
wait_for_other (void *arg)
{
  struct deadlock_view *v = arg;
  portalock *lock = new_lock (v->other);
  portalock_set_timeout (lock, 60);
  unsigned char result = portalock_acquire (lock) == 0 ? 0 : errno;
  portalock_free (lock);
  IGNORE_RESULT (write (v->report, &result, 1));
  return NULL;
}

static void
deadlock_view_process (const char *mine, const char *other, int command,
                       int report)
{
  portalock *lock = new_lock (mine);
  if (portalock_acquire (lock) != 0)
    _exit (1);
  char c = 'H';
  if (write (report, &c, 1) != 1)
    _exit (1);
  struct deadlock_view v = { other, report };
  pthread_t t;
  if (read (command, &c, 1) != 1 || c != 'W')
    _exit (1);
  pthread_create (&t, NULL, wait_for_other, &v);
  if (read (command, &c, 1) != 1 || c != 'R')
    _exit (1);
  portalock_release (lock);
  pthread_join (t, NULL);
  portalock_free (lock);
  _exit (0);
}

static void
test_deadlock_view (void)
{
  const char *a = test_path ("deadlock-a"), *b = test_path ("deadlock-b");
  int command[2][2], report[2][2];
  pid_t pid[2];
  char c;
  for (int p = 0; p < 2; p++)
    {
      if (pipe2 (command[p], O_CLOEXEC) != 0
          || pipe2 (report[p], O_CLOEXEC) != 0)
        die ("pipe");
      pid[p] = fork ();
      if (pid[p] == 0)
        deadlock_view_process (p == 0 ? a : b, p == 0 ? b : a,
                               command[p][0], report[p][1]);
      if (read (report[p][0], &c, 1) != 1 || c != 'H')
        die ("%s: process %d did not lock", bname, p + 1);
    }
  /* P1.T2 waits for B, in the kernel; then P2.T2 asks for A.  */
  if (write (command[0][1], "W", 1) != 1)
    die ("write");
  bool first = await_blocked_waiter (b);
  if (write (command[1][1], "W", 1) != 1)
    die ("write");
  /* Let P2.T2's request reach the kernel: it blocks on A (or, wrongly,
     fails at once and reports, and no waiter on A ever shows).  */
  bool second = await_blocked_waiter (a);
  if (write (command[0][1], "R", 1) != 1)
    die ("write");
  if (write (command[1][1], "R", 1) != 1)
    die ("write");
  unsigned char result[2] = { 255, 255 };
  for (int p = 0; p < 2; p++)
    {
      IGNORE_RESULT (read (report[p][0], &result[p], 1));
      waitpid (pid[p], NULL, 0);
      for (int i = 0; i < 2; i++)
        {
          close (command[p][i]);
          close (report[p][i]);
        }
    }
  errno = result[1];
  check (result[0] == 0 && result[1] == 0,
         "%s: P1.T1 holds A, P2.T1 holds B, P1.T2 waits for B: P2.T2 waits "
         "for A (no EDEADLK), and both get their lock%s", bname,
         first && second ? "" : " (waiters not seen blocked)");
}
#else
static void
test_deadlock_view (void)
{
  unsupported ("%s: the deadlock detector's view of processes: needs fork "
               "(POSIX only; Windows detects no lock deadlocks)", bname);
}
#endif

/* Threads, each with its own object on one file, exclude each other.  */
#define THREADS 4
#define ROUNDS 300

static const char *race_path;
static volatile int inside;
static volatile int overlaps;

static void *
race_thread (void *arg)
{
  (void) arg;
  portalock *lock = new_lock (race_path);
  portalock_set_timeout (lock, -1);
  for (int i = 0; i < ROUNDS; i++)
    {
      if (portalock_acquire (lock) != 0)
        {
          __atomic_add_fetch (&overlaps, 1000, __ATOMIC_SEQ_CST);
          break;
        }
      if (__atomic_add_fetch (&inside, 1, __ATOMIC_SEQ_CST) != 1)
        __atomic_add_fetch (&overlaps, 1, __ATOMIC_SEQ_CST);
      sched_yield ();
      __atomic_sub_fetch (&inside, 1, __ATOMIC_SEQ_CST);
      portalock_release (lock);
    }
  portalock_free (lock);
  return NULL;
}

static void
test_threads (void)
{
  race_path = test_path ("race");
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create (&t[i], NULL, race_thread, NULL);
  for (int i = 0; i < THREADS; i++)
    pthread_join (t[i], NULL);
  check (overlaps == 0, "%s: %d threads, one object each, never overlap "
         "(%d overlaps)", bname, THREADS, overlaps);
}

/* Releasing, failing or freeing one object never drops another's lock.  */
static void
test_independence (void)
{
  const char *path = test_path ("indep");
  portalock *a = new_lock (path), *b = new_lock (path);

  portalock_acquire (a);
  portalock_set_timeout (b, 0);
  check (fails_with (portalock_acquire (b), EWOULDBLOCK),
         "%s: two objects on one file in one process exclude each other",
         bname);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: another object's failed acquire keeps the lock", bname);
  check (portalock_release (b) == 1 && probe (path, PORTALOCK_EX)
         == EWOULDBLOCK,
         "%s: another object's no-op release keeps the lock", bname);
  /* On fcntl and lockf each failed try must close a descriptor whose
     close has to wait for the holder; the next try reuses it.  */
  int fds = count_fds ();
  for (int i = 0; i < 50; i++)
    portalock_acquire (b);
  check (count_fds () <= fds + 1 && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: 50 failed tries keep at most one descriptor open (%d more)",
         bname, count_fds () - fds);
  portalock_free (b);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: freeing another object keeps the lock", bname);
  pid_t p;
  portalock_pid_record_read (path, &p);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: reading the file's PID record keeps the lock", bname);
  /* An object of another backend on the same file, in the same
     process: its close must not drop a POSIX lock either.  */
  static const enum portalock_backend others[] =
    { PORTALOCK_BACKEND_FLOCK, PORTALOCK_BACKEND_OFD };
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    if (others[i] != backend && portalock_backend_available (others[i]))
      {
        portalock *c = portalock_new (path);
        portalock_set_backend (c, others[i]);
        portalock_set_timeout (c, 0);
        /* OFD and POSIX locks exclude each other; flock and POSIX
           ones do not.  Either way, nothing may drop the lock.  */
        if (portalock_acquire (c) == 0)
          fputs ("x", portalock_stream (c));
        portalock_release (c);
        portalock_acquire (c);
        portalock_free (c);
        check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
               "%s: a %s object's release and free keep the lock", bname,
               portalock_backend_name (others[i]));
      }
  portalock_release (a);
  check (probe (path, PORTALOCK_EX) == 0, "%s: releasing the holder "
         "unlocks", bname);

  if (has_shared)
    {
      b = new_lock (path);
      portalock_set_flags (a, PORTALOCK_SH);
      portalock_set_flags (b, PORTALOCK_SH);
      check (portalock_acquire (a) == 0 && portalock_acquire (b) == 0,
             "%s: two shared objects hold together", bname);
      check (probe (path, PORTALOCK_SH) == 0,
             "%s: another process shares the lock", bname);
      check (portalock_release (b) == 0
             && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
             "%s: releasing one shared object keeps the other's lock",
             bname);
      portalock_free (a);
      check (probe (path, PORTALOCK_EX) == 0,
             "%s: freeing the last holder unlocks", bname);
      portalock_free (b);
    }
  else
    portalock_free (a);
}

#if TEST_POSIX
/* No exec'd program inherits the lock; no forked child releases it.  */
static void
test_exec_and_fork (void)
{
  const char *path = test_path ("fork");
  portalock *lock = new_lock (path);
  portalock_acquire (lock);

  int in[2], out[2];
  if (pipe2 (in, O_CLOEXEC) != 0 || pipe2 (out, O_CLOEXEC) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (in[0], 0);
      dup2 (out[1], 1);
      execl (lockprobe, "lockprobe", "idle", (char *) NULL);
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  char c = 0;
  if (read (out[0], &c, 1) != 1 || c != 'R')
    die ("lockprobe idle");
  portalock_release (lock);
  check (probe (path, PORTALOCK_EX) == 0,
         "%s: an exec'd program does not keep the lock", bname);
  close (in[1]);
  close (out[0]);
  waitpid (pid, NULL, 0);

  /* A child that releases and frees its copy of the object, and exits
     through exit (), runs no unlock.  */
  portalock_set_temporary (lock, true);
  portalock_acquire (lock);
  pid = fork ();
  if (pid == 0)
    {
      int r = portalock_release (lock);
      portalock_free (lock);
      exit (r == 0 ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0
         && probe (path, PORTALOCK_EX) == EWOULDBLOCK && exists (path),
         "%s: a forked child that releases, frees and exits keeps the "
         "parent's lock and file", bname);
  pid = fork ();
  if (pid == 0)
    _exit (0);
  waitpid (pid, NULL, 0);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: a forked child that just exits keeps the parent's lock",
         bname);
  /* A child's own acquire of the inherited object takes a lock of its
     own: it must wait for the parent.  */
  pid = fork ();
  if (pid == 0)
    {
      portalock_release (lock);
      portalock_set_timeout (lock, 0);
      int r = portalock_acquire (lock);
      _exit (r == -1 && errno == EWOULDBLOCK ? 0 : 1);
    }
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0
         && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: a forked child's acquire of an inherited object waits for "
         "the parent", bname);
  check (portalock_release (lock) == 0 && !exists (path)
         && probe (path, PORTALOCK_EX) != EWOULDBLOCK,
         "%s: the parent still releases (and deletes) it", bname);
  portalock_free (lock);
}
#else
static void
test_exec_and_fork (void)
{
  unsupported ("%s: exec'd programs and forked children: needs fork and "
               "exec (POSIX only)", bname);
}
#endif

#if TEST_POSIX
/* Return true if another process can take PATH's lock now, without
   waiting, and PATH still holds TEXT.  */
static bool
free_and_kept (const char *path, const char *text)
{
  return probe (path, PORTALOCK_EX) == 0 && has_text (path, text);
}

/* On flock and OFD a release may give the lock back by closing the
   object's descriptor alone, which is enough only while that descriptor
   is the only one of its open file description.  Whatever else holds a
   copy (a dup the caller made of portalock_fd's or of the stream's
   descriptor, a forked child that is still alive), the release must
   free the lock for a third process all the same; on every backend.
   The file holds content, which no release may change.  */
static void
test_release_with_copies (void)
{
  const char *path = test_path ("copies");
  const char *text = "kept\n";
  write_file (path, text);
  portalock *lock = new_lock (path);

  check (portalock_acquire (lock) == 0 && portalock_release (lock) == 0
         && free_and_kept (path, text),
         "%s: a released object's lock is free for another process at once",
         bname);

  int copy = -1;
  if (portalock_acquire (lock) == 0)
    copy = dup (portalock_fd (lock));
  check (copy >= 0 && portalock_release (lock) == 0
         && free_and_kept (path, text),
         "%s: the release frees the lock while the caller keeps a dup of "
         "portalock_fd's descriptor", bname);
  if (copy >= 0)
    close (copy);

  copy = -1;
  FILE *stream = NULL;
  if (portalock_acquire (lock) == 0)
    stream = portalock_stream (lock);
  if (stream != NULL)
    copy = dup (fileno (stream));
  check (copy >= 0 && portalock_release (lock) == 0
         && free_and_kept (path, text),
         "%s: the release frees the lock while the caller keeps a dup of "
         "the stream's descriptor", bname);
  if (copy >= 0)
    close (copy);

  /* The child keeps its copy of the descriptor until told to exit.  */
  int go[2];
  if (pipe2 (go, O_CLOEXEC) != 0)
    die ("pipe");
  if (portalock_acquire (lock) != 0)
    die ("acquire");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      char c;
      close (go[1]);
      IGNORE_RESULT (read (go[0], &c, 1));
      _exit (0);
    }
  close (go[0]);
  check (portalock_release (lock) == 0 && free_and_kept (path, text),
         "%s: the release frees the lock while a forked child is alive "
         "with its copy of the descriptor", bname);
  close (go[1]);
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0
         && portalock_acquire (lock) == 0 && portalock_release (lock) == 0
         && free_and_kept (path, text),
         "%s: ... and the next acquire and release after the child is gone "
         "free it too", bname);
  portalock_free (lock);
}
#else
static void
test_release_with_copies (void)
{
  unsupported ("%s: a release while copies of the descriptor live: needs "
               "dup of a POSIX descriptor and fork (POSIX only)", bname);
}
#endif

/* The ways the path can stop naming the locked file, and what the
   identity check has to see in each: a deletion and a rename over the
   file leave the old inode with no link (st_nlink 0); a rename of the
   file away, and a rename over it of a file with another link, leave it
   with links, so only a look-up of the path can tell.  */
enum change { DELETED, RENAMED_OVER, RENAMED_AWAY, LINKED_RENAMED_OVER,
              CHANGES };

static const char *const change_names[] =
  { "deleted", "replaced by a rename", "renamed away",
    "replaced by a rename though linked elsewhere" };

#if TEST_POSIX
/* Return true if the path can be changed as HOW says while the file is
   open.  */
static bool
change_possible (enum change how)
{
  (void) how;
  return true;
}

/* Give the file PATH the second name NAME.  */
static int
make_link (const char *path, const char *name)
{
  return link (path, name);
}
#else
/* Windows refuses to replace a file while another handle has it open
   (doc/windows.texi, "Atomic writes on Windows"), so only a deletion
   and a rename away can happen to a held lock file there.  And Wine,
   unlike Windows, shows a deleted file that is still open as if it
   were not deleted (at its name, DeletePending false) until its last
   handle closes, so a deletion cannot be seen under Wine: only the
   rename away is tested.  */
static bool
change_possible (enum change how)
{
  return how == RENAMED_AWAY;
}

static int
make_link (const char *path, const char *name)
{
  return CreateHardLinkA (name, path, NULL) ? 0 : -1;
}
#endif

/* Make the path stop naming the file now open there, as HOW says.  */
static void
change_file (const char *path, enum change how)
{
  char other[4096], link_name[4096];
  snprintf (other, sizeof other, "%s.new", path);
  snprintf (link_name, sizeof link_name, "%s.link", path);
  switch (how)
    {
    case DELETED:
      unlink (path);
      break;
    case RENAMED_AWAY:
      unlink (other);
      rename (path, other);
      break;
    case LINKED_RENAMED_OVER:
      unlink (link_name);
      if (make_link (path, link_name) != 0)
        die ("link %s", path);
      /* Fall through.  */
    case RENAMED_OVER:
      write_file (other, "");
      rename (other, path);
      break;
    default:
      abort ();
    }
}

/* The identity check: a lock on a file deleted or replaced while
   waiting is dropped, and the acquire goes on with the new file.  */
static void
test_identity (void)
{
  const char *path = test_path ("ident");
  char other[4096], link_name[4096];
  snprintf (other, sizeof other, "%s.new", path);
  snprintf (link_name, sizeof link_name, "%s.link", path);

  for (int how = 0; how < CHANGES; how++)
    {
      const char *what = change_names[how];
      if (!change_possible (how))
        {
          unsupported ("%s: a lock file %s while held: %s", bname, what,
                       how == DELETED ? "Wine hides the pending deletion"
                       : "Windows refuses to replace an open file");
          continue;
        }
      struct holder h;
      if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
        die ("holder");
      portalock *lock = new_lock (path);
      portalock_set_timeout (lock, 60);
      struct waiter w = { .lock = lock };
      pthread_t t;
      pthread_create (&t, NULL, wait_thread, &w);
      await_blocked_waiter (path);
      change_file (path, how);
      holder_release (&h);
      pthread_join (t, NULL);
      errno = w.error;
      check (w.result == 0 && fd_names (portalock_fd (lock), path),
             "%s: a file %s while waiting: the lock is on the new file",
             bname, what);
      check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
             "%s: ... and excludes others there", bname);

      /* Acquiring again while the file was deleted or replaced under the
         held lock says so, and keeps the lock.  */
      int fd = portalock_fd (lock);
      change_file (path, how);
      check (fails_with (portalock_acquire (lock), ESTALE)
             && portalock_fd (lock) == fd,
             "%s: acquire of a held lock whose file was %s: ESTALE", bname,
             what);
      check (portalock_release (lock) == 0, "%s: ... and it releases",
             bname);
      portalock_free (lock);
      unlink (path);
      unlink (other);
      unlink (link_name);
    }
}

/* Hold PATH in another process while LOCK waits for it in a thread,
   make the path stop naming the file as HOW says, and let go.  Return
   LOCK's acquire result (errno set), or -2 if the waiter could not be
   seen blocked before the change (Windows shows no waiting lock call).  */
static int
acquire_across_change (portalock *lock, const char *path, enum change how)
{
  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    die ("holder");
  struct waiter w = { .lock = lock };
  pthread_t t;
  pthread_create (&t, NULL, wait_thread, &w);
  bool seen = await_blocked_waiter (path);
  change_file (path, how);
  holder_release (&h);
  pthread_join (t, NULL);
  errno = w.error;
  return seen ? w.result : -2;
}

/* With the identity check off, LOCK (on PATH, freed here) acquires
   across HOW done to a file holding CONTENT while it waits.  It must
   check all the same: it ends up holding the file PATH now names, and
   the old file, if renamed away to PATH.new, still holds KEPT (unless
   KEPT is NULL).  */
static void
checked_anyway (portalock *lock, const char *path, const char *kind,
                enum change how, const char *content, const char *kept)
{
  char other[4096];
  snprintf (other, sizeof other, "%s.new", path);
  portalock_set_identity_check (lock, false);
  portalock_set_timeout (lock, 60);
  write_file (path, content);
  int r = change_possible (how) ? acquire_across_change (lock, path, how)
          : -2;
  if (r == -2)
    unsupported ("%s: identity check off, %s: a file %s while waiting "
                 "cannot be seen here", bname, kind, change_names[how]);
  else
    check (r == 0 && fd_names (portalock_fd (lock), path)
           && (kept == NULL || has_text (other, kept)),
           "%s: identity check off, %s: a file %s while waiting: checked "
           "all the same%s", bname, kind, change_names[how],
           kept == NULL ? "" : "; the old file keeps what it held");
  portalock_release (lock);
  portalock_free (lock);
  unlink (path);
  unlink (other);
}

/* portalock_set_identity_check (lock, false): the look-up after the
   grant is skipped, so a lock on a file replaced while waiting is
   reported held, and a held object's acquire says nothing of a
   change; but an acquire that would write to the file (mode "w") or
   delete it (a temporary lock) checks all the same.  */
static void
test_identity_off (void)
{
  const char *path = test_path ("identoff");
  char other[4096], link_name[4096];
  snprintf (other, sizeof other, "%s.new", path);
  snprintf (link_name, sizeof link_name, "%s.link", path);

  portalock *lock = new_lock (path);
  check (fails_with (portalock_set_identity_check (NULL, false), EINVAL),
         "%s: identity check off: a NULL object is EINVAL", bname);
  check (portalock_acquire (lock) == 0
         && fails_with (portalock_set_identity_check (lock, false), EBUSY)
         && portalock_release (lock) == 0,
         "%s: identity check off: EBUSY while held", bname);
  check (portalock_set_identity_check (lock, false) == 0
         && portalock_set_timeout (lock, 60) == 0,
         "%s: identity check off: set", bname);

  for (int how = 0; how < CHANGES; how++)
    {
      const char *what = change_names[how];
      if (!change_possible (how))
        continue;
      write_file (path, "");
      struct stat old;
      if (stat (path, &old) != 0)
        die ("stat %s", path);
      int r = acquire_across_change (lock, path, how);
      if (r == -2)
        {
          unsupported ("%s: identity check off: a file %s while waiting: "
                       "the waiter cannot be seen blocked here", bname, what);
          portalock_release (lock);
          continue;
        }
      struct stat held;
      check (r == 0 && fstat (portalock_fd (lock), &held) == 0
             && held.st_ino == old.st_ino
             && !fd_names (portalock_fd (lock), path),
             "%s: identity check off: a file %s while waiting: held, on "
             "the old file", bname, what);
      check (portalock_release (lock) == 0,
             "%s: ... and it releases", bname);
      unlink (path);
      unlink (other);
      unlink (link_name);
    }

  /* A held object's acquire looks nothing up: no ESTALE.  */
  if (change_possible (RENAMED_AWAY))
    {
      write_file (path, "");
      check (portalock_acquire (lock) == 0, "%s: identity check off: "
             "acquire", bname);
      int fd = portalock_fd (lock);
      change_file (path, RENAMED_AWAY);
      check (portalock_acquire (lock) == 0 && portalock_fd (lock) == fd,
             "%s: identity check off: acquire of a held lock whose file "
             "was renamed away: 0, as held", bname);
      portalock_release (lock);
      unlink (other);
    }
  portalock_free (lock);

  /* An acquire that writes to the file or may delete it checks all the
     same.  Mode "w" truncates: the file renamed away keeps its data.  */
  lock = new_lock (path);
  portalock_set_mode (lock, "w");
  checked_anyway (lock, path, "mode w", RENAMED_AWAY, "precious\n",
                  "precious\n");
  /* A PID lock writes its record: nothing goes to the file renamed
     away.  */
  lock = new_lock (path);
  portalock_set_record_pid (lock, true);
  checked_anyway (lock, path, "PID record", RENAMED_AWAY, "", "");
  /* A temporary lock deletes its file: every acquirer turns a deleted
     file away.  */
  lock = new_lock (path);
  portalock_set_temporary (lock, true);
  checked_anyway (lock, path, "temporary", DELETED, "", NULL);
}

static void
test_rlock (void)
{
  const char *path = test_path ("rlock");
  portalock *lock = new_lock (path), *other = new_lock (path);
  portalock_set_reentrant (lock, true);
  portalock_set_timeout (other, 0.01);

  check (fails_with (portalock_release (lock), EINVAL),
         "%s: RLock: releasing an unheld RLock: EINVAL", bname);
  check (portalock_acquire (lock) == 0, "%s: RLock: acquire", bname);
  int fd = portalock_fd (lock);
  /* In the same thread, the wait could never end: EDEADLK at once.  */
  check (fails_with (portalock_acquire (other), EDEADLK),
         "%s: RLock: another object of this thread cannot acquire "
         "(EDEADLK)", bname);
  check (portalock_acquire (lock) == 0 && portalock_acquire (lock) == 0
         && portalock_fd (lock) == fd,
         "%s: RLock: nested acquires keep the same descriptor", bname);
  check (portalock_release (lock) == 0 && portalock_release (lock) == 0
         && portalock_fd (lock) == fd
         && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: RLock: held until the count returns to zero", bname);
  check (portalock_release (lock) == 0 && portalock_fd (lock) == -1
         && probe (path, PORTALOCK_EX) == 0,
         "%s: RLock: the last release unlocks", bname);
  check (fails_with (portalock_release (lock), EINVAL),
         "%s: RLock: releasing more than acquired: EINVAL", bname);

  /* The count belongs to the object: another thread's acquire of the
     same object counts too.  */
  portalock_acquire (lock);
  struct waiter w = { .lock = lock };
  pthread_t t;
  pthread_create (&t, NULL, wait_thread, &w);
  pthread_join (t, NULL);
  check (w.result == 0 && portalock_release (lock) == 0
         && portalock_fd (lock) == fd
         && portalock_release (lock) == 0 && portalock_fd (lock) == -1,
         "%s: RLock: the count is per object, not per thread", bname);

  portalock_acquire (lock);
  portalock_acquire (lock);
  portalock_free (lock);
  check (probe (path, PORTALOCK_EX) == 0,
         "%s: RLock: free releases however deep the count", bname);
  portalock_free (other);
}

static void
test_temporary (void)
{
  const char *path = test_path ("temp");
  portalock *lock = new_lock (path);
  portalock_set_temporary (lock, true);

  for (int i = 0; i < 2; i++)
    check (portalock_acquire (lock) == 0 && exists (path)
           && portalock_release (lock) == 0 && !exists (path),
           "%s: temporary: the file exists while held, is deleted on "
           "release (cycle %d)", bname, i + 1);

  /* A release that holds nothing deletes nothing.  */
  portalock *holder = new_lock (path);
  portalock_set_temporary (holder, true);
  portalock_acquire (holder);
  check (portalock_release (lock) == 1 && exists (path),
         "%s: temporary: a stale release keeps the holder's file", bname);
  /* A third party deleted the file: release copes.  */
  unlink (path);
  check (portalock_release (holder) == 0 && !exists (path),
         "%s: temporary: release of a file someone deleted", bname);
  portalock_free (holder);
  portalock_free (lock);
}

#if TEST_POSIX
/* Waiters turn away from the deleted inode.  */
static void
test_temporary_waiter (void)
{
  const char *path = test_path ("temp");
  portalock *lock = new_lock (path);
  portalock_set_temporary (lock, true);
  pid_t pid;
  int go[2], ready[2];
  if (pipe2 (go, O_CLOEXEC) != 0 || pipe2 (ready, O_CLOEXEC) != 0)
    die ("pipe");
  pid = fork ();
  if (pid == 0)
    {
      char c;
      portalock *l = new_lock (path);
      portalock_set_temporary (l, true);
      if (portalock_acquire (l) != 0)
        _exit (1);
      c = 'L';
      IGNORE_RESULT (write (ready[1], &c, 1));
      IGNORE_RESULT (read (go[0], &c, 1));
      portalock_free (l);
      _exit (0);
    }
  char c;
  IGNORE_RESULT (read (ready[0], &c, 1));
  portalock_set_timeout (lock, 60);
  struct waiter w = { .lock = lock };
  pthread_t t;
  pthread_create (&t, NULL, wait_thread, &w);
  await_blocked_waiter (path);
  IGNORE_RESULT (write (go[1], &c, 1));
  waitpid (pid, NULL, 0);
  pthread_join (t, NULL);
  check (w.result == 0 && fd_names (portalock_fd (lock), path),
         "%s: temporary: a waiter woken by the deleting release locks a "
         "fresh file", bname);
  portalock_release (lock);
  close (go[0]);
  close (go[1]);
  close (ready[0]);
  close (ready[1]);
  portalock_free (lock);
}
#else
/* A waiter on a temporary lock whose holder deletes it.  No fork here:
   the holder is another object of this process, which excludes this
   one as another process would (doc/objects.texi).  On Windows the
   deleted file keeps its name until the waiter's handle closes too
   (doc/windows.texi, "Files on Windows"), so the waiter has to see the
   pending deletion and open the path again; Wine shows no pending
   deletion, and there the waiter keeps the file, which Wine deletes
   only at the waiter's release.  Either way the waiter must end up
   holding the file the path names, excluding others, and delete it.  */
static void
test_temporary_waiter (void)
{
  const char *path = test_path ("temp");
  portalock *lock = new_lock (path), *holder = new_lock (path);
  portalock_set_temporary (lock, true);
  portalock_set_temporary (holder, true);
  if (portalock_acquire (holder) != 0)
    die ("acquire");
  portalock_set_timeout (lock, 60);
  struct waiter w = { .lock = lock };
  pthread_t t;
  pthread_create (&t, NULL, wait_thread, &w);
  await_blocked_waiter (path);
  portalock_free (holder);
  pthread_join (t, NULL);
  errno = w.error;
  check (w.result == 0 && fd_names (portalock_fd (lock), path),
         "%s: temporary: a waiter woken by the deleting release locks a "
         "fresh file", bname);
  check (probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: ... and excludes others there", bname);
  check (portalock_release (lock) == 0 && !exists (path),
         "%s: ... and deletes it on release", bname);
  portalock_free (lock);
}
#endif

#if TEST_POSIX
/* Special files planted at a temporary lock's path.  */
static void
test_temporary_planted (void)
{
  const char *path = test_path ("temp");
  portalock *lock = new_lock (path);
  portalock_set_temporary (lock, true);

  /* A planted symbolic link is never followed.  */
  const char *target = test_path ("target");
  if (symlink (target, path) != 0)
    die ("symlink");
  check (fails_with (portalock_acquire (lock), ELOOP) && !exists (target),
         "%s: temporary: a planted symlink: ELOOP, its target not created",
         bname);
  unlink (path);
  mkfifo (path, 0644);
  check (fails_with (portalock_acquire (lock), EINVAL),
         "%s: temporary: a planted FIFO: EINVAL, no hang", bname);
  check (portalock_release (lock) == 1 && exists (path),
         "%s: ... nothing held, the FIFO left alone", bname);
  unlink (path);
  int sock = plant_socket (path);
  check (fails_with (portalock_acquire (lock), EINVAL),
         "%s: temporary: a planted socket: EINVAL", bname);
  check (portalock_release (lock) == 1 && exists (path),
         "%s: ... nothing held, the socket left alone", bname);
  close (sock);
  unlink (path);

  /* Something put at the path while the lock is held is not the file
     the object locked: the release deletes nothing.  */
  const char *fifo = test_path ("temp-fifo");
  mkfifo (fifo, 0644);
  check (portalock_acquire (lock) == 0 && rename (fifo, path) == 0
         && portalock_release (lock) == 0 && exists (path),
         "%s: temporary: a FIFO renamed over the held file is not deleted "
         "on release", bname);
  unlink (path);
  portalock_free (lock);
}
#else
static void
test_temporary_planted (void)
{
  unsupported ("%s: temporary: planted symbolic links, FIFOs and sockets "
               "(POSIX only)", bname);
}
#endif

#if TEST_POSIX
/* A lock object on a FIFO: the open never blocks, so a timeout of 0 and
   fail_when_locked hold; the lock is on the FIFO's inode.  In a child,
   so that a blocking open (the bug) ends with the alarm, not a hung
   suite.  Exit codes: 0 as it should, 1 the free FIFO was not locked, 2
   the held one was, 3 no EWOULDBLOCK, 4 setup.  */
static int
lock_fifo (const char *path, bool fail_when_locked)
{
  alarm (30);
  portalock *lock = new_lock (path);
  if (portalock_set_mode (lock, "r") != 0
      || (fail_when_locked
          ? portalock_set_fail_when_locked (lock, true)
          : portalock_set_timeout (lock, 0)) != 0)
    return 4;
  if (portalock_acquire (lock) != 0 || portalock_release (lock) != 0)
    return 1;
  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    return 4;
  int r = portalock_acquire (lock);
  int e = errno;
  holder_release (&h);
  if (r == 0)
    return 2;
  return e == EWOULDBLOCK ? 0 : 3;
}

static void
test_fifo (void)
{
  const char *path = test_path ("fifo");
  if (mkfifo (path, 0644) != 0)
    die ("mkfifo");
  for (int fail = 0; fail < 2; fail++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        _exit (lock_fifo (path, fail));
      int status;
      waitpid (pid, &status, 0);
      check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "%s: a FIFO nobody has open, mode \"r\", %s: locked at once, "
             "and EWOULDBLOCK while another process holds it (status %s%d)",
             bname, fail ? "fail_when_locked" : "timeout 0",
             WIFEXITED (status) ? "exit " : "signal ",
             WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
    }
  unlink (path);
}
#else
static void
test_fifo (void)
{
  unsupported ("%s: a lock object on a FIFO: needs mkfifo (POSIX only)",
               bname);
}
#endif

#if TEST_POSIX
/* A forked child's copy of LOCK, held exclusive on PATH, holds nothing:
   its conversion must not change the parent's lock, which flock and OFD
   locks share with the child's inherited descriptor.  */
static void
test_convert_fork (portalock *lock, const char *path)
{
  if (portalock_convert (lock, PORTALOCK_EX) != 0)
    die ("convert");
  pid_t pid = fork ();
  if (pid == 0)
    _exit (fails_with (portalock_convert (lock, PORTALOCK_SH), EINVAL)
           && portalock_fd (lock) == -1 ? 0 : 1);
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: convert in a forked child: EINVAL, the child holds nothing",
         bname);
  check (probe (path, PORTALOCK_SH) == EWOULDBLOCK
         && portalock_fd (lock) >= 0,
         "%s: ... and the parent's lock stays exclusive: a third process "
         "is refused", bname);
}
#else
static void
test_convert_fork (portalock *lock, const char *path)
{
  (void) lock;
  (void) path;
  unsupported ("%s: convert in a forked child: needs fork (POSIX only)",
               bname);
}
#endif

static void
test_convert (void)
{
  const char *path = test_path ("conv");
  portalock *lock = new_lock (path);

  portalock_acquire (lock);
  if (!has_shared)
    {
      check (fails_with (portalock_convert (lock, PORTALOCK_SH), ENOTSUP)
             && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
             "%s: convert to shared: ENOTSUP, still exclusive", bname);
      portalock_free (lock);
      return;
    }
  check (portalock_convert (lock, PORTALOCK_EX) == 0,
         "%s: convert to the lock held is a no-op", bname);
  check (portalock_convert (lock, PORTALOCK_SH) == 0
         && probe (path, PORTALOCK_SH) == 0
         && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: convert exclusive to shared", bname);

  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_SH, 0, 0))
    die ("holder");
  check (fails_with (portalock_convert (lock, PORTALOCK_EX | PORTALOCK_NB),
                     EWOULDBLOCK),
         "%s: convert to exclusive while another process shares: "
         "EWOULDBLOCK", bname);
  check (portalock_fd (lock) >= 0 && probe (path, PORTALOCK_EX)
         == EWOULDBLOCK && probe (path, PORTALOCK_SH) == 0,
         "%s: ... and the shared lock is still held", bname);
  holder_release (&h);
  check (portalock_fd (lock) >= 0 && probe (path, PORTALOCK_EX)
         == EWOULDBLOCK,
         "%s: ... and still excludes once the other process is gone", bname);
  check (portalock_convert (lock, PORTALOCK_EX) == 0
         && probe (path, PORTALOCK_SH) == EWOULDBLOCK,
         "%s: convert shared to exclusive", bname);

  test_convert_fork (lock, path);

  /* In one process, as between processes.  */
  portalock *other = new_lock (path);
  portalock_convert (lock, PORTALOCK_SH);
  portalock_set_flags (other, PORTALOCK_SH);
  portalock_acquire (other);
  check (fails_with (portalock_convert (lock, PORTALOCK_EX | PORTALOCK_NB),
                     EWOULDBLOCK)
         && portalock_fd (lock) >= 0,
         "%s: convert to exclusive while another object shares: "
         "EWOULDBLOCK", bname);
  portalock_free (other);
  check (portalock_fd (lock) >= 0
         && portalock_convert (lock, PORTALOCK_EX) == 0
         && probe (path, PORTALOCK_SH) == EWOULDBLOCK,
         "%s: ... and then converts once it is alone", bname);
  portalock_release (lock);

  if (checks_access)
    {
      portalock_set_mode (lock, "r");
      portalock_set_flags (lock, PORTALOCK_SH);
      check (portalock_acquire (lock) == 0
             && fails_with (portalock_convert (lock, PORTALOCK_EX), EBADF)
             && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
             "%s: a read-only shared object cannot become exclusive: EBADF",
             bname);
    }
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  bname = argv[1];
  backend = backend_from_args (argc, argv, 2, "objlock BACKEND LOCKPROBE");
  if (backend == 0)
    return check_exit ();
  lockprobe = argv[2];
  has_shared = backend != PORTALOCK_BACKEND_LOCKF;
  checks_access = backend != PORTALOCK_BACKEND_FLOCK;

  test_lifecycle ();
  test_stream_write_error ();
  test_modes ();
  test_creation_mode ();
  test_waiting ();
  test_bad_input ();
  test_permission ();
  test_read_only ();
  test_threads ();
  test_deadlock_view ();
  test_independence ();
  test_exec_and_fork ();
  test_release_with_copies ();
  test_identity ();
  test_identity_off ();
  test_rlock ();
  test_temporary ();
  test_temporary_waiter ();
  test_temporary_planted ();
  test_fifo ();
  test_convert ();
  return check_exit ();
}
