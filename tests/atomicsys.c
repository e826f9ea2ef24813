/* atomicsys.c: the system calls an atomic write depends on: a create
   that never opens an existing file, both fsyncs, the link fallback.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* What tests/atomic.c cannot see from outside, this program sees from
   inside: it defines openat, fsync and renameat2 itself, and the
   library, linked as a shared library (or statically into this
   program), calls these definitions instead of the C library's.  Each
   passes the call on to the kernel, and:

   - openat, once armed, creates the name a temporary file is about to
     be created under just before the library's own create, as another
     process choosing the same name at the same moment would: the
     library must then choose another name (O_EXCL), and that other
     file must stay as it was;
   - fsync notes each sync of the temporary file and of the target's
     directory, and whether the target was published at that moment:
     the file's must come before, the directory's after;
   - renameat2, when told to, fails with EINVAL, as on a file system
     that cannot rename without replacing: the commit then publishes
     with link and unlink, and the temporary name must be gone.

   POSIX builds only: the calls go to the kernel through syscall.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#ifndef O_LARGEFILE
# define O_LARGEFILE 0
#endif

/* Armed: the next create of a name beginning with this one is
   preceded by another create of the same name.  */
static const char *plant_prefix;
/* The name planted, and the content given to it.  */
static char planted[512];
static const char planted_text[] = "someone else's file";

/* The temporary file's and the directory's inodes to watch, and the
   target whose existence each sync notes.  */
static ino_t watch_file, watch_dir;
static const char *watch_target;
/* What the syncs saw: how many of each, and how many found the
   target with its new content (TARGET_TEXT).  */
static int file_syncs, dir_syncs, file_syncs_published, dir_syncs_published;
static const char *target_text;

/* Set: renameat2 fails with EINVAL.  */
static bool no_renameat2;
static int renameat2_calls;

int test_openat (int dirfd, const char *name, int flags, ...)
  __asm__ ("openat");
int test_openat64 (int dirfd, const char *name, int flags, ...)
  __asm__ ("openat64");
int test_fsync (int fd) __asm__ ("fsync");
int test_renameat2 (int olddirfd, const char *oldname, int newdirfd,
                    const char *newname, unsigned int flags)
  __asm__ ("renameat2");

/* The one definition behind both names: the library may call either,
   depending on how the C library maps large-file calls.  */
static int
interposed_openat (int dirfd, const char *name, int flags, mode_t mode)
{
  if (plant_prefix != NULL && (flags & O_CREAT) != 0
      && strncmp (name, plant_prefix, strlen (plant_prefix)) == 0
      && strlen (name) < sizeof planted)
    {
      plant_prefix = NULL;
      int fd = syscall (SYS_openat, dirfd, name,
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          IGNORE_RESULT (write (fd, planted_text, strlen (planted_text)));
          syscall (SYS_close, fd);
          strcpy (planted, name);
        }
    }
  return syscall (SYS_openat, dirfd, name, flags | O_LARGEFILE, mode);
}

int
test_openat (int dirfd, const char *name, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, mode_t);
      va_end (ap);
    }
  return interposed_openat (dirfd, name, flags, mode);
}

int
test_openat64 (int dirfd, const char *name, int flags, ...)
{
  mode_t mode = 0;
  if (flags & O_CREAT)
    {
      va_list ap;
      va_start (ap, flags);
      mode = va_arg (ap, mode_t);
      va_end (ap);
    }
  return interposed_openat (dirfd, name, flags, mode);
}

/* Return true if PATH holds exactly TEXT.  */
static bool
holds (const char *path, const char *text)
{
  return path != NULL && text != NULL && has_text (path, text);
}

int
test_fsync (int fd)
{
  struct stat st;
  if (fstat (fd, &st) == 0)
    {
      if (S_ISREG (st.st_mode) && st.st_ino == watch_file)
        {
          file_syncs++;
          file_syncs_published += holds (watch_target, target_text);
        }
      else if (S_ISDIR (st.st_mode) && st.st_ino == watch_dir)
        {
          dir_syncs++;
          dir_syncs_published += holds (watch_target, target_text);
        }
    }
  return syscall (SYS_fsync, fd);
}

