/* parity.c: tests of what portalock does as portalocker does: mode "x",
   shared temporary locks, flushing before the unlock, atomic writes that
   make their directories, semaphore file name patterns.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: parity BACKEND.  The lock objects are tested on BACKEND (flock,
   ofd, fcntl, lockf; one not built here is UNSUPPORTED); the
   descriptor-level calls use the default backend, which the suite sets
   to BACKEND through PORTALOCK_BACKEND.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static enum portalock_backend backend;
static const char *bname;
static bool has_shared;

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

/* Run FN in a child process whose files may not grow (RLIMIT_FSIZE 0,
   SIGXFSZ ignored), and return its exit status, or -1.  */
static int
in_small_child (int (*fn) (const char *), const char *path)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      struct rlimit rl = { 0, 0 };
      signal (SIGXFSZ, SIG_IGN);
      if (setrlimit (RLIMIT_FSIZE, &rl) != 0)
        _exit (99);
      _exit (fn (path));
    }
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
    return -1;
  return WEXITSTATUS (status);
}

/* Mode "x": create, or fail with EEXIST.  */
static int
x_record_fails (const char *path)
{
  portalock *lock = new_lock (path);
  portalock_set_mode (lock, "x");
  portalock_set_record_pid (lock, true);
  int r = portalock_acquire (lock);
  int e = errno;
  portalock_free (lock);
  return r == -1 && e == EFBIG ? 0 : 1;
}

static void
test_mode_x (void)
{
  const char *path = test_path ("x-new");
  portalock *lock = new_lock (path);
  static const char *const modes[] = { "x", "xb", "x+", "x+b", "xb+" };
  bool ok = true;
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    ok &= portalock_set_mode (lock, modes[i]) == 0;
  check (ok, "%s: modes x, xb, x+, x+b, xb+ are accepted", bname);
  check (fails_with (portalock_set_mode (lock, "xa"), EINVAL)
         && fails_with (portalock_set_mode (lock, "x++"), EINVAL),
         "%s: modes xa, x++: EINVAL", bname);

  portalock_set_mode (lock, "x");
  check (portalock_acquire (lock) == 0 && exists (path)
         && probe (path, PORTALOCK_EX) == EWOULDBLOCK,
         "%s: mode x creates a missing file and locks it", bname);
  FILE *f = portalock_stream (lock);
  check (f != NULL && fputs ("new data", f) >= 0
         && portalock_release (lock) == 0 && has_text (path, "new data"),
         "%s: mode x: written, released, the file stays", bname);

  int fds = count_fds ();
  check (fails_with (portalock_acquire (lock), EEXIST)
         && has_text (path, "new data") && portalock_fd (lock) == -1
         && count_fds () == fds,
         "%s: mode x on a file that exists: EEXIST, content untouched, "
         "no descriptor left", bname);

  /* A file someone else holds exists too: no waiting, no change.  */
  portalock *other = new_lock (path);
  portalock_set_mode (other, "r+");
  portalock_acquire (other);
  check (fails_with (portalock_acquire (lock), EEXIST)
         && has_text (path, "new data"),
         "%s: mode x on a held file: EEXIST at once", bname);
  portalock_free (other);

  /* A failure after the file was created removes it again: a PID record
     that cannot be written.  */
  const char *fresh = test_path ("x-fail");
  check (in_small_child (x_record_fails, fresh) == 0 && !exists (fresh),
         "%s: mode x: a failure after creating removes the new, empty file",
         bname);
  /* The same failure on a file that exists touches nothing.  */
  const char *kept = test_path ("x-kept");
  write_file (kept, "keep me");
  check (in_small_child (x_record_fails, kept) == 1
         && has_text (kept, "keep me"),
         "%s: mode x: a file that exists is never removed", bname);

  /* With "x+" the file can be read back.  */
  const char *plus = test_path ("x-plus");
  portalock_set_mode (lock, "x+");
  portalock_free (lock);
  lock = new_lock (plus);
  portalock_set_mode (lock, "x+");
  char buf[8] = "";
  f = portalock_acquire (lock) == 0 ? portalock_stream (lock) : NULL;
  check (f != NULL && fputs ("abc", f) >= 0 && fseek (f, 0, SEEK_SET) == 0
         && fgets (buf, sizeof buf, f) != NULL && strcmp (buf, "abc") == 0,
         "%s: mode x+ reads what it wrote", bname);
  portalock_free (lock);

  /* A temporary lock in mode x: created, deleted on release.  */
  const char *temp = test_path ("x-temp");
  lock = new_lock (temp);
  portalock_set_mode (lock, "x");
  portalock_set_temporary (lock, true);
  check (portalock_acquire (lock) == 0 && exists (temp)
         && portalock_release (lock) == 0 && !exists (temp),
         "%s: a temporary lock in mode x", bname);
  portalock_free (lock);
}

