/* fsprobe.c: tests of the file system probe, portalock_fs_probe.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The verdicts come from the mount table, so each one is tested by
   giving the probe a table of its own (the library's internal
   portalock_fs_probe_mountinfo, which this program reaches by linking
   the library's objects): a line for a directory of the test, with the
   directory's real device, says which file system it is.  The probe of
   the real table runs too, on the build directory.  */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"
#include "testutil.h"

/* Linux's headers, where the probe has a mount table to test.  */
#if HAVE_MOUNTINFO
# include <sys/sysmacros.h>
# include <sys/vfs.h>
#else
# define HAVE_MOUNTINFO 0
#endif

#define S PORTALOCK_FS_SPANS
#define L PORTALOCK_FS_LOCAL
#define U PORTALOCK_FS_UNKNOWN

static char *dir;               /* the test's mount point, resolved */
static const char *table;       /* the mount table file */
static unsigned dev_major, dev_minor;

/* Write the mount table: a root line on another device, then LINES
   (each with "@DIR@" for the test directory and "@DEV@" for its
   device's major:minor where it has them), ended by NULL.  */
static void
write_table (const char *const *lines)
{
  FILE *out = fopen (table, "w");
  if (out == NULL)
    die ("fopen %s", table);
  fprintf (out, "1 0 8:99 / / rw,relatime - ext4 /dev/sdz9 rw\n");
  for (int i = 0; lines[i] != NULL; i++)
    {
      for (const char *p = lines[i]; *p != '\0'; p++)
        if (strncmp (p, "@DIR@", 5) == 0)
          fputs (dir, out), p += 4;
        else if (strncmp (p, "@DEV@", 5) == 0)
          fprintf (out, "%u:%u", dev_major, dev_minor), p += 4;
        else
          fputc (*p, out);
      fputc ('\n', out);
    }
  if (fclose (out) != 0)
    die ("fclose %s", table);
}

static int
probe (const char *path, struct portalock_fs_info *info)
{
  memset (info, 0, sizeof *info);
  return portalock_fs_probe_mountinfo (path, table, info, sizeof *info);
}

/* One row of the table: a mount of TYPE from SOURCE with OPTIONS at the
   test directory, and the verdicts it must give.  */
struct row
{
  const char *type, *source, *options;
  unsigned flock, posix, verdict;
};

static const struct row rows[] = {
  { "nfs", "srv:/export", "rw,vers=3,hard,proto=tcp,local_lock=none", S, S, S },
  { "nfs", "srv:/export", "rw,vers=3,nolock,local_lock=all", L, L, L },
  { "nfs", "srv:/export", "rw,vers=3,nolock", L, L, L },
  { "nfs", "srv:/export", "rw,vers=3,local_lock=all", L, L, L },
  { "nfs", "srv:/export", "rw,vers=3,local_lock=flock", L, S, L },
  { "nfs", "srv:/export", "rw,vers=3,local_lock=posix", S, L, L },
  { "nfs", "srv:/export", "rw,vers=3,local_lock=bogus", U, U, U },
  { "nfs4", "srv:/export", "rw,vers=4.2,sec=sys,local_lock=none", S, S, S },
  { "nfs4", "srv:/export", "rw,vers=4.2,local_lock=flock", L, S, L },
  { "cifs", "//srv/share", "rw,vers=3.1.1,cache=strict", U, S, U },
  { "cifs", "//srv/share", "rw,vers=3.1.1,nobrl", L, L, L },
  { "smb3", "//srv/share", "rw,vers=3.1.1", U, S, U },
  { "fuse.sshfs", "user@srv:/home", "rw,user_id=0,group_id=0", L, L, L },
  { "fuse", "/srv/source", "rw,user_id=0,group_id=0", L, L, L },
  { "fuseblk", "/dev/sdz1", "rw,user_id=0,group_id=0", L, L, L },
  { "fuse.glusterfs", "srv:/vol", "rw,user_id=0,group_id=0", U, S, U },
  { "9p", "hostshare", "rw,trans=virtio,version=9p2000.L", L, L, L },
  { "virtiofs", "myfs", "rw", U, U, U },
  { "ceph", "10.0.0.1:6789:/", "rw,name=admin", S, S, S },
  { "lustre", "mgs@tcp:/fs", "rw,flock", S, S, S },
  { "lustre", "mgs@tcp:/fs", "rw,localflock", L, L, L },
  { "lustre", "mgs@tcp:/fs", "rw", U, U, U },
  { "gpfs", "gpfs0", "rw", U, S, U },
  { "gfs2", "/dev/sdz2", "rw,localflocks", L, L, L },
  { "gfs2", "/dev/sdz2", "rw", U, U, U },
  { "ext4", "/dev/sdz1", "rw,errors=remount-ro", S, S, S },
  { "xfs", "/dev/sdz1", "rw,attr2,inode64", S, S, S },
  { "tmpfs", "tmpfs", "rw,size=1024k", S, S, S },
  { "overlay", "overlay", "rw,lowerdir=/l,upperdir=/u,workdir=/w", S, S, S },
  { "afs", "#cell:root.cell", "rw", U, U, U },
};

