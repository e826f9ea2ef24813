/* marker-readers.c: the reader markers of marker locks: a writer's
   wait for the readers inside, their eviction, their break.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* Shared marker locks (the manual's "Shared locks on markers").

   A reader holds a file of its own beside the writer marker PATH
   (".BASE.rd-TOKEN", BASE the writer marker's last component, TOKEN its
   hold's), holding the record a writer marker holds (marker.c).  It
   registers that file only while it holds the writer marker, as a pass
   that claims no generation and runs no heartbeat, and gives the
   writer marker back at once.  A writer takes the writer marker as
   ever (phase 1): from then on no reader can register, on any host.
   Then it waits until no live reader marker is left (phase 2, here).
   A reader therefore never waits for a writer that waits for it: the
   writer waits only for readers already registered, and they leave
   without waiting for anything.  New readers wait for the writer
   marker, so a writer that holds it is never overtaken: across
   machines, shared marker locks always prefer writers.

   A lease reader's heartbeat rewrites the beat field of its file in
   place and checks that the file is still there, by the rules of a
   writer marker's heartbeat (local deadline TTL - margin, no clock
   compared across machines).  A writer judges each reader marker as a
   waiter judges a writer marker: a lease whose bytes it saw unchanged
   for TTL + margin on its own clock is stale; a strict one only when
   provably dead (this host and boot, its process gone).  A file at a
   reader's name that is not a record is never removed here: a reader
   writes its record under a private name and renames it to its own,
   so such a file is none of the protocol's.

   Eviction claims the file first, as for writer markers: the evictor
   renames the reader's name to a name of its own (of several evictors
   only one can), checks that what it renamed is the file it judged
   and that its bytes did not change meanwhile (a heartbeat), and only
   then unlinks it; otherwise it renames it back.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"
#include "marker-record.h"

#define RECORD_MAX PORTALOCK_MK_RECORD_MAX

/* What a writer last saw in one reader marker, and since when.  */
struct reader_seen
{
  char *name;                   /* its last component */
  char text[RECORD_MAX + 1];
  struct timespec since;
  bool valid;                   /* TEXT and SINCE are set */
  bool present;                 /* seen in the current look */
};

/* The reader markers a writer has seen while it waits.  */
struct readers
{
  struct reader_seen *v;
  size_t n, size;
};

/* Return the entry for NAME in R, made if need be; NULL on ENOMEM.  */
static struct reader_seen *
entry (struct readers *r, const char *name)
{
  for (size_t i = 0; i < r->n; i++)
    if (strcmp (r->v[i].name, name) == 0)
      return &r->v[i];
  if (r->n == r->size)
    {
      size_t size = r->size ? 2 * r->size : 8;
      struct reader_seen *v = realloc (r->v, size * sizeof *v);
      if (v == NULL)
        return NULL;
      r->v = v;
      r->size = size;
    }
  struct reader_seen *e = &r->v[r->n];
  memset (e, 0, sizeof *e);
  e->name = strdup (name);
  if (e->name == NULL)
    return NULL;
  r->n++;
  return e;
}

static void
readers_free (struct readers *r)
{
  for (size_t i = 0; i < r->n; i++)
    free (r->v[i].name);
  free (r->v);
}

/* Claim and remove the reader marker PATH (in DIR, beside BASE) if its
   bytes are still EXPECT (from before and after the claim), or, if
   EXPECT is NULL, if its token is TOKEN.
   Return 0 if removed; -1 with errno ENOENT (gone), ESTALE (changed:
   put back), or from the file system.  */
