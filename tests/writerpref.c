/* writerpref.c: tests of writer preference (portalock_set_writer_preference)
   on one backend: no starvation, exact exclusion, nothing left behind
   by a writer that gives up, conversions.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: writerpref BACKEND; or writerpref BACKEND writer PATH (see
   writer_main).

   No check measures time.  The order of events is told by a sequence
   counter in memory shared by the processes, which each takes a number
   from just before it asks for a lock ("started waiting") and just
   after it is granted; a writer is known to be waiting once the kernel
   lists its blocked request in /proc/locks.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static enum portalock_backend backend;
static const char *bname;
static bool has_shared;

/* What the processes of a check share.  */
struct shared
{
  unsigned long seq;            /* the sequence counter */
  unsigned long last_grant;     /* the latest reader grant's number */
  unsigned long gate_seen;      /* the number taken once the writer
                                   was seen waiting; 0 before */
  unsigned long writer_granted; /* the writer's grant's number */
  unsigned long late;           /* readers that started after
                                   gate_seen and were granted before
                                   the writer */
  unsigned long grants;         /* reader grants in all */
  unsigned long errors;
  unsigned long stop;
  /* The exclusion check.  */
  long readers_in, writers_in, max_readers, overlaps;
};

static struct shared *sh;

#define LOAD(x) __atomic_load_n (&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n (&(x), (v), __ATOMIC_SEQ_CST)
#define ADD(x, v) __atomic_add_fetch (&(x), (v), __ATOMIC_SEQ_CST)

static void
reset_shared (void)
{
  memset (sh, 0, sizeof *sh);
  /* Numbers start at 1: 0 means "not yet".  */
  sh->seq = 1;
}

/* A lock object on PATH of type TYPE, preferring writers if PREFER,
   waiting up to TIMEOUT seconds.  */
static portalock *
new_lock (const char *path, int type, bool prefer, double timeout)
{
  portalock *lock = new_backend_lock (path, backend);
  if (portalock_set_flags (lock, type) != 0
      || portalock_set_writer_preference (lock, prefer) != 0
      || portalock_set_timeout (lock, timeout) != 0)
    die ("%s: lock settings", bname);
  return lock;
}

/* Whether the kernel lists a blocked request on the inode INO now.  */
static bool
blocked_now (ino_t ino)
{
  char needle[64];
  snprintf (needle, sizeof needle, ":%llu ", (unsigned long long) ino);
  FILE *f = fopen ("/proc/locks", "r");
  if (f == NULL)
    return false;
  char line[512];
  bool seen = false;
  while (!seen && fgets (line, sizeof line, f) != NULL)
    seen = strstr (line, "->") != NULL && strstr (line, needle) != NULL;
  fclose (f);
  return seen;
}

static ino_t
inode_of (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    die ("%s: stat %s", bname, path);
  return st.st_ino;
}

static void
reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
}

/* A reader process of the starvation check: take shared locks on PATH
   in a loop until told to stop.  Each holds its lock until another
   reader has been granted after it (so that, as long as readers keep
   coming, at least one always holds the file), or for a quarter of a
   second at most (so that readers held back by a writer's gate do not
   keep the ones inside waiting for ever).  */
static _Noreturn void
reader_loop (const char *path, bool prefer)
{
  portalock *lock = new_lock (path, PORTALOCK_SH, prefer, 60);
  while (!LOAD (sh->stop))
    {
      unsigned long s = ADD (sh->seq, 1);
      if (portalock_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          _exit (1);
        }
      unsigned long g = ADD (sh->seq, 1);
      unsigned long seen = LOAD (sh->gate_seen);
      if (seen != 0 && s > seen && LOAD (sh->writer_granted) < seen)
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
      portalock_release (lock);
    }
  portalock_free (lock);
  _exit (0);
}

/* The writer of the starvation check: one exclusive lock.  */
static _Noreturn void
writer_once (const char *path, bool prefer)
{
  portalock *lock = new_lock (path, PORTALOCK_EX, prefer, 60);
  if (portalock_acquire (lock) != 0)
    _exit (1);
  STORE (sh->writer_granted, ADD (sh->seq, 1));
  portalock_release (lock);
  portalock_free (lock);
  _exit (0);
}