/* A child that holds a shared temporary lock on PATH.  */
struct sharer
{
  pid_t pid;
  int to, from;
};

/* Start a child that acquires a temporary lock with FLAGS on PATH and
   writes 'L' (or 'F' on failure); then, for each byte read, writes 'Y'
   if its descriptor still names PATH, else 'N'; on EOF it releases and
   writes 'U'.  */
static void
sharer_start (struct sharer *s, const char *path, int flags)
{
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  fflush (NULL);
  s->pid = fork ();
  if (s->pid < 0)
    die ("fork");
  if (s->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      portalock *lock = new_lock (path);
      portalock_set_temporary (lock, true);
      portalock_set_flags (lock, flags);
      portalock_set_timeout (lock, 30);
      char c = portalock_acquire (lock) == 0 ? 'L' : 'F';
      if (write (up[1], &c, 1) != 1 || c == 'F')
        _exit (1);
      while (read (down[0], &c, 1) == 1)
        {
          c = fd_names (portalock_fd (lock), path) ? 'Y' : 'N';
          if (write (up[1], &c, 1) != 1)
            _exit (1);
        }
      c = portalock_release (lock) == 0 ? 'U' : 'E';
      if (write (up[1], &c, 1) != 1)
        _exit (1);
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  s->to = down[1];
  s->from = up[0];
}

static char
sharer_read (struct sharer *s)
{
  char c = 0;
  if (read (s->from, &c, 1) != 1)
    return 0;
  return c;
}

static char
sharer_ask (struct sharer *s)
{
  if (write (s->to, "?", 1) != 1)
    return 0;
  return sharer_read (s);
}

static char
sharer_finish (struct sharer *s)
{
  close (s->to);
  char c = sharer_read (s);
  close (s->from);
  waitpid (s->pid, NULL, 0);
  return c;
}

static void
test_shared_temporary (void)
{
  if (!has_shared)
    {
      unsupported ("%s: shared temporary locks (no shared locks)", bname);
      return;
    }
  const char *path = test_path ("shared-temp");

  /* Two holders in two processes: the first to let go leaves the file
     to the other; the last deletes it.  */
  portalock *lock = new_lock (path);
  portalock_set_temporary (lock, true);
  portalock_set_flags (lock, PORTALOCK_SH);
  check (portalock_acquire (lock) == 0 && exists (path),
         "%s: a shared temporary lock is acquired", bname);
  struct sharer s;
  sharer_start (&s, path, PORTALOCK_SH);
  check (sharer_read (&s) == 'L',
         "%s: a second process shares the temporary lock", bname);
  check (portalock_release (lock) == 0 && exists (path)
         && sharer_ask (&s) == 'Y',
         "%s: a shared holder that lets go leaves the file to the other",
         bname);
  check (sharer_finish (&s) == 'U' && !exists (path),
         "%s: the last shared holder deletes the file", bname);

  /* Two holders in one process.  */
  portalock *second = new_lock (path);
  portalock_set_temporary (second, true);
  portalock_set_flags (second, PORTALOCK_SH);
  check (portalock_acquire (lock) == 0 && portalock_acquire (second) == 0
         && portalock_release (lock) == 0 && exists (path)
         && fd_names (portalock_fd (second), path)
         && portalock_release (second) == 0 && !exists (path),
         "%s: two shared temporary objects in one process: the last one "
         "deletes the file", bname);

  /* An exclusive waiter, blocked while the shared holder holds, ends up
     holding the file the path names, never the deleted one.  */
  check (portalock_acquire (lock) == 0, "%s: shared again", bname);
  sharer_start (&s, path, PORTALOCK_EX);
  check (await_blocked_waiter (path),
         "%s: an exclusive temporary waiter blocks", bname);
  check (portalock_release (lock) == 0 && sharer_read (&s) == 'L'
         && sharer_ask (&s) == 'Y',
         "%s: after the last shared holder deleted the file, the waiter "
         "holds the file the path names", bname);
  check (sharer_finish (&s) == 'U' && !exists (path),
         "%s: and deletes it in turn", bname);

  /* Conversion: a temporary lock can be made shared and back.  */
  portalock_set_flags (lock, PORTALOCK_EX);
  check (portalock_acquire (lock) == 0
         && portalock_convert (lock, PORTALOCK_SH) == 0
         && portalock_release (lock) == 0 && !exists (path),
         "%s: a temporary lock converted to shared is deleted on release",
         bname);
  portalock_free (lock);
  portalock_free (second);
}

/* Flushing before the unlock.  */
static int
unlock_stream_fails (const char *path)
{
  FILE *f = fopen (path, "r+e");
  if (f == NULL || portalock_lock (fileno (f), PORTALOCK_EX) != 0)
    return 2;
  fputs ("data that cannot be written", f);
  int r = portalock_unlock_stream (f, PORTALOCK_FSYNC);
  int e = errno;
  /* Still locked: a probe from another process fails.  */
  int held = probe (path, PORTALOCK_EX) == EWOULDBLOCK;
  return r == -1 && e == EFBIG && held ? 0 : 1;
}

static int
release_sync_fails (const char *path)
{
  portalock *lock = new_lock (path);
  portalock_set_sync (lock, true);
  if (portalock_acquire (lock) != 0)
    return 2;
  fputs ("data that cannot be written", portalock_stream (lock));
  int r = portalock_release (lock);
  int e = errno;
  int freed = portalock_fd (lock) == -1 && probe (path, PORTALOCK_EX) == 0;
  portalock_free (lock);
  return r == -1 && e == EFBIG && freed ? 0 : 1;
}

static void
test_sync (void)
{
  const char *path = test_path ("sync");
  write_file (path, "");
  portalock *lock = new_lock (path);
  check (fails_with (portalock_set_sync (NULL, true), EINVAL),
         "%s: portalock_set_sync (NULL): EINVAL", bname);
  check (portalock_set_sync (lock, true) == 0,
         "%s: portalock_set_sync", bname);
  check (portalock_acquire (lock) == 0
         && fails_with (portalock_set_sync (lock, false), EBUSY),
         "%s: portalock_set_sync on a held object: EBUSY", bname);
  FILE *f = portalock_stream (lock);
  check (f != NULL && fputs ("synced", f) >= 0
         && portalock_release (lock) == 0 && has_text (path, "synced"),
         "%s: sync: the release flushes, syncs and unlocks", bname);

  /* A downgrade lets readers in: what was written must be in the file
     by then.  */
  if (has_shared)
    {
      portalock_set_mode (lock, "w");
      f = portalock_acquire (lock) == 0 ? portalock_stream (lock) : NULL;
      check (f != NULL && fputs ("before the downgrade", f) >= 0
             && portalock_convert (lock, PORTALOCK_SH) == 0
             && has_text (path, "before the downgrade"),
             "%s: sync: a conversion to shared flushes first", bname);
      portalock_release (lock);
    }
  portalock_free (lock);

  check (in_small_child (release_sync_fails, path) == 0,
         "%s: sync: a failed flush is reported by the release (EFBIG), "
         "and the object is released", bname);
}

/* portalock_unlock_stream, with the default backend.  */
static void
test_unlock_stream (void)
{
  const char *path = test_path ("unlock-stream");
  write_file (path, "");
  FILE *f;
  check (fails_with (portalock_unlock_stream (NULL, 0), EINVAL),
         "portalock_unlock_stream (NULL): EINVAL");
  f = fopen (path, "r+e");
  if (f == NULL)
    die ("fopen %s", path);
  check (fails_with (portalock_unlock_stream (f, PORTALOCK_EX), EINVAL)
         && fails_with (portalock_unlock_stream (f, -1), EINVAL),
         "portalock_unlock_stream: bad flags: EINVAL");
  check (portalock_lock (fileno (f), PORTALOCK_EX) == 0
         && fputs ("flushed", f) >= 0 && !has_text (path, "flushed")
         && portalock_unlock_stream (f, PORTALOCK_FSYNC) == 0
         && has_text (path, "flushed") && probe (path, PORTALOCK_EX) == 0,
         "portalock_unlock_stream: flushed, synced, unlocked");
  check (portalock_lock (fileno (f), PORTALOCK_EX) == 0
         && fputs (", again", f) >= 0
         && portalock_unlock_stream (f, 0) == 0
         && has_text (path, "flushed, again")
         && probe (path, PORTALOCK_EX) == 0,
         "portalock_unlock_stream without PORTALOCK_FSYNC: flushed, "
         "unlocked");
  fclose (f);
  check (in_small_child (unlock_stream_fails, path) == 0,
         "portalock_unlock_stream: a failed flush is EFBIG, the lock "
         "stays held");
}

/* Atomic writes that make their directories.  */
static void
test_atomic_mkdirs (void)
{
  const char *top = test_path ("atomic-dirs");
  char path[512], mid[512], file[512];
  snprintf (path, sizeof path, "%s/a/b/target", top);
  snprintf (mid, sizeof mid, "%s/a", top);
  if (mkdir (top, 0755) != 0)
    die ("mkdir %s", top);

  errno = 0;
  check (portalock_atomic_open (path, 0, 0644) == NULL && errno == ENOENT
         && count_entries (top) == 0,
         "atomic: a missing directory: ENOENT by default, nothing made");
  check (portalock_atomic_open (path, 4, 0644) == NULL && errno == EINVAL
         && count_entries (top) == 0,
         "atomic: an unknown flag: EINVAL, nothing made");

  mode_t old = umask (027);
  portalock_atomic *a = portalock_atomic_open (path,
                                               PORTALOCK_ATOMIC_MKDIRS,
                                               0644);
  umask (old);
  struct stat st;
  check (a != NULL && stat (mid, &st) == 0 && S_ISDIR (st.st_mode)
         && (st.st_mode & 07777) == 0750,
         "atomic: PORTALOCK_ATOMIC_MKDIRS makes the directories, 0777 less "
         "the umask");
  FILE *f = a != NULL ? portalock_atomic_stream (a) : NULL;
  check (f != NULL && fputs ("made", f) >= 0
         && portalock_atomic_commit (a) == 0 && has_text (path, "made"),
         "atomic: PORTALOCK_ATOMIC_MKDIRS: committed");

  /* Directories that exist: the flag changes nothing.  */
  a = portalock_atomic_open (path, PORTALOCK_ATOMIC_MKDIRS
                             | PORTALOCK_ATOMIC_REPLACE, 0644);
  f = a != NULL ? portalock_atomic_stream (a) : NULL;
  check (f != NULL && fputs ("again", f) >= 0
         && portalock_atomic_commit (a) == 0 && has_text (path, "again"),
         "atomic: PORTALOCK_ATOMIC_MKDIRS with REPLACE, directories there");

  /* A file in the way is never touched.  */
  snprintf (file, sizeof file, "%s/plain", top);
  write_file (file, "a file");
  snprintf (path, sizeof path, "%s/plain/sub/target", top);
  errno = 0;
  check (portalock_atomic_open (path, PORTALOCK_ATOMIC_MKDIRS, 0644) == NULL
         && errno == ENOTDIR && has_text (file, "a file"),
         "atomic: PORTALOCK_ATOMIC_MKDIRS through a file: ENOTDIR, the file "
         "untouched");
}

/* Semaphore file name patterns.  */
static void
test_semaphore_pattern (void)
{
  const char *dir = test_path ("sem-pattern");
  if (mkdir (dir, 0755) != 0)
    die ("mkdir %s", dir);
  check (strcmp (PORTALOCK_SEMAPHORE_DEFAULT_NAME, "bounded_semaphore") == 0,
         "semaphore: portalocker's default name");

  portalock_semaphore *sem = portalock_semaphore_new ("job", 1, dir);
  if (sem == NULL || portalock_semaphore_set_backend (sem, backend) != 0)
    die ("portalock_semaphore_new");
  char path[512];
  check (portalock_semaphore_set_pattern (sem, "{name}-{number:03d}.lck")
         == 0 && portalock_semaphore_acquire (sem) == 0,
         "%s: semaphore: a pattern is set and used", bname);
  snprintf (path, sizeof path, "%s/job-000.lck", dir);
  check (exists (path) && count_entries (dir) == 1,
         "%s: semaphore: the slot file is named by the pattern", bname);
  check (fails_with (portalock_semaphore_set_pattern (sem, "{name}.{number}"),
                     EBUSY),
         "%s: semaphore: a held semaphore's pattern: EBUSY", bname);
  portalock_semaphore_release (sem);

  check (portalock_semaphore_set_pattern (sem, "{{{name}}}.{number:#x}") == 0
         && portalock_semaphore_acquire (sem) == 0,
         "%s: semaphore: braces and an alternate form", bname);
  snprintf (path, sizeof path, "%s/{job}.0x0", dir);
  check (exists (path), "%s: semaphore: {{{name}}}.{number:#x} names %s",
         bname, "{job}.0x0");
  portalock_semaphore_free (sem);

  sem = portalock_semaphore_new ("job", 12, dir);
  if (sem == NULL)
    die ("portalock_semaphore_new");
  static const char *const bad[] =
    {
      "{name}.lock",            /* one file for 12 slots */
      "{number:1>2}",           /* 1 and 11 both name "11" */
      "{number}/{name}",        /* not a plain name */
      "{number}.{0}", "{}", "{name!r}{number}", "{number:.2}",
      "{number:c}", "{number:f}", "{foo}{number}", "{number", "}{number}",
      "{number:{w}}", "{name:+}{number}", "{number:010,}", "{name[0]}{number}",
      "{number:,x}"
    };
  bool ok = true;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (!fails_with (portalock_semaphore_set_pattern (sem, bad[i]), EINVAL))
      {
        ok = false;
        printf ("pattern %s was accepted\n", bad[i]);
      }
  check (ok, "semaphore: patterns that name no distinct plain files, or "
         "use what portalocker's own could not: EINVAL");
  check (fails_with (portalock_semaphore_set_pattern (sem, "{number:300}"),
                     ENAMETOOLONG),
         "semaphore: a pattern that names too long a file: ENAMETOOLONG");
  check (fails_with (portalock_semaphore_set_pattern (NULL, "{number}"),
                     EINVAL)
         && fails_with (portalock_semaphore_set_pattern (sem, NULL), EINVAL),
         "semaphore: set_pattern with NULL: EINVAL");
  check (count_entries (dir) == 2,
         "semaphore: refused patterns create no file");
  portalock_semaphore_free (sem);

  /* Duplicates that are the first two names in order: of two slots,
     and of eleven where 0 and 10 both name "10" and the rest are
     distinct.  */
  static const struct { unsigned maximum; const char *pattern; } dups[] =
    {
      { 2, "{name}.lock" }, { 11, "{number:1>2}" }
    };
  ok = true;
  for (size_t i = 0; i < sizeof dups / sizeof *dups; i++)
    {
      sem = portalock_semaphore_new ("dup", dups[i].maximum, dir);
      if (sem == NULL)
        die ("portalock_semaphore_new");
      if (!fails_with (portalock_semaphore_set_pattern (sem, dups[i].pattern),
                       EINVAL))
        {
          ok = false;
          printf ("pattern %s (%u slots) was accepted\n", dups[i].pattern,
                  dups[i].maximum);
        }
      portalock_semaphore_free (sem);
    }
  check (ok, "semaphore: two slots of the same name, the first two in "
         "order: EINVAL");

  /* A one-slot semaphore may do without {number}.  */
  sem = portalock_semaphore_new ("solo", 1, dir);
  check (sem != NULL && portalock_semaphore_set_pattern (sem, "{name}.lock")
         == 0, "semaphore: one slot needs no {number}");
  portalock_semaphore_free (sem);
}

int
main (int argc, char **argv)
{
  bname = argv[1];
  backend = backend_from_args (argc, argv, 1, "parity BACKEND");
  if (backend == 0)
    return check_exit ();
  has_shared = backend != PORTALOCK_BACKEND_LOCKF;

  test_mode_x ();
  test_shared_temporary ();
  test_sync ();
  /* What does not depend on a lock object's backend runs once, with the
     default backend (the suite sets PORTALOCK_BACKEND).  */
  if (backend == portalock_default_backend ())
    {
      test_unlock_stream ();
      test_atomic_mkdirs ();
      test_semaphore_pattern ();
    }
  return check_exit ();
}
