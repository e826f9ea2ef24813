/* win32atomic.c: tests of atomic writes in the Windows port, under Wine.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The checks work in a fresh directory under the current one, with
   files that hold content, and count the directory's entries to see
   that no temporary file is left.  The other process of a check is a
   copy of this program ("win32atomic child ROLE FILE IN OUT"), which
   reads one-letter orders from the pipe descriptor IN and answers on
   OUT: every step waits for the other process by reading a pipe, never
   by sleeping.  */

#include <config.h>

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

#include "portalock.h"
#include "testutil.h"
#include "w32child.h"

/* The directory of this run, and paths in it.  */
static char top[64];

static const char *
path_of (const char *name)
{
  static char paths[8][MAX_PATH];
  static int next;
  char *p = paths[next++ % 8];
  snprintf (p, MAX_PATH, "%s/%s", top, name);
  return p;
}

/* Make the directory NAME under the run's one, and return its path.  */
static const char *
fresh_dir (const char *name)
{
  const char *dir = path_of (name);
  if (_mkdir (dir) != 0)
    die ("_mkdir");
  return dir;
}

static char *
join (const char *dir, const char *name)
{
  size_t n = strlen (dir) + strlen (name) + 2;
  char *p = malloc (n);
  if (p == NULL)
    die ("malloc");
  snprintf (p, n, "%s/%s", dir, name);
  return p;
}

static const char *self;

/* Start "self child ROLE FILE IN OUT" and return its first answer.  */
static char
start_child (struct child *c, const char *role, const char *file)
{
  const char *args[] = { self, "child", role, file, NULL };
  child_start (c, self, args);
  return child_answer (c);
}

/* The content of version I: one letter, repeated a length that depends
   on I, so that a reader can tell a whole version from a torn one.  */
static size_t
version_size (unsigned i)
{
  return 20000 + (i % 7) * 3000;
}

/* Return 1 if FILE holds one whole version, 0 if a torn one, -1 if it
   could not be opened or read.  */
static int
read_version (const char *file, char *buf, size_t room)
{
  int fd = _open (file, _O_RDONLY | _O_BINARY);
  if (fd < 0)
    return -1;
  size_t size = 0;
  for (int n; (n = read (fd, buf + size, room - size)) > 0;)
    size += n;
  close (fd);
  if (size == 0)
    return 0;
  unsigned version = buf[0] - 'a';
  if (size != version_size (version))
    return 0;
  for (size_t k = 0; k < size; k++)
    if (buf[k] != buf[0])
      return 0;
  return 1;
}

/* Return true if an order is waiting on the pipe descriptor IN.  */
static bool
order_waiting (int in)
{
  DWORD available = 0;
  return (!PeekNamedPipe ((HANDLE) _get_osfhandle (in), NULL, 0, NULL,
                          &available, NULL)
          || available > 0);
}

static int
child_main (const char *role, const char *file, int in, int out)
{
  char cmd, reply;
  if (strcmp (role, "hold") == 0)
    {
      /* Keep FILE open through the C runtime (which does not share
         delete access) until the orders end.  */
      int fd = _open (file, _O_RDONLY | _O_BINARY);
      reply = fd >= 0 ? 'R' : 'E';
      if (write (out, &reply, 1) != 1)
        return 1;
      while (read (in, &cmd, 1) == 1)
        ;
      close (fd);
      return 0;
    }
  if (strcmp (role, "reader") == 0)
    {
      /* Read FILE again and again until told to stop ('s'); answer 'Y'
         if every read saw one whole version, else 'N'.  */
      size_t room = version_size (6) + 1;
      char *buf = malloc (room);
      bool whole = buf != NULL && read_version (file, buf, room) == 1;
      reply = whole ? 'R' : 'E';
      if (write (out, &reply, 1) != 1)
        return 1;
      unsigned reads = 0;
      while (whole && (!order_waiting (in) || reads < 10))
        {
          int r = read_version (file, buf, room);
          /* Windows may refuse an open of the name while the move
             replaces it (-1): no torn content, try again.  */
          whole = r != 0;
          reads += r == 1;
        }
      if (read (in, &cmd, 1) != 1)
        return 1;
      reply = whole ? 'Y' : 'N';
      free (buf);
      return write (out, &reply, 1) == 1 ? 0 : 1;
    }
  return 2;
}

