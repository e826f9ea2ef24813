/* marker.c: tests of the marker and lease locks (lib/marker.c).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Every check runs twice: on a plain directory, and across two bindfs
   mounts of one directory without lock forwarding (fuseharness.c), where
   kernel locks do not exclude: the processes on the two mounts stand for
   two machines, each with its own host identity (the internal seam
   portalock_mk_set_identity; this program links the library's
   objects directly).  No check is about how long something took: the
   lease checks are about order (a waiter cannot take a lease whose
   record changed between any two of its looks; a stopped holder, once
   it runs again, knows its loss before it does anything else).  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuseharness.h"
#include "marker.h"
#include "portalock-private.h"
#include "testutil.h"

/* The two "machines": directories that show one directory.  */
static const char *side[2];
static const char *label;
/* The directory itself, where a stat sees no client's cache.  */
static const char *truth;
static int serial;

/* A fresh lock name, as seen from side S.  */
static const char *
name_on (int s, int n)
{
  static char buf[4][4300];
  static int next;
  char *b = buf[next++ % 4];
  snprintf (b, sizeof buf[0], "%s/lock%d", side[s], n);
  return b;
}

static struct timespec
after (double seconds)
{
  struct timespec t;
  if (!portalock_deadline_after (seconds, &t))
    die ("deadline");
  return t;
}

static struct portalock_mk *
new_marker (const char *path, enum portalock_mk_kind kind, double ttl,
            bool heartbeat)
{
  struct portalock_mk *m = portalock_mk_new (path, kind);
  if (m == NULL || portalock_mk_set_ttl (m, ttl) != 0
      || portalock_mk_set_check_interval (m, 0.02) != 0
      || portalock_mk_set_heartbeat (m, heartbeat) != 0)
    die ("portalock_mk_new %s", path);
  return m;
}

/* The token of the marker at PATH, or "" if there is none.  */
static const char *
token_at (const char *path)
{
  static char token[33];
  struct portalock_mk_record rec;
  if (portalock_mk_holders (path, &rec) == 1)
    snprintf (token, sizeof token, "%s", rec.token);
  else
    token[0] = '\0';
  return token;
}

static bool
same_file_text (const char *path, const char *text)
{
  char buf[4096];
  int fd = open (path, O_RDONLY);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp (buf, text) == 0;
}