int
test_renameat2 (int olddirfd, const char *oldname, int newdirfd,
                const char *newname, unsigned int flags)
{
  renameat2_calls++;
  if (no_renameat2)
    {
      errno = EINVAL;
      return -1;
    }
#ifdef SYS_renameat2
  return syscall (SYS_renameat2, olddirfd, oldname, newdirfd, newname,
                  flags);
#else
  (void) olddirfd, (void) oldname, (void) newdirfd, (void) newname;
  (void) flags;
  errno = ENOSYS;
  return -1;
#endif
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

/* Make a fresh empty directory for one test and return its path.  */
static const char *
fresh_dir (const char *name)
{
  const char *dir = test_path (name);
  if (make_dir (dir) != 0)
    die ("mkdir %s", dir);
  return dir;
}

/* The temporary file is synced once before it is published, and the
   directory once after.  */
static void
test_syncs (bool replace)
{
  const char *what = replace ? "REPLACE" : "a new file";
  const char *dir = fresh_dir (replace ? "sync-replace" : "sync-new");
  char *path = join (dir, "target");
  if (replace)
    write_file (path, "old");
  struct stat st;
  if (stat (dir, &st) != 0)
    die ("stat %s", dir);
  watch_dir = st.st_ino;
  portalock_atomic *a = portalock_atomic_open (path,
                                               replace
                                               ? PORTALOCK_ATOMIC_REPLACE
                                               : 0, 0644);
  if (a == NULL || fstat (portalock_atomic_fd (a), &st) != 0)
    die ("portalock_atomic_open %s", path);
  watch_file = st.st_ino;
  watch_target = path;
  target_text = "synced";
  file_syncs = dir_syncs = file_syncs_published = dir_syncs_published = 0;
  fputs ("synced", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0 && has_text (path, "synced"),
         "%s: committed", what);
  check (file_syncs == 1 && file_syncs_published == 0,
         "%s: the temporary file is synced once, before it is published "
         "(%d syncs, %d after)", what, file_syncs, file_syncs_published);
  check (dir_syncs == 1 && dir_syncs_published == 1,
         "%s: the directory is synced once, after the publish "
         "(%d syncs, %d after)", what, dir_syncs, dir_syncs_published);
  watch_target = NULL;
  watch_file = watch_dir = 0;
  free (path);
}

/* Another process creates the very name the temporary file is about
   to get: the library must create another, and leave that one be.  */
static void
test_exclusive_create (bool replace)
{
  const char *what = replace ? "REPLACE" : "a new file";
  const char *dir = fresh_dir (replace ? "excl-replace" : "excl-new");
  char *path = join (dir, "target");
  if (replace)
    write_file (path, "old");
  planted[0] = '\0';
  plant_prefix = ".target.";
  portalock_atomic *a = portalock_atomic_open (path,
                                               replace
                                               ? PORTALOCK_ATOMIC_REPLACE
                                               : 0, 0644);
  plant_prefix = NULL;
  if (a == NULL)
    die ("portalock_atomic_open %s", path);
  if (planted[0] == '\0')
    die ("no temporary name was planted");
  fputs ("mine", portalock_atomic_stream (a));
  check (portalock_atomic_commit (a) == 0 && has_text (path, "mine"),
         "%s: a temporary name taken at the last moment: another name is "
         "used, the commit publishes", what);
  char *other = join (dir, planted);
  check (has_text (other, planted_text) && count_entries (dir) == 2,
         "%s: ... the file that took the name first is untouched", what);
  free (other);
  free (path);
}

/* Without renameat2, a new file is published with link, and its
   temporary name then unlinked.  */
static void
test_link_publish (void)
{
  const char *dir = fresh_dir ("link");
  char *path = join (dir, "target");
  no_renameat2 = true;
  portalock_atomic *a = portalock_atomic_open (path, 0, 0644);
  fputs ("linked", portalock_atomic_stream (a));
  check (a != NULL && portalock_atomic_commit (a) == 0
         && has_text (path, "linked"),
         "no renameat2: published with link");
  check (count_entries (dir) == 1, "... the temporary name is gone");

  /* The target appears before the commit: link refuses it.  */
  char *late = join (dir, "late");
  a = portalock_atomic_open (late, 0, 0644);
  fputs ("late", portalock_atomic_stream (a));
  write_file (late, "first");
  errno = 0;
  check (failed_with (portalock_atomic_commit (a) != 0, EEXIST)
         && has_text (late, "first") && count_entries (dir) == 2,
         "no renameat2: a target that appeared: EEXIST, it is kept, no "
         "temporary file left");
  no_renameat2 = false;
  free (late);
  free (path);
}

int
main (void)
{
  test_syncs (false);
  test_syncs (true);
  test_exclusive_create (false);
  test_exclusive_create (true);
  test_link_publish ();
  return check_exit ();
}