/* The checks.  */

static void
test_publish (void)
{
  const char *dir = fresh_dir ("publish");
  char *path = join (dir, "destination.bin");

  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL, "open a new file");
  check (count_entries (dir) == 1 && !exists (path),
         "before the commit only a temporary file exists");
  FILE *f = portalock_atomic_stream (a);
  check (f != NULL && portalock_atomic_stream (a) == f,
         "the stream is made once");
  check (fputs ("published\npayload\n", f) >= 0, "write to the stream");
  check (portalock_atomic_commit (a) == 0, "commit");
  check (has_text (path, "published\npayload\n"),
         "the target has the bytes written (binary: no CR added)");
  check (count_entries (dir) == 1, "no temporary file is left behind");
  free (path);

  path = join (dir, "by-fd");
  a = portalock_atomic_open (path, 0, 0644);
  int fd = portalock_atomic_fd (a);
  check (fd >= 0 && write (fd, "by descriptor", 13) == 13
         && portalock_atomic_commit (a) == 0
         && has_text (path, "by descriptor"),
         "write through the descriptor and commit");
  free (path);

  path = join (dir, "empty");
  a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL && portalock_atomic_commit (a) == 0
         && has_text (path, ""),
         "a commit with nothing written makes an empty file");
  check (count_entries (dir) == 3, "three files, nothing else");
  free (path);

  /* A UTF-8 name is the UTF-16 name of the published file.  */
  path = join (dir, "\xc3\xa9t\xc3\xa9.txt");
  a = portalock_atomic_open (path, 0, 0644);
  check (a != NULL && fputs ("utf-8", portalock_atomic_stream (a)) >= 0
         && portalock_atomic_commit (a) == 0
         && GetFileAttributesW (L"w32atomic.d\\publish\\\u00e9t\u00e9.txt")
            != INVALID_FILE_ATTRIBUTES,
         "a UTF-8 name is published under its UTF-16 name");
  free (path);
}

static void
test_no_replace (void)
{
  const char *dir = fresh_dir ("noreplace");
  char *path = join (dir, "target");
  write_file (path, "existing destination");

  errno = 0;
  check (portalock_atomic_open (path, 0, 0644) == NULL && errno == EEXIST,
         "an existing target without REPLACE: EEXIST at open");
  check (has_text (path, "existing destination")
         && count_entries (dir) == 1,
         "the existing target is untouched, nothing created");

  /* The target appears between open and commit: the move refuses, and
     the file that got there first stays.  */
  char *late = join (dir, "late");
  portalock_atomic *a = portalock_atomic_open (late, 0, 0644);
  check (a != NULL && fputs ("temporary payload",
                             portalock_atomic_stream (a)) >= 0,
         "open and write a new file");
  write_file (late, "concurrent winner");
  errno = 0;
  check (portalock_atomic_commit (a) == -1 && errno == EEXIST,
         "a target created before the commit: EEXIST");
  check (has_text (late, "concurrent winner"),
         "the concurrent winner is kept");
  check (count_entries (dir) == 2, "the temporary file is gone");
  free (late);
  free (path);
}

static void
test_replace (void)
{
  const char *dir = fresh_dir ("replace");
  char *path = join (dir, "target");
  write_file (path, "old content");

  portalock_atomic *a
    = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  check (a != NULL, "REPLACE: open over an existing file");
  check (has_text (path, "old content"),
         "REPLACE: the old content stays until the commit");
  fputs ("new content", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0 && has_text (path, "new content"),
         "REPLACE: the commit replaces the content");
  check (count_entries (dir) == 1, "REPLACE: nothing left behind");

  char *fresh = join (dir, "fresh");
  a = portalock_atomic_open (fresh, PORTALOCK_ATOMIC_REPLACE, 0644);
  check (a != NULL && portalock_atomic_commit (a) == 0 && exists (fresh),
         "REPLACE: a new file too");

  /* Another process keeps the target open without sharing delete
     access: Windows refuses the move all along.  The commit tries for a
     while, then fails, and the target keeps its content.  */
  struct child holder;
  if (start_child (&holder, "hold", path) != 'R')
    die ("the holding child");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  fputs ("refused content", portalock_atomic_stream (a));
  errno = 0;
  check (portalock_atomic_commit (a) == -1 && errno == EACCES,
         "REPLACE: a target another process keeps open: EACCES");
  check (has_text (path, "new content") && count_entries (dir) == 2,
         "... the target keeps its content, no temporary file left");
  check (child_finish (&holder) == 0, "the holding child ends");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  fputs ("after the holder", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0
         && has_text (path, "after the holder"),
         "REPLACE: once it closed the file, the commit replaces it");
  free (fresh);
  free (path);
}

