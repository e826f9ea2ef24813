/* pidrecord.c: the PID record a lock holder writes into its lock file.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"

/* A record is the holder's PID in decimal on a line of its own:

     4242

   which is what a classic pid file holds, and what Python portalocker's
   PidFileLock reads (it takes the whole file as one integer) and writes
   (the same digits, maybe without the line break).  Whether the record
   is live is not written in it: the kernel tells whether that process
   holds a lock on that file (portalock_pid_holds), which no start time
   or host name can prove as well.  Records of portalock 0.1.0 added
   "host=NAME", "start=TICKS" and "mode=exclusive|shared" lines; they
   are still read (a record from another host is stale, since this
   kernel cannot speak for that machine's processes), and still count
   as records that a new one may replace.

   A record is only ever written over an empty file or another record:
   a lock file may be a data file or a script that locks itself, and
   its content is the user's.  */

#define RECORD_MAX 1024

/* What a record says.  */
struct record
{
  long pid;
  const char *host;          /* NULL if not recorded */
};

/* Return true if the LEN bytes at LINE are a key line of a 0.1.0
   record, setting R->host for "host=".  */
static bool
old_record_line (const char *line, size_t len, struct record *r)
{
  if (len > 5 && strncmp (line, "host=", 5) == 0)
    {
      if (r->host == NULL)
        r->host = line + 5;
      return true;
    }
  if (len > 6 && strncmp (line, "start=", 6) == 0)
    return strspn (line + 6, "0123456789") == len - 6;
  return ((len == 14 && strncmp (line, "mode=exclusive", 14) == 0)
          || (len == 11 && strncmp (line, "mode=shared", 11) == 0));
}

/* Parse TEXT, N bytes followed by a NUL, into *R.  Return false if it
   is no record: a positive decimal PID, then nothing, a line break, or
   a line break and the key lines of a 0.1.0 record, each ended by a
   line break.  The host line is changed to a string in place.  */
static bool
parse_record (char *text, size_t n, struct record *r)
{
  size_t digits = strspn (text, "0123456789");
  if (digits == 0 || digits > 10 || text[0] == '0'
      || (digits < n && text[digits] != '\n'))
    return false;
  char *end;
  errno = 0;
  r->pid = strtol (text, &end, 10);
  if (errno != 0 || r->pid <= 0 || r->pid > INT_MAX
      || (pid_t) r->pid != r->pid)
    return false;
  r->host = NULL;
  size_t at = digits < n ? digits + 1 : n;
  while (at < n)
    {
      char *nl = memchr (text + at, '\n', n - at);
      if (nl == NULL || !old_record_line (text + at, nl - (text + at), r))
        return false;
      *nl = '\0';
      at = nl - text + 1;
    }
  return true;
}

/* Read up to RECORD_MAX + 1 bytes of FD from offset 0 into TEXT (of
   RECORD_MAX + 2 bytes) and NUL-terminate them.  Return the count, or
   -1 with errno.  */
static ssize_t
read_text (int fd, char *text)
{
  ssize_t n;
  do
    n = pread (fd, text, RECORD_MAX + 1, 0);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    text[n] = '\0';
  return n;
}

/* Return true if the N bytes of TEXT may be replaced by a record: none,
   or a record.  */
static bool
replaceable (char *text, ssize_t n)
{
  struct record r;
  return (n == 0
          || (n <= RECORD_MAX && memchr (text, '\0', n) == NULL
              && parse_record (text, n, &r)));
}

int
portalock_pid_record_write (int fd, int flags)
{
  int type = flags & ~PORTALOCK_NB;
  if (type != PORTALOCK_SH && type != PORTALOCK_EX)
    {
      errno = EINVAL;
      return -1;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    return -1;
  if (!S_ISREG (st.st_mode))
    {
      errno = S_ISDIR (st.st_mode) ? EISDIR : EINVAL;
      return -1;
    }
  /* Never over the user's data.  An empty file needs no reading, so a
     write-only descriptor will do for it.  */
  if (st.st_size != 0)
    {
      char text[RECORD_MAX + 2];
      ssize_t n = read_text (fd, text);
      if (n < 0)
        return -1;
      if (!replaceable (text, n))
        {
          errno = EEXIST;
          return -1;
        }
    }

  char record[32];
  int len = snprintf (record, sizeof record, "%ld\n", (long) getpid ());

  /* Truncate first: a descriptor opened in append mode writes at the end
     whatever offset it is given, and the end is then offset 0.  */
  if (ftruncate (fd, 0) != 0)
    return -1;
  for (ssize_t done = 0; done < len;)
    {
      ssize_t n = pwrite (fd, record + done, len - done, done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      done += n;
    }
  return 0;
}

/* Return 1 if the process R names holds a lock on the file FD is open
   on, 0 if not, -1 with errno if that cannot be told.  */
static int
record_is_live (const struct record *r, int fd)
{
  if (r->host != NULL)
    {
      char host[HOST_NAME_MAX + 1];
      if (gethostname (host, sizeof host) != 0)
        return 0;
      host[sizeof host - 1] = '\0';
      if (strcmp (host, r->host) != 0)
        return 0;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    return -1;
  int live = portalock_pid_holds ((pid_t) r->pid, st.st_dev, st.st_ino);
  if (live < 0 && errno == ENOTSUP)
    {
      /* The system does not say who holds locks: all that can be told
         is whether the PID is in use.  */
      return kill ((pid_t) r->pid, 0) == 0 || errno == EPERM;
    }
  return live;
}

int
portalock_pid_record_read (const char *path, pid_t *pid)
{
  if (path == NULL || *path == '\0' || pid == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  /* A descriptor of this file whose close a lock object deferred (see
     below) is taken back first, so that repeated reads keep at most one
     open.  A FIFO must not hang the open, nor lose its data to a read.  */
  int fd = portalock_inode_reclaim (path, O_RDONLY);
  if (fd < 0)
    {
      do
        fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      while (fd < 0 && errno == EINTR);
    }
  if (fd < 0)
    return -1;

  char text[RECORD_MAX + 2];
  struct stat st;
  ssize_t n = -1;
  bool known = fstat (fd, &st) == 0;
  if (known)
    {
      if (S_ISREG (st.st_mode))
        n = read_text (fd, text);
      else
        errno = S_ISDIR (st.st_mode) ? EISDIR : EINVAL;
    }

  int r = -1;
  if (n >= 0)
    {
      struct record rec;
      *pid = 0;
      r = 0;
      if (n <= RECORD_MAX && memchr (text, '\0', n) == NULL
          && parse_record (text, n, &rec))
        {
          *pid = (pid_t) rec.pid;
          r = record_is_live (&rec, fd);
        }
    }

  /* This process may hold a POSIX lock on the file through a lock
     object, or another thread's lock object may be taking one right
     now, and a plain close would drop it: close through the per-inode
     table, which waits for the last holder, and in one step with the
     look.  */
  int saved_errno = errno;
  if (known)
    portalock_close_file (st.st_dev, st.st_ino, fd, NULL);
  else
    portalock_close_fd (fd);
  errno = saved_errno;
  return r;
}
