/* rwmarkers.c: shared locks on the marker methods (reader markers, the
   two-phase writer acquire), on a plain directory and across two FUSE
   mounts of one (two "machines").

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: rwmarkers [GRANTS [PLAIN_GRANTS]]: the counts of grants of
   the exclusion check across the mounts and on the plain directory
   (10000 each by default; fewer under valgrind).

   No check measures time.  The order of events is told by a sequence
   counter in memory shared by the processes; a writer is known to be
   waiting once its writer marker is at PATH.marker (its PID in the
   record); readiness is told through pipes.  The processes of side 0
   have the host identity "hostA", those of side 1 "hostB" (the marker
   module's test seam).  A reader "of another machine" on the plain
   directory takes its reader marker without the kernel lock
   (portalock_mk_acquire_shared), as a machine whose kernel locks do
   not reach this one's would.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuseharness.h"
#include "marker.h"
#include "portalock.h"
#include "testutil.h"

#define LOAD(x) __atomic_load_n (&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n (&(x), (v), __ATOMIC_SEQ_CST)
#define ADD(x, v) __atomic_add_fetch (&(x), (v), __ATOMIC_SEQ_CST)

/* The two sides: the same directory, or two mounts of one.  */
static const char *side[2];
static const char *label;
static enum portalock_method method;
static const char *mname;

/* What the processes of a check share.  */
struct shared
{
  unsigned long seq;
  unsigned long last_grant;
  unsigned long gate_seen;
  unsigned long writer_granted;
  unsigned long late;
  unsigned long grants;
  unsigned long errors;
  unsigned long stop;
  long readers_in, writers_in, max_readers, overlaps;
};

static struct shared *sh;

static void
reset_shared (void)
{
  memset (sh, 0, sizeof *sh);
  sh->seq = 1;
}

static char *
on (int s, const char *name)
{
  static char buf[8][4300];
  static int next;
  char *b = buf[next++ % 8];
  snprintf (b, sizeof buf[0], "%s/%s-%s", side[s], name, mname);
  return b;
}

static char *
marker_of (const char *path)
{
  static char buf[4400];
  snprintf (buf, sizeof buf, "%s.marker", path);
  return buf;
}

/* Take side S's host identity.  */
static void
be (int s)
{
  portalock_mk_set_identity (s ? "hostB" : "hostA", s ? "boot-B" : "boot-A");
}

/* A lock object of the method under test on PATH.  */
static portalock *
new_lock (const char *path, int type, bool prefer, double timeout,
          double ttl)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_method (lock, method) != 0
      || portalock_set_flags (lock, type) != 0
      || portalock_set_writer_preference (lock, prefer) != 0
      || portalock_set_timeout (lock, timeout) != 0
      || portalock_set_check_interval (lock, 0.01) != 0
      || (method == PORTALOCK_METHOD_LEASE
          && portalock_set_lease_ttl (lock, ttl) != 0))
    die ("%s: lock settings", label);
  return lock;
}

static void
reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
}

static bool
exited_0 (pid_t pid)
{
  int status;
  reap (pid, &status);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* Whether the writer marker of PATH is PID's.  */
static bool
marker_is (const char *path, pid_t pid)
{
  struct portalock_mk_record rec;
  return (portalock_mk_holders (marker_of (path), &rec) == 1
          && rec.pid == (long) pid);
}

/* The count of reader markers beside the writer marker of the lock
   NAME on side 0; the last one's token in TOKEN (33 bytes) if not
   NULL.  */
static int
reader_markers (const char *name, char *token)
{
  char prefix[256];
  snprintf (prefix, sizeof prefix, ".%s-%s.marker.rd-", name, mname);
  DIR *d = opendir (side[0]);
  if (d == NULL)
    die ("opendir %s", side[0]);
  int n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      const char *rd = e->d_name + strlen (prefix);
      if (strncmp (e->d_name, prefix, strlen (prefix)) == 0
          && strlen (rd) == 32)
        {
          n++;
          if (token != NULL)
            snprintf (token, 33, "%s", rd);
        }
    }
  closedir (d);
  return n;
}

/* The starvation check.  */