static void
test_rows (void)
{
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    {
      const struct row *r = &rows[i];
      char line[512];
      snprintf (line, sizeof line, "2 1 @DEV@ / @DIR@ rw,relatime - %s %s %s",
                r->type, r->source, r->options);
      const char *lines[] = { line, NULL };
      write_table (lines);
      struct portalock_fs_info info;
      int ret = probe (dir, &info);
      check (ret == 0 && strcmp (info.fstype, r->type) == 0
             && strcmp (info.source, r->source) == 0
             && strcmp (info.super_options, r->options) == 0
             && strcmp (info.mount_options, "rw,relatime") == 0
             && strcmp (info.mount_point, dir) == 0
             && (info.flags & PORTALOCK_FS_MOUNTINFO) != 0
             && info.flock_verdict == r->flock
             && info.posix_verdict == r->posix
             && info.verdict == r->verdict,
             "fsprobe: %s %s: flock %u, posix %u, verdict %u"
             " (got %u %u %u)", r->type, r->options, r->flock, r->posix,
             r->verdict, info.flock_verdict, info.posix_verdict,
             info.verdict);
    }
}

/* nolock or local_lock in the per-mount options counts too.  */
static void
test_mount_options (void)
{
  const char *lines[] = {
    "2 1 @DEV@ / @DIR@ rw,nolock - nfs srv:/e rw,vers=3", NULL
  };
  write_table (lines);
  struct portalock_fs_info info;
  check (probe (dir, &info) == 0 && info.verdict == L,
         "fsprobe: nolock among the per-mount options");
}

/* Which line holds a path: the longest mount point on the path's
   device, on a component boundary; the last of equal ones.  */