/* Wait until COUNT is at least N, or a writer was granted after the
   grant numbered WG (the latest writer grant before), or 20 seconds
   pass (a readiness wait; the checks that follow say what
   happened).  */
static void
await_count (unsigned long *count, unsigned long n, unsigned long wg)
{
  double until = now () + 20;
  while (LOAD (*count) < n && LOAD (sh->writer_granted) == wg
         && now () < until)
    usleep (500);
}

#define READERS 8
#define LATE_READERS 64

/* The starvation check, with writer preference if PREFER, else without
   it (which shows that the scenario starves a writer).  */
static void
check_starvation (bool prefer)
{
  const char *path = test_path (prefer ? "starve-pref" : "starve-plain");
  write_file (path, "data\n");
  ino_t ino = inode_of (path);
  reset_shared ();
  pid_t readers[READERS];
  for (int i = 0; i < READERS; i++)
    {
      readers[i] = fork ();
      if (readers[i] < 0)
        die ("fork");
      if (readers[i] == 0)
        reader_loop (path, prefer);
    }
  /* The readers are going.  */
  await_count (&sh->grants, 4 * READERS, 0);

  int rounds = prefer ? 3 : 1;
  bool waited = true, in_order = true, granted = true;
  unsigned long late_total = 0;
  /* Neither writer_granted nor gate_seen is ever reset: a reader that
     read them in one round and counts in the next must not count.  */
  for (int round = 0; round < rounds && granted && waited && in_order;
       round++)
    {
      unsigned long wg = LOAD (sh->writer_granted);
      pid_t writer = fork ();
      if (writer < 0)
        die ("fork");
      if (writer == 0)
        writer_once (path, prefer);
      /* Wait until it waits in the kernel, or got in at once (all
         readers were out: try again).  */
      bool seen = false;
      double until = now () + 20;
      while (!(seen = blocked_now (ino)) && LOAD (sh->writer_granted) == wg
             && now () < until)
        usleep (500);
      waited &= seen;
      if (seen)
        {
          STORE (sh->late, 0);
          STORE (sh->gate_seen, ADD (sh->seq, 1));
          if (prefer)
            await_count (&sh->late, 16, wg);
          else
            await_count (&sh->late, LATE_READERS, wg);
        }
      unsigned long late = LOAD (sh->late);
      bool writer_in = LOAD (sh->writer_granted) != wg;
      late_total += late;
      if (prefer)
        in_order &= late == 0 && writer_in;
      else
        in_order &= late >= LATE_READERS && !writer_in;
      /* Let the writer in, if it still waits.  */
      if (!writer_in)
        STORE (sh->stop, 1);
      int status;
      reap (writer, &status);
      granted &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  STORE (sh->stop, 1);
  bool readers_ok = true;
  for (int i = 0; i < READERS; i++)
    {
      int status;
      reap (readers[i], &status);
      readers_ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  /* With readers overlapping, a writer that is granted at once was
     not kept out by them: with preference, the gate is not working;
     without it, the scenario is not real.  */
  if (!check (waited, "%s: starvation %s preference: the writer waits "
              "behind the readers", bname, prefer ? "with" : "without"))
    return;
  if (prefer)
    check (in_order && granted && readers_ok,
           "%s: with writer preference, a writer waiting behind 8 "
           "overlapping readers is granted before any reader that came "
           "after it (3 rounds; %lu came first)", bname, late_total);
  else
    check (in_order && granted && readers_ok,
           "%s: without writer preference, the same writer waits while "
           "%lu readers that came after it are granted", bname, late_total);
}

/* The exclusion check: PROCS processes of THREADS threads each, every
   thread with its own lock object, take GRANTS locks in all, one in
   WRITE_EVERY of them exclusive.  */
#define PROCS 4
#define THREADS 3
#define GRANTS 10000

struct worker
{
  const char *path;
  int id;
  int grants;
};

static void
inside (bool writer)
{
  if (writer)
    {
      long w = ADD (sh->writers_in, 1);
      long r = LOAD (sh->readers_in);
      if (w != 1 || r != 0)
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
      for (int i = 0; i < 20; i++)
        sched_yield ();
      if (LOAD (sh->writers_in) != 0)
        ADD (sh->overlaps, 1);
      ADD (sh->readers_in, -1);
    }
}

static void *
worker_run (void *arg)
{
  struct worker *w = arg;
  portalock *rd = has_shared ? new_lock (w->path, PORTALOCK_SH, true, 30)
    : NULL;
  portalock *wr = new_lock (w->path, PORTALOCK_EX, true, 30);
  unsigned int state = 2654435761u * (unsigned) (w->id + 1);
  for (int i = 0; i < w->grants; i++)
    {
      state = state * 1103515245u + 12345u;
      bool writer = rd == NULL || (state >> 16) % 5 == 0;
      portalock *lock = writer ? wr : rd;
      if (portalock_acquire (lock) != 0)
        {
          ADD (sh->errors, 1);
          break;
        }
      inside (writer);
      portalock_release (lock);
    }
  portalock_free (rd);
  portalock_free (wr);
  return NULL;
}

static _Noreturn void
exclusion_process (const char *path, int proc, int grants)
{
  pthread_t t[THREADS];
  struct worker w[THREADS];
  for (int i = 0; i < THREADS; i++)
    {
      w[i].path = path;
      w[i].id = proc * THREADS + i;
      w[i].grants = grants / (PROCS * THREADS);
      if (pthread_create (&t[i], NULL, worker_run, &w[i]) != 0)
        _exit (2);
    }
  for (int i = 0; i < THREADS; i++)
    pthread_join (t[i], NULL);
  _exit (0);
}

static void
check_exclusion (void)
{
  const char *path = test_path ("exclusion");
  write_file (path, "data\n");
  reset_shared ();
  /* Without shared locks, only writers: fewer grants do.  */
  int grants = has_shared ? GRANTS : GRANTS / 5;
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++)
    {
      pids[p] = fork ();
      if (pids[p] < 0)
        die ("fork");
      if (pids[p] == 0)
        exclusion_process (path, p, grants);
    }
  bool ok = true;
  for (int p = 0; p < PROCS; p++)
    {
      int status;
      reap (pids[p], &status);
      ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  check (ok && sh->errors == 0 && sh->overlaps == 0,
         "%s: writer preference: no reader or writer inside with a writer "
         "over %d grants (%d processes x %d threads; %lu errors, "
         "%ld overlaps)", bname, grants, PROCS, THREADS, sh->errors,
         sh->overlaps);
  if (has_shared)
    check (sh->max_readers >= 2,
           "%s: writer preference: readers share (%ld inside at once)",
           bname, sh->max_readers);
  check (has_text (path, "data\n"),
         "%s: writer preference: the data file is left as it was", bname);
}

/* Return 0 if a preferring reader (or, without shared locks, writer)
   of PATH in a new process gets in without waiting, else its errno.  */
static int
gets_in_now (const char *path)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock *lock = new_lock (path, has_shared ? PORTALOCK_SH
                                  : PORTALOCK_EX, true, 5);
      portalock_set_fail_when_locked (lock, true);
      _exit (portalock_acquire (lock) == 0 ? 0 : errno);
    }
  int status;
  reap (pid, &status);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* A preferring writer that gives up on PATH, held by H: by a timeout,
   by fail_when_locked, by PORTALOCK_NB.  */
static void
check_giving_up (void)
{
  const char *path = test_path ("giveup");
  write_file (path, "data\n");
  struct holder h;
  int held = has_shared ? PORTALOCK_SH : PORTALOCK_EX;
  if (!holder_start (&h, path, backend, held, 0, 0))
    die ("%s: holder", bname);

  portalock *w = new_lock (path, PORTALOCK_EX, true, 0.2);
  check (fails_with (portalock_acquire (w), ETIMEDOUT),
         "%s: a preferring writer times out behind a %s holder", bname,
         has_shared ? "shared" : "exclusive");
  if (has_shared)
    check (gets_in_now (path) == 0,
           "%s: ... and readers get in at once after it", bname);

  portalock_set_timeout (w, 5);
  portalock_set_fail_when_locked (w, true);
  check (fails_with (portalock_acquire (w), EWOULDBLOCK),
         "%s: fail_when_locked: a preferring writer fails at once", bname);
  portalock_set_fail_when_locked (w, false);
  portalock_set_flags (w, PORTALOCK_EX | PORTALOCK_NB);
  check (fails_with (portalock_acquire (w), EWOULDBLOCK),
         "%s: PORTALOCK_NB: a preferring writer fails at once", bname);
  if (has_shared)
    check (gets_in_now (path) == 0,
           "%s: ... and readers get in at once after it", bname);

  /* Killed while it waits, holding the gate.  */
  ino_t ino = inode_of (path);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock *k = new_lock (path, PORTALOCK_EX, true, 60);
      portalock_acquire (k);
      _exit (1);
    }
  double until = now () + 20;
  while (!blocked_now (ino) && now () < until)
    usleep (500);
  kill (pid, SIGKILL);
  int status;
  reap (pid, &status);
  if (has_shared)
    check (WIFSIGNALED (status) && gets_in_now (path) == 0,
           "%s: a preferring writer killed while it waits: readers get in "
           "at once after it", bname);
  holder_release (&h);

  /* A writer that waits (5 seconds at most) gets the gate at once if
     no one left it held: the ones that gave up above, or a reader that
     timed out.  */
  portalock_set_flags (w, PORTALOCK_EX);
  if (has_shared)
    {
      if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
        die ("%s: holder", bname);
      portalock *r = new_lock (path, PORTALOCK_SH, true, 0.2);
      check (fails_with (portalock_acquire (r), ETIMEDOUT),
             "%s: a preferring reader times out behind a writer", bname);
      portalock_set_flags (r, PORTALOCK_SH | PORTALOCK_NB);
      check (fails_with (portalock_acquire (r), EWOULDBLOCK),
             "%s: PORTALOCK_NB: a preferring reader fails at once", bname);
      portalock_free (r);
      holder_release (&h);
    }
  check (portalock_acquire (w) == 0,
         "%s: after all those gave up, a preferring writer gets in", bname);
  portalock_release (w);
  portalock_free (w);
}