static char *
file_text (const char *path)
{
  static char buf[4096];
  int fd = open (path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);
  if (fd >= 0)
    close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

/* The inode and change time of the lock name N: a rename or link of
   the file changes the second.  */
static struct timespec
changed (int n, ino_t *ino)
{
  char path[4300];
  struct stat st;
  snprintf (path, sizeof path, "%s/lock%d", truth, n);
  if (stat (path, &st) != 0)
    die ("stat %s", path);
  *ino = st.st_ino;
  return st.st_ctim;
}

static bool
unchanged (int n, ino_t ino, struct timespec ctime)
{
  ino_t now_ino;
  struct timespec now_ctime = changed (n, &now_ino);
  return (now_ino == ino && now_ctime.tv_sec == ctime.tv_sec
          && now_ctime.tv_nsec == ctime.tv_nsec);
}

/* Bad input: a clear errno, nothing created.  */
static void
check_bad_input (void)
{
  int before = count_entries (side[0]);
  struct portalock_mk_record rec;
  char slash[4300];
  snprintf (slash, sizeof slash, "%s/", side[0]);
  check (portalock_mk_new (NULL, PORTALOCK_MK_STRICT) == NULL
         && errno == EINVAL
         && portalock_mk_new ("", PORTALOCK_MK_LEASE) == NULL
         && errno == EINVAL
         && portalock_mk_new (slash, PORTALOCK_MK_LEASE) == NULL
         && errno == EINVAL
         && portalock_mk_new (name_on (0, 90), 7) == NULL
         && errno == EINVAL,
         "marker: %s: bad paths and kinds: EINVAL", label);
  struct portalock_mk *m = portalock_mk_new (name_on (0, 90),
                                                     PORTALOCK_MK_LEASE);
  if (m == NULL)
    die ("portalock_mk_new");
  check (fails_with (portalock_mk_set_ttl (m, 0), EINVAL)
         && fails_with (portalock_mk_set_ttl (m, -1), EINVAL)
         && fails_with (portalock_mk_set_ttl (m, 0.0 / 0.0), EINVAL)
         && fails_with (portalock_mk_set_check_interval (m, 0), EINVAL)
         && fails_with (portalock_mk_release (m), EINVAL)
         && fails_with (portalock_mk_renew (m), EINVAL)
         && !portalock_mk_lost (m)
         && fails_with (portalock_mk_holders (NULL, &rec), EINVAL)
         && fails_with (portalock_mk_holders (name_on (0, 90), NULL),
                        EINVAL)
         && fails_with (portalock_mk_break (NULL, NULL), EINVAL)
         && fails_with (portalock_mk_break (name_on (0, 90), "abc"),
                        EINVAL)
         && fails_with (portalock_mk_break (name_on (0, 90), NULL),
                        ENOENT)
         && portalock_mk_holders (name_on (0, 90), &rec) == 0,
         "marker: %s: bad settings and calls: EINVAL, ENOENT, none", label);
  portalock_mk_free (m);
  char missing[4300];
  snprintf (missing, sizeof missing, "%s/no-such-dir/lock", side[0]);
  m = new_marker (missing, PORTALOCK_MK_STRICT, 1, false);
  check (fails_with (portalock_mk_acquire (m, true, NULL), ENOENT),
         "marker: %s: a lock in a missing directory: ENOENT", label);
  portalock_mk_free (m);
  check (count_entries (side[0]) == before,
         "marker: %s: bad input creates nothing", label);

  /* A file at the name that is no record is the user's: never removed,
     never changed, and it keeps the lock taken.  */
  const char *user = name_on (0, 91);
  write_file (user, "data of the user\n");
  struct portalock_mk *s = new_marker (name_on (1, 91),
                                           PORTALOCK_MK_STRICT, 1, false);
  struct portalock_mk *l = new_marker (name_on (1, 91),
                                           PORTALOCK_MK_LEASE, 0.05,
                                           false);
  struct timespec soon = after (0.3);
  check (fails_with (portalock_mk_acquire (s, true, NULL), EWOULDBLOCK)
         && fails_with (portalock_mk_acquire (l, false, &soon), ETIMEDOUT)
         && fails_with (portalock_mk_holders (user, &rec), EPROTO)
         && fails_with (portalock_mk_break (user, NULL), EPROTO)
         && has_text (user, "data of the user\n"),
         "marker: %s: a file that is no record is left alone", label);
  portalock_mk_free (s);
  portalock_mk_free (l);
  unlink (user);
  check (count_entries (side[0]) == before,
         "marker: %s: refused markers leave nothing behind", label);
}

/* Take, read, give back; generations grow.  */
static void
check_basics (void)
{
  int before = count_entries (side[0]);
  const char *path = name_on (0, 1);
  struct portalock_mk *a = new_marker (path, PORTALOCK_MK_STRICT,
                                           1, false);
  struct portalock_mk *b = new_marker (name_on (1, 1),
                                           PORTALOCK_MK_STRICT, 1, false);
  struct portalock_mk_record rec;
  unsigned long long last = 0;
  bool grows = true, records = true;
  for (int i = 0; i < 3; i++)
    {
      if (portalock_mk_acquire (a, true, NULL) != 0)
        die ("acquire");
      unsigned long long g = portalock_mk_generation (a);
      grows &= g > last;
      last = g;
      records &= (portalock_mk_holders (name_on (1, 1), &rec) == 1
                  && rec.pid == getpid () && rec.generation == g
                  && strcmp (rec.host, "hostA") == 0
                  && strcmp (rec.boot, "boot-1") == 0
                  && rec.kind == PORTALOCK_MK_STRICT && rec.start != 0);
      if (i == 0)
        {
          check (fails_with (portalock_mk_acquire (a, true, NULL), EBUSY),
                 "marker: %s: a held marker refuses a second acquire: EBUSY",
                 label);
          check (fails_with (portalock_mk_acquire (b, true, NULL),
                             EWOULDBLOCK),
                 "marker: %s: a held marker excludes: EWOULDBLOCK", label);
        }
      if (portalock_mk_release (a) != 0)
        die ("release");
    }
  check (grows, "marker: %s: generations grow", label);
  /* A forked child does not hold its parent's marker.  */
  if (portalock_mk_acquire (a, true, NULL) != 0)
    die ("acquire");
  char token[33];
  snprintf (token, sizeof token, "%s", token_at (path));
  pid_t pid = fork ();
  if (pid == 0)
    {
      bool ok = fails_with (portalock_mk_release (a), EINVAL);
      portalock_mk_free (a);
      _exit (ok ? 0 : 1);
    }
  int status;
  check (pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status)
         && WEXITSTATUS (status) == 0 && strcmp (token_at (path), token) == 0
         && portalock_mk_release (a) == 0,
         "marker: %s: a forked child's release and free leave the parent's",
         label);
  check (records, "marker: %s: the record says who holds it", label);
  check (!exists (path)
         && count_entries (side[0]) == before + 1,
         "marker: %s: a release leaves only the generation", label);
  check (portalock_mk_acquire (b, true, NULL) == 0
         && portalock_mk_generation (b) > last
         && portalock_mk_release (b) == 0,
         "marker: %s: the other side takes it next, a greater generation",
         label);
  portalock_mk_free (a);
  portalock_mk_free (b);
}

