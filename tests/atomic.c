/* atomic.c: tests of atomic file writes (portalock_atomic_*).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <poll.h>
# include <signal.h>
# include <sys/resource.h>
# include <sys/wait.h>
#else
/* A Windows build: the other process of a check is a copy of this
   program (w32child.h).  */
# include <direct.h>
# include <io.h>
# include <windows.h>
# include "w32child.h"
#endif

#ifndef NAME_MAX
# define NAME_MAX 255
#endif

/* This program's name, for the other process on Windows.  */
static const char *self;

/* Make a fresh empty directory for one test and return its path.  */
static const char *
fresh_dir (const char *name)
{
  const char *dir = test_path (name);
  if (make_dir (dir) != 0)
    die ("mkdir %s", dir);
  return dir;
}

/* Return a malloc'd "DIR/NAME".  */
static char *
join (const char *dir, const char *name)
{
  char *path;
  if (asprintf (&path, "%s/%s", dir, name) < 0)
    die ("asprintf");
  return path;
}

/* Return the content of PATH as a malloc'd string, or NULL.  */
static char *
slurp (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_BINARY);
  if (fd < 0)
    return NULL;
  size_t size = 0, room = 256;
  char *buf = malloc (room);
  for (ssize_t n; (n = read (fd, buf + size, room - size - 1)) > 0;)
    {
      size += n;
      if (room - size < 2)
        buf = realloc (buf, room *= 2);
    }
  buf[size] = '\0';
  close (fd);
  return buf;
}

static bool
content_is (const char *path, const char *expected)
{
  char *got = slurp (path);
  bool ok = got != NULL && strcmp (got, expected) == 0;
  free (got);
  return ok;
}

static void
test_publish (void)
{
  const char *dir = fresh_dir ("publish");
  char *path = join (dir, "destination.bin");
  int fds = count_fds ();

  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL, "open a new file");
  check (count_entries (dir) == 1 && access (path, F_OK) != 0,
         "before the commit only a temporary file exists");
  FILE *f = portalock_atomic_stream (a);
  check (f != NULL && portalock_atomic_stream (a) == f,
         "the stream is made once");
  check (fputs ("published payload", f) >= 0, "write to the stream");
  check (portalock_atomic_commit (a) == 0, "commit");
  check (content_is (path, "published payload"), "the target has the "
         "content written");
  check (count_entries (dir) == 1, "no temporary file is left behind");
  check (count_fds () == fds, "no descriptor is left open");
  free (path);

  path = join (dir, "by-fd");
  a = portalock_atomic_open (path, 0, 0644);
  int fd = portalock_atomic_fd (a);
  check (fd >= 0 && not_inherited (fd),
         "the descriptor is close-on-exec");
  check (write (fd, "by descriptor", 13) == 13
         && portalock_atomic_commit (a) == 0
         && content_is (path, "by descriptor"),
         "write through the descriptor and commit");
  free (path);

  path = join (dir, "empty");
  a = portalock_atomic_open (path, 0, 0644);
  check (portalock_atomic_commit (a) == 0 && content_is (path, ""),
         "a commit with nothing written makes an empty file");
  check (count_entries (dir) == 3 && count_fds () == fds,
         "three files, no descriptor left");

  /* A target name as long as a name may be: the temporary's name is
     cut short, the target's is not.  On Windows the whole path must
     also be shorter than PATH_MAX, 260 bytes, which a name of NAME_MAX
     bytes in the temporary directory is not: there the name is as long
     as the path allows.  */
  size_t room = PATH_MAX - 2 - strlen (dir);
  size_t length = room < NAME_MAX ? room : NAME_MAX;
  char longname[NAME_MAX + 1];
  memset (longname, 'n', length);
  longname[length] = '\0';
  free (path);
  path = join (dir, longname);
  a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL && portalock_atomic_commit (a) == 0
         && access (path, F_OK) == 0, "a target name of %s bytes",
         length == NAME_MAX ? "NAME_MAX" : "PATH_MAX less the directory's");
  free (path);
}