#define READERS 8

/* A reader process on side S: shared locks on PATH in a loop until told
   to stop, each held until another reader was granted after it, or a
   quarter of a second at most.  */
static _Noreturn void
reader_loop (int s, const char *path)
{
  be (s);
  portalock *lock = new_lock (path, PORTALOCK_SH, true, 60, 30);
  while (!LOAD (sh->stop))
    {
      unsigned long st = ADD (sh->seq, 1);
      if (portalock_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          _exit (1);
        }
      unsigned long g = ADD (sh->seq, 1);
      unsigned long seen = LOAD (sh->gate_seen);
      if (seen != 0 && st > seen && LOAD (sh->writer_granted) < seen)
        ADD (sh->late, 1);
      ADD (sh->grants, 1);
      unsigned long last = LOAD (sh->last_grant);
      while (last < g
             && !__atomic_compare_exchange_n (&sh->last_grant, &last, g,
                                              false, __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST))
        ;
      double until = now () + 0.25;
      while (LOAD (sh->last_grant) == g && !LOAD (sh->stop)
             && now () < until)
        usleep (200);
      if (portalock_release (lock) != 0)
        {
          ADD (sh->errors, 1);
          _exit (1);
        }
    }
  portalock_free (lock);
  _exit (0);
}

static _Noreturn void
writer_once (int s, const char *path)
{
  be (s);
  portalock *lock = new_lock (path, PORTALOCK_EX, true, 60, 30);
  if (portalock_acquire (lock) != 0)
    _exit (1);
  STORE (sh->writer_granted, ADD (sh->seq, 1));
  portalock_release (lock);
  portalock_free (lock);
  _exit (0);
}

static void
await_count (unsigned long *count, unsigned long n, unsigned long wg)
{
  double until = now () + 30;
  while (LOAD (*count) < n && LOAD (sh->writer_granted) == wg
         && now () < until)
    usleep (500);
}

static void
check_starvation (void)
{
  const char *path = on (0, "starve");
  write_file (path, "data\n");
  reset_shared ();
  pid_t readers[READERS];
  for (int i = 0; i < READERS; i++)
    {
      readers[i] = fork ();
      if (readers[i] < 0)
        die ("fork");
      if (readers[i] == 0)
        reader_loop (i % 2, on (i % 2, "starve"));
    }
  await_count (&sh->grants, 4 * READERS, 0);
  bool waited = true, in_order = true, granted = true;
  for (int round = 0; round < 3 && waited && in_order && granted; round++)
    {
      unsigned long wg = LOAD (sh->writer_granted);
      int ws = round % 2;
      pid_t writer = fork ();
      if (writer < 0)
        die ("fork");
      if (writer == 0)
        writer_once (ws, on (ws, "starve"));
      /* Wait until its writer marker is there (it waits for the
         readers inside), or it got in.  */
      bool seen = false;
      double until = now () + 30;
      while (!(seen = marker_is (path, writer))
             && LOAD (sh->writer_granted) == wg && now () < until)
        usleep (200);
      if (seen)
        {
          STORE (sh->late, 0);
          STORE (sh->gate_seen, ADD (sh->seq, 1));
          await_count (&sh->late, 16, wg);
        }
      else
        waited = LOAD (sh->writer_granted) != wg;
      bool writer_in = LOAD (sh->writer_granted) != wg;
      in_order &= LOAD (sh->late) == 0 && writer_in;
      if (!writer_in)
        STORE (sh->stop, 1);
      granted &= exited_0 (writer);
    }
  STORE (sh->stop, 1);
  bool readers_ok = true;
  for (int i = 0; i < READERS; i++)
    readers_ok &= exited_0 (readers[i]);
  check (waited && in_order && granted && readers_ok
         && LOAD (sh->errors) == 0,
         "rwmarkers: %s, %s: a writer is granted before every reader "
         "that started after its writer marker was seen (8 overlapping "
         "readers on both sides, 3 rounds; waited %d, in order %d, writers "
         "granted %d, readers ok %d)", label, mname, waited, in_order,
         granted, readers_ok);
}

/* The exclusion check.  */