/* Releasing or renewing a marker that is no longer there touches
   nothing of the new holder's.  */
static void
check_not_ours (enum portalock_mk_kind kind)
{
  const char *what = kind == PORTALOCK_MK_LEASE ? "lease" : "strict";
  const char *path = name_on (0, 2);
  struct portalock_mk *a = new_marker (path, kind, 30, false);
  struct portalock_mk *b = new_marker (name_on (1, 2), kind, 30, false);
  if (portalock_mk_acquire (a, true, NULL) != 0)
    die ("acquire");
  char token_a[33];
  snprintf (token_a, sizeof token_a, "%s", token_at (path));
  check (fails_with (portalock_mk_break (path, "0123456789abcdef"
                                             "0123456789abcdef"), ESTALE)
         && strcmp (token_at (path), token_a) == 0,
         "marker: %s, %s: a break of another token leaves it", label, what);
  check (portalock_mk_break (path, token_a) == 0 && !exists (path),
         "marker: %s, %s: an explicit break removes it", label, what);
  if (portalock_mk_acquire (b, true, NULL) != 0)
    die ("acquire b");
  char text[4096];
  snprintf (text, sizeof text, "%s", file_text (path));
  ino_t ino;
  struct timespec ctime = changed (2, &ino);
  check (fails_with (portalock_mk_renew (a), ENOLCK)
         && same_file_text (path, text),
         "marker: %s, %s: a heartbeat after the break: ENOLCK, nothing "
         "changed", label, what);
  check (portalock_mk_lost (a),
         "marker: %s, %s: the broken holder knows it lost", label, what);
  check (fails_with (portalock_mk_release (a), ENOLCK)
         && same_file_text (path, text) && unchanged (2, ino, ctime),
         "marker: %s, %s: its release: ENOLCK, nothing changed", label,
         what);
  check (portalock_mk_renew (b) == 0
         && portalock_mk_release (b) == 0 && !exists (path),
         "marker: %s, %s: the new holder still holds", label, what);
  portalock_mk_free (a);
  portalock_mk_free (b);
}

/* Mutual exclusion with exact counts: WORKERS processes, half on each
   side, each with its host, take the lock ROUNDS times; under it each
   reads the counter C, writes C + 1, reads it back and writes C + 2,
   and logs "C C+1" to a file of its own.  Had two holders overlapped,
   one of them would read back a number it did not write, or two logs
   would hold one number.  */
#define WORKERS 4
#define ROUNDS 25