/* A reader that opens and reads the target again and again while it is
   replaced: each replacing move that meets its open handle is tried
   again, so every commit succeeds, and the reader only ever sees whole
   versions.  */
static void
test_busy_reader (void)
{
  const char *dir = fresh_dir ("readers");
  char *path = join (dir, "target");
  char *content = malloc (version_size (6));
  if (content == NULL)
    die ("malloc");
  memset (content, 'a', version_size (0));
  FILE *f = fopen (path, "wb");
  if (f == NULL || fwrite (content, 1, version_size (0), f)
                   != version_size (0) || fclose (f) != 0)
    die ("the first version");

  struct child reader;
  if (start_child (&reader, "reader", path) != 'R')
    die ("the reading child");
  int committed = 0;
  for (unsigned i = 1; i <= 100; i++)
    {
      memset (content, 'a' + i % 7, version_size (i));
      portalock_atomic *a
        = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
      size_t half = version_size (i) / 2;
      /* Half through the stream, half through the descriptor.  */
      fwrite (content, 1, half, portalock_atomic_stream (a));
      fflush (portalock_atomic_stream (a));
      if (write (portalock_atomic_fd (a), content + half,
                 version_size (i) - half) < 0)
        die ("write");
      committed += portalock_atomic_commit (a) == 0;
    }
  check (committed == 100, "100 replacing commits against a busy reader "
         "(%d succeeded)", committed);
  check (child_order (&reader, 's') == 'Y',
         "the reader always saw one whole version");
  child_finish (&reader);
  check (count_entries (dir) == 1, "nothing left behind");
  free (content);
  free (path);
}

static void
test_abort (void)
{
  const char *dir = fresh_dir ("abort");
  char *path = join (dir, "target");

  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("unpublished payload", portalock_atomic_stream (a));
  errno = 12345;
  portalock_atomic_abort (a);
  check (errno == 12345, "abort keeps errno");
  check (count_entries (dir) == 0, "abort leaves nothing behind");

  write_file (path, "kept");
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE, 0644);
  check (a != NULL && write (portalock_atomic_fd (a), "lost", 4) == 4,
         "open and write over an existing file");
  portalock_atomic_abort (a);
  check (has_text (path, "kept") && count_entries (dir) == 1,
         "abort with REPLACE leaves the target as it was");
  errno = ENOSPC;
  portalock_atomic_abort (NULL);
  check (errno == ENOSPC, "abort (NULL) does nothing, errno kept");
  free (path);
}

/* A relative path is resolved when the write starts: a change of the
   working directory before the commit does not move the file.  */
static void
test_relative (void)
{
  const char *dir = fresh_dir ("relative");
  char home[MAX_PATH];
  if (_getcwd (home, sizeof home) == NULL || _chdir (dir) != 0)
    die ("chdir");
  portalock_atomic *a = portalock_atomic_open ("rel", 0, 0644);
  if (_chdir (home) != 0)
    die ("chdir");
  char *path = join (dir, "rel");
  check (a != NULL && portalock_atomic_commit (a) == 0 && exists (path)
         && !exists ("rel"),
         "a relative path is published where it was opened");
  free (path);
}

/* Check that a refused open returned NULL with ERROR and created
   nothing in DIR, which had ENTRIES entries.  */
static void
check_refused (portalock_atomic *a, int error, const char *dir, int entries,
               const char *what)
{
  int e = errno;
  check (a == NULL && e == error, "%s: errno %d", what, error);
  if (a != NULL)
    portalock_atomic_abort (a);
  check (count_entries (dir) == entries, "%s: nothing created", what);
}

