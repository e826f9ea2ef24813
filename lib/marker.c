/* marker.c: marker and lease locks on the file system itself.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* The protocol (the manual's "Marker and lease locks" is the contract).

   Taking.  A taker creates a file of its own beside the lock name, with
   O_CREAT|O_EXCL and a name holding its host, PID and random bits,
   writes its record into it and syncs it, then link(2)s it to the lock
   name.  If link fails, the taker may hold the lock all the same: on
   NFS the reply of a link that was done can be lost, and the
   retransmission then fails with EEXIST.  Its file's link count of 2
   tells (open(2), O_EXCL), or, where that count is cached, its token at
   the name.  (A successful link is believed: a cached count of 1 after
   it is common on FUSE and NFS.)  The
   taker keeps both names of its file while it holds: its own name is
   how it reaches its record without going through the lock name.

   The generation (the fencing token) is claimed after the link, under
   the lock: a file ".NAME.gen-N" (N in 20 decimal digits) created with
   O_EXCL, N one more than the greatest such file there; then the
   smaller ones are removed.  The greatest is never removed but by the
   claimer of a greater one, so every holder that keeps the lock gets a
   greater number than all before it.  A holder that lost its lease
   while claiming may get a smaller, unused number: fencing then turns
   it away, which is what the token is for.

   Heartbeat.  A lease's holder rewrites the fixed-width "beat" field of
   its record in place, through its own name, syncs, and then reads the
   record at the lock name back: if the token there is not its own, the
   lease is lost.  A heartbeat never links, renames or writes anything at
   the lock name, so after an eviction it can neither bring the evicted
   marker back nor overwrite the new holder's: its write lands in a file
   that is no longer, or will never again be, at the name.

   Expiry.  No clock is compared across machines.  The holder's local
   deadline is the CLOCK_MONOTONIC time at which its last successful
   heartbeat began, plus TTL - MARGIN (MARGIN = TTL / 5); a heartbeat
   whose write finishes after that deadline does not count, and once the
   deadline passes the lease is lost for good.  A waiter measures
   staleness on its own monotonic clock: a marker whose content it sees
   unchanged for TTL + MARGIN is stale.  Since every heartbeat that
   counts changed the record before the holder's deadline, which is
   2 MARGIN before any waiter can have seen it unchanged that long, a
   waiter cannot find a live lease stale unless the two clocks' rates
   differ by more than 2 MARGIN / TTL (40 %), or the file system shows
   it a record older than the holder wrote (an attribute or data cache
   longer than MARGIN).

   Eviction, release and break claim the marker first.  Its holder's
   own file is named for the token of the hold (".NAME.mk-TOKEN"), so no
   own name is ever used twice.  A remover reads the marker at the lock
   name, checks it is the one it judged (the same bytes: a heartbeat or
   a new holder changes them), and renames the holder's own name to a
   name of its own: of several removers only one can, and while the
   claim stands no one else removes the marker, so no taker can link a
   marker of its own to the name either.  The claimer checks that what
   it renamed is the file it read, and that its bytes have still not
   changed (else it renames the claim back and lets go), then unlinks
   the lock name and its claim.  The lock name is never free while a
   marker that might be live is off it: the race of moving a marker
   aside, finding it live and failing to put it back because a third
   process took the name meanwhile cannot happen.  A marker whose own
   file is gone (a cleaner removed it) cannot be claimed: waiters leave
   it alone, and only an explicit break moves it, by renaming the lock
   name aside, reading it there and linking it back if it is not the
   one to break.

   Readers (marker-readers.c has the protocol).  A reader takes the
   marker as a pass: linked like any marker, but with no generation
   claimed and no heartbeat; it registers its reader marker and gives
   the pass back.  Its hold is then that reader marker, reached through
   its own name only (M->shared): the heartbeat rewrites its beat field
   and reads the token back from that name, and the release unlinks it.
   A writer takes the marker as above and then waits for the readers
   (portalock_mk_acquire_writer).  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock-private.h"
#include "marker.h"
#include "marker-record.h"

#define RECORD_MAX PORTALOCK_MK_RECORD_MAX
#define MAGIC "portalock-marker 1\n"

struct portalock_mk
{
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char *path;                   /* the lock name */
  char *dir;                    /* its directory */
  char *base;                   /* its last component */
  enum portalock_mk_kind kind;
  double ttl;
  double interval;
  portalock_mk_lost_fn lost_fn;
  void *lost_arg;
  bool heartbeat;

  /* While held.  */
  bool held;
  bool pass;                    /* a reader's pass: no generation, no
                                   heartbeat (portalock_mk_acquire_shared) */
  bool shared;                  /* a reader's hold: OWN is its reader
                                   marker, and nothing is at PATH */
  bool lost;
  bool reported;
  int fd;                       /* this holder's own file */
  char *own;                    /* its name */
  struct portalock_mk_record rec;
  size_t gen_off;               /* offsets of the fixed-width fields */
  size_t beat_off;
  struct timespec deadline;     /* a lease's local deadline */
  pthread_t thread;
  bool thread_running;
  bool stop;

  bool forgotten;               /* an inherited hold was forgotten */

  /* What a waiter saw at the name, kept from one try to the next.  */
  struct sighting *seen;
};

/* The test seams.  */
static char seam_host[256];
static char seam_boot[64];
static int (*seam_fault) (const char *call);
static void (*seam_claim) (void);

void
portalock_mk_set_claim_hook (void (*hook) (void))
{
  seam_claim = hook;
}

void
portalock_mk_set_identity (const char *host, const char *boot)
{
  snprintf (seam_host, sizeof seam_host, "%s", host ? host : "");
  snprintf (seam_boot, sizeof seam_boot, "%s", boot ? boot : "");
}

void
portalock_mk_set_fault (int (*fault) (const char *call))
{
  seam_fault = fault;
}

/* Return -1 with the errno the fault seam sets for CALL, else 0.  */
static int
fault (const char *call)
{
  int e = seam_fault != NULL ? seam_fault (call) : 0;
  if (e == 0)
    return 0;
  errno = e;
  return -1;
}

