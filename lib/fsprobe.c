/* fsprobe.c: what a kernel lock means on a file system, from its type.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "portalock-private.h"

/* The verdicts.  A kernel lock is kept by the kernel that takes it; it
   reaches another machine only if the file system sends it to a server
   that the other machines' file systems ask too.  So a file system on a
   local disk (or in memory) "spans": every process that can open its
   files runs on this kernel.  A network or cluster file system spans
   where its client sends locks to the server and is "local" where its
   client keeps them (NFS with local_lock= or nolock, SMB with nobrl,
   FUSE file systems that do not implement locking, such as sshfs).
   Where the answer depends on what the probe cannot see (the server's
   configuration, the kernel's version), it says "unknown": a caller
   that needs exclusion across machines must then treat the file system
   as if it were local.  The manual's chapter "Network file systems"
   gives the same table with the reasons.  */

#define SPANS PORTALOCK_FS_SPANS
#define LOCAL PORTALOCK_FS_LOCAL
#define UNKNOWN PORTALOCK_FS_UNKNOWN

/* File systems whose locks, flock and POSIX, have a fixed meaning.  */
struct fs_rule
{
  const char *type;
  uint32_t flock;
  uint32_t posix;
};

static const struct fs_rule fixed_rules[] = {
  /* On a local disk or in memory, every client is this machine.  An
     overlay's locks are the overlay's own, kept by this kernel, even
     when a layer is on a network file system.  */
  { "ext2", SPANS, SPANS }, { "ext3", SPANS, SPANS }, { "ext4", SPANS, SPANS },
  { "xfs", SPANS, SPANS }, { "btrfs", SPANS, SPANS }, { "bcachefs", SPANS, SPANS },
  { "f2fs", SPANS, SPANS }, { "jfs", SPANS, SPANS }, { "reiserfs", SPANS, SPANS },
  { "zfs", SPANS, SPANS }, { "nilfs2", SPANS, SPANS }, { "vfat", SPANS, SPANS },
  { "msdos", SPANS, SPANS }, { "exfat", SPANS, SPANS }, { "ntfs", SPANS, SPANS },
  { "ntfs3", SPANS, SPANS }, { "hfsplus", SPANS, SPANS }, { "udf", SPANS, SPANS },
  { "tmpfs", SPANS, SPANS }, { "ramfs", SPANS, SPANS }, { "devtmpfs", SPANS, SPANS },
  { "hugetlbfs", SPANS, SPANS }, { "overlay", SPANS, SPANS },
  { "squashfs", SPANS, SPANS }, { "erofs", SPANS, SPANS },
  { "iso9660", SPANS, SPANS },
  /* The kernel's CephFS client sends both kinds to the metadata
     servers.  */
  { "ceph", SPANS, SPANS },
  /* 9p: the legacy protocol keeps locks in the client; 9P2000.L sends
     them, but the common server (QEMU's) grants every one without
     locking anything on the host.  */
  { "9p", LOCAL, LOCAL },
  /* virtiofs: the daemon on the host decides (virtiofsd's posix_lock
     and flock settings), and the guest cannot see it.  */
  { "virtiofs", UNKNOWN, UNKNOWN },
  /* GPFS (IBM Storage Scale) and GlusterFS document POSIX locks across
     the cluster; their flock is not documented to span.  */
  { "gpfs", UNKNOWN, SPANS },
  { "fuse.glusterfs", UNKNOWN, SPANS },
  /* ceph-fuse can carry locks to the cluster, but whether it does is
     its configuration's.  */
  { "fuse.ceph-fuse", UNKNOWN, UNKNOWN },
  { "fuse.ceph", UNKNOWN, UNKNOWN },
};

/* Return true if the comma-separated list OPTIONS has NAME, alone or as
   NAME=VALUE; then set *VALUE (if not NULL) to what follows '=' (or to
   "" for NAME alone), up to the next comma, in at most VALUE_SIZE
   bytes.  */