static void
test_no_replace (void)
{
  const char *dir = fresh_dir ("noreplace");
  char *path = join (dir, "target");
  write_file (path, "existing destination");

  errno = 0;
  check (failed_with (portalock_atomic_open (path, 0, 0644) == NULL, EEXIST),
         "an existing target without REPLACE: EEXIST at open");
  check (content_is (path, "existing destination")
         && count_entries (dir) == 1, "the existing target is untouched");

  /* The target appears between open and commit: the commit refuses and
     the file that got there first stays.  */
  char *late = join (dir, "late");
  portalock_atomic *a = portalock_atomic_open (late, 0, 0644);
  fputs ("temporary payload", portalock_atomic_stream (a));
  write_file (late, "concurrent winner");
  errno = 0;
  check (failed_with (portalock_atomic_commit (a) != 0, EEXIST),
         "a target created before the commit: EEXIST");
  check (content_is (late, "concurrent winner"), "the concurrent winner "
         "is kept");
  check (count_entries (dir) == 2, "the temporary file is gone");
  free (late);
  free (path);
}

/* A dangling symbolic link is a name that exists.  */
#if TEST_POSIX
static void
test_dangling_link (void)
{
  const char *dir = fresh_dir ("dangling");
  char *link = join (dir, "dangling");
  if (symlink ("nowhere", link) != 0)
    die ("symlink");
  errno = 0;
  check (failed_with (portalock_atomic_open (link, 0, 0644) == NULL, EEXIST),
         "a dangling symbolic link as target: EEXIST");
  free (link);
}
#else
static void
test_dangling_link (void)
{
  unsupported ("a dangling symbolic link as target: needs symlink "
               "(POSIX only)");
}
#endif

/* Two processes write the same new file; the first to commit wins.  */
#if TEST_POSIX
static void
test_race (void)
{
  const char *dir = fresh_dir ("race");
  char *path = join (dir, "target");
  int go[2], ready[2];
  if (pipe (go) != 0 || pipe (ready) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
      if (a == NULL)
        _exit (2);
      fputs ("loser", portalock_atomic_stream (a));
      char c = 'R';
      IGNORE_RESULT (write (ready[1], &c, 1));
      IGNORE_RESULT (read (go[0], &c, 1));
      free (path);
      _exit (portalock_atomic_commit (a) != 0 && errno == EEXIST ? 0 : 1);
    }
  char c;
  if (read (ready[0], &c, 1) != 1)
    die ("child did not start");
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("winner", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0, "the first process commits");
  IGNORE_RESULT (write (go[1], &c, 1));
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "the second process's commit fails with EEXIST");
  check (content_is (path, "winner") && count_entries (dir) == 1,
         "the winner's file stays, nothing else");
  close (go[0]);
  close (go[1]);
  close (ready[0]);
  close (ready[1]);
  free (path);
}
#else
/* The other process runs "self race PATH IN OUT" (race_main).  */
static void
test_race (void)
{
  const char *dir = fresh_dir ("race");
  char *path = join (dir, "target");
  struct child c;
  const char *args[] = { self, "race", path, NULL };
  child_start (&c, self, args);
  if (child_answer (&c) != 'R')
    die ("child did not start");
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("winner", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0, "the first process commits");
  check (child_order (&c, 'C') == '0',
         "the second process's commit fails with EEXIST");
  child_finish (&c);
  check (content_is (path, "winner") && count_entries (dir) == 1,
         "the winner's file stays, nothing else");
  free (path);
}

/* The other process of test_race: open PATH, write, answer 'R' (or 'E'
   if the open failed); told to, commit and answer '0' if the commit
   failed with EEXIST, else '1'.  */
static int
race_main (const char *path, int in, int out)
{
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  char c = a != NULL ? 'R' : 'E';
  IGNORE_RESULT (write (out, &c, 1));
  if (a == NULL)
    return 2;
  if (read (in, &c, 1) != 1)
    {
      portalock_atomic_abort (a);
      return 2;
    }
  fputs ("loser", portalock_atomic_stream (a));
  c = portalock_atomic_commit (a) != 0 && errno == EEXIST ? '0' : '1';
  IGNORE_RESULT (write (out, &c, 1));
  return 0;
}
#endif

static void
test_replace (void)
{
  const char *dir = fresh_dir ("replace");
  char *path = join (dir, "target");
  write_file (path, "old content");

  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  check (a != NULL, "REPLACE: open over an existing file");
  check (content_is (path, "old content"), "REPLACE: the old content stays "
         "until the commit");
  fputs ("new content", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0 && content_is (path, "new content"),
         "REPLACE: the commit replaces the content");
  check (count_entries (dir) == 1, "REPLACE: nothing left behind");

  char *fresh = join (dir, "fresh");
  a = portalock_atomic_open (fresh, PORTALOCK_ATOMIC_REPLACE, 0644);
  check (a != NULL && portalock_atomic_commit (a) == 0
         && access (fresh, F_OK) == 0, "REPLACE: a new file too");
  free (fresh);
  free (path);
}