/* Copy S to OUT (of SIZE bytes), each byte outside [A-Za-z0-9._-]
   replaced by '_', so that it fits in a file name and a record line.  */
static void
clean_copy (char *out, size_t size, const char *s)
{
  size_t i;
  for (i = 0; i + 1 < size && s[i] != '\0'; i++)
    {
      char c = s[i];
      bool ok = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                 || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '-');
      out[i] = ok ? c : '_';
    }
  out[i] = '\0';
  if (i == 0)
    snprintf (out, size, "unknown");
}

static void
my_host (char *out, size_t size)
{
  char name[256] = "";
  if (seam_host[0] != '\0')
    snprintf (name, sizeof name, "%s", seam_host);
  else if (gethostname (name, sizeof name - 1) != 0)
    name[0] = '\0';
  clean_copy (out, size, name);
}

/* Read up to SIZE - 1 bytes of PATH into BUF, NUL-terminated.  Return
   the count, or -1 with errno.  */
ssize_t
portalock_mk_read_path (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  size_t n = 0;
  while (n + 1 < size)
    {
      ssize_t r = read (fd, buf + n, size - 1 - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          close (fd);
          errno = e;
          return -1;
        }
      if (r == 0)
        break;
      n += r;
    }
  close (fd);
  buf[n] = '\0';
  return n;
}

static void
my_boot (char *out, size_t size)
{
  char id[64];
  if (seam_boot[0] != '\0')
    snprintf (id, sizeof id, "%s", seam_boot);
  else if (portalock_mk_read_path ("/proc/sys/kernel/random/boot_id", id,
                                   sizeof id) <= 0)
    snprintf (id, sizeof id, "-");
  id[strcspn (id, "\n")] = '\0';
  clean_copy (out, size, id);
}

/* Return the start time of process PID (clock ticks after boot, field
   22 of /proc/PID/stat), or 0 if it cannot be read.  */
static unsigned long long
start_time (long pid)
{
  char path[64], text[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  if (portalock_mk_read_path (path, text, sizeof text) <= 0)
    return 0;
  char *p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  /* After the command come fields 3, 4, ...: skip to the 22nd, each
     field after the space before it.  */
  for (int field = 3; field <= 22; field++)
    {
      p = strchr (p + 1, ' ');
      if (p == NULL)
        return 0;
    }
  return strtoull (p + 1, NULL, 10);
}

/* Fill TOKEN (33 bytes) with 32 random hex digits.  Return 0, or -1
   with errno.  */
int
portalock_mk_random_token (char *token)
{
  unsigned char bytes[16];
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, bytes, sizeof bytes);
  close (fd);
  if (n != (ssize_t) sizeof bytes)
    {
      errno = EIO;
      return -1;
    }
  for (int i = 0; i < 16; i++)
    snprintf (token + 2 * i, 3, "%02x", bytes[i]);
  return 0;
}

/* Format REC into BUF (RECORD_MAX bytes); set the offsets of the
   generation and beat digits.  Return the length.  */
static size_t
format_record (const struct portalock_mk_record *rec, char *buf,
               size_t *gen_off, size_t *beat_off)
{
  int n = snprintf (buf, RECORD_MAX,
                    MAGIC "host=%s\nboot=%s\npid=%ld\nstart=%llu\n"
                    "token=%s\nkind=%s\nttl=%llu\ngeneration=",
                    rec->host, rec->boot, rec->pid, rec->start, rec->token,
                    rec->kind == PORTALOCK_MK_LEASE ? "lease" : "strict",
                    rec->ttl_ms);
  *gen_off = n;
  n += snprintf (buf + n, RECORD_MAX - n, "%020llu\nbeat=", rec->generation);
  *beat_off = n;
  n += snprintf (buf + n, RECORD_MAX - n, "%020llu\n", rec->beat);
  return n;
}

/* If the line at *P is "KEY=VALUE\n", copy VALUE to OUT (SIZE bytes),
   advance *P past it and return true.  */
static bool
take_field (const char **p, const char *key, char *out, size_t size)
{
  size_t k = strlen (key);
  if (strncmp (*p, key, k) != 0 || (*p)[k] != '=')
    return false;
  const char *v = *p + k + 1;
  const char *nl = strchr (v, '\n');
  if (nl == NULL || nl == v || (size_t) (nl - v) >= size)
    return false;
  memcpy (out, v, nl - v);
  out[nl - v] = '\0';
  *p = nl + 1;
  return true;
}

/* Return true if S is all decimal digits; set *V to their value.  */
bool
portalock_mk_number (const char *s, unsigned long long *v)
{
  if (s[0] == '\0' || strspn (s, "0123456789") != strlen (s)
      || strlen (s) > 20)
    return false;
  errno = 0;
  *v = strtoull (s, NULL, 10);
  return errno == 0;
}

/* Parse the NUL-terminated TEXT into *REC.  Return true if it is a
   record in exactly the documented form.  */
bool
portalock_mk_parse_record (const char *text, struct portalock_mk_record *rec)
{
  if (strncmp (text, MAGIC, strlen (MAGIC)) != 0)
    return false;
  const char *p = text + strlen (MAGIC);
  char pid[32], start[32], kind[16], ttl[32], gen[32], beat[32];
  unsigned long long v;
  if (!take_field (&p, "host", rec->host, sizeof rec->host)
      || !take_field (&p, "boot", rec->boot, sizeof rec->boot)
      || !take_field (&p, "pid", pid, sizeof pid)
      || !take_field (&p, "start", start, sizeof start)
      || !take_field (&p, "token", rec->token, sizeof rec->token)
      || !take_field (&p, "kind", kind, sizeof kind)
      || !take_field (&p, "ttl", ttl, sizeof ttl)
      || !take_field (&p, "generation", gen, sizeof gen)
      || !take_field (&p, "beat", beat, sizeof beat) || *p != '\0')
    return false;
  if (!portalock_mk_number (pid, &v) || v == 0 || v > INT_MAX)
    return false;
  rec->pid = v;
  if (!portalock_mk_number (start, &rec->start)
      || !portalock_mk_number (ttl, &rec->ttl_ms)
      || !portalock_mk_number (gen, &rec->generation)
      || !portalock_mk_number (beat, &rec->beat)
      || strlen (rec->token) != 32
      || strspn (rec->token, "0123456789abcdef") != 32)
    return false;
  if (strcmp (kind, "lease") == 0 && rec->ttl_ms != 0)
    rec->kind = PORTALOCK_MK_LEASE;
  else if (strcmp (kind, "strict") == 0 && rec->ttl_ms == 0)
    rec->kind = PORTALOCK_MK_STRICT;
  else
    return false;
  return true;
}