static int
evict (const char *path, const char *dir, const char *base,
       const char *expect, const char *token)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  char text[RECORD_MAX + 1], again[RECORD_MAX + 1];
  struct portalock_mk_record rec;
  struct stat st, ast;
  int result = 0;
  if (fstat (fd, &st) != 0 || portalock_mk_read_fd (fd, text) < 0)
    result = errno;
  else if (!portalock_mk_parse_record (text, &rec))
    result = EPROTO;
  else if ((expect != NULL && strcmp (text, expect) != 0)
           || (token != NULL && strcmp (rec.token, token) != 0))
    result = ESTALE;
  char *aside = NULL;
  if (result == 0)
    {
      aside = portalock_mk_private_name (NULL, base, dir, "out");
      if (aside == NULL)
        result = ENOMEM;
      else if (rename (path, aside) != 0)
        result = errno;
      else if (lstat (aside, &ast) != 0 || ast.st_ino != st.st_ino
               || ast.st_dev != st.st_dev
               || (expect != NULL
                   && (portalock_mk_read_fd (fd, again) < 0
                       || strcmp (again, text) != 0)))
        {
          /* Not the file judged, or a heartbeat landed: put it back.  */
          result = ESTALE;
          if (rename (aside, path) != 0)
            {
              /* Nothing better to do: its reader finds it gone.  */
            }
        }
      else
        {
          close (fd);
          fd = -1;
          if (unlink (aside) != 0)
            result = errno;
        }
    }
  if (fd >= 0)
    close (fd);
  free (aside);
  if (result != 0)
    {
      errno = result;
      return -1;
    }
  return 0;
}

/* Judge the reader marker NAME in DIR as of NOW, evicting it if it is
   stale.  Return 1 if it is (or may be) live, 0 if gone, -1 with
   errno.  */
static int
judge (struct readers *r, const char *dir, const char *base,
       const char *name, const struct timespec *now)
{
  size_t size = strlen (dir) + strlen (name) + 2;
  char *path = malloc (size);
  struct reader_seen *e = entry (r, name);
  if (path == NULL || e == NULL)
    {
      free (path);
      errno = ENOMEM;
      return -1;
    }
  snprintf (path, size, "%s/%s", dir, name);
  char text[RECORD_MAX + 1];
  ssize_t n = portalock_mk_read_path (path, text, sizeof text);
  int result = 1;
  if (n < 0)
    result = errno == ENOENT ? 0 : -1;
  else
    {
      e->present = true;
      if (!e->valid || strcmp (text, e->text) != 0)
        {
          e->valid = true;
          memcpy (e->text, text, n + 1);
          e->since = *now;
        }
      struct portalock_mk_record rec;
      bool stale = false;
      if (!portalock_mk_parse_record (text, &rec))
        stale = false;          /* none of the protocol's: never removed */
      else if (rec.kind == PORTALOCK_MK_STRICT)
        stale = portalock_mk_provably_dead (&rec);
      else
        {
          double ttl = rec.ttl_ms / 1000.0;
          stale = (portalock_mk_seconds_between (&e->since, now)
                   >= ttl + portalock_mk_margin (ttl));
        }
      if (stale)
        {
          if (evict (path, dir, base, e->text, NULL) == 0
              || errno == ENOENT)
            result = 0;
          else if (errno != ESTALE && errno != EPROTO)
            result = -1;
        }
    }
  free (path);
  return result;
}

/* Look at every reader marker beside DIR/BASE once.  Return how many
   are (or may be) live, or -1 with errno.  */
static int
look (struct readers *r, const char *dir, const char *base)
{
  size_t plen = strlen (base) + 5;
  char *prefix = malloc (plen + 1);
  if (prefix == NULL)
    return -1;
  snprintf (prefix, plen + 1, ".%s.rd-", base);
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      int e = errno;
      free (prefix);
      errno = e;
      return -1;
    }
  for (size_t i = 0; i < r->n; i++)
    r->v[i].present = false;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  int live = 0, result = 0;
  struct dirent *de;
  while (result == 0 && (de = readdir (d)) != NULL)
    {
      const char *tok = de->d_name + plen;
      if (strncmp (de->d_name, prefix, plen) != 0 || strlen (tok) != 32
          || strspn (tok, "0123456789abcdef") != 32)
        continue;
      int j = judge (r, dir, base, de->d_name, &now);
      if (j < 0)
        result = -1;
      else
        live += j;
    }
  int e = errno;
  closedir (d);
  free (prefix);
  /* Forget the markers gone, so that a table does not grow with every
     reader that came and went while a writer waits.  */
  size_t k = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].present)
      r->v[k++] = r->v[i];
    else
      free (r->v[i].name);
  r->n = k;
  errno = e;
  return result < 0 ? -1 : live;
}