/* A reader that has the old file open while it is replaced.  */
#if TEST_POSIX
static void
test_replace_reader (void)
{
  const char *dir = fresh_dir ("replace-reader");
  char *path = join (dir, "target");
  write_file (path, "old content");
  int old = open (path, O_RDONLY | O_CLOEXEC);
  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  fputs ("new content", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0 && content_is (path, "new content"),
         "REPLACE with a reader: the commit replaces the content");
  char buf[32] = "";
  check (read (old, buf, sizeof buf - 1) == 11
         && strcmp (buf, "old content") == 0,
         "REPLACE: a reader that opened the old file still reads it whole");
  close (old);
  check (count_entries (dir) == 1, "REPLACE with a reader: nothing left "
         "behind");
  free (path);
}
#else
/* Windows refuses to replace a file that another handle has open: after
   its retries the commit fails with EACCES, the target as it was and the
   temporary file deleted (doc/windows.texi, "Atomic writes on Windows":
   "Replacing a file that is being read").  */
static void
test_replace_reader (void)
{
  const char *dir = fresh_dir ("replace-reader");
  char *path = join (dir, "target");
  write_file (path, "old content");
  int old = open (path, O_RDONLY | O_CLOEXEC | O_BINARY);
  if (old < 0)
    die ("open %s", path);
  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  fputs ("new content", portalock_atomic_stream (a));
  errno = 0;
  check (failed_with (portalock_atomic_commit (a) != 0, EACCES),
         "REPLACE with a reader: Windows refuses, EACCES");
  char buf[32] = "";
  check (read (old, buf, sizeof buf - 1) == 11
         && strcmp (buf, "old content") == 0,
         "REPLACE with a reader: the reader reads the old file whole");
  close (old);
  check (content_is (path, "old content") && count_entries (dir) == 1,
         "REPLACE with a reader: the target as it was, nothing left "
         "behind");
  free (path);
}
#endif

/* A symbolic link is replaced itself, not followed.  */
#if TEST_POSIX
static void
test_replace_link (void)
{
  const char *dir = fresh_dir ("replace-link");
  char *path = join (dir, "target");
  write_file (path, "link target");
  char *link = join (dir, "link");
  if (symlink ("target", link) != 0)
    die ("symlink");
  portalock_atomic *a = portalock_atomic_open (link, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  fputs ("instead of the link", portalock_atomic_stream (a));
  struct stat st;
  check (portalock_atomic_commit (a) == 0 && lstat (link, &st) == 0
         && S_ISREG (st.st_mode) && content_is (path, "link target")
         && content_is (link, "instead of the link"),
         "REPLACE: a symbolic link is replaced, its target untouched");
  free (link);
  free (path);
}
#else
static void
test_replace_link (void)
{
  unsupported ("REPLACE: a symbolic link is replaced, its target untouched: "
               "needs symlink (POSIX only)");
}
#endif

static void
test_abort (void)
{
  const char *dir = fresh_dir ("abort");
  char *path = join (dir, "target");
  int fds = count_fds ();

  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("unpublished payload", portalock_atomic_stream (a));
  errno = 12345;
  portalock_atomic_abort (a);
  check (errno == 12345, "abort keeps errno");
  check (count_entries (dir) == 0 && count_fds () == fds,
         "abort leaves nothing behind");

  write_file (path, "kept");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  IGNORE_RESULT (write (portalock_atomic_fd (a), "lost", 4));
  portalock_atomic_abort (a);
  check (content_is (path, "kept") && count_entries (dir) == 1,
         "abort with REPLACE leaves the target as it was");
  errno = ENOSPC;
  portalock_atomic_abort (NULL);
  check (errno == ENOSPC, "abort (NULL) does nothing, errno kept");
  free (path);
}

#if TEST_POSIX
static void
test_permissions (void)
{
  const char *dir = fresh_dir ("modes");
  mode_t saved = umask (022);
  static const mode_t modes[][2] = {
    { 0644, 0644 }, { 0666, 0644 }, { 0600, 0600 }, { 0400, 0400 },
    { 0755, 0755 }
  };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "m%zu", i);
      char *path = join (dir, name);
      portalock_atomic *a = portalock_atomic_open (path, 0, modes[i][0]);
      struct stat st;
      check (a != NULL && portalock_atomic_commit (a) == 0
             && stat (path, &st) == 0
             && (st.st_mode & 07777) == modes[i][1],
             "mode %04o under umask 022 gives %04o", (unsigned) modes[i][0],
             (unsigned) modes[i][1]);
      free (path);
    }
  umask (saved);
}
#else
static void
test_permissions (void)
{
  unsupported ("file modes: not applied on Windows (doc/windows.texi, "
               "\"Atomic writes on Windows\")");
}
#endif