static bool
find_option (const char *options, const char *name, char *value,
             size_t value_size)
{
  size_t len = strlen (name);
  const char *p = options;
  while (*p != '\0')
    {
      const char *end = strchr (p, ',');
      size_t n = end != NULL ? (size_t) (end - p) : strlen (p);
      if (n >= len && strncmp (p, name, len) == 0
          && (n == len || p[len] == '='))
        {
          if (value != NULL && value_size > 0)
            {
              size_t v = n > len ? n - len - 1 : 0;
              if (v >= value_size)
                v = value_size - 1;
              memcpy (value, p + len + 1, v);
              value[v] = '\0';
            }
          return true;
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  return false;
}

/* Return true if INFO's mount or super options have NAME.  */
static bool
has_option (const struct portalock_fs_info *info, const char *name,
            char *value, size_t value_size)
{
  return (find_option (info->super_options, name, value, value_size)
          || find_option (info->mount_options, name, value, value_size));
}

/* NFS: the client sends locks to the server (NLM for versions 2 and 3,
   the protocol itself for version 4) unless local_lock= keeps one kind
   or both here, or nolock (versions 2 and 3) keeps both.  The client
   carries out flock(2) as a whole-file POSIX lock, so a flock lock that
   is sent conflicts with other clients' fcntl locks too.  */
static void
classify_nfs (struct portalock_fs_info *info)
{
  char value[16];
  info->flock_verdict = SPANS;
  info->posix_verdict = SPANS;
  if (has_option (info, "nolock", NULL, 0))
    {
      info->flock_verdict = LOCAL;
      info->posix_verdict = LOCAL;
    }
  if (has_option (info, "local_lock", value, sizeof value))
    {
      if (strcmp (value, "all") == 0 || strcmp (value, "flock") == 0)
        info->flock_verdict = LOCAL;
      if (strcmp (value, "all") == 0 || strcmp (value, "posix") == 0)
        info->posix_verdict = LOCAL;
      if (strcmp (value, "all") != 0 && strcmp (value, "flock") != 0
          && strcmp (value, "posix") != 0 && strcmp (value, "none") != 0)
        {
          info->flock_verdict = UNKNOWN;
          info->posix_verdict = UNKNOWN;
        }
    }
}

/* SMB (cifs, smb3): byte-range locks go to the server as SMB locks
   unless nobrl keeps them here.  How flock(2) is carried out has
   changed between kernel versions, so the probe does not tell.  */
static void
classify_smb (struct portalock_fs_info *info)
{
  bool nobrl = has_option (info, "nobrl", NULL, 0);
  info->posix_verdict = nobrl ? LOCAL : SPANS;
  info->flock_verdict = nobrl ? LOCAL : UNKNOWN;
}

/* Lustre: "flock" makes both kinds coherent across the cluster,
   "localflock" keeps them on each client; with neither (noflock, the
   default) lock calls fail.  */
static void
classify_lustre (struct portalock_fs_info *info)
{
  uint32_t v = UNKNOWN;
  if (has_option (info, "localflock", NULL, 0))
    v = LOCAL;
  else if (has_option (info, "flock", NULL, 0))
    v = SPANS;
  info->flock_verdict = v;
  info->posix_verdict = v;
}

/* GFS2 and OCFS2: localflocks keeps both kinds on each node; without it
   the cluster's lock manager decides, which the probe cannot see.  */
static void
classify_cluster (struct portalock_fs_info *info)
{
  uint32_t v = has_option (info, "localflocks", NULL, 0) ? LOCAL : UNKNOWN;
  info->flock_verdict = v;
  info->posix_verdict = v;
}

/* The file systems whose verdict depends on their options: those need
   the mount table's entry.  */
struct option_rule
{
  const char *type;
  void (*classify) (struct portalock_fs_info *);
};

static const struct option_rule option_rules[] = {
  { "nfs", classify_nfs }, { "nfs4", classify_nfs },
  { "cifs", classify_smb }, { "smb3", classify_smb },
  { "lustre", classify_lustre },
  { "gfs2", classify_cluster }, { "ocfs2", classify_cluster },
};

void
portalock_fs_classify (struct portalock_fs_info *info)
{
  const char *type = info->fstype;
  info->flock_verdict = UNKNOWN;
  info->posix_verdict = UNKNOWN;
  bool done = false;
  for (size_t i = 0; !done && i < sizeof option_rules / sizeof *option_rules;
       i++)
    if (strcmp (type, option_rules[i].type) == 0)
      {
        /* Without the options, nothing can be said.  */
        if ((info->flags & PORTALOCK_FS_MOUNTINFO) != 0)
          option_rules[i].classify (info);
        done = true;
      }
  for (size_t i = 0; !done && i < sizeof fixed_rules / sizeof *fixed_rules;
       i++)
    if (strcmp (type, fixed_rules[i].type) == 0)
      {
        info->flock_verdict = fixed_rules[i].flock;
        info->posix_verdict = fixed_rules[i].posix;
        done = true;
      }
  /* Other FUSE file systems (sshfs, bindfs, ...): the kernel keeps the
     locks unless the file system implements them, which few do and
     which cannot be seen from here.  A FUSE file system that forwards
     locks (bindfs --enable-lock-forwarding) is still reported local:
     the safe mistake.  */
  if (!done && (strcmp (type, "fuse") == 0 || strcmp (type, "fuseblk") == 0
                || strncmp (type, "fuse.", 5) == 0))
    {
      info->flock_verdict = LOCAL;
      info->posix_verdict = LOCAL;
    }

  if (info->flock_verdict == LOCAL || info->posix_verdict == LOCAL)
    info->verdict = LOCAL;
  else if (info->flock_verdict == SPANS && info->posix_verdict == SPANS)
    info->verdict = SPANS;
  else
    info->verdict = UNKNOWN;
}

int
portalock_fs_probe_mountinfo (const char *path, const char *mountinfo,
                              struct portalock_fs_info *info,
                              size_t info_size)
{
  if (path == NULL || *path == '\0' || info == NULL
      || info_size < sizeof *info)
    {
      errno = EINVAL;
      return -1;
    }
  /* INFO_SIZE tells which release's struct the caller has: a later
     release that adds members will accept this release's size as its
     least one and fill only those.  Fill a copy, so that INFO is
     untouched on failure; a larger
     INFO_SIZE (a later release's struct) gets zeros past ours.  */
  struct portalock_fs_info found;
  memset (&found, 0, sizeof found);
  if (portalock_fs_lookup (path, mountinfo, &found) != 0)
    return -1;
  portalock_fs_classify (&found);
  memset (info, 0, info_size);
  memcpy (info, &found, sizeof found);
  return 0;
}

int
portalock_fs_probe (const char *path, struct portalock_fs_info *info,
                    size_t info_size)
{
  return portalock_fs_probe_mountinfo (path, NULL, info, info_size);
}