int
portalock_mk_wait_readers (const char *dir, const char *base,
                           double interval, bool nonblock,
                           const struct timespec *deadline)
{
  struct readers r = { NULL, 0, 0 };
  double pause = 0.001;
  int result;
  for (;;)
    {
      int live = look (&r, dir, base);
      if (live <= 0)
        {
          result = live;
          break;
        }
      result = -1;
      if (nonblock)
        {
          errno = EWOULDBLOCK;
          break;
        }
      /* A pending acquisition's cancel (pending.c) ends the wait at the
         next pause.  */
      if (portalock_cancel_requested ())
        {
          errno = ECANCELED;
          break;
        }
      struct timespec wake;
      clock_gettime (CLOCK_MONOTONIC, &wake);
      portalock_mk_add_seconds (&wake, pause);
      if (deadline != NULL)
        {
          if (portalock_deadline_passed (deadline))
            {
              errno = ETIMEDOUT;
              break;
            }
          if (portalock_mk_seconds_between (deadline, &wake) > 0)
            wake = *deadline;
        }
      while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL)
             == EINTR)
        ;
      pause = pause * 2 < interval ? pause * 2 : interval;
    }
  int e = errno;
  readers_free (&r);
  errno = e;
  return result;
}

int
portalock_mk_break_reader (const char *path, const char *token)
{
  char *dir, *base;
  if (path == NULL || *path == '\0' || token == NULL
      || strlen (token) != 32 || strspn (token, "0123456789abcdef") != 32)
    {
      errno = EINVAL;
      return -1;
    }
  if (portalock_mk_split_path (path, &dir, &base) != 0)
    return -1;
  char *name = portalock_mk_reader_name (dir, base, token);
  int r = -1;
  if (name != NULL)
    {
      /* An explicit break: whatever its reader's state, if it is a
         record with that token.  */
      r = evict (name, dir, base, NULL, token);
      if (r != 0 && errno == EPROTO)
        errno = ENOENT;
    }
  int e = errno;
  free (name);
  free (dir);
  free (base);
  errno = e;
  return r;
}

int
portalock_mk_readers (const char *path, struct portalock_mk_record *recs,
                      size_t max)
{
  char *dir, *base;
  if (path == NULL || *path == '\0' || (recs == NULL && max > 0))
    {
      errno = EINVAL;
      return -1;
    }
  if (portalock_mk_split_path (path, &dir, &base) != 0)
    return -1;
  size_t plen = strlen (base) + 5;
  size_t size = strlen (dir) + plen + 40;
  char *prefix = malloc (plen + 1);
  char *name = malloc (size);
  DIR *d = prefix != NULL && name != NULL ? opendir (dir) : NULL;
  int n = -1, e = prefix == NULL || name == NULL ? ENOMEM : errno;
  if (d != NULL)
    {
      snprintf (prefix, plen + 1, ".%s.rd-", base);
      n = 0;
      struct dirent *de;
      while ((de = readdir (d)) != NULL && n < INT_MAX)
        {
          const char *tok = de->d_name + plen;
          char text[RECORD_MAX + 1];
          struct portalock_mk_record rec;
          if (strncmp (de->d_name, prefix, plen) != 0 || strlen (tok) != 32)
            continue;
          snprintf (name, size, "%s/%s", dir, de->d_name);
          if (portalock_mk_read_path (name, text, sizeof text) < 0
              || !portalock_mk_parse_record (text, &rec)
              || strcmp (rec.token, tok) != 0)
            continue;
          if ((size_t) n < max)
            recs[n] = rec;
          n++;
        }
      closedir (d);
    }
  free (prefix);
  free (name);
  free (dir);
  free (base);
  if (n < 0)
    errno = e;
  return n;
}