/* Check that a failed open returned NULL with ERROR, and that DIR still
   has ENTRIES entries and no descriptor was left open.  */
static void
check_refused (portalock_atomic *a, int error, const char *dir, int entries,
               int fds, const char *what)
{
  int e = errno;
  check (a == NULL && e == error, "%s: %s", what, strerror (error));
  if (a != NULL)
    portalock_atomic_abort (a);
  check (count_entries (dir) == entries && count_fds () == fds,
         "%s: nothing created, no descriptor left", what);
}

static void
test_bad_input (void)
{
  const char *dir = fresh_dir ("bad");
  char *path = join (dir, "target");
  char *file = join (dir, "file");
  write_file (file, "a file");
  char *subdir = join (dir, "subdir");
  if (make_dir (subdir) != 0)
    die ("mkdir");
  int fds = count_fds ();
  char *p;

  check_refused (portalock_atomic_open (NULL, 0, 0644), EINVAL, dir, 2, fds,
                 "a NULL path");
  check_refused (portalock_atomic_open (path, 4, 0644), EINVAL, dir, 2, fds,
                 "unknown flags");
  check_refused (portalock_atomic_open (path, -1, 0644), EINVAL, dir, 2, fds,
                 "flags -1");
  check_refused (portalock_atomic_open (path, 0, 010644), EINVAL, dir, 2, fds,
                 "mode bits beyond 07777");
  check_refused (portalock_atomic_open ("", 0, 0644), ENOENT, dir, 2, fds,
                 "an empty path");
  p = join (dir, "missing/target");
  check_refused (portalock_atomic_open (p, 0, 0644), ENOENT, dir, 2, fds,
                 "a missing directory");
  free (p);
  p = join (dir, "file/target");
  check_refused (portalock_atomic_open (p, 0, 0644), ENOTDIR, dir, 2, fds,
                 "a file as directory");
  free (p);
  check_refused (portalock_atomic_open (subdir, PORTALOCK_ATOMIC_REPLACE,
                                        0644), EISDIR, dir, 2, fds,
                 "a directory as target, REPLACE");
  check_refused (portalock_atomic_open (subdir, 0, 0644), EISDIR, dir, 2, fds,
                 "a directory as target");
  p = join (dir, "subdir/");
  check_refused (portalock_atomic_open (p, 0, 0644), EISDIR, dir, 2, fds,
                 "a path ending in '/'");
  free (p);
  p = join (dir, "subdir/..");
  check_refused (portalock_atomic_open (p, PORTALOCK_ATOMIC_REPLACE, 0644),
                 EISDIR, dir, 2, fds, "a path ending in \"..\"");
  free (p);

  char longname[NAME_MAX + 2];
  memset (longname, 'x', NAME_MAX + 1);
  longname[NAME_MAX + 1] = '\0';
  p = join (dir, longname);
  check_refused (portalock_atomic_open (p, 0, 0644), ENAMETOOLONG, dir, 2,
                 fds, "a name longer than NAME_MAX");
  free (p);
  char *longpath = malloc (PATH_MAX + 1);
  for (int i = 0; i < PATH_MAX; i++)
    longpath[i] = i % 2 ? '/' : 'd';
  longpath[PATH_MAX] = '\0';
  check_refused (portalock_atomic_open (longpath, 0, 0644), ENAMETOOLONG,
                 dir, 2, fds, "a path of PATH_MAX bytes");
  free (longpath);

  errno = 0;
  check (failed_with (portalock_atomic_commit (NULL) != 0, EINVAL),
         "commit (NULL): EINVAL");
  errno = 0;
  check (failed_with (portalock_atomic_fd (NULL) == -1, EINVAL),
         "fd (NULL): EINVAL");
  errno = 0;
  check (failed_with (portalock_atomic_stream (NULL) == NULL, EINVAL),
         "stream (NULL): EINVAL");
  free (subdir);
  free (file);
  free (path);
}