static void
test_choice (void)
{
  char sub[512], subx[512], spaced[512], file[600];
  snprintf (sub, sizeof sub, "%s/sub", dir);
  snprintf (subx, sizeof subx, "%s/subx", dir);
  snprintf (spaced, sizeof spaced, "%s/with space", dir);
  snprintf (file, sizeof file, "%s/f", sub);
  mkdir (sub, 0755);
  mkdir (subx, 0755);
  mkdir (spaced, 0755);
  close (open (file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  struct portalock_fs_info info;

  const char *nested[] = {
    "2 1 @DEV@ / @DIR@ rw - ext4 /dev/sdz1 rw",
    "3 2 @DEV@ / @DIR@/sub rw shared:7 master:3 - nfs4 srv:/e rw,vers=4.2",
    NULL
  };
  write_table (nested);
  check (probe (file, &info) == 0 && strcmp (info.fstype, "nfs4") == 0
         && strcmp (info.mount_point, sub) == 0,
         "fsprobe: nested mounts: the longest mount point holds a file");
  check (probe (subx, &info) == 0 && strcmp (info.fstype, "ext4") == 0,
         "fsprobe: ... on a whole component (sub does not hold subx)");

  const char *escaped[] = {
    "2 1 @DEV@ / @DIR@ rw - ext4 /dev/sdz1 rw",
    "3 2 @DEV@ / @DIR@/with\\040space rw - cifs //srv/a\\040b rw,nobrl",
    NULL
  };
  write_table (escaped);
  check (probe (spaced, &info) == 0 && strcmp (info.fstype, "cifs") == 0
         && strcmp (info.mount_point, spaced) == 0
         && strcmp (info.source, "//srv/a b") == 0,
         "fsprobe: a mount point with an escaped space");

  /* A longer mount point on another device does not hold the path when
     a shorter one has the path's device.  */
  const char *devices[] = {
    "2 1 @DEV@ / @DIR@ rw - tmpfs tmpfs rw",
    "3 2 0:9999 / @DIR@/sub rw - nfs srv:/e rw,vers=3", NULL
  };
  write_table (devices);
  check (probe (sub, &info) == 0 && strcmp (info.fstype, "tmpfs") == 0
         && info.dev_major == dev_major && info.dev_minor == dev_minor,
         "fsprobe: the path's device decides between mount points");

  /* With no line on the device, the longest mount point.  */
  const char *nodev[] = {
    "2 1 0:9998 / @DIR@ rw - ext4 /dev/sdz1 rw",
    "3 2 0:9999 / @DIR@/sub rw - nfs srv:/e rw,vers=3,nolock", NULL
  };
  write_table (nodev);
  check (probe (sub, &info) == 0 && strcmp (info.fstype, "nfs") == 0
         && info.verdict == L,
         "fsprobe: no mount on the device: the longest mount point");

  /* A mount over a mount: the later line.  */
  const char *stacked[] = {
    "2 1 @DEV@ / @DIR@ rw - ext4 /dev/sdz1 rw",
    "3 2 @DEV@ / @DIR@ rw - fuse.sshfs u@h:/ rw", NULL
  };
  write_table (stacked);
  check (probe (dir, &info) == 0 && strcmp (info.fstype, "fuse.sshfs") == 0,
         "fsprobe: of two mounts on one point, the later one");

  /* Lines that are no mount lines are skipped.  */
  const char *junk[] = {
    "", "garbage", "2 1 @DEV@ / @DIR@ rw no separator here",
    "2 1 x:y / @DIR@ rw - nfs srv:/e rw", "2 1 @DEV@ / @DIR@ rw -",
    "2 1 @DEV@ / relative rw - nfs srv:/e rw",
    "2 1 @DEV@ / @DIR@ rw - xfs /dev/sdz3 rw", NULL
  };
  write_table (junk);
  check (probe (dir, &info) == 0 && strcmp (info.fstype, "xfs") == 0,
         "fsprobe: lines that are not mount lines are skipped");

  /* A string longer than its array is cut and flagged.  */
  char longline[3000];
  int n = snprintf (longline, sizeof longline,
                    "2 1 @DEV@ / @DIR@ rw - nfs srv:/e rw,vers=3");
  while (n < 2000)
    n += snprintf (longline + n, sizeof longline - n, ",opt%d", n);
  snprintf (longline + n, sizeof longline - n, ",nolock");
  const char *longer[] = { longline, NULL };
  write_table (longer);
  check (probe (dir, &info) == 0
         && (info.flags & PORTALOCK_FS_TRUNCATED) != 0
         && strlen (info.super_options) == sizeof info.super_options - 1,
         "fsprobe: options longer than their array: cut, flagged");
}

/* Bad input: a clear errno, INFO untouched, nothing created.  */
static void
test_bad_input (void)
{
  struct portalock_fs_info info, before;
  memset (&info, 0xa5, sizeof info);
  before = info;
  check (fails_with (portalock_fs_probe (NULL, &info, sizeof info), EINVAL)
         && memcmp (&info, &before, sizeof info) == 0,
         "fsprobe: NULL path: EINVAL, INFO untouched");
  check (fails_with (portalock_fs_probe (dir, NULL, sizeof info), EINVAL),
         "fsprobe: NULL info: EINVAL");
  check (fails_with (portalock_fs_probe ("", &info, sizeof info), EINVAL),
         "fsprobe: empty path: EINVAL");
  check (fails_with (portalock_fs_probe (dir, &info, sizeof info - 1),
                     EINVAL)
         && memcmp (&info, &before, sizeof info) == 0,
         "fsprobe: a size short of the struct: EINVAL, INFO untouched");
  const char *missing = test_path ("missing");
  int before_count = count_entries (test_path (""));
  check (fails_with (portalock_fs_probe (missing, &info, sizeof info),
                     ENOENT)
         && memcmp (&info, &before, sizeof info) == 0
         && access (missing, F_OK) != 0
         && count_entries (test_path ("")) == before_count,
         "fsprobe: a missing path: ENOENT, nothing created");
  char notdir[600];
  snprintf (notdir, sizeof notdir, "%s/sub/f/x", dir);
  check (fails_with (portalock_fs_probe (notdir, &info, sizeof info),
                     ENOTDIR), "fsprobe: a file as a directory: ENOTDIR");

  /* A caller with a larger struct (a later header) gets zeros past
     this release's members.  */
  unsigned char big[sizeof info + 64];
  memset (big, 0xa5, sizeof big);
  check (portalock_fs_probe (dir, (struct portalock_fs_info *) big,
                             sizeof big) == 0
         && big[sizeof info] == 0 && big[sizeof big - 1] == 0,
         "fsprobe: a larger struct: zeros past this release's members");

  /* No table: the statfs answer, and an NFS of unknown options says
     nothing.  */
  const char *none = test_path ("no-such-table");
  check (portalock_fs_probe_mountinfo (dir, none, &info, sizeof info) == 0
         && (info.flags & PORTALOCK_FS_MOUNTINFO) == 0 && info.magic != 0,
         "fsprobe: no mount table: statfs alone");
  strcpy (info.fstype, "nfs");
  portalock_fs_classify (&info);
  check (info.verdict == U && info.flock_verdict == U
         && info.posix_verdict == U,
         "fsprobe: ... where nfs without its options is unknown");
}

/* The system's own table, on the build directory.  */
static void
test_real (void)
{
#if HAVE_MOUNTINFO
  struct portalock_fs_info info;
  struct statfs fs;
  struct stat st;
  if (statfs (".", &fs) != 0 || stat (".", &st) != 0)
    die ("statfs .");
  int ret = portalock_fs_probe (".", &info, sizeof info);
  check (ret == 0
         && (info.flags & PORTALOCK_FS_MOUNTINFO) != 0
         && info.magic == (uint64_t) (unsigned long) fs.f_type
         && info.fstype[0] != '\0' && info.mount_point[0] == '/',
         "fsprobe: the build directory: %s on %s, magic %#lx",
         info.fstype, info.mount_point, (unsigned long) info.magic);
  static const char *const local_types[] = {
    "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs"
  };
  bool local = false;
  for (size_t i = 0; i < sizeof local_types / sizeof *local_types; i++)
    local |= strcmp (info.fstype, local_types[i]) == 0;
  if (local)
    check (info.verdict == S && info.dev_major == major (st.st_dev)
           && info.dev_minor == minor (st.st_dev),
           "fsprobe: ... a local disk: its locks span every client");
  else
    unsupported ("fsprobe: the build directory is on %s, not a local disk",
                 info.fstype);
#endif
}

/* Without a mount table (configure chose lib/fsprobe-none.c): the
   arguments are checked as everywhere, and every verdict is unknown.  */
static void
test_none (void)
{
  struct portalock_fs_info info;
  unsupported ("fsprobe: the verdicts: no mount table on this system");
  check (fails_with (portalock_fs_probe (NULL, &info, sizeof info), EINVAL),
         "fsprobe: NULL path: EINVAL");
  check (fails_with (portalock_fs_probe (test_path ("missing"), &info,
                                         sizeof info), ENOENT),
         "fsprobe: a missing path: ENOENT");
  memset (&info, 0xa5, sizeof info);
  check (portalock_fs_probe (dir, &info, sizeof info) == 0
         && info.verdict == U && info.flock_verdict == U
         && info.posix_verdict == U && info.fstype[0] == '\0',
         "fsprobe: every verdict unknown");
}

int
main (void)
{
  const char *made = test_path ("mnt");
  table = test_path ("mountinfo");
  if (mkdir (made, 0755) != 0)
    die ("mkdir %s", made);
  /* The probe resolves paths: the table must name the resolved one.  */
  dir = realpath (made, NULL);
  if (dir == NULL)
    die ("realpath %s", made);
#if HAVE_MOUNTINFO
  struct stat st;
  if (stat (dir, &st) != 0)
    die ("stat %s", dir);
  dev_major = major (st.st_dev);
  dev_minor = minor (st.st_dev);
#endif

  if (HAVE_MOUNTINFO)
    {
      test_rows ();
      test_mount_options ();
      test_choice ();
      test_bad_input ();
      test_real ();
    }
  else
    test_none ();
  free (dir);
  return check_exit ();
}
