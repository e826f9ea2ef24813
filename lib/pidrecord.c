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
#include <unistd.h>

#include "portalock-private.h"

/* A record looks like this:

     4242
     host=build7
     start=123456789
     mode=exclusive

   The first line alone is what a classic pid file holds, so tools that
   read pid files keep working.  A PID on its own proves little: the
   process may have died and its number gone to another one.  The host
   says whether this machine can check the PID at all, and the start time
   (in clock ticks after boot, field 22 of /proc/PID/stat) tells the
   recorded process from a later one with the same number.  Where the
   system has no /proc/PID/stat, the record has no start line and a
   reader can only check that the PID is alive.  */

#define RECORD_MAX 1024

int
portalock_process_start (pid_t pid, unsigned long long *start, bool *zombie)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  int saved_errno = errno;
  close (fd);
  if (n <= 0)
    {
      errno = n < 0 ? saved_errno : EIO;
      return -1;
    }
  buf[n] = '\0';

  /* The command name, field 2, is in parentheses and may hold anything,
     even spaces and ')': count fields from the last ')'.  */
  char *p = strrchr (buf, ')');
  if (p == NULL)
    {
      errno = EIO;
      return -1;
    }
  p++;
  char state = 0;
  int field = 2;
  char *save, *tok;
  for (tok = strtok_r (p, " ", &save); tok != NULL;
       tok = strtok_r (NULL, " ", &save))
    {
      field++;
      if (field == 3)
        state = tok[0];
      else if (field == 22)
        {
          char *end;
          errno = 0;
          *start = strtoull (tok, &end, 10);
          if (errno != 0 || end == tok)
            break;
          if (zombie != NULL)
            *zombie = state == 'Z' || state == 'X';
          return 0;
        }
    }
  errno = EIO;
  return -1;
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

  char host[HOST_NAME_MAX + 1] = "";
  if (gethostname (host, sizeof host) != 0)
    host[0] = '\0';
  host[sizeof host - 1] = '\0';
  /* A name with a line break would spoil the record's lines.  */
  host[strcspn (host, "\n")] = '\0';

  char record[RECORD_MAX];
  pid_t self = getpid ();
  int len = snprintf (record, sizeof record, "%ld\n", (long) self);
  if (host[0] != '\0')
    len += snprintf (record + len, sizeof record - len, "host=%s\n", host);
  unsigned long long start;
  int saved_errno = errno;
  if (portalock_process_start (self, &start, NULL) == 0)
    len += snprintf (record + len, sizeof record - len, "start=%llu\n",
                     start);
  errno = saved_errno;
  len += snprintf (record + len, sizeof record - len, "mode=%s\n",
                   type == PORTALOCK_EX ? "exclusive" : "shared");

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

/* What a record says.  */
struct record
{
  long pid;
  const char *host;          /* NULL if not recorded */
  bool has_start;
  unsigned long long start;
};

/* Parse the NUL-terminated TEXT into *R.  Return false if it is no
   record: the first line must be a PID and nothing else.  The first of
   each key counts.  */
static bool
parse_record (char *text, struct record *r)
{
  char *save;
  char *line = strtok_r (text, "\n", &save);
  char *end;

  if (line == NULL || line != text || line[0] < '0' || line[0] > '9')
    return false;
  errno = 0;
  r->pid = strtol (line, &end, 10);
  if (errno != 0 || *end != '\0' || r->pid <= 0 || r->pid > INT_MAX
      || (pid_t) r->pid != r->pid)
    return false;
  while ((line = strtok_r (NULL, "\n", &save)) != NULL)
    {
      if (strncmp (line, "host=", 5) == 0 && r->host == NULL)
        r->host = line + 5;
      else if (strncmp (line, "start=", 6) == 0 && !r->has_start)
        {
          errno = 0;
          r->start = strtoull (line + 6, &end, 10);
          if (errno != 0 || end == line + 6 || *end != '\0')
            return false;
          r->has_start = true;
        }
    }
  return true;
}

/* Return true if the process R names is alive here and is the one that
   wrote R.  */
static bool
record_is_live (const struct record *r)
{
  if (r->host != NULL)
    {
      char host[HOST_NAME_MAX + 1];
      if (gethostname (host, sizeof host) != 0)
        return false;
      host[sizeof host - 1] = '\0';
      if (strcmp (host, r->host) != 0)
        return false;
    }
  unsigned long long start;
  bool zombie;
  if (portalock_process_start ((pid_t) r->pid, &start, &zombie) == 0)
    return !zombie && (!r->has_start || start == r->start);
  if (errno == ENOENT || errno == ESRCH)
    return false;
  /* No /proc here: all that can be told is whether the PID is in use.  */
  if (r->has_start)
    return false;
  return kill ((pid_t) r->pid, 0) == 0 || errno == EPERM;
}

int
portalock_pid_record_read (const char *path, pid_t *pid)
{
  if (path == NULL || *path == '\0' || pid == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  char text[RECORD_MAX + 1];
  ssize_t n;
  do
    n = pread (fd, text, RECORD_MAX, 0);
  while (n < 0 && errno == EINTR);
  int saved_errno = errno;
  /* This process may hold a POSIX lock on the file through a lock
     object, and a plain close would drop it: close through the per-inode
     table, which waits for the last holder.  */
  portalock_close_fd (fd);
  if (n < 0)
    {
      errno = saved_errno;
      return -1;
    }
  text[n] = '\0';

  struct record r = { 0 };
  *pid = 0;
  if (memchr (text, '\0', n) != NULL || !parse_record (text, &r))
    return 0;
  *pid = (pid_t) r.pid;
  saved_errno = errno;
  bool live = record_is_live (&r);
  errno = saved_errno;
  return live ? 1 : 0;
}