/* A directory that may not be written to.  */
#if TEST_POSIX
static void
test_readonly_directory (void)
{
  if (geteuid () == 0)
    {
      unsupported ("a read-only directory: EACCES (running as root)");
      return;
    }
  const char *dir = fresh_dir ("readonly");
  int fds = count_fds ();
  if (chmod (dir, 0555) != 0)
    die ("chmod");
  char *p = join (dir, "target");
  portalock_atomic *a = portalock_atomic_open (p, 0, 0644);
  check (a == NULL && errno == EACCES, "a read-only directory: EACCES");
  check (count_entries (dir) == 0 && count_fds () == fds,
         "a read-only directory: nothing created");
  chmod (dir, 0755);
  free (p);
}
#else
static void
test_readonly_directory (void)
{
  unsupported ("a read-only directory: EACCES: directory modes are POSIX "
               "only");
}
#endif

#if TEST_POSIX
/* A write that fails while the commit flushes the stream (here EFBIG, a
   file size limit) fails the commit and publishes nothing.  */
static void
test_write_error (void)
{
  const char *dir = fresh_dir ("efbig");
  char *path = join (dir, "target");
  write_file (path, "old");
  pid_t pid = fork ();
  if (pid == 0)
    {
      struct rlimit limit = { 4, 4 };
      signal (SIGXFSZ, SIG_IGN);
      if (setrlimit (RLIMIT_FSIZE, &limit) != 0)
        _exit (3);
      portalock_atomic *a = portalock_atomic_open (path,
                                                   PORTALOCK_ATOMIC_REPLACE,
                                                   0644);
      free (path);
      if (a == NULL)
        _exit (2);
      fputs ("more than four bytes", portalock_atomic_stream (a));
      _exit (portalock_atomic_commit (a) != 0 && errno == EFBIG ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "a write error at commit: EFBIG");
  check (content_is (path, "old") && count_entries (dir) == 1,
         "a failed commit leaves the target and no temporary file");
  free (path);
}

/* A write through the stream that fails before the commit (the buffer
   filled up while the file size limit was already reached) is reported
   by stdio only in the stream's error indicator; the flush at commit
   then succeeds.  The commit must still fail, with the write's errno,
   and publish nothing.  In a child, because of the size limit.  */
static void
test_earlier_write_error (bool replace)
{
  const char *dir = fresh_dir (replace ? "efbig-early-replace"
                               : "efbig-early-new");
  char *path = join (dir, "target");
  if (replace)
    write_file (path, "old");
  pid_t pid = fork ();
  if (pid == 0)
    {
      static char big[64 * 1024];
      struct rlimit limit = { 4, 4 };
      signal (SIGXFSZ, SIG_IGN);
      memset (big, 'x', sizeof big);
      portalock_atomic *a
        = portalock_atomic_open (path, replace ? PORTALOCK_ATOMIC_REPLACE
                                 : 0, 0644);
      if (a == NULL || setrlimit (RLIMIT_FSIZE, &limit) != 0)
        _exit (3);
      FILE *f = portalock_atomic_stream (a);
      if (f == NULL)
        _exit (3);
      /* More than any stdio buffer: part of it is written now.  */
      if (fwrite (big, 1, sizeof big, f) == sizeof big)
        _exit (2);
      _exit (portalock_atomic_commit (a) != 0 && errno == EFBIG ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "a write error before the commit%s: the commit fails with EFBIG",
         replace ? " (replace)" : "");
  if (replace)
    check (content_is (path, "old") && count_entries (dir) == 1,
           "... the target keeps its old content, no temporary file left");
  else
    check (count_entries (dir) == 0,
           "... nothing published, no temporary file left");
  free (path);
}
#else
static void
test_write_error (void)
{
  unsupported ("a write error at commit: needs a file size limit "
               "(setrlimit, SIGXFSZ: POSIX only)");
}

static void
test_earlier_write_error (bool replace)
{
  unsupported ("a write error before the commit%s: needs a file size limit "
               "(setrlimit, SIGXFSZ: POSIX only)",
               replace ? " (replace)" : "");
}
#endif

#if TEST_POSIX
/* Return true if another process sees a lock on the directory DIR (its
   F_GETLK finds a conflict with an exclusive request).  */
static bool
directory_locked (const char *dir)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      if (fd < 0 || fcntl (fd, F_GETLK, &fl) != 0)
        _exit (2);
      _exit (fl.l_type == F_UNLCK ? 1 : 0);
    }
  int status;
  waitpid (pid, &status, 0);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* An atomic write into a directory that a fcntl lock object of this
   process holds (shared: a directory opens read-only) must not drop that
   lock: POSIX locks belong to the process, and the commit closes its own
   descriptor of the directory.  */
static void
test_locked_directory (void)
{
  if (!portalock_backend_available (PORTALOCK_BACKEND_FCNTL))
    {
      unsupported ("a fcntl lock on the directory: no fcntl backend");
      return;
    }
  const char *dir = fresh_dir ("locked-dir");
  char *path = join (dir, "target");
  portalock *lock = portalock_new (dir);
  if (lock == NULL
      || portalock_set_backend (lock, PORTALOCK_BACKEND_FCNTL) != 0
      || portalock_set_mode (lock, "r") != 0
      || portalock_set_flags (lock, PORTALOCK_SH) != 0
      || portalock_acquire (lock) != 0)
    die ("a shared fcntl lock on %s", dir);
  check (directory_locked (dir), "a shared fcntl lock object holds the "
         "directory");
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL && fputs ("new", portalock_atomic_stream (a)) >= 0
         && portalock_atomic_commit (a) == 0 && content_is (path, "new"),
         "an atomic write into the locked directory");
  check (directory_locked (dir), "... keeps the lock object's lock on the "
         "directory");
  a = portalock_atomic_open (path, 0, 0644);
  check (a == NULL && errno == EEXIST && directory_locked (dir),
         "... and so does a refused one");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  portalock_atomic_abort (a);
  check (a != NULL && directory_locked (dir),
         "... and an aborted one");
  check (portalock_release (lock) == 0 && !directory_locked (dir),
         "the lock object's release unlocks the directory");
  portalock_free (lock);
  free (path);
}
#else
static void
test_locked_directory (void)
{
  unsupported ("a fcntl lock on the directory: no fcntl backend (POSIX "
               "only)");
}
#endif