static long
read_counter (const char *path)
{
  char buf[32] = "";
  int fd = open (path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : pread (fd, buf, sizeof buf - 1, 0);
  if (fd >= 0)
    close (fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return atol (buf);
}

static bool
write_counter (const char *path, long v)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%020ld\n", v);
  int fd = open (path, O_WRONLY | O_CREAT, 0644);
  bool ok = fd >= 0 && pwrite (fd, buf, n, 0) == n && fsync (fd) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

static void
worker (int i, enum portalock_mk_kind kind, const char *counter_name)
{
  char host[16], counter[4300], log[4300];
  snprintf (host, sizeof host, "host%c", 'A' + i % 2);
  portalock_mk_set_identity (host, "boot-1");
  snprintf (counter, sizeof counter, "%s/%s", side[i % 2], counter_name);
  snprintf (log, sizeof log, "%s/%s.log%d", side[i % 2], counter_name, i);
  FILE *out = fopen (log, "w");
  struct portalock_mk *m = new_marker (name_on (i % 2, 3), kind, 10,
                                           true);
  int bad = 0;
  for (int r = 0; r < ROUNDS && out != NULL; r++)
    {
      struct timespec limit = after (120);
      if (portalock_mk_acquire (m, false, &limit) != 0)
        _exit (2);
      long c = read_counter (counter);
      if (c < 0 || !write_counter (counter, c + 1))
        _exit (3);
      usleep (200);
      if (read_counter (counter) != c + 1)
        bad++;
      if (!write_counter (counter, c + 2))
        _exit (3);
      fprintf (out, "%ld %ld\n", c, c + 1);
      if (portalock_mk_release (m) != 0)
        _exit (4);
    }
  if (out == NULL || fclose (out) != 0)
    _exit (5);
  _exit (bad ? 1 : 0);
}

static void
check_exclusion (enum portalock_mk_kind kind)
{
  const char *what = kind == PORTALOCK_MK_LEASE ? "lease" : "strict";
  const char *emulator = test_emulator ();
  if (kind == PORTALOCK_MK_STRICT && emulator != NULL)
    {
      /* QEMU puts in /proc/self/stat the time the emulator started,
         which a forked process inherits, not the kernel's start time
         of the process: the record of a live holder forked by this
         program then differs from what /proc/PID/stat says of it, and
         the holder looks dead.  */
      unsupported ("marker: %s, %s: forked holders exclude each other: "
                   "%s, whose start time in /proc/self/stat is not the "
                   "kernel's", label, what, emulator);
      return;
    }
  char counter_name[32];
  snprintf (counter_name, sizeof counter_name, "counter%d", serial++);
  char counter[4300];
  snprintf (counter, sizeof counter, "%s/%s", side[0], counter_name);
  if (!write_counter (counter, 0))
    die ("counter");
  pid_t pids[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        die ("fork");
      if (pids[i] == 0)
        worker (i, kind, counter_name);
    }
  bool ok = true;
  for (int i = 0; i < WORKERS; i++)
    {
      int status;
      ok &= (waitpid (pids[i], &status, 0) == pids[i] && WIFEXITED (status)
             && WEXITSTATUS (status) == 0);
    }
  check (ok, "marker: %s, %s: every holder read back what it wrote", label,
         what);
  static bool seen[2 * WORKERS * ROUNDS];
  memset (seen, 0, sizeof seen);
  int pairs = 0;
  bool disjoint = true;
  for (int i = 0; i < WORKERS; i++)
    {
      char log[4300];
      snprintf (log, sizeof log, "%s/%s.log%d", side[0], counter_name, i);
      FILE *in = fopen (log, "r");
      long enter, leave;
      while (in != NULL && fscanf (in, "%ld %ld", &enter, &leave) == 2)
        {
          pairs++;
          if (enter < 0 || enter % 2 != 0 || leave != enter + 1
              || leave >= 2 * WORKERS * ROUNDS || seen[enter] || seen[leave])
            disjoint = false;
          else
            seen[enter] = seen[leave] = true;
        }
      if (in != NULL)
        fclose (in);
    }
  check (disjoint && pairs == WORKERS * ROUNDS
         && read_counter (counter) == 2 * WORKERS * ROUNDS,
         "marker: %s, %s: %d holds, no two overlap, exact count", label,
         what, WORKERS * ROUNDS);
}

/* A process holding a marker on side S under HOST and BOOT, run by
   commands on a pipe.  */
struct child
{
  pid_t pid;
  int to, from;
};

struct answer
{
  int r, err;
  int lost, reports;
  unsigned long long generation;
};

static atomic_int lost_reports;

static void
on_lost (struct portalock_mk *m, void *arg)
{
  (void) m;
  (void) arg;
  atomic_fetch_add (&lost_reports, 1);
}

static void
child_loop (int to, int from, const char *path, const char *host,
            const char *boot, enum portalock_mk_kind kind, double ttl,
            bool heartbeat)
{
  portalock_mk_set_identity (host, boot);
  atomic_store (&lost_reports, 0);
  struct portalock_mk *m = new_marker (path, kind, ttl, heartbeat);
  portalock_mk_set_lost_callback (m, on_lost, NULL);
  struct timespec limit = after (60);
  struct answer a = { 0 };
  a.r = portalock_mk_acquire (m, false, &limit);
  a.err = errno;
  a.generation = portalock_mk_generation (m);
  IGNORE_RESULT (write (to, &a, sizeof a));
  char c;
  while (read (from, &c, 1) == 1)
    {
      memset (&a, 0, sizeof a);
      /* Whether the loss is known comes first, before any call that
         could find it out.  */
      a.reports = atomic_load (&lost_reports);
      a.lost = portalock_mk_lost (m);
      if (c == 'b')
        a.r = portalock_mk_renew (m);
      else if (c == 'r')
        a.r = portalock_mk_release (m);
      a.err = errno;
      IGNORE_RESULT (write (to, &a, sizeof a));
    }
  _exit (0);
}

static struct answer
child_start (struct child *c, const char *path, const char *host,
             const char *boot, enum portalock_mk_kind kind, double ttl,
             bool heartbeat)
{
  int up[2], down[2];
  if (pipe (up) != 0 || pipe (down) != 0)
    die ("pipe");
  c->pid = fork ();
  if (c->pid < 0)
    die ("fork");
  if (c->pid == 0)
    {
      close (up[0]);
      close (down[1]);
      child_loop (up[1], down[0], path, host, boot, kind, ttl, heartbeat);
    }
  fuse_child (c->pid);
  close (up[1]);
  close (down[0]);
  c->to = down[1];
  c->from = up[0];
  struct answer a;
  if (read (c->from, &a, sizeof a) != sizeof a)
    die ("the child did not answer");
  return a;
}

static struct answer
child_ask (struct child *c, char cmd)
{
  struct answer a;
  if (write (c->to, &cmd, 1) != 1 || read (c->from, &a, sizeof a) != sizeof a)
    die ("the child did not answer");
  return a;
}

static void
child_kill (struct child *c)
{
  kill (c->pid, SIGKILL);
  waitpid (c->pid, NULL, 0);
  close (c->to);
  close (c->from);
  fuse_child (0);
}

/* Strict: a dead holder of another host, or of another boot, is never
   reclaimed; one of this host and boot is.  */
static void
check_strict_dead (void)
{
  static const struct { const char *host, *boot; bool reclaimed;
                        const char *what; } cases[] = {
    { "hostB", "boot-1", false, "another host" },
    { "hostA", "boot-2", false, "this host, another boot" },
    { "hostA", "boot-1", true, "this host and boot" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct child c;
      struct answer a = child_start (&c, name_on (0, 4), cases[i].host,
                                     cases[i].boot, PORTALOCK_MK_STRICT,
                                     1, false);
      if (a.r != 0)
        die ("the strict holder could not take the lock");
      child_kill (&c);
      struct portalock_mk *m = new_marker (name_on (1, 4),
                                               PORTALOCK_MK_STRICT, 1,
                                               false);
      int r = portalock_mk_acquire (m, true, NULL);
      if (cases[i].reclaimed)
        check (r == 0 && portalock_mk_generation (m) > a.generation,
               "marker: %s, strict: a dead holder of %s is reclaimed",
               label, cases[i].what);
      else
        {
          struct portalock_mk_record rec;
          check (failed_with (r != 0, EWOULDBLOCK)
                 && portalock_mk_holders (name_on (1, 4), &rec) == 1
                 && rec.pid == c.pid
                 && strcmp (rec.host, cases[i].host) == 0,
                 "marker: %s, strict: a dead holder of %s is not "
                 "reclaimed", label, cases[i].what);
          check (portalock_mk_break (name_on (1, 4), rec.token) == 0
                 && portalock_mk_acquire (m, true, NULL) == 0,
                 "marker: %s, strict: after an explicit break it is taken",
                 label);
        }
      portalock_mk_release (m);
      portalock_mk_free (m);
    }
}

/* The start time of process PID, as /proc/PID/stat's field 22 says.  */
static unsigned long long
proc_start (pid_t pid)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
  char *text = file_text (path);
  char *p = strrchr (text, ')');
  unsigned long long v = 0;
  for (int field = 3; p != NULL && field <= 22; field++)
    p = strchr (p + 1, ' ');
  if (p != NULL)
    v = strtoull (p + 1, NULL, 10);
  return v;
}

/* Put TEXT at marker N of side S as a holder does: in its own file
   (named for TOKEN), linked to the lock name; without the own file if
   not WITH_OWN (as a cleaner of dot files leaves it).  */
static void
plant_marker (int s, int n, const char *text, const char *token,
              bool with_own)
{
  char own[4400];
  snprintf (own, sizeof own, "%s/.lock%d.mk-%s", side[s], n, token);
  write_file (own, text);
  if (link (own, name_on (s, n)) != 0)
    die ("link");
  if (!with_own)
    unlink (own);
}

static void
unplant_marker (int s, int n, const char *token)
{
  char own[4400];
  snprintf (own, sizeof own, "%s/.lock%d.mk-%s", side[s], n, token);
  unlink (own);
  unlink (name_on (s, n));
}

/* A record written by hand, in the documented format, for a live
   process of this host and boot: kept if the start time is that
   process's, reclaimed if not (its PID was used again).  */
static void
check_strict_reused_pid (void)
{
  int hold[2];
  if (pipe (hold) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      char c;
      close (hold[1]);
      IGNORE_RESULT (read (hold[0], &c, 1));
      _exit (0);
    }
  close (hold[0]);
  unsigned long long start = proc_start (pid);
  if (start == 0)
    {
      unsupported ("marker: %s, strict: no start times here", label);
      close (hold[1]);
      waitpid (pid, NULL, 0);
      return;
    }
  for (int reused = 0; reused < 3; reused++)
    {
      /* A token of its own for each: a name removed through one mount
         may still be cached as there by the other's kernel.  */
      char token[33] = "00112233445566778890aabbccddeeff";
      token[19] = '0' + reused;
      char text[1024];
      snprintf (text, sizeof text,
                "portalock-marker 1\nhost=hostA\nboot=boot-1\npid=%ld\n"
                "start=%llu\ntoken=%s\n"
                "kind=strict\nttl=0\ngeneration=%020d\nbeat=%020d\n",
                (long) pid, start + (reused > 0), token, 7, 0);
      plant_marker (0, 8, text, token, reused != 2);
      struct portalock_mk *m = new_marker (name_on (1, 8),
                                               PORTALOCK_MK_STRICT, 1,
                                               false);
      int r = portalock_mk_acquire (m, true, NULL);
      if (reused == 1)
        check (r == 0 && portalock_mk_generation (m) > 0,
               "marker: %s, strict: a record whose PID was used again is "
               "reclaimed", label);
      else if (reused == 0)
        check (failed_with (r != 0, EWOULDBLOCK)
               && has_text (name_on (0, 8), text),
               "marker: %s, strict: a live process's record is kept", label);
      else
        {
          /* No own file to claim: left to an explicit break.  */
          check (failed_with (r != 0, EWOULDBLOCK)
                 && has_text (name_on (0, 8), text),
                 "marker: %s, strict: a dead record without its own file "
                 "is not reclaimed", label);
          check (portalock_mk_break (name_on (1, 8), token) == 0
                 && access (name_on (1, 8), F_OK) != 0,
                 "marker: %s, strict: an explicit break removes it", label);
        }
      if (r == 0)
        portalock_mk_release (m);
      else
        unplant_marker (0, 8, token);
      portalock_mk_free (m);
    }
  close (hold[1]);
  waitpid (pid, NULL, 0);
}

/* A remover that judged a dead marker and is about to claim it: at that
   moment the dead marker goes (another remover) and a live holder takes
   the name.  The remover must leave the live one in place.  */
static struct portalock_mk *race_taker;
static atomic_int race_armed;

static void
race_hook (void)
{
  if (!atomic_exchange (&race_armed, 0))
    return;
  unplant_marker (0, 9, "ffeeddccbbaa99887766554433221100");
  if (portalock_mk_acquire (race_taker, true, NULL) != 0)
    die ("acquire in the hook");
}

static void
check_claim_race (void)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    _exit (0);
  waitpid (pid, NULL, 0);
  char text[1024];
  snprintf (text, sizeof text,
            "portalock-marker 1\nhost=hostA\nboot=boot-1\npid=%ld\n"
            "start=0\ntoken=ffeeddccbbaa99887766554433221100\n"
            "kind=strict\nttl=0\ngeneration=%020d\nbeat=%020d\n",
            (long) pid, 3, 0);
  plant_marker (0, 9, text, "ffeeddccbbaa99887766554433221100", true);
  race_taker = new_marker (name_on (0, 9), PORTALOCK_MK_STRICT, 1, false);
  struct portalock_mk *m = new_marker (name_on (1, 9), PORTALOCK_MK_STRICT,
                                       1, false);
  atomic_store (&race_armed, 1);
  portalock_mk_set_claim_hook (race_hook);
  int r = portalock_mk_acquire (m, true, NULL);
  portalock_mk_set_claim_hook (NULL);
  check (failed_with (r != 0, EWOULDBLOCK)
         && portalock_mk_renew (race_taker) == 0
         && atomic_load (&race_armed) == 0,
         "marker: %s: a remover leaves a live marker that took the name "
         "while it judged a dead one", label);
  if (r == 0)
    portalock_mk_release (m);
  portalock_mk_release (race_taker);
  portalock_mk_free (race_taker);
  portalock_mk_free (m);
}

/* Lease: while the holder's record changes between any two looks of a
   waiter, the waiter cannot take it, however long it waits; once the
   holder is killed, it is taken.  */
static void
check_lease_takeover (void)
{
  /* Long enough that the loop below never stalls past the holder's
     deadline (TTL - TTL/5) between two heartbeats, even on a loaded
     machine: the waiter's looks stop for TTL + TTL/5 before it takes
     the lease, a stall of seconds.  */
  const double ttl = 4;
  struct child c;
  struct answer a = child_start (&c, name_on (0, 5), "hostB", "boot-9",
                                 PORTALOCK_MK_LEASE, ttl, false);
  if (a.r != 0)
    die ("the lease holder could not take the lock");
  struct portalock_mk *m = new_marker (name_on (1, 5),
                                           PORTALOCK_MK_LEASE, ttl,
                                           false);
  bool excluded = true, beats = true;
  double start = now ();
  int tries = 0;
  /* Past the waiter's TTL + margin (TTL / 5) on its own clock.  */
  while (now () - start < 1.5 * ttl || tries < 10)
    {
      tries++;
      excluded &= failed_with (portalock_mk_acquire (m, true, NULL) != 0,
                               EWOULDBLOCK);
      struct answer b = child_ask (&c, 'b');
      beats &= b.r == 0;
      usleep (10000);
    }
  check (excluded,
         "marker: %s, lease: not taken while the heartbeat goes on (%d "
         "looks)", label, tries);
  if (!beats)
    unsupported ("marker: %s, lease: the holder missed a heartbeat (a "
                 "stall longer than its TTL)", label);
  child_kill (&c);
  struct timespec limit = after (60);
  check (portalock_mk_acquire (m, false, &limit) == 0
         && portalock_mk_generation (m) > a.generation,
         "marker: %s, lease: taken after the holder was killed, a greater "
         "generation", label);
  portalock_mk_release (m);
  portalock_mk_free (m);
}

/* A holder stopped past its TTL: another side takes the lease; the
   holder, running again, knows it lost before anything else, and its
   release touches nothing of the new holder's.  */
static void
check_lease_stopped (void)
{
  const double ttl = 0.5;
  struct child c;
  struct answer a = child_start (&c, name_on (0, 6), "hostB", "boot-9",
                                 PORTALOCK_MK_LEASE, ttl, true);
  if (a.r != 0)
    die ("the lease holder could not take the lock");
  kill (c.pid, SIGSTOP);
  struct portalock_mk *m = new_marker (name_on (1, 6),
                                           PORTALOCK_MK_LEASE, 30,
                                           false);
  struct timespec limit = after (60);
  if (portalock_mk_acquire (m, false, &limit) != 0)
    die ("the stopped holder's lease was not taken");
  char text[4096];
  snprintf (text, sizeof text, "%s", file_text (name_on (1, 6)));
  ino_t ino;
  struct timespec ctime = changed (6, &ino);
  kill (c.pid, SIGCONT);
  struct answer r = child_ask (&c, 'r');
  check (r.lost == 1,
         "marker: %s, lease: a stopped holder knows its loss first", label);
  check (r.r == -1 && r.err == ENOLCK,
         "marker: %s, lease: its release says ENOLCK", label);
  check (same_file_text (name_on (1, 6), text) && unchanged (6, ino, ctime)
         && portalock_mk_renew (m) == 0,
         "marker: %s, lease: and leaves the new holder's marker", label);
  struct answer again = child_ask (&c, 'x');
  check (again.reports == 1,
         "marker: %s, lease: the loss was reported once (%d)", label,
         again.reports);
  child_kill (&c);
  portalock_mk_release (m);
  portalock_mk_free (m);
}

/* Transient ESTALE and EIO in the heartbeat.  */
static atomic_int faults_left;
static atomic_int fault_errno;
static atomic_int faults_made;

static int
fault_hook (const char *call)
{
  (void) call;
  if (atomic_load (&faults_left) == 0)
    return 0;
  if (atomic_load (&faults_left) > 0)
    atomic_fetch_sub (&faults_left, 1);
  atomic_fetch_add (&faults_made, 1);
  return atomic_load (&fault_errno);
}

static void
check_lease_faults (void)
{
  portalock_mk_set_fault (fault_hook);
  /* One failed heartbeat, by hand: an error, the lease kept.  */
  const char *path = name_on (0, 7);
  struct portalock_mk *h = new_marker (path, PORTALOCK_MK_LEASE, 30,
                                           false);
  if (portalock_mk_acquire (h, true, NULL) != 0)
    die ("acquire");
  char token[33];
  snprintf (token, sizeof token, "%s", token_at (path));
  atomic_store (&fault_errno, ESTALE);
  atomic_store (&faults_left, 1);
  check (fails_with (portalock_mk_renew (h), ESTALE)
         && !portalock_mk_lost (h)
         && portalock_mk_renew (h) == 0
         && strcmp (token_at (path), token) == 0,
         "marker: %s, lease: one ESTALE heartbeat keeps the lease", label);
  portalock_mk_release (h);
  portalock_mk_free (h);

  /* The same through the heartbeat thread: EIO twice, then it beats
     again, and nothing is reported.  */
  atomic_store (&lost_reports, 0);
  h = new_marker (path, PORTALOCK_MK_LEASE, 4, true);
  portalock_mk_set_lost_callback (h, on_lost, NULL);
  atomic_store (&fault_errno, EIO);
  atomic_store (&faults_made, 0);
  atomic_store (&faults_left, 2);
  if (portalock_mk_acquire (h, true, NULL) != 0)
    die ("acquire");
  struct portalock_mk_record rec;
  double give_up = now () + 30;
  while (now () < give_up
         && !(atomic_load (&faults_made) == 2
              && portalock_mk_holders (path, &rec) == 1 && rec.beat >= 2))
    usleep (10000);
  check (atomic_load (&faults_made) == 2 && rec.beat >= 2
         && !portalock_mk_lost (h) && atomic_load (&lost_reports) == 0,
         "marker: %s, lease: transient EIO in the heartbeat keeps it", label);
  portalock_mk_release (h);
  portalock_mk_free (h);

  /* A persistent failure: the loss is reported, and by the time another
     side can take the lease the holder's deadline has passed.  (The
     heartbeat thread reports at the deadline, 2 TTL/5 before the lease
     can be taken: the TTL is long enough for a loaded machine.)  */
  atomic_store (&lost_reports, 0);
  h = new_marker (path, PORTALOCK_MK_LEASE, 4, true);
  portalock_mk_set_lost_callback (h, on_lost, NULL);
  atomic_store (&faults_left, -1);
  if (portalock_mk_acquire (h, true, NULL) != 0)
    die ("acquire");
  struct portalock_mk *e = new_marker (name_on (1, 7),
                                           PORTALOCK_MK_LEASE, 1, false);
  while (portalock_mk_acquire (e, true, NULL) != 0)
    usleep (5000);
  /* Read before portalock_mk_lost, which could report it itself.  */
  int reported = atomic_load (&lost_reports);
  check (portalock_mk_lost (h),
         "marker: %s, lease: its deadline passed before it was taken",
         label);
  check (reported == 1,
         "marker: %s, lease: a persistent EIO is reported before the lease "
         "is taken", label);
  atomic_store (&faults_left, 0);
  check (fails_with (portalock_mk_release (h), ENOLCK)
         && portalock_mk_renew (e) == 0,
         "marker: %s, lease: the lost holder leaves the new one", label);
  portalock_mk_release (e);
  portalock_mk_free (e);
  portalock_mk_free (h);
  portalock_mk_set_fault (NULL);
}

static void
all_checks (void)
{
  portalock_mk_set_identity ("hostA", "boot-1");
  check_bad_input ();
  check_basics ();
  check_not_ours (PORTALOCK_MK_STRICT);
  check_not_ours (PORTALOCK_MK_LEASE);
  check_exclusion (PORTALOCK_MK_STRICT);
  check_exclusion (PORTALOCK_MK_LEASE);
  check_strict_dead ();
  check_strict_reused_pid ();
  check_claim_race ();
  check_lease_takeover ();
  check_lease_stopped ();
  check_lease_faults ();
}

int
main (int argc, char **argv)
{
  const char *only = argc > 1 ? argv[1] : "";
  if (strcmp (only, "fuse") != 0)
    {
      static char dir[4096];
      snprintf (dir, sizeof dir, "%s", test_path ("plain"));
      if (make_dir (dir) != 0)
        die ("mkdir");
      side[0] = side[1] = truth = dir;
      label = "plain directory";
      all_checks ();
    }
  if (strcmp (only, "plain") != 0)
    {
      if (!fuse_setup ())
        unsupported ("marker: two mounts: no /dev/fuse, bindfs or "
                     "fusermount here");
      else if (!fuse_mount_both (false))
        {
          fuse_unmount_all ();
          unsupported ("marker: two mounts: bindfs refused to mount here");
        }
      else
        {
          side[0] = fuse_mounts[0];
          side[1] = fuse_mounts[1];
          truth = fuse_source;
          label = "two mounts";
          all_checks ();
          fuse_unmount_all ();
        }
    }
  return check_exit ();
}
