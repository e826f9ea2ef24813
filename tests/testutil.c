/* testutil.c: reporting and process helpers for the test programs.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portalock.h"

static int reported;
static int failed;

static void
vreport (const char *kind, const char *name, va_list ap, int error)
{
  printf ("%s: ", kind);
  vprintf (name, ap);
  if (error)
    printf (" (errno %d, %s)", error, strerror (error));
  putchar ('\n');
  fflush (stdout);
}

bool
check (bool ok, const char *name, ...)
{
  int error = errno;
  va_list ap;
  va_start (ap, name);
  vreport (ok ? "PASS" : "FAIL", name, ap, ok ? 0 : error);
  va_end (ap);
  reported++;
  failed += !ok;
  errno = error;
  return ok;
}

void
unsupported (const char *name, ...)
{
  va_list ap;
  va_start (ap, name);
  vreport ("UNSUPPORTED", name, ap, 0);
  va_end (ap);
  reported++;
}

int
check_exit (void)
{
  return reported > 0 ? 0 : 1;
}

void
die (const char *what, ...)
{
  int error = errno;
  va_list ap;
  va_start (ap, what);
  vreport ("FAIL", what, ap, error);
  va_end (ap);
  exit (1);
}

static char *tmpdir;
static pid_t tmpdir_owner;

static int
remove_one (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

static void
remove_tmpdir (void)
{
  if (tmpdir != NULL && getpid () == tmpdir_owner)
    nftw (tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
test_path (const char *name)
{
  static char paths[64][4096];
  static unsigned next;
  /* Threads of a test may ask at once.  */
  char *path = paths[__atomic_fetch_add (&next, 1, __ATOMIC_RELAXED) % 64];
  if (tmpdir == NULL)
    {
      const char *base = getenv ("TMPDIR");
      static char templ[4096];
      snprintf (templ, sizeof templ, "%s/portalock-test.XXXXXX",
                base != NULL && *base != '\0' ? base : "/tmp");
      tmpdir = mkdtemp (templ);
      if (tmpdir == NULL)
        die ("mkdtemp %s", templ);
      tmpdir_owner = getpid ();
      atexit (remove_tmpdir);
    }
  snprintf (path, sizeof paths[0], "%s/%s", tmpdir, name);
  return path;
}

FILE *
command_output (const char *const *argv, pid_t *pid)
{
  int p[2];
  if (pipe (p) != 0)
    die ("pipe");
  fflush (NULL);
  *pid = fork ();
  if (*pid < 0)
    die ("fork");
  if (*pid == 0)
    {
      dup2 (p[1], 1);
      close (p[0]);
      close (p[1]);
      execv (argv[0], (char **) argv);
      _exit (127);
    }
  close (p[1]);
  FILE *in = fdopen (p[0], "r");
  if (in == NULL)
    die ("fdopen");
  return in;
}

bool
command_succeeded (FILE *in, pid_t pid)
{
  fclose (in);
  int status;
  return (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
          && WEXITSTATUS (status) == 0);
}

bool
fails_with (int r, int error)
{
  return r == -1 && errno == error;
}

bool
failed_with (bool failed, int error)
{
  return failed && errno == error;
}

int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  if (d == NULL)
    return -1;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  closedir (d);
  return n;
}

int
count_fds (void)
{
  return count_entries ("/proc/self/fd");
}

int
count_threads (void)
{
  return count_entries ("/proc/self/task");
}

double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
open_for (const char *path, int flags)
{
  int mode = (flags & PORTALOCK_SH) ? O_RDONLY : O_RDWR;
  return open (path, mode | O_CREAT | O_CLOEXEC, 0644);
}