#if TEST_POSIX
/* The target's directory is renamed between open and commit, and
   (unless ANOTHER is false) a new directory made at its old path: the
   commit must not publish into the moved directory, where nobody looks
   for the file, but fail with ESTALE and leave no temporary file in
   either directory, and every file as it was.  */
static void
test_directory_moved (bool replace, bool another)
{
  char name[32];
  snprintf (name, sizeof name, "moved-%s-%s", replace ? "replace" : "new",
            another ? "remade" : "gone");
  const char *dir = fresh_dir (name);
  char *sub = join (dir, "sub");
  char *away = join (dir, "away");
  char *path = join (dir, "sub/target");
  char *moved = join (dir, "away/target");
  const char *what = replace ? "REPLACE" : "no REPLACE";
  if (make_dir (sub) != 0)
    die ("mkdir %s", sub);
  if (replace)
    write_file (path, "old, in the moved directory");
  int fds = count_fds ();
  portalock_atomic *a = portalock_atomic_open (path,
                                               replace
                                               ? PORTALOCK_ATOMIC_REPLACE
                                               : 0, 0644);
  if (a == NULL)
    die ("portalock_atomic_open %s", path);
  fputs ("new content", portalock_atomic_stream (a));
  if (rename (sub, away) != 0)
    die ("rename %s", sub);
  if (another)
    {
      if (make_dir (sub) != 0)
        die ("mkdir %s", sub);
      if (replace)
        write_file (path, "old, at the path");
    }
  errno = 0;
  check (failed_with (portalock_atomic_commit (a) != 0, ESTALE),
         "the directory moved away%s before the commit (%s): ESTALE",
         another ? " and another made in its place" : "", what);
  if (replace)
    check (content_is (moved, "old, in the moved directory")
           && count_entries (away) == 1,
           "... the moved directory holds its old target only");
  else
    check (count_entries (away) == 0,
           "... nothing published, no temporary file in the moved "
           "directory");
  if (another && replace)
    check (content_is (path, "old, at the path") && count_entries (sub) == 1,
           "... the file at the path untouched, nothing else there");
  else if (another)
    check (count_entries (sub) == 0, "... nothing at the path");
  check (count_fds () == fds, "... no descriptor left open");
  free (moved);
  free (path);
  free (away);
  free (sub);
}

