/* holders-linux.c: which processes hold a lock on a file, from Linux's /proc.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "portalock-private.h"

/* Where the answer comes from, on Linux.  /proc/locks lists every lock
   the kernel holds, one line each:

     1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF
     2: FLOCK  ADVISORY  READ  2345 fe:00:5678 0 EOF
     3: OFDLCK ADVISORY  WRITE -1 fe:00:5678 0 EOF
     3: -> FLOCK  ADVISORY  WRITE 3456 fe:00:5678 0 EOF

   with the device as hex major:minor and a blocked request marked "->".
   A POSIX (fcntl, lockf) lock belongs to one process, and its PID is
   right.  A flock or OFD lock belongs to an open file description, which
   every process that inherited or was passed a descriptor of it shares:
   /proc/locks names only the process that took a flock lock, and no
   process at all (-1) for an OFD lock.  So when one of those is listed,
   every process's /proc/PID/fdinfo/FD is read too: its "lock:" lines
   list the flock and OFD locks of that descriptor's open file
   description, whoever took them.  A process whose fdinfo this process
   may not read (another user's, without privilege) is missed there, and
   only /proc/locks speaks for it.  */

/* A set of PIDs, filled up to MAX, counting all.  */
struct pidset
{
  pid_t *pids;
  size_t max;
  size_t count;
  pid_t *all;        /* every PID seen, to drop duplicates */
  size_t all_size;
};

static int
pidset_add (struct pidset *set, pid_t pid)
{
  for (size_t i = 0; i < set->count; i++)
    if (set->all[i] == pid)
      return 0;
  if (set->count == set->all_size)
    {
      size_t size = set->all_size ? 2 * set->all_size : 16;
      pid_t *all = realloc (set->all, size * sizeof *all);
      if (all == NULL)
        {
          errno = ENOMEM;
          return -1;
        }
      set->all = all;
      set->all_size = size;
    }
  set->all[set->count] = pid;
  if (set->count < set->max)
    set->pids[set->count] = pid;
  set->count++;
  return 0;
}

enum portalock_lock_kind
portalock_parse_lock_line (const char *line, dev_t dev, ino_t ino,
                           long *pid)
{
  char type[16], adv[16], rw[16];
  unsigned major_no, minor_no;
  unsigned long long inode;
  int n = 0;

  /* Skip "N:" and blanks.  */
  while (isdigit ((unsigned char) *line))
    line++;
  if (*line != ':')
    return PORTALOCK_KIND_NONE;
  line++;
  while (*line == ' ' || *line == '\t')
    line++;
  if (strncmp (line, "->", 2) == 0)
    return PORTALOCK_KIND_NONE;
  if (sscanf (line, "%15s %15s %15s %ld %x:%x:%llu%n", type, adv, rw, pid,
              &major_no, &minor_no, &inode, &n) != 7 || n == 0)
    return PORTALOCK_KIND_NONE;
  if (inode != (unsigned long long) ino
      || major_no != major (dev) || minor_no != minor (dev))
    return PORTALOCK_KIND_NONE;
  if (strcmp (type, "POSIX") == 0)
    return PORTALOCK_KIND_POSIX;
  if (strcmp (type, "FLOCK") == 0 || strcmp (type, "OFDLCK") == 0)
    return PORTALOCK_KIND_SHARED_OWNER;
  return PORTALOCK_KIND_NONE;
}

enum portalock_lock_kind
portalock_parse_fdinfo_line (const char *line, dev_t dev, ino_t ino,
                             long *pid)
{
  if (strncmp (line, "lock:", 5) != 0)
    return PORTALOCK_KIND_NONE;
  line += 5;
  while (*line == ' ' || *line == '\t')
    line++;
  return portalock_parse_lock_line (line, dev, ino, pid);
}

/* Add the PIDs of /proc/locks' granted locks on DEV/INO.  Set *SCAN if
   a lock of an open file description was seen, whose other holders only
   fdinfo tells.  Return 0, or -1 with errno (ENOTSUP without
   /proc/locks).  */
static int
read_proc_locks (struct pidset *set, dev_t dev, ino_t ino, bool *scan)
{
  FILE *f = fopen ("/proc/locks", "re");
  if (f == NULL)
    {
      errno = ENOTSUP;
      return -1;
    }
  char line[512];
  int r = 0;
  while (r == 0 && fgets (line, sizeof line, f) != NULL)
    {
      long pid;
      enum portalock_lock_kind k
        = portalock_parse_lock_line (line, dev, ino, &pid);
      if (k == PORTALOCK_KIND_SHARED_OWNER)
        *scan = true;
      if (k != PORTALOCK_KIND_NONE && pid > 0)
        r = pidset_add (set, (pid_t) pid);
    }
  int saved_errno = errno;
  fclose (f);
  errno = saved_errno;
  return r;
}

/* Return true if the fdinfo file at PATH lists a flock or OFD lock on
   DEV/INO.  */