/* A name of this process's in M's directory: ".BASE.HOST.PID.RAND.SUFFIX".
   Return it malloc'd, or NULL with errno.  */
char *
portalock_mk_private_name (const struct portalock_mk *m, const char *base,
              const char *dir, const char *suffix)
{
  char host[256], token[33];
  (void) m;
  my_host (host, sizeof host);
  if (portalock_mk_random_token (token) != 0)
    return NULL;
  token[12] = '\0';
  size_t size = strlen (dir) + strlen (base) + strlen (host) + 64;
  char *name = malloc (size);
  if (name == NULL)
    return NULL;
  snprintf (name, size, "%s/.%s.%s.%ld.%s.%s", dir, base, host,
            (long) getpid (), token, suffix);
  return name;
}

/* Split PATH into a malloc'd directory and last component.  Return 0,
   or -1 with errno (EINVAL, ENOMEM).  */
int
portalock_mk_split_path (const char *path, char **dir, char **base)
{
  const char *slash = strrchr (path, '/');
  const char *b = slash ? slash + 1 : path;
  if (*b == '\0' || strcmp (b, ".") == 0 || strcmp (b, "..") == 0)
    {
      errno = EINVAL;
      return -1;
    }
  *base = strdup (b);
  if (slash == NULL)
    *dir = strdup (".");
  else if (slash == path)
    *dir = strdup ("/");
  else
    *dir = strndup (path, slash - path);
  if (*base == NULL || *dir == NULL)
    {
      free (*base);
      free (*dir);
      errno = ENOMEM;
      return -1;
    }
  return 0;
}

/* The name of the own file of the holder whose token is TOKEN, in DIR:
   ".BASE.mk-TOKEN".  Return it malloc'd, or NULL with errno.  */
static char *
own_name (const char *dir, const char *base, const char *token)
{
  size_t size = strlen (dir) + strlen (base) + 48;
  char *name = malloc (size);
  if (name != NULL)
    snprintf (name, size, "%s/.%s.mk-%s", dir, base, token);
  return name;
}

char *
portalock_mk_reader_name (const char *dir, const char *base,
                          const char *token)
{
  size_t size = strlen (dir) + strlen (base) + 48;
  char *name = malloc (size);
  if (name != NULL)
    snprintf (name, size, "%s/.%s.rd-%s", dir, base, token);
  return name;
}

/* Read the file open on FD from its start into TEXT (RECORD_MAX + 1
   bytes), NUL-terminated.  Return the length, or -1 with errno.  */