#define PROCS 4
#define THREADS 3
#define WRITE_EVERY 5

struct worker
{
  const char *path;
  int grants;
};

static void
inside (bool writer)
{
  if (writer)
    {
      long w = ADD (sh->writers_in, 1);
      if (w != 1 || LOAD (sh->readers_in) != 0)
        ADD (sh->overlaps, 1);
      for (int i = 0; i < 5; i++)
        sched_yield ();
      ADD (sh->writers_in, -1);
    }
  else
    {
      long r = ADD (sh->readers_in, 1);
      if (LOAD (sh->writers_in) != 0)
        ADD (sh->overlaps, 1);
      long m = LOAD (sh->max_readers);
      while (m < r
             && !__atomic_compare_exchange_n (&sh->max_readers, &m, r, false,
                                              __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST))
        ;
      /* Long enough for other readers to come in beside it, even
         through a slow file system: until one does, or 5 ms.  */
      double until = now () + 0.005;
      usleep (1000);
      while (LOAD (sh->readers_in) < 2 && now () < until)
        usleep (500);
      if (LOAD (sh->writers_in) != 0)
        ADD (sh->overlaps, 1);
      ADD (sh->readers_in, -1);
    }
}

static void *
worker_run (void *arg)
{
  struct worker *w = arg;
  const char *path = w->path;
  portalock *rd = new_lock (path, PORTALOCK_SH, true, 120, 30);
  portalock *wr = new_lock (path, PORTALOCK_EX, true, 120, 30);
  for (int i = 0; i < w->grants && !LOAD (sh->stop); i++)
    {
      bool writer = ADD (sh->grants, 1) % WRITE_EVERY == 0;
      portalock *lock = writer ? wr : rd;
      if (portalock_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          STORE (sh->stop, 1);
          break;
        }
      inside (writer);
      if (portalock_release (lock) != 0)
        {
          ADD (sh->errors, 1);
          STORE (sh->stop, 1);
          break;
        }
    }
  portalock_free (rd);
  portalock_free (wr);
  return NULL;
}

static void
check_exclusion (int grants)
{
  write_file (on (0, "excl"), "data\n");
  reset_shared ();
  double began = now ();
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++)
    {
      pids[p] = fork ();
      if (pids[p] < 0)
        die ("fork");
      if (pids[p] == 0)
        {
          be (p % 2);
          pthread_t t[THREADS];
          struct worker w[THREADS];
          const char *path = on (p % 2, "excl");
          for (int i = 0; i < THREADS; i++)
            {
              w[i].path = path;
              w[i].grants = grants / (PROCS * THREADS);
              if (pthread_create (&t[i], NULL, worker_run, &w[i]) != 0)
                _exit (2);
            }
          for (int i = 0; i < THREADS; i++)
            pthread_join (t[i], NULL);
          _exit (0);
        }
    }
  /* A note now and then, so that a slow machine is not taken for a
     hung test.  */
  bool ok = true;
  double note = now () + 20;
  for (int left = PROCS; left > 0;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid < 0 && errno != EINTR)
        die ("waitpid");
      if (pid > 0)
        {
          ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
          left--;
          continue;
        }
      if (now () > note)
        {
          printf ("note: %s, %s: %lu grants so far\n", label, mname,
                  LOAD (sh->grants));
          fflush (stdout);
          note = now () + 20;
        }
      usleep (100000);
    }
  check (ok && LOAD (sh->errors) == 0 && LOAD (sh->overlaps) == 0
         && LOAD (sh->max_readers) >= 2,
         "rwmarkers: %s, %s: %d grants (%d processes x %d threads, one in "
         "%d exclusive): no writer beside anyone, up to %ld readers at once "
         "(%.0f s; %lu errors, %ld overlaps)", label, mname, grants, PROCS,
         THREADS, WRITE_EVERY, LOAD (sh->max_readers), now () - began,
         LOAD (sh->errors), LOAD (sh->overlaps));
}

/* A reader of side S "on another machine": a reader marker beside
   PATH's writer marker without the kernel lock.  */
struct remote
{
  pid_t pid;
  int go;                       /* closing it (or a byte) lets it go on */
};