/* A directory renamed and renamed back is where it was: the commit
   publishes.  */
static void
test_directory_back (void)
{
  const char *dir = fresh_dir ("moved-back");
  char *sub = join (dir, "sub");
  char *away = join (dir, "away");
  char *path = join (dir, "sub/target");
  if (make_dir (sub) != 0)
    die ("mkdir %s", sub);
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("back", portalock_atomic_stream (a));
  if (rename (sub, away) != 0 || rename (away, sub) != 0)
    die ("rename %s", sub);
  check (portalock_atomic_commit (a) == 0 && content_is (path, "back")
         && count_entries (sub) == 1,
         "a directory renamed and back: the commit publishes");
  free (path);
  free (away);
  free (sub);
}
#else
/* Windows: the write keeps the target's directory from being renamed
   until the commit, which then publishes at the path.  */
static void
test_directory_kept (bool replace)
{
  const char *dir = fresh_dir (replace ? "kept-replace" : "kept-new");
  char *sub = join (dir, "sub");
  char *away = join (dir, "away");
  char *path = join (dir, "sub/target");
  const char *what = replace ? "REPLACE" : "no REPLACE";
  if (make_dir (sub) != 0)
    die ("mkdir %s", sub);
  if (replace)
    write_file (path, "old");
  portalock_atomic *a = portalock_atomic_open (path,
                                               replace
                                               ? PORTALOCK_ATOMIC_REPLACE
                                               : 0, 0644);
  if (a == NULL)
    die ("portalock_atomic_open %s", path);
  fputs ("new content", portalock_atomic_stream (a));
  check (rename (sub, away) != 0 && access (away, F_OK) != 0,
         "the directory cannot be renamed during a write (%s)", what);
  check (portalock_atomic_commit (a) == 0
         && content_is (path, "new content") && count_entries (sub) == 1,
         "... and the commit publishes at the path (%s)", what);
  check (rename (sub, away) == 0, "... after which it can be renamed");
  free (path);
  free (away);
  free (sub);
}
#endif

/* Relative paths are resolved when the write starts: changing the
   working directory before the commit does not move the file.  */
static void
test_relative (void)
{
  const char *dir = fresh_dir ("relative");
  char *home = getcwd (NULL, 0);
  if (chdir (dir) != 0)
    die ("chdir");
  portalock_atomic *a = portalock_atomic_open ("rel", 0, 0644);
  if (chdir (home) != 0)
    die ("chdir");
  char *path = join (dir, "rel");
  check (a != NULL && portalock_atomic_commit (a) == 0
         && access (path, F_OK) == 0 && access ("rel", F_OK) != 0,
         "a relative path is published where it was opened");
  free (path);

  /* With a directory in it, which the commit checks from the working
     directory of the open, not the one of the commit.  */
  path = join (dir, "sub");
  if (make_dir (path) != 0)
    die ("mkdir %s", path);
  free (path);
  if (chdir (dir) != 0)
    die ("chdir");
  a = portalock_atomic_open ("sub/rel", 0, 0644);
  if (chdir (home) != 0)
    die ("chdir");
  path = join (dir, "sub/rel");
  check (a != NULL && portalock_atomic_commit (a) == 0
         && access (path, F_OK) == 0,
         "a relative path with a directory is published where it was "
         "opened");
  free (path);
  free (home);
}

#if TEST_POSIX
/* The content for version I: one letter, repeated a length that depends
   on I, so a reader can tell a whole version from a torn one.  */
static size_t
version_size (unsigned i)
{
  return 50000 + (i % 7) * 9000;
}

static int
read_versions (const char *path, int stop)
{
  size_t room = version_size (6) + 1;
  char *buf = malloc (room);
  struct pollfd p = { stop, POLLIN, 0 };
  unsigned reads = 0;
  int status = 0;
  while (poll (&p, 1, 0) == 0 || reads < 10)
    {
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          status = 2;
          break;
        }
      size_t size = 0;
      for (ssize_t n; (n = read (fd, buf + size, room - size)) > 0;)
        size += n;
      close (fd);
      unsigned version = buf[0] - 'a';
      bool whole = size == version_size (version);
      for (size_t k = 0; whole && k < size; k++)
        whole = buf[k] == buf[0];
      if (!whole)
        {
          status = 1;
          break;
        }
      reads++;
    }
  free (buf);
  return status;
}