/* A reader that becomes a writer while another writer waits.  */
static void
check_conversion (void)
{
  if (!has_shared)
    {
      unsupported ("%s: writer preference: conversions (no shared locks)",
                   bname);
      return;
    }
  const char *path = test_path ("convert");
  write_file (path, "data\n");
  ino_t ino = inode_of (path);
  portalock *r = new_lock (path, PORTALOCK_SH, true, 5);
  if (portalock_acquire (r) != 0)
    die ("%s: acquire", bname);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock *w = new_lock (path, PORTALOCK_EX, true, 60);
      _exit (portalock_acquire (w) == 0 ? 0 : 1);
    }
  double until = now () + 20;
  while (!blocked_now (ino) && now () < until)
    usleep (500);
  check (portalock_convert (r, PORTALOCK_EX) == 0,
         "%s: a preferring reader becomes a writer while a writer waits "
         "(no deadlock)", bname);
  portalock_release (r);
  int status;
  reap (pid, &status);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: ... and the waiting writer is granted after it", bname);

  /* No writer waits: the conversion takes the gate and lets it go.  */
  if (portalock_acquire (r) != 0)
    die ("%s: acquire", bname);
  check (portalock_convert (r, PORTALOCK_EX) == 0
         && portalock_convert (r, PORTALOCK_SH) == 0
         && gets_in_now (path) == 0,
         "%s: a conversion there and back leaves the gate free", bname);
  portalock_free (r);
}