static int lost_called;

static void
on_lost (struct portalock_mk *m, void *arg)
{
  (void) m;
  (void) arg;
  STORE (lost_called, 1);
}

/* Start a remote reader of kind KIND (TTL for a lease) on side S as
   host HOST_SIDE.  Once it holds it writes a byte; then it waits for a
   byte or the close of GO.  If EXPECT_LOST, it then waits for its lease
   to be lost and exits 0 if the loss was reported and its release
   fails with ENOLCK; else it releases and exits 0 on success.  */
static struct remote
remote_reader (int s, int host_side, const char *path, double ttl,
               bool expect_lost)
{
  int p[2], q[2];
  if (pipe (p) != 0 || pipe (q) != 0)
    die ("pipe");
  struct remote r;
  r.pid = fork ();
  if (r.pid < 0)
    die ("fork");
  if (r.pid == 0)
    {
      close (p[0]);
      close (q[1]);
      be (host_side);
      struct portalock_mk *m
        = portalock_mk_new (marker_of (path),
                            method == PORTALOCK_METHOD_LEASE
                            ? PORTALOCK_MK_LEASE : PORTALOCK_MK_STRICT);
      if (m == NULL || (ttl > 0 && portalock_mk_set_ttl (m, ttl) != 0)
          || portalock_mk_set_check_interval (m, 0.01) != 0
          || portalock_mk_set_lost_callback (m, on_lost, NULL) != 0)
        _exit (2);
      struct timespec dl;
      clock_gettime (CLOCK_MONOTONIC, &dl);
      dl.tv_sec += 60;
      if (portalock_mk_acquire_shared (m, false, &dl) != 0)
        _exit (3);
      char c = 'r';
      if (write (p[1], &c, 1) != 1)
        _exit (4);
      IGNORE_RESULT (read (q[0], &c, 1));
      if (expect_lost)
        {
          /* The heartbeat thread may have marked the loss and not yet
             called the callback: wait for both.  */
          double until = now () + 60;
          while ((!portalock_mk_lost (m) || !LOAD (lost_called))
                 && now () < until)
            usleep (10000);
          bool ok = (LOAD (lost_called) && portalock_mk_release (m) != 0
                     && errno == ENOLCK);
          _exit (ok ? 0 : 5);
        }
      _exit (portalock_mk_release (m) == 0 ? 0 : 6);
    }
  (void) s;
  close (p[1]);
  close (q[0]);
  char c;
  if (read (p[0], &c, 1) != 1)
    die ("%s: a remote reader did not take %s", label, path);
  close (p[0]);
  r.go = q[1];
  fuse_child (r.pid);
  return r;
}

static bool
remote_end (struct remote *r)
{
  close (r->go);
  bool ok = exited_0 (r->pid);
  fuse_child (0);
  return ok;
}

/* Whether a reader on side S can take PATH at once.  */
static bool
reader_gets_in (int s, const char *path)
{
  be (s);
  portalock *lock = new_lock (on (s, path), PORTALOCK_SH, true, 0, 30);
  bool ok = portalock_acquire (lock) == 0 && portalock_release (lock) == 0;
  portalock_free (lock);
  return ok;
}

/* A writer that gives up in phase 2 leaves nothing that keeps readers
   out.  */
