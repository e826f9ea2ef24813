/* fsprobe-linux.c: the file system that holds a path, from Linux's statfs
   and /proc/self/mountinfo.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "portalock-private.h"

/* /proc/self/mountinfo has one line per mount (proc(5)):

     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue

   the mount's ID, its parent's, the device (major:minor, as st_dev),
   the root of the mount within its file system, the mount point, the
   per-mount options, optional fields ended by "-", then the file
   system's type, its source and its own ("super") options.  Spaces,
   tabs, newlines and backslashes in the strings are written as octal
   escapes (\040).

   The mount that holds a path is the one with the longest mount point
   that is a prefix of the path (resolved by realpath) and whose device
   is the path's: a device test alone cannot tell two mounts of one file
   system apart (bind mounts), and a prefix test alone is fooled by a
   stale table or by an overlay whose files report their layer's
   device.  Where no prefix has the path's device, the longest prefix
   is taken.  Among equal mount points the last line wins: a later
   mount hides an earlier one.  */

/* Undo the mount table's octal escapes in S, in place.  */
static void
unescape (char *s)
{
  char *out = s;
  for (const char *in = s; *in != '\0'; in++)
    {
      if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3'
          && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7')
        {
          *out++ = (char) ((in[1] - '0') * 64 + (in[2] - '0') * 8
                           + (in[3] - '0'));
          in += 3;
        }
      else
        *out++ = *in;
    }
  *out = '\0';
}

/* Copy SRC into DST of SIZE bytes; flag INFO if it does not fit.  */
static void
copy_string (struct portalock_fs_info *info, char *dst, size_t size,
             const char *src)
{
  size_t len = strlen (src);
  if (len >= size)
    {
      len = size - 1;
      info->flags |= PORTALOCK_FS_TRUNCATED;
    }
  memcpy (dst, src, len);
  dst[len] = '\0';
}

/* One line of the table, split in place.  */
struct mount_line
{
  unsigned major, minor;
  char *mount_point, *mount_options, *fstype, *source, *super_options;
};

/* Split LINE (its newline removed) into ENTRY.  Return false for a line
   that is not a mount table line.  */
static bool
parse_line (char *line, struct mount_line *entry)
{
  char *field[6];
  char *save = NULL;
  char *p = strtok_r (line, " ", &save);
  for (int i = 0; i < 6; i++, p = strtok_r (NULL, " ", &save))
    {
      if (p == NULL)
        return false;
      field[i] = p;
    }
  while (p != NULL && strcmp (p, "-") != 0)
    p = strtok_r (NULL, " ", &save);
  if (p == NULL)
    return false;
  entry->fstype = strtok_r (NULL, " ", &save);
  entry->source = strtok_r (NULL, " ", &save);
  entry->super_options = strtok_r (NULL, " ", &save);
  if (entry->super_options == NULL
      || sscanf (field[2], "%u:%u", &entry->major, &entry->minor) != 2
      || field[4][0] != '/')
    return false;
  entry->mount_point = field[4];
  entry->mount_options = field[5];
  unescape (entry->mount_point);
  unescape (entry->source);
  unescape (entry->fstype);
  return true;
}

/* Return the length of MOUNT_POINT if it holds PATH (both absolute),
   else 0.  */
static size_t
holds (const char *mount_point, const char *path)
{
  size_t len = strlen (mount_point);
  if (len == 1)
    return 1;
  if (strncmp (mount_point, path, len) == 0
      && (path[len] == '\0' || path[len] == '/'))
    return len;
  return 0;
}

/* Fill INFO from the entry of the table MOUNTINFO that holds PATH, the
   resolved path on device DEV.  Return 0 (found or not), or -1 with
   errno ENOMEM.  A table that cannot be read is no error: the statfs
   answer stays.  */
static int
read_mountinfo (const char *mountinfo, const char *path, dev_t dev,
                struct portalock_fs_info *info)
{
  FILE *in = fopen (mountinfo, "re");
  if (in == NULL)
    return 0;
  char *line = NULL, *best = NULL;
  size_t line_size = 0, best_len = 0;
  bool best_dev = false;
  ssize_t n;
  while ((n = getline (&line, &line_size, in)) > 0)
    {
      if (line[n - 1] == '\n')
        line[n - 1] = '\0';
      char *copy = strdup (line);
      struct mount_line entry;
      if (copy == NULL)
        break;
      size_t len = parse_line (copy, &entry)
                   ? holds (entry.mount_point, path) : 0;
      bool same_dev = len > 0 && makedev (entry.major, entry.minor) == dev;
      if (len > 0 && (same_dev > best_dev
                      || (same_dev == best_dev && len >= best_len)))
        {
          char *keep = strdup (line);
          if (keep == NULL)
            {
              free (copy);
              break;
            }
          free (best);
          best = keep;
          best_len = len;
          best_dev = same_dev;
        }
      free (copy);
    }
  bool failed = !feof (in);
  int saved = errno;
  fclose (in);
  free (line);
  if (failed && saved == ENOMEM)
    {
      free (best);
      errno = ENOMEM;
      return -1;
    }
  struct mount_line entry;
  if (best != NULL && parse_line (best, &entry))
    {
      info->flags |= PORTALOCK_FS_MOUNTINFO;
      info->dev_major = entry.major;
      info->dev_minor = entry.minor;
      copy_string (info, info->fstype, sizeof info->fstype, entry.fstype);
      copy_string (info, info->source, sizeof info->source, entry.source);
      copy_string (info, info->mount_point, sizeof info->mount_point,
                   entry.mount_point);
      copy_string (info, info->mount_options, sizeof info->mount_options,
                   entry.mount_options);
      copy_string (info, info->super_options, sizeof info->super_options,
                   entry.super_options);
    }
  free (best);
  return 0;
}

/* The names of file systems statfs(2) knows by their magic number, for
   when the mount table does not tell (linux/magic.h).  */
static const struct
{
  unsigned long magic;
  const char *type;
} magic_names[] = {
  { 0xEF53, "ext4" }, { 0x58465342, "xfs" }, { 0x9123683E, "btrfs" },
  { 0x01021994, "tmpfs" }, { 0x858458F6, "ramfs" }, { 0xF2F52010, "f2fs" },
  { 0x794C7630, "overlay" }, { 0x2FC12FC1, "zfs" }, { 0x6969, "nfs" },
  { 0xFF534D42, "cifs" }, { 0xFE534D42, "smb3" }, { 0x65735546, "fuse" },
  { 0x01021997, "9p" }, { 0x00C36400, "ceph" }, { 0x0BD00BD0, "lustre" },
  { 0x47504653, "gpfs" },
};

int
portalock_fs_lookup (const char *path, const char *mountinfo,
                     struct portalock_fs_info *info)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return -1;
  char *resolved = realpath (path, NULL);
  if (resolved == NULL)
    return -1;

  info->dev_major = major (st.st_dev);
  info->dev_minor = minor (st.st_dev);
  struct statfs fs;
  if (statfs (path, &fs) == 0)
    {
      info->magic = (uint64_t) (unsigned long) fs.f_type;
      for (size_t i = 0; i < sizeof magic_names / sizeof *magic_names; i++)
        if (magic_names[i].magic == (unsigned long) fs.f_type)
          copy_string (info, info->fstype, sizeof info->fstype,
                       magic_names[i].type);
    }

  int r = read_mountinfo (mountinfo != NULL
                          ? mountinfo : "/proc/self/mountinfo",
                          resolved, st.st_dev, info);
  free (resolved);
  return r;
}