static bool
fdinfo_locks (const char *path, dev_t dev, ino_t ino)
{
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return false;
  char line[512];
  bool found = false;
  while (!found && fgets (line, sizeof line, f) != NULL)
    {
      long pid;
      found = portalock_parse_fdinfo_line (line, dev, ino, &pid)
              == PORTALOCK_KIND_SHARED_OWNER;
    }
  fclose (f);
  return found;
}

/* Return true if process PID has a descriptor of DEV/INO that holds a
   flock or OFD lock on it.  */
static bool
process_holds (long pid, dev_t dev, ino_t ino)
{
  char dir[64];
  snprintf (dir, sizeof dir, "/proc/%ld/fd", pid);
  DIR *d = opendir (dir);
  if (d == NULL)
    return false;
  bool found = false;
  struct dirent *e;
  while (!found && (e = readdir (d)) != NULL)
    {
      if (!isdigit ((unsigned char) e->d_name[0]))
        continue;
      /* Look at the descriptor's file first: reading fdinfo costs more
         than a stat, and most descriptors are of other files.  */
      char path[64 + sizeof e->d_name];
      struct stat st;
      snprintf (path, sizeof path, "/proc/%ld/fd/%s", pid, e->d_name);
      if (stat (path, &st) != 0 || st.st_dev != dev || st.st_ino != ino)
        continue;
      snprintf (path, sizeof path, "/proc/%ld/fdinfo/%s", pid, e->d_name);
      found = fdinfo_locks (path, dev, ino);
    }
  closedir (d);
  return found;
}

/* Add every process that shares a flock or OFD lock on DEV/INO.  */
static int
scan_fdinfo (struct pidset *set, dev_t dev, ino_t ino)
{
  DIR *d = opendir ("/proc");
  if (d == NULL)
    return 0;
  int r = 0;
  struct dirent *e;
  while (r == 0 && (e = readdir (d)) != NULL)
    {
      char *end;
      long pid = strtol (e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0)
        continue;
      if (process_holds (pid, dev, ino))
        r = pidset_add (set, (pid_t) pid);
    }
  int saved_errno = errno;
  closedir (d);
  errno = saved_errno;
  return r;
}

int
portalock_pid_holds (pid_t pid, dev_t dev, ino_t ino)
{
  /* The kernel prints /proc/locks a page per read, letting go of its
     lock list in between: a lock taken or given back elsewhere meanwhile
     can make a line of another lock go missing from that read.  So a
     lock that is not seen is looked for twice more before PID is said
     to hold none; one that is seen is held.  */
  bool scan = false, found = false;
  for (int attempt = 0; attempt < 3 && !found; attempt++)
    {
      FILE *f = fopen ("/proc/locks", "re");
      if (f == NULL)
        {
          if (errno == ENOENT)
            errno = ENOTSUP;
          return -1;
        }
      char line[512];
      while (!found && fgets (line, sizeof line, f) != NULL)
        {
          long p;
          enum portalock_lock_kind k
            = portalock_parse_lock_line (line, dev, ino, &p);
          /* A POSIX lock names its process; a flock lock the process
             that took it, which is proof enough.  */
          if (k != PORTALOCK_KIND_NONE && p == (long) pid)
            found = true;
          else if (k == PORTALOCK_KIND_SHARED_OWNER)
            scan = true;
        }
      int err = ferror (f) ? errno : 0;
      fclose (f);
      if (err != 0)
        {
          errno = err;
          return -1;
        }
    }
  if (found)
    return 1;
  if (!scan)
    return 0;

  /* An OFD lock, or a flock lock PID inherited: only PID's descriptors
     tell.  A process that is gone holds nothing; one whose descriptors
     this process may not see cannot be judged.  */
  char dir[64];
  snprintf (dir, sizeof dir, "/proc/%ld/fd", (long) pid);
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      if (errno == ENOENT || errno == ESRCH)
        return 0;
      return -1;
    }
  closedir (d);
  return process_holds (pid, dev, ino) ? 1 : 0;
}

int
portalock_file_holders (dev_t dev, ino_t ino, pid_t *pids, size_t max)
{
  struct pidset set = { .pids = pids, .max = max };
  bool scan = false;
  /* A line can go missing from one read of /proc/locks (see
     portalock_pid_holds), so the holders are those of three reads
     together: a lock held all along is missed only if all three miss
     it, and one given back in between was held during the call.  */
  int r = 0;
  for (int pass = 0; pass < 3 && r == 0; pass++)
    r = read_proc_locks (&set, dev, ino, &scan);
  if (r == 0 && scan)
    r = scan_fdinfo (&set, dev, ino);
  int saved_errno = errno;
  free (set.all);
  errno = saved_errno;
  if (r != 0)
    return -1;
  if (set.count > INT_MAX)
    set.count = INT_MAX;
  return (int) set.count;
}