bool
holder_start (struct holder *h, const char *path, int backend, int flags,
              off_t start, off_t length)
{
  int down[2], up[2];
  if (pipe2 (down, O_CLOEXEC) != 0 || pipe2 (up, O_CLOEXEC) != 0)
    die ("pipe");
  h->pid = fork ();
  if (h->pid < 0)
    die ("fork");
  if (h->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      int fd = open_for (path, flags);
      if (fd < 0
          || portalock_backend_lock (backend, fd, flags, start, length,
                                     30) != 0)
        {
          int e = errno;
          unsigned char code = 'E';
          IGNORE_RESULT (write (up[1], &code, 1));
          IGNORE_RESULT (write (up[1], &e, sizeof e));
          _exit (1);
        }
      char c = 'L';
      IGNORE_RESULT (write (up[1], &c, 1));
      IGNORE_RESULT (read (down[0], &c, 1));
      portalock_backend_lock (backend, fd, PORTALOCK_UN, start, length, 0);
      c = 'U';
      IGNORE_RESULT (write (up[1], &c, 1));
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  h->to_child = down[1];
  h->from_child = up[0];
  char c = 0;
  if (read (h->from_child, &c, 1) != 1 || c != 'L')
    {
      int e = EIO;
      if (c == 'E')
        IGNORE_RESULT (read (h->from_child, &e, sizeof e));
      close (h->to_child);
      close (h->from_child);
      waitpid (h->pid, NULL, 0);
      errno = e;
      return false;
    }
  return true;
}

void
holder_release (struct holder *h)
{
  char c = 'R';
  IGNORE_RESULT (write (h->to_child, &c, 1));
  IGNORE_RESULT (read (h->from_child, &c, 1));
  close (h->to_child);
  close (h->from_child);
  waitpid (h->pid, NULL, 0);
}

void
holder_kill (struct holder *h)
{
  kill (h->pid, SIGKILL);
  waitpid (h->pid, NULL, 0);
  close (h->to_child);
  close (h->from_child);
}

int
probe_lock (const char *path, int backend, int flags, off_t start,
            off_t length)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      int fd = open_for (path, flags);
      if (fd < 0)
        _exit (255);
      if (portalock_backend_lock (backend, fd, flags | PORTALOCK_NB, start,
                                  length, 0) == 0)
        _exit (0);
      _exit (errno & 0xff);
    }
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
    die ("probe process");
  return WEXITSTATUS (status);
}

bool
await_blocked_waiter (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return false;
  char needle[64];
  snprintf (needle, sizeof needle, ":%llu ", (unsigned long long) st.st_ino);
  for (int tries = 0; tries < 10000; tries++)
    {
      FILE *f = fopen ("/proc/locks", "r");
      if (f == NULL)
        return false;
      char line[512];
      bool seen = false;
      while (!seen && fgets (line, sizeof line, f) != NULL)
        seen = strstr (line, "->") != NULL && strstr (line, needle) != NULL;
      fclose (f);
      if (seen)
        return true;
      usleep (1000);
    }
  return false;
}

int
backend_from_args (int argc, char **argv, int nargs, const char *usage)
{
  if (argc != nargs + 1)
    die ("usage: %s", usage);
  int b = portalock_backend_from_name (argv[1]);
  if (b <= 0)
    die ("no backend %s", argv[1]);
  if (!portalock_backend_available (b))
    {
      unsupported ("%s: not built here", argv[1]);
      return 0;
    }
  return b;
}

portalock *
new_backend_lock (const char *path, int backend)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_backend (lock, backend) != 0)
    die ("portalock_new %s", path);
  return lock;
}

bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

void
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t) strlen (text)
      || close (fd) != 0)
    die ("write %s", path);
}

bool
has_text (const char *path, const char *text)
{
  char buf[1024];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp (buf, text) == 0;
}

bool
fd_names (int fd, const char *path)
{
  struct stat a, b;
  return (fd >= 0 && fstat (fd, &a) == 0 && stat (path, &b) == 0
          && a.st_dev == b.st_dev && a.st_ino == b.st_ino
          && a.st_nlink > 0);
}