static void
check_settings (void)
{
  portalock *lock = new_lock (test_path ("settings"), PORTALOCK_EX, false,
                              5);
  check (fails_with (portalock_set_writer_preference (NULL, true), EINVAL),
         "%s: portalock_set_writer_preference (NULL): EINVAL", bname);
  if (portalock_acquire (lock) != 0)
    die ("%s: acquire", bname);
  check (fails_with (portalock_set_writer_preference (lock, true), EBUSY),
         "%s: portalock_set_writer_preference on a held object: EBUSY",
         bname);
  portalock_free (lock);

  /* A temporary lock would leave its gate behind.  */
  const char *tpath = test_path ("temporary");
  lock = new_lock (tpath, PORTALOCK_EX, true, 5);
  portalock_set_temporary (lock, true);
  char gate[4096];
  snprintf (gate, sizeof gate, "%s.gate", tpath);
  check (fails_with (portalock_acquire (lock), ENOTSUP)
         && !exists (tpath) && !exists (gate),
         "%s: writer preference on a temporary lock: ENOTSUP, nothing "
         "created", bname);
  portalock_free (lock);

  const char *path = test_path ("gatefile");
  write_file (path, "keep me\n");
  snprintf (gate, sizeof gate, "%s.gate", path);
  if (!has_shared)
    {
      lock = new_lock (path, PORTALOCK_SH, true, 5);
      check (fails_with (portalock_acquire (lock), ENOTSUP)
             && !exists (gate),
             "%s: a preferring reader: ENOTSUP (no shared locks), no gate "
             "created", bname);
      portalock_free (lock);
    }
  lock = new_lock (path, PORTALOCK_EX, true, 5);
  check (portalock_acquire (lock) == 0 && portalock_release (lock) == 0
         && has_text (path, "keep me\n") && has_text (gate, ""),
         "%s: the gate is PATH.gate, empty; the file is left as it was",
         bname);
  portalock_free (lock);

  /* A directory's gate is beside it, whatever slashes end its name.  */
  if (backend == PORTALOCK_BACKEND_FLOCK)
    {
      const char *dir = test_path ("dir");
      if (make_dir (dir) != 0)
        die ("mkdir");
      char slashed[4096];
      snprintf (slashed, sizeof slashed, "%s//", dir);
      snprintf (gate, sizeof gate, "%s.gate", dir);
      lock = new_lock (slashed, PORTALOCK_EX, true, 5);
      portalock_set_mode (lock, "r");
      check (portalock_acquire (lock) == 0 && exists (gate)
             && count_entries (dir) == 0,
             "%s: a directory's gate is beside it", bname);
      portalock_free (lock);
    }
}