static void
check_giving_up (void)
{
  const char *path = on (1, "giveup");
  write_file (path, "data\n");
  struct remote r = remote_reader (1, 1, path, 30, false);

  /* portalock_marker_readers lists it.  */
  struct portalock_marker_info info[2];
  int before = count_entries (side[0]);
  check (portalock_marker_readers (on (0, "giveup"), info, sizeof info[0],
                                   2) == 1
         && info[0].pid == (int64_t) r.pid
         && strcmp (info[0].host, "hostB") == 0
         && info[0].method == (uint32_t) method
         && portalock_marker_readers (on (0, "giveup"), NULL,
                                      sizeof info[0], 0) == 1
         && fails_with (portalock_marker_readers (NULL, info, sizeof info[0],
                                                  2), EINVAL)
         && fails_with (portalock_marker_readers ("", info, sizeof info[0],
                                                  2), EINVAL)
         && fails_with (portalock_marker_readers (on (0, "giveup"), NULL,
                                                  sizeof info[0], 2), EINVAL)
         && fails_with (portalock_marker_readers (on (0, "giveup"), info, 8,
                                                  2), EINVAL)
         && portalock_marker_readers (on (0, "none"), info, sizeof info[0],
                                      2) == 0
         && count_entries (side[0]) == before,
         "rwmarkers: %s, %s: portalock_marker_readers lists a reader of "
         "another machine; bad arguments: EINVAL; nothing created", label,
         mname);

  be (0);
  portalock *w = new_lock (on (0, "giveup"), PORTALOCK_EX, true, 0.3, 30);
  bool timed_out = fails_with (portalock_acquire (w), ETIMEDOUT);
  bool clean = !exists (marker_of (path)) && reader_gets_in (0, "giveup");
  portalock_set_timeout (w, 0);
  bool refused = fails_with (portalock_acquire (w), EWOULDBLOCK);
  clean &= !exists (marker_of (path)) && reader_gets_in (0, "giveup");
  portalock_free (w);
  check (timed_out && refused && clean,
         "rwmarkers: %s, %s: a writer that times out or must not wait "
         "behind a reader of another machine fails (ETIMEDOUT, "
         "EWOULDBLOCK) and leaves no writer marker; readers get in",
         label, mname);

  /* A writer killed while it waits for that reader.  */
  bool lease = method == PORTALOCK_METHOD_LEASE;
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      be (0);
      portalock *k = new_lock (on (0, "giveup"), PORTALOCK_EX, true, 120,
                               1);
      portalock_acquire (k);
      _exit (1);
    }
  double until = now () + 60;
  while (!marker_is (path, pid) && now () < until)
    usleep (1000);
  bool waiting = marker_is (path, pid);
  kill (pid, SIGKILL);
  int status;
  reap (pid, &status);
  /* Same host (strict reclaims a dead process's marker at once), or
     the other host for a lease (its short TTL runs out).  */
  int rs = lease ? 1 : 0;
  be (rs);
  portalock *rd = new_lock (on (rs, "giveup"), PORTALOCK_SH, true, 60, 30);
  bool in = portalock_acquire (rd) == 0 && portalock_release (rd) == 0;
  portalock_free (rd);
  bool ended = remote_end (&r);
  check (waiting && WIFSIGNALED (status) && in && ended,
         "rwmarkers: %s, %s: a writer killed while it waits for a reader "
         "keeps no reader out (%s)", label, mname,
         lease ? "its lease expires for the other host"
         : "this host reclaims it");
}

/* Stale readers are evicted; live ones and other hosts' strict ones
   are not.  */