static void
test_bad_input (void)
{
  const char *dir = fresh_dir ("bad");
  char *path = join (dir, "target");
  char *file = join (dir, "file");
  write_file (file, "a file");
  char *subdir = join (dir, "subdir");
  if (_mkdir (subdir) != 0)
    die ("_mkdir");
  char *p;

  check_refused (portalock_atomic_open (NULL, 0, 0644), EINVAL, dir, 2,
                 "a NULL path");
  check_refused (portalock_atomic_open (path, 4, 0644), EINVAL, dir, 2,
                 "unknown flags");
  check_refused (portalock_atomic_open (path, -1, 0644), EINVAL, dir, 2,
                 "flags -1");
  check_refused (portalock_atomic_open (path, 0, 010644), EINVAL, dir, 2,
                 "mode bits beyond 07777");
  check_refused (portalock_atomic_open ("", 0, 0644), ENOENT, dir, 2,
                 "an empty path");
  p = join (dir, "missing/target");
  check_refused (portalock_atomic_open (p, 0, 0644), ENOENT, dir, 2,
                 "a missing directory");
  free (p);
  p = join (dir, "file/target");
  check_refused (portalock_atomic_open (p, PORTALOCK_ATOMIC_REPLACE, 0644),
                 ENOTDIR, dir, 2, "a file as directory");
  free (p);
  check_refused (portalock_atomic_open (subdir, PORTALOCK_ATOMIC_REPLACE,
                                        0644), EISDIR, dir, 2,
                 "a directory as target, REPLACE");
  check_refused (portalock_atomic_open (subdir, 0, 0644), EISDIR, dir, 2,
                 "a directory as target");
  p = join (dir, "subdir/");
  check_refused (portalock_atomic_open (p, 0, 0644), EISDIR, dir, 2,
                 "a path ending in '/'");
  free (p);
  p = join (dir, "subdir\\..");
  check_refused (portalock_atomic_open (p, PORTALOCK_ATOMIC_REPLACE, 0644),
                 EISDIR, dir, 2, "a path ending in \"..\"");
  free (p);
  /* "file:stream" would name a stream of the file "file".  */
  p = join (dir, "file:stream");
  check_refused (portalock_atomic_open (p, PORTALOCK_ATOMIC_REPLACE, 0644),
                 EINVAL, dir, 2, "a name with a colon");
  free (p);
  check (has_text (file, "a file"), "the file is untouched");
  check_refused (portalock_atomic_open ("w32atomic.d/bad/\xff", 0, 0644),
                 EINVAL, dir, 2, "a path that is not UTF-8");

  char longname[258];
  memset (longname, 'x', 256);
  longname[256] = '\0';
  p = join (dir, longname);
  check_refused (portalock_atomic_open (p, 0, 0644), ENAMETOOLONG, dir, 2,
                 "a name longer than 255 bytes");
  free (p);

  errno = 0;
  check (portalock_atomic_commit (NULL) == -1 && errno == EINVAL,
         "commit (NULL): EINVAL");
  errno = 0;
  check (portalock_atomic_fd (NULL) == -1 && errno == EINVAL,
         "fd (NULL): EINVAL");
  errno = 0;
  check (portalock_atomic_stream (NULL) == NULL && errno == EINVAL,
         "stream (NULL): EINVAL");
  free (subdir);
  free (file);
  free (path);
}

/* Remove the directory DIR and everything in it.  */
static void
remove_tree (const char *dir)
{
  char pattern[MAX_PATH];
  snprintf (pattern, sizeof pattern, "%s/*", dir);
  WIN32_FIND_DATAA data;
  HANDLE h = FindFirstFileA (pattern, &data);
  if (h != INVALID_HANDLE_VALUE)
    {
      do
        {
          if (strcmp (data.cFileName, ".") == 0
              || strcmp (data.cFileName, "..") == 0)
            continue;
          char *p = join (dir, data.cFileName);
          if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
            remove_tree (p);
          else
            DeleteFileA (p);
          free (p);
        }
      while (FindNextFileA (h, &data));
      FindClose (h);
    }
  RemoveDirectoryA (dir);
}

int
main (int argc, char **argv)
{
  self = argv[0];
  if (argc == 6 && strcmp (argv[1], "child") == 0)
    return child_main (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]));
  snprintf (top, sizeof top, "w32atomic.d");
  remove_tree (top);
  if (_mkdir (top) != 0)
    die ("_mkdir");
  test_publish ();
  test_no_replace ();
  test_replace ();
  test_busy_reader ();
  test_abort ();
  test_relative ();
  test_bad_input ();
  remove_tree (top);
  return check_exit ();
}