/* writerpref BACKEND writer PATH: a writer with preference, for the
   tests of plock --prefer-writers: take PATH's lock exclusive, print
   "granted", let go.  Exit 0, or 1 if the lock could not be taken.  */
static int
writer_main (const char *path)
{
  portalock *lock = new_lock (path, PORTALOCK_EX, true, 60);
  if (portalock_acquire (lock) != 0)
    return 1;
  puts ("granted");
  fflush (stdout);
  portalock_free (lock);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[2], "writer") == 0)
    {
      backend = portalock_backend_from_name (argv[1]);
      if (backend <= 0)
        return 2;
      bname = argv[1];
      return writer_main (argv[3]);
    }
  backend = backend_from_args (argc, argv, 1,
                               "writerpref BACKEND [writer PATH]");
  if (backend == 0)
    return check_exit ();
  bname = argv[1];
  has_shared = backend != PORTALOCK_BACKEND_LOCKF;
  sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    die ("mmap");

  check_settings ();
  check_giving_up ();
  check_conversion ();
  check_exclusion ();
  if (!has_shared)
    unsupported ("%s: starvation: no shared locks", bname);
  else if (access ("/proc/locks", R_OK) != 0)
    unsupported ("%s: starvation: no /proc/locks to see a writer wait",
                 bname);
  else
    {
      check_starvation (false);
      check_starvation (true);
    }
  return check_exit ();
}