static void
check_eviction (void)
{
  const char *path = on (0, "evict");
  write_file (path, "data\n");
  be (0);
  if (method == PORTALOCK_METHOD_LEASE)
    {
      struct remote r = remote_reader (1, 1, on (1, "evict"), 1, true);
      kill (r.pid, SIGSTOP);
      int status;
      while (waitpid (r.pid, &status, WUNTRACED) < 0 && errno == EINTR)
        ;
      portalock *w = new_lock (path, PORTALOCK_EX, true, 60, 30);
      bool in = portalock_acquire (w) == 0;
      bool gone = reader_markers ("evict", NULL) == 0;
      if (in)
        portalock_release (w);
      portalock_free (w);
      kill (r.pid, SIGCONT);
      bool lost = remote_end (&r);
      check (WIFSTOPPED (status) && in && gone && lost,
             "rwmarkers: %s, lease: a stopped reader of another host is "
             "evicted once its lease runs out; continued, it reports the "
             "loss and its release fails with ENOLCK (stopped %d, writer "
             "in %d, reader marker gone %d, loss seen %d)", label,
             WIFSTOPPED (status), in, gone, lost);
      return;
    }
  /* Strict: another host's reader is never evicted, even dead; an
     explicit break by its token removes it.  */
  struct remote r = remote_reader (1, 1, on (1, "evict"), 0, false);
  portalock *w = new_lock (path, PORTALOCK_EX, true, 0, 30);
  bool kept = fails_with (portalock_acquire (w), EWOULDBLOCK);
  kill (r.pid, SIGKILL);
  reap (r.pid, NULL);
  fuse_child (0);
  close (r.go);
  kept &= fails_with (portalock_acquire (w), EWOULDBLOCK);
  char token[33] = "";
  bool broken = (reader_markers ("evict", token) == 1
                 && portalock_marker_break (path, token) == 0
                 && reader_markers ("evict", NULL) == 0
                 && portalock_acquire (w) == 0
                 && portalock_release (w) == 0);
  check (kept && broken,
         "rwmarkers: %s, strict: another host's reader is never evicted, "
         "dead or alive; portalock_marker_break with its token removes "
         "it", label);

  /* A dead reader of this host and boot is.  */
  r = remote_reader (0, 0, path, 0, false);
  kill (r.pid, SIGKILL);
  reap (r.pid, NULL);
  fuse_child (0);
  close (r.go);
  be (0);
  bool had = reader_markers ("evict", NULL) == 1;
  bool in = portalock_acquire (w) == 0 && portalock_release (w) == 0;
  portalock_free (w);
  check (had && in && reader_markers ("evict", NULL) == 0,
         "rwmarkers: %s, strict: a dead reader of this host is evicted "
         "by a writer", label);
}

/* Generations: each writer's greater than all before; a reader's the
   last writer's.  */
static void
check_generation (void)
{
  write_file (on (0, "gen"), "data\n");
  bool ok = true;
  uint64_t last = 0;
  for (int i = 0; i < 4; i++)
    {
      int s = i % 2;
      be (s);
      portalock *w = new_lock (on (s, "gen"), PORTALOCK_EX, false, 10, 30);
      ok &= portalock_acquire (w) == 0;
      uint64_t g = portalock_generation (w);
      ok &= g > last;
      last = g;
      ok &= portalock_release (w) == 0;
      portalock_free (w);
      be (1 - s);
      portalock *r = new_lock (on (1 - s, "gen"), PORTALOCK_SH, false, 10,
                               30);
      ok &= portalock_acquire (r) == 0 && portalock_generation (r) == last;
      ok &= portalock_release (r) == 0 && portalock_generation (r) == 0;
      portalock_free (r);
    }
  check (ok, "rwmarkers: %s, %s: every writer's generation is greater "
         "than the ones before, a reader's is the last writer's", label,
         mname);
}

static void
run_all (int grants)
{
  static const enum portalock_method methods[]
    = { PORTALOCK_METHOD_STRICT, PORTALOCK_METHOD_LEASE };
  for (int i = 0; i < 2; i++)
    {
      method = methods[i];
      mname = portalock_method_name (method);
      check_generation ();
      check_giving_up ();
      check_eviction ();
      check_starvation ();
      check_exclusion (grants);
    }
  be (0);
  portalock_mk_set_identity (NULL, NULL);
}

int
main (int argc, char **argv)
{
  unsetenv ("PORTALOCK_METHOD");
  int fuse_grants = argc > 1 ? atoi (argv[1]) : 10000;
  int plain_grants = argc > 2 ? atoi (argv[2]) : 10000;
  sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    die ("mmap");
  static char dir[4096];
  snprintf (dir, sizeof dir, "%s", test_path ("plain"));
  if (make_dir (dir) != 0)
    die ("mkdir");
  side[0] = side[1] = dir;
  label = "plain directory";
  run_all (plain_grants);

  if (!fuse_setup ())
    {
      unsupported ("rwmarkers: two mounts: no /dev/fuse, bindfs or "
                   "fusermount here");
      return check_exit ();
    }
  if (!fuse_mount_both (false))
    {
      fuse_unmount_all ();
      unsupported ("rwmarkers: two mounts: bindfs refused to mount here");
      return check_exit ();
    }
  side[0] = fuse_mounts[0];
  side[1] = fuse_mounts[1];
  label = "two mounts";
  run_all (fuse_grants);
  fuse_unmount_all ();
  return check_exit ();
}