ssize_t
portalock_mk_read_fd (int fd, char *text)
{
  size_t n = 0;
  while (n < RECORD_MAX)
    {
      ssize_t r = pread (fd, text + n, RECORD_MAX - n, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      n += r;
    }
  text[n] = '\0';
  return n;
}

/* Remove the marker at PATH by the claim of its own file (the comment
   at the top), if its bytes are still EXPECT (or, if EXPECT is NULL, if
   it is a record whose token is TOKEN, or any record if TOKEN is NULL
   too).  Return 0 if it was removed; -1 with errno ENOENT (nothing
   there), ESTALE (another marker there, or this one changed), EPROTO
   (no record), EBUSY (its own file is missing or claimed by another
   remover), or from the file system.  Nothing at the name is changed
   on failure.  */
static int
claim_and_remove (const char *path, const char *dir, const char *base,
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
  if (result != 0)
    {
      close (fd);
      errno = result;
      return -1;
    }

  /* The claim: only one remover can rename the holder's own name, and
     no own name is ever used twice, so from here on no one else removes
     this marker from the lock's name, and no one can link another
     there while it is.  */
  char *own = own_name (dir, base, rec.token);
  char *aside = portalock_mk_private_name (NULL, base, dir, "out");
  if (own == NULL || aside == NULL)
    result = ENOMEM;
  else if (rename (own, aside) != 0)
    result = errno == ENOENT ? EBUSY : errno;
  else if (lstat (aside, &ast) != 0 || ast.st_ino != st.st_ino
           || ast.st_dev != st.st_dev || portalock_mk_read_fd (fd, again) < 0
           || strcmp (again, text) != 0)
    {
      /* Another file under the holder's name, or the record changed (a
         heartbeat): not the one judged.  Give the claim back.  */
      result = ESTALE;
      if (rename (aside, own) != 0)
        {
          /* Nothing better to do: the holder's name is lost, which
             only makes its marker removable by an explicit break.  */
        }
    }
  else
    {
      /* Close first: an NFS client renames an open file it is asked to
         remove.  */
      close (fd);
      fd = -1;
      if (unlink (path) != 0)
        {
          /* Still at the name (a transient ESTALE or EIO): give the
             claim back, so that it can be removed later.  */
          result = errno;
          if (rename (aside, own) != 0)
            {
              /* Then only an explicit break removes it.  */
            }
        }
      else
        unlink (aside);
    }
  if (fd >= 0)
    close (fd);
  free (own);
  free (aside);
  if (result != 0)
    {
      errno = result;
      return -1;
    }
  return 0;
}

/* Move the marker at PATH aside and remove it if it is a record (whose
   token is TOKEN, if TOKEN is not NULL); else link it back.  Only for
   an explicit break of a marker whose own file is gone: a marker that
   took the name between the rename and the link back would lose it.
   Return as claim_and_remove.  */
static int
move_and_remove (const char *path, const char *dir, const char *base,
                 const char *token)
{
  char *aside = portalock_mk_private_name (NULL, base, dir, "out");
  if (aside == NULL)
    return -1;
  if (rename (path, aside) != 0)
    {
      int e = errno;
      free (aside);
      errno = e;
      return -1;
    }
  char text[RECORD_MAX + 1];
  struct portalock_mk_record rec;
  int result = 0;
  if (portalock_mk_read_path (aside, text, sizeof text) < 0)
    result = errno;
  else if (!portalock_mk_parse_record (text, &rec))
    result = EPROTO;
  else if (token != NULL && strcmp (rec.token, token) != 0)
    result = ESTALE;
  if (result != 0 && link (aside, path) != 0)
    {
      /* A new marker took the name meanwhile: the one moved has lost
         it, and its second name goes below like any other.  */
    }
  unlink (aside);
  free (aside);
  if (result != 0)
    {
      errno = result;
      return -1;
    }
  return 0;
}

struct portalock_mk *
portalock_mk_new (const char *path, enum portalock_mk_kind kind)
{
  if (path == NULL || *path == '\0'
      || path[strlen (path) - 1] == '/'
      || (kind != PORTALOCK_MK_STRICT && kind != PORTALOCK_MK_LEASE))
    {
      errno = EINVAL;
      return NULL;
    }
  struct portalock_mk *m = calloc (1, sizeof *m);
  if (m == NULL)
    return NULL;
  m->path = strdup (path);
  if (m->path == NULL
      || portalock_mk_split_path (path, &m->dir, &m->base) != 0)
    {
      free (m->path);
      free (m);
      errno = ENOMEM;
      return NULL;
    }
  pthread_mutex_init (&m->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init (&ca);
  pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
  pthread_cond_init (&m->cv, &ca);
  pthread_condattr_destroy (&ca);
  m->kind = kind;
  m->ttl = 30;
  m->interval = 0.25;
  m->heartbeat = true;
  m->fd = -1;
  return m;
}

/* Return true if a setting of M may change: M is not NULL (VALID is
   true) and holds nothing; else set errno to EINVAL or EBUSY.  */
static bool
settable (const struct portalock_mk *m, bool valid)
{
  if (m == NULL || !valid)
    {
      errno = EINVAL;
      return false;
    }
  if (m->held)
    {
      errno = EBUSY;
      return false;
    }
  return true;
}

int
portalock_mk_set_ttl (struct portalock_mk *m, double seconds)
{
  if (!settable (m, seconds > 0 && seconds <= 1e9))
    return -1;
  m->ttl = seconds;
  return 0;
}

int
portalock_mk_set_check_interval (struct portalock_mk *m,
                                     double seconds)
{
  if (m == NULL || !(seconds > 0) || !(seconds <= 1e9))
    {
      errno = EINVAL;
      return -1;
    }
  m->interval = seconds;
  return 0;
}

int
portalock_mk_set_lost_callback (struct portalock_mk *m,
                                    portalock_mk_lost_fn fn, void *arg)
{
  if (!settable (m, true))
    return -1;
  m->lost_fn = fn;
  m->lost_arg = arg;
  return 0;
}

int
portalock_mk_set_heartbeat (struct portalock_mk *m, bool on)
{
  if (!settable (m, true))
    return -1;
  m->heartbeat = on;
  return 0;
}

double
portalock_mk_margin (double ttl)
{
  return ttl / 5;
}

void
portalock_mk_add_seconds (struct timespec *t, double seconds)
{
  time_t whole = (time_t) seconds;  /* SECONDS is not negative */
  t->tv_sec += whole;
  t->tv_nsec += (long) ((seconds - whole) * 1e9);
  if (t->tv_nsec >= 1000000000L)
    {
      t->tv_sec++;
      t->tv_nsec -= 1000000000L;
    }
}

double
portalock_mk_seconds_between (const struct timespec *a,
                              const struct timespec *b)
{
  return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Mark M's hold lost (M->mu held).  Return true if the caller is to
   call the callback, once the mutex is let go.  */
static bool
mark_lost (struct portalock_mk *m)
{
  m->lost = true;
  if (m->reported || m->lost_fn == NULL)
    return false;
  m->reported = true;
  return true;
}

/* Close and remove M's own file and forget the hold.  */
static void
drop_own (struct portalock_mk *m)
{
  if (m->fd >= 0)
    close (m->fd);
  m->fd = -1;
  if (m->own != NULL)
    unlink (m->own);
  free (m->own);
  m->own = NULL;
  m->held = false;
  m->shared = false;
}

/* Write the 20 digits of V at OFF of M's own file and sync it; if
   BEAT, through the fault seam.  */
static int
write_field (struct portalock_mk *m, size_t off, unsigned long long v,
             bool beat)
{
  char digits[21];
  snprintf (digits, sizeof digits, "%020llu", v);
  if (beat && fault ("write") != 0)
    return -1;
  if (pwrite (m->fd, digits, 20, off) != 20)
    {
      if (errno == 0)
        errno = EIO;
      return -1;
    }
  if ((beat && fault ("sync") != 0) || fsync (m->fd) != 0)
    return -1;
  return 0;
}

int
portalock_mk_max_generation (const char *dir, const char *base,
                             unsigned long long *gen)
{
  size_t plen = strlen (base) + 6;
  char *prefix = malloc (plen + 1);
  if (prefix == NULL)
    return -1;
  snprintf (prefix, plen + 1, ".%s.gen-", base);
  unsigned long long max = 0, v;
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      int e = errno;
      free (prefix);
      errno = e;
      return -1;
    }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strncmp (e->d_name, prefix, plen) == 0
        && strlen (e->d_name + plen) == 20
        && portalock_mk_number (e->d_name + plen, &v) && v > max)
      max = v;
  closedir (d);
  free (prefix);
  *gen = max;
  return 0;
}

/* Claim M's generation as the comment at the top says.  Return 0, or
   -1 with errno.  */
static int
claim_generation (struct portalock_mk *m, unsigned long long *gen)
{
  unsigned long long max, v;
  if (portalock_mk_max_generation (m->dir, m->base, &max) != 0)
    return -1;
  size_t plen = strlen (m->base) + 6;
  char *prefix = malloc (plen + 1);
  if (prefix == NULL)
    return -1;
  snprintf (prefix, plen + 1, ".%s.gen-", m->base);
  DIR *d;
  struct dirent *e;
  size_t size = strlen (m->dir) + plen + 32;
  char *name = malloc (size);
  if (name == NULL)
    {
      free (prefix);
      return -1;
    }
  for (v = max + 1;; v++)
    {
      snprintf (name, size, "%s/%s%020llu", m->dir, prefix, v);
      int fd = open (name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          close (fd);
          break;
        }
      if (errno != EEXIST)
        {
          int err = errno;
          free (name);
          free (prefix);
          errno = err;
          return -1;
        }
    }
  *gen = v;
  /* The smaller claims are history.  */
  d = opendir (m->dir);
  while (d != NULL && (e = readdir (d)) != NULL)
    if (strncmp (e->d_name, prefix, plen) == 0
        && strlen (e->d_name + plen) == 20
        && portalock_mk_number (e->d_name + plen, &v) && v < *gen)
      {
        snprintf (name, size, "%s/%s", m->dir, e->d_name);
        unlink (name);
      }
  if (d != NULL)
    closedir (d);
  free (name);
  free (prefix);
  return 0;
}

/* Rename M's reader marker, written under a private name, to its own
   name.  Return 0, or -1 with errno (the file then removed).  */
static int
publish_reader (struct portalock_mk *m)
{
  char *name = portalock_mk_reader_name (m->dir, m->base, m->rec.token);
  if (name == NULL)
    {
      drop_own (m);
      return -1;
    }
  if (rename (m->own, name) != 0)
    {
      /* A rename whose reply was lost fails when retransmitted: the
         token at the name tells.  */
      int e = errno;
      char text[RECORD_MAX + 1];
      struct portalock_mk_record rec;
      if (portalock_mk_read_path (name, text, sizeof text) < 0
          || !portalock_mk_parse_record (text, &rec)
          || strcmp (rec.token, m->rec.token) != 0)
        {
          free (name);
          drop_own (m);
          errno = e;
          return -1;
        }
    }
  free (m->own);
  m->own = name;
  return 0;
}

/* Create M's own file holding its record, or if READER, a reader
   marker of generation GEN: written and synced under a private name,
   then renamed to its own, so that a reader marker is never seen
   incomplete.  Return 0, or -1 with errno.  */
static int
create_own (struct portalock_mk *m, bool reader, unsigned long long gen)
{
  struct portalock_mk_record *r = &m->rec;
  memset (r, 0, sizeof *r);
  my_host (r->host, sizeof r->host);
  my_boot (r->boot, sizeof r->boot);
  r->pid = getpid ();
  r->start = start_time (r->pid);
  r->kind = m->kind;
  r->ttl_ms = m->kind == PORTALOCK_MK_LEASE
    ? (unsigned long long) (m->ttl * 1000 + 0.999) : 0;
  r->generation = gen;
  if (portalock_mk_random_token (r->token) != 0)
    return -1;
  m->own = reader ? portalock_mk_private_name (m, m->base, m->dir, "rd")
    : own_name (m->dir, m->base, r->token);
  if (m->own == NULL)
    return -1;
  m->fd = open (m->own, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (m->fd < 0)
    {
      int e = errno;
      free (m->own);
      m->own = NULL;
      errno = e;
      return -1;
    }
  char text[RECORD_MAX];
  size_t n = format_record (r, text, &m->gen_off, &m->beat_off);
  if (write (m->fd, text, n) != (ssize_t) n || fsync (m->fd) != 0)
    {
      int e = errno ? errno : EIO;
      drop_own (m);
      errno = e;
      return -1;
    }
  return reader ? publish_reader (m) : 0;
}

/* Link M's own file to the lock name.  Return 1 if M holds now, 0 if
   another marker is there, -1 with errno.  */
static int
try_link (struct portalock_mk *m)
{
  if (link (m->own, m->path) == 0)
    return 1;
  int e = errno;
  /* A link whose reply was lost fails when retransmitted: the link
     count tells (open(2), O_EXCL), or, where the count is cached (an
     NFS or FUSE attribute cache), the token at the name.  */
  struct stat st;
  if (fstat (m->fd, &st) == 0 && st.st_nlink == 2)
    return 1;
  char text[RECORD_MAX + 1];
  struct portalock_mk_record rec;
  if (portalock_mk_read_path (m->path, text, sizeof text) >= 0
      && portalock_mk_parse_record (text, &rec)
      && strcmp (rec.token, m->rec.token) == 0)
    return 1;
  if (e == EEXIST)
    return 0;
  errno = e;
  return -1;
}

/* Return true if the strict marker REC is provably dead: written on
   this host in this boot by a process that is gone.  */
bool
portalock_mk_provably_dead (const struct portalock_mk_record *rec)
{
  char host[256], boot[64];
  my_host (host, sizeof host);
  my_boot (boot, sizeof boot);
  if (strcmp (rec->host, host) != 0 || strcmp (rec->boot, boot) != 0
      || strcmp (boot, "-") == 0 || rec->pid == (long) getpid ())
    return false;
  if (kill (rec->pid, 0) != 0 && errno == ESRCH)
    return true;
  unsigned long long now = start_time (rec->pid);
  return rec->start != 0 && now != 0 && now != rec->start;
}

/* What a waiter last saw at the lock name, and since when.  */
struct sighting
{
  char text[RECORD_MAX + 1];
  struct timespec since;
  bool valid;
};

/* Look at the marker at the name; try to clear it if it may be.
   Return 1 if the name may be free now, 0 if not, -1 with errno.  */
static int
look (struct portalock_mk *m, struct sighting *s)
{
  char text[RECORD_MAX + 1];
  ssize_t n = portalock_mk_read_path (m->path, text, sizeof text);
  if (n < 0)
    return errno == ENOENT ? 1 : -1;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (!s->valid || strcmp (text, s->text) != 0)
    {
      memcpy (s->text, text, n + 1);
      s->since = now;
      s->valid = true;
    }
  struct portalock_mk_record rec;
  if (!portalock_mk_parse_record (text, &rec))
    return 0;                   /* not a record: never removed */
  bool clear;
  if (rec.kind == PORTALOCK_MK_STRICT)
    clear = portalock_mk_provably_dead (&rec);
  else
    {
      double ttl = rec.ttl_ms / 1000.0;
      clear = (portalock_mk_seconds_between (&s->since, &now)
               >= ttl + portalock_mk_margin (ttl));
    }
  if (!clear)
    return 0;
  if (seam_claim != NULL)
    seam_claim ();
  if (claim_and_remove (m->path, m->dir, m->base, s->text, NULL) == 0
      || errno == ENOENT || errno == ESTALE)
    {
      s->valid = false;
      return 1;
    }
  /* Not a record, or another remover at work, or a marker whose own
     file is gone (left to an explicit break): look again later.  */
  return errno == EPROTO || errno == EBUSY ? 0 : -1;
}

static void *heartbeat_main (void *arg);

/* Start M's heartbeat thread, with every signal blocked in it so that
   none meant for the program lands there.  Return 0, or an errno.  */
static int
start_heartbeat (struct portalock_mk *m)
{
  sigset_t all, old;
  sigfillset (&all);
  m->stop = false;
  pthread_sigmask (SIG_SETMASK, &all, &old);
  int e = pthread_create (&m->thread, NULL, heartbeat_main, m);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  m->thread_running = e == 0;
  return e;
}

/* After the link: claim the generation, arm the heartbeat.  Return 0,
   or -1 with errno (M's marker then removed again).  */
static int
settle_hold (struct portalock_mk *m, const struct timespec *began)
{
  m->held = true;
  m->lost = m->reported = false;
  m->deadline = *began;
  portalock_mk_add_seconds (&m->deadline,
                            m->ttl - portalock_mk_margin (m->ttl));
  unsigned long long gen = 0;
  if (!m->pass
      && (claim_generation (m, &gen) != 0
          || write_field (m, m->gen_off, gen, false) != 0))
    {
      int e = errno;
      claim_and_remove (m->path, m->dir, m->base, NULL, m->rec.token);
      drop_own (m);
      errno = e;
      return -1;
    }
  m->rec.generation = gen;
  if (m->kind == PORTALOCK_MK_LEASE
      && portalock_deadline_passed (&m->deadline))
    {
      /* Paused past the TTL while taking it: it may be evicted already,
         so the marker at the name is left alone.  */
      drop_own (m);
      errno = EAGAIN;
      return -1;
    }
  int e;
  if (m->kind == PORTALOCK_MK_LEASE && m->heartbeat && !m->pass
      && (e = start_heartbeat (m)) != 0)
    {
      /* A lease nobody renews would be lost unseen: give it back.  */
      claim_and_remove (m->path, m->dir, m->base, NULL, m->rec.token);
      drop_own (m);
      errno = e;
      return -1;
    }
  return 0;
}

/* Take the marker at M's name, as portalock_mk_acquire says, for M
   unheld.  */
static int
take_marker (struct portalock_mk *m, bool nonblock,
             const struct timespec *deadline)
{
  if (m->seen == NULL)
    m->seen = calloc (1, sizeof *m->seen);
  struct sighting *s = m->seen;
  if (s == NULL || create_own (m, false, 0) != 0)
    return -1;
  double pause = 0.001;
  int result = -1;
  for (;;)
    {
      struct timespec began;
      clock_gettime (CLOCK_MONOTONIC, &began);
      int r = try_link (m);
      if (r == 1)
        {
          if (settle_hold (m, &began) == 0)
            {
              result = 0;
              break;
            }
          if (errno != EAGAIN || create_own (m, false, 0) != 0)
            break;
          continue;
        }
      if (r < 0)
        break;
      r = look (m, s);
      if (r < 0)
        break;
      if (r == 1)
        continue;
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
      pause = pause * 2 < m->interval ? pause * 2 : m->interval;
    }
  if (result == 0)
    s->valid = false;
  if (result != 0 && m->own != NULL)
    {
      int e = errno;
      drop_own (m);
      errno = e;
    }
  return result;
}

/* Return 0 if M may be acquired; else -1 with errno EINVAL or EBUSY.  */
static int
may_acquire (struct portalock_mk *m)
{
  if (m == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  if (m->held)
    {
      errno = EBUSY;
      return -1;
    }
  return 0;
}

int
portalock_mk_acquire (struct portalock_mk *m, bool nonblock,
                      const struct timespec *deadline)
{
  if (may_acquire (m) != 0)
    return -1;
  m->pass = m->shared = false;
  return take_marker (m, nonblock, deadline);
}

int
portalock_mk_acquire_writer (struct portalock_mk *m, bool nonblock,
                             const struct timespec *deadline)
{
  if (portalock_mk_acquire (m, nonblock, deadline) != 0)
    return -1;
  /* Phase 2: no reader can register now; wait for those inside.  A
     writer that gives up lets the marker go at once, so that the
     readers that wait for it go in.  */
  if (portalock_mk_wait_readers (m->dir, m->base, m->interval, nonblock,
                                 deadline) == 0)
    {
      if (!portalock_mk_lost (m))
        return 0;
      errno = ENOLCK;
    }
  int e = errno;
  portalock_mk_release (m);
  errno = e;
  return -1;
}

/* The parts of a hold that a reader's acquire swaps between its pass
   and its reader marker.  */
struct hold
{
  int fd;
  char *own;
  struct portalock_mk_record rec;
  size_t gen_off, beat_off;
  struct timespec deadline;
};

static void
swap_hold (struct portalock_mk *m, struct hold *h)
{
  struct hold t = { m->fd, m->own, m->rec, m->gen_off, m->beat_off,
                    m->deadline };
  m->fd = h->fd;
  m->own = h->own;
  m->rec = h->rec;
  m->gen_off = h->gen_off;
  m->beat_off = h->beat_off;
  m->deadline = h->deadline;
  *h = t;
}

/* Give back the pass that M holds (its writer marker, no generation, no
   heartbeat), unless LATE: a lease past its local deadline, whose
   marker at the name may be another's already.  */
static void
give_pass_back (struct portalock_mk *m, bool late)
{
  if (!late)
    claim_and_remove (m->path, m->dir, m->base, NULL, m->rec.token);
  drop_own (m);
  m->pass = false;
}

/* With M's pass held (from take_marker), register a reader marker
   and give the pass back.  Return 1 if M holds the reader marker now,
   0 if the pass turned out late (try again), -1 with errno.  */
static int
register_reader (struct portalock_mk *m)
{
  bool lease = m->kind == PORTALOCK_MK_LEASE;
  struct hold reader = { .fd = -1 };
  unsigned long long gen;
  struct timespec began;
  clock_gettime (CLOCK_MONOTONIC, &began);
  int r = portalock_mk_max_generation (m->dir, m->base, &gen);
  if (r == 0)
    {
      swap_hold (m, &reader);
      r = create_own (m, true, gen);
      swap_hold (m, &reader);
    }
  int e = errno;
  /* The reader marker counts only if it was in place before the pass's
     local deadline: until then no writer can have evicted the pass,
     so every writer that takes the marker afterwards finds the reader
     marker when it looks for readers.  */
  bool late = lease && portalock_deadline_passed (&m->deadline);
  give_pass_back (m, late);
  if (r != 0)
    {
      m->held = false;
      errno = e;
      return -1;
    }
  swap_hold (m, &reader);
  if (late)
    {
      drop_own (m);
      return 0;
    }
  m->held = m->shared = true;
  m->lost = m->reported = false;
  m->deadline = began;
  portalock_mk_add_seconds (&m->deadline,
                            m->ttl - portalock_mk_margin (m->ttl));
  if (lease && m->heartbeat && (e = start_heartbeat (m)) != 0)
    {
      drop_own (m);
      m->shared = false;
      errno = e;
      return -1;
    }
  return 1;
}

int
portalock_mk_acquire_shared (struct portalock_mk *m, bool nonblock,
                             const struct timespec *deadline)
{
  if (may_acquire (m) != 0)
    return -1;
  m->shared = false;
  for (;;)
    {
      /* The writer marker is the gate: a reader registers only while
         it holds it, so that none registers while a writer does.  */
      m->pass = true;
      if (take_marker (m, nonblock, deadline) != 0)
        {
          m->pass = false;
          return -1;
        }
      int r = register_reader (m);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
}

/* Is the marker at M's name M's?  Return 1 yes, 0 no, -1 with errno.  */
static int
still_ours (struct portalock_mk *m)
{
  char text[RECORD_MAX + 1];
  struct portalock_mk_record rec;
  if (fault ("read") != 0)
    return -1;
  if (portalock_mk_read_path (m->shared ? m->own : m->path, text,
                              sizeof text) < 0)
    return errno == ENOENT ? 0 : -1;
  return (portalock_mk_parse_record (text, &rec)
          && strcmp (rec.token, m->rec.token) == 0);
}

/* One heartbeat, M->mu held.  Set *REPORT if the loss is to be
   reported.  */
static int
renew_locked (struct portalock_mk *m, bool *report)
{
  if (!m->held)
    {
      errno = EINVAL;
      return -1;
    }
  bool lease = m->kind == PORTALOCK_MK_LEASE;
  if (m->lost || (lease && portalock_deadline_passed (&m->deadline)))
    {
      *report = mark_lost (m);
      errno = ENOLCK;
      return -1;
    }
  struct timespec began;
  clock_gettime (CLOCK_MONOTONIC, &began);
  if (lease && write_field (m, m->beat_off, m->rec.beat + 1, true) != 0)
    return -1;
  if (lease)
    m->rec.beat++;
  /* A write that ends after the deadline does not count: a waiter may
     have judged the lease stale meanwhile.  */
  if (lease && portalock_deadline_passed (&m->deadline))
    {
      *report = mark_lost (m);
      errno = ENOLCK;
      return -1;
    }
  int r = still_ours (m);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      *report = mark_lost (m);
      errno = ENOLCK;
      return -1;
    }
  if (lease)
    {
      m->deadline = began;
      portalock_mk_add_seconds (&m->deadline,
                                m->ttl - portalock_mk_margin (m->ttl));
    }
  return 0;
}

int
portalock_mk_renew (struct portalock_mk *m)
{
  if (m == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  bool report = false;
  pthread_mutex_lock (&m->mu);
  int r = renew_locked (m, &report);
  int e = errno;
  pthread_mutex_unlock (&m->mu);
  if (report)
    m->lost_fn (m, m->lost_arg);
  errno = e;
  return r;
}

/* The heartbeat thread: renew at a quarter of the TTL, retry a failed
   heartbeat at a twentieth, and wake at the deadline at the latest, so
   that a loss is reported by then.  */
static void *
heartbeat_main (void *arg)
{
  struct portalock_mk *m = arg;
  double every = m->ttl / 4, retry = m->ttl / 20;
  bool failed = false;
  pthread_mutex_lock (&m->mu);
  struct timespec last;
  clock_gettime (CLOCK_MONOTONIC, &last);
  while (!m->stop)
    {
      struct timespec wake = last;
      portalock_mk_add_seconds (&wake, failed ? retry : every);
      if (portalock_mk_seconds_between (&m->deadline, &wake) > 0)
        wake = m->deadline;
      int w = 0;
      while (!m->stop && w != ETIMEDOUT)
        w = pthread_cond_timedwait (&m->cv, &m->mu, &wake);
      if (m->stop)
        break;
      bool report = false;
      clock_gettime (CLOCK_MONOTONIC, &last);
      int r = renew_locked (m, &report);
      int e = errno;
      failed = r != 0;
      if (report)
        {
          pthread_mutex_unlock (&m->mu);
          m->lost_fn (m, m->lost_arg);
          pthread_mutex_lock (&m->mu);
        }
      if (r != 0 && e == ENOLCK)
        break;
    }
  pthread_mutex_unlock (&m->mu);
  return NULL;
}

static void
stop_heartbeat (struct portalock_mk *m)
{
  if (!m->thread_running)
    return;
  pthread_mutex_lock (&m->mu);
  m->stop = true;
  pthread_cond_broadcast (&m->cv);
  pthread_mutex_unlock (&m->mu);
  pthread_join (m->thread, NULL);
  m->thread_running = false;
}

bool
portalock_mk_lost (struct portalock_mk *m)
{
  if (m == NULL)
    return false;
  bool report = false, lost;
  pthread_mutex_lock (&m->mu);
  if (m->held && !m->lost && m->kind == PORTALOCK_MK_LEASE
      && portalock_deadline_passed (&m->deadline))
    report = mark_lost (m);
  lost = m->held && m->lost;
  pthread_mutex_unlock (&m->mu);
  if (report)
    m->lost_fn (m, m->lost_arg);
  return lost;
}

unsigned long long
portalock_mk_generation (struct portalock_mk *m)
{
  return m != NULL && m->held ? m->rec.generation : 0;
}

/* If M's hold was inherited by a forked child, forget it there: the
   parent holds, not this process.  */
static bool
forget_if_inherited (struct portalock_mk *m)
{
  if (!m->held || m->rec.pid == (long) getpid ())
    return false;
  close (m->fd);
  m->fd = -1;
  free (m->own);
  m->own = NULL;
  m->held = false;
  m->thread_running = false;
  m->forgotten = true;
  return true;
}

/* Remove the reader marker that M holds.  Return 0, or -1 with errno:
   ENOENT if it was evicted, from unlink.  */
static int
remove_reader (struct portalock_mk *m)
{
  /* Close first: an NFS client renames an open file it is asked to
     remove.  */
  close (m->fd);
  m->fd = -1;
  if (unlink (m->own) != 0)
    {
      int e = errno;
      if (e != ENOENT)
        m->fd = open (m->own, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
      errno = e;
      return -1;
    }
  free (m->own);
  m->own = NULL;
  return 0;
}

int
portalock_mk_release (struct portalock_mk *m)
{
  if (m != NULL)
    forget_if_inherited (m);
  if (m == NULL || !m->held)
    {
      errno = EINVAL;
      return -1;
    }
  stop_heartbeat (m);
  bool report = false;
  int result = 0;
  pthread_mutex_lock (&m->mu);
  if (m->lost || (m->kind == PORTALOCK_MK_LEASE
                  && portalock_deadline_passed (&m->deadline)))
    {
      /* Another host may hold it now: touch nothing at the name.  */
      report = mark_lost (m);
      drop_own (m);
      errno = ENOLCK;
      result = -1;
    }
  else if (m->shared ? remove_reader (m) == 0
           : claim_and_remove (m->path, m->dir, m->base, NULL,
                               m->rec.token) == 0)
    drop_own (m);
  else if (errno == ENOENT || errno == ESTALE || errno == EPROTO
           || errno == EBUSY)
    {
      report = mark_lost (m);
      drop_own (m);
      errno = ENOLCK;
      result = -1;
    }
  else
    result = -1;
  int e = errno;
  pthread_mutex_unlock (&m->mu);
  if (result != 0 && m->held && m->kind == PORTALOCK_MK_LEASE
      && m->heartbeat)
    {
      /* Still held: the heartbeat goes on.  */
      start_heartbeat (m);
    }
  if (report)
    m->lost_fn (m, m->lost_arg);
  errno = e;
  return result;
}

int
portalock_mk_holders (const char *path,
                          struct portalock_mk_record *rec)
{
  if (path == NULL || *path == '\0' || rec == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  char text[RECORD_MAX + 1];
  if (portalock_mk_read_path (path, text, sizeof text) < 0)
    return errno == ENOENT ? 0 : -1;
  if (!portalock_mk_parse_record (text, rec))
    {
      errno = EPROTO;
      return -1;
    }
  return 1;
}

int
portalock_mk_break (const char *path, const char *token)
{
  char *dir, *base;
  if (path == NULL || *path == '\0' || path[strlen (path) - 1] == '/'
      || (token != NULL && strlen (token) != 32))
    {
      errno = EINVAL;
      return -1;
    }
  if (portalock_mk_split_path (path, &dir, &base) != 0)
    return -1;
  int r = claim_and_remove (path, dir, base, NULL, token);
  if (r != 0 && errno == EBUSY)
    r = move_and_remove (path, dir, base, token);
  int e = errno;
  free (dir);
  free (base);
  errno = e;
  return r;
}

void
portalock_mk_free (struct portalock_mk *m)
{
  if (m == NULL)
    return;
  int e = errno;
  /* An inherited hold's mutex and condition are copies of the parent's
     as its heartbeat thread left them (waiting on the condition, or
     holding the mutex): destroying them could wait forever.  */
  bool inherited = forget_if_inherited (m) || m->forgotten;
  if (m->held)
    portalock_mk_release (m);
  stop_heartbeat (m);
  if (m->held)
    drop_own (m);
  if (!inherited)
    {
      pthread_mutex_destroy (&m->mu);
      pthread_cond_destroy (&m->cv);
    }
  free (m->seen);
  free (m->path);
  free (m->dir);
  free (m->base);
  free (m);
  errno = e;
}