static void
test_readers (void)
{
  const char *dir = fresh_dir ("readers");
  char *path = join (dir, "target");
  char *content = malloc (version_size (6));
  int stop[2];

  memset (content, 'a', version_size (0));
  write_file (path, "");
  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  fwrite (content, 1, version_size (0), portalock_atomic_stream (a));
  portalock_atomic_commit (a);
  if (pipe (stop) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (stop[1]);
      free (content);
      int status = read_versions (path, stop[0]);
      free (path);
      _exit (status);
    }
  close (stop[0]);
  bool committed = true;
  for (unsigned i = 1; i < 300; i++)
    {
      memset (content, 'a' + i % 7, version_size (i));
      a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
      size_t half = version_size (i) / 2;
      /* Half through the stream, half through the descriptor.  */
      fwrite (content, 1, half, portalock_atomic_stream (a));
      fflush (portalock_atomic_stream (a));
      IGNORE_RESULT (write (portalock_atomic_fd (a), content + half,
                            version_size (i) - half));
      committed &= portalock_atomic_commit (a) == 0;
    }
  close (stop[1]);
  int status;
  waitpid (pid, &status, 0);
  check (committed, "300 replacing commits");
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "a concurrent reader always sees one whole version (status %d)",
         WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  check (count_entries (dir) == 1, "nothing left behind");
  free (content);
  free (path);
}
#else
/* Windows' contract against readers (a replacing commit retries) is
   tested by win32atomic.  */
static void
test_readers (void)
{
  unsupported ("a concurrent reader always sees one whole version: needs "
               "fork (POSIX only; win32atomic tests Windows' readers)");
}
#endif

/* PORTALOCK_ATOMIC_MKDIRS makes the missing directories, and refuses a
   file in the way without touching it.  */
static void
test_mkdirs (void)
{
  const char *dir = fresh_dir ("mkdirs");
  char *path = join (dir, "a/b/target");
  errno = 0;
  check (failed_with (portalock_atomic_open (path, 0, 0644) == NULL, ENOENT)
         && count_entries (dir) == 0,
         "MKDIRS: without it, a missing directory: ENOENT, nothing made");
  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_MKDIRS,
                                               0644);
  check (a != NULL && fputs ("deep", portalock_atomic_stream (a)) >= 0
         && portalock_atomic_commit (a) == 0 && content_is (path, "deep"),
         "MKDIRS: the directories are made and the file published");
  char *sub = join (dir, "a/b");
  check (count_entries (sub) == 1, "MKDIRS: nothing else left behind");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_MKDIRS
                             | PORTALOCK_ATOMIC_REPLACE, 0644);
  check (a != NULL && fputs ("deeper", portalock_atomic_stream (a)) >= 0
         && portalock_atomic_commit (a) == 0 && content_is (path, "deeper"),
         "MKDIRS with REPLACE, the directories there: replaced");
  char *file = join (dir, "file");
  write_file (file, "in the way");
  char *through = join (dir, "file/c/target");
  errno = 0;
  check (failed_with (portalock_atomic_open (through, PORTALOCK_ATOMIC_MKDIRS,
                                             0644) == NULL, ENOTDIR)
         && content_is (file, "in the way") && count_entries (dir) == 2,
         "MKDIRS through a file: ENOTDIR, the file untouched");
  free (through);
  free (file);
  free (sub);
  free (path);
}

int
main (int argc, char **argv)
{
  self = argv[0];
#if !TEST_POSIX
  /* The other process of test_race: "self race PATH IN OUT".  */
  if (argc == 5 && strcmp (argv[1], "race") == 0)
    return race_main (argv[2], atoi (argv[3]), atoi (argv[4]));
#else
  (void) argc;
#endif
  test_publish ();
  test_no_replace ();
  test_dangling_link ();
  test_race ();
  test_replace ();
  test_replace_reader ();
  test_replace_link ();
  test_abort ();
  test_permissions ();
  test_bad_input ();
  test_readonly_directory ();
  test_mkdirs ();
  test_write_error ();
  test_earlier_write_error (true);
  test_earlier_write_error (false);
  test_locked_directory ();
  test_relative ();
#if TEST_POSIX
  test_directory_moved (false, true);
  test_directory_moved (true, true);
  test_directory_moved (false, false);
  test_directory_moved (true, false);
  test_directory_back ();
#else
  test_directory_kept (false);
  test_directory_kept (true);
#endif
  test_readers ();
  return check_exit ();
}
