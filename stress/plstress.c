/* plstress.c: the reliability run of 'make stress': exact counts under
   contention, SIGKILL storms, fork and exec, and resource stability.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Four phases, each run for every backend built here:

   count   N processes of M threads each increment a counter file K times
           under a lock, for every kind of lock object; the file must end
           at exactly N * M * K, and no call may fail unexpectedly.
   storm   processes that lock, write PID records, use temporary locks
           and semaphores and publish atomic writes are killed with
           SIGKILL at random points; afterwards every lock must be free on
           every backend, the atomic target must hold one whole version,
           and no PID record may look live.
   fork    a lock object is not inherited across exec, and a forked
           child that exits, releases, frees or converts the object does
           not change the parent's lock.
   cycles  many acquire/release cycles of every kind leave the number of
           descriptors and threads and the resident size unchanged.

   Every check prints "PASS: ..." or "FAIL: ..."; the run ends with a
   summary and exits 1 if anything failed.  Nothing here measures time:
   the only clock is the optional bound on how long the storms go on.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

/* What a run does; set from the command line.  */
struct config
{
  int procs;            /* N */
  int threads;          /* M */
  long count;           /* K */
  long cycles;
  int storms;           /* rounds of SIGKILL per backend */
  double duration;      /* bound on each backend's storm, seconds; 0: none */
  unsigned seed;
  const char *phases;
  const char *backends;
};

static struct config cfg;
static const char *self_exe;
static int passes;
static int failures;

/* Report one check, as the DejaGnu suite's programs do.  */
static bool
report (bool ok, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs (ok ? "PASS: " : "FAIL: ", stdout);
  vprintf (fmt, ap);
  putchar ('\n');
  fflush (stdout);
  va_end (ap);
  if (ok)
    passes++;
  else
    failures++;
  return ok;
}

static void
note (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("NOTE: ", stdout);
  vprintf (fmt, ap);
  putchar ('\n');
  fflush (stdout);
  va_end (ap);
}

/* A private random stream, so that threads need no shared state.  */
static unsigned
rnd (unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return (*state >> 8) & 0xffffff;
}

/* Return a directory made for one part of the run.  */
static const char *
fresh_dir (const char *fmt, ...)
{
  char name[256];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (name, sizeof name, fmt, ap);
  va_end (ap);
  const char *dir = test_path (name);
  if (mkdir (dir, 0755) != 0)
    die ("mkdir %s", dir);
  return dir;
}

static const char *
join (const char *dir, const char *name)
{
  static __thread char buf[4][PATH_MAX];
  static __thread unsigned next;
  char *p = buf[next++ % 4];
  snprintf (p, PATH_MAX, "%s/%s", dir, name);
  return p;
}

/* Reap PID; return true if it exited with status 0.  */
static bool
reap_ok (pid_t pid)
{
  int status;
  pid_t r;
  do
    r = waitpid (pid, &status, 0);
  while (r < 0 && errno == EINTR);
  return r == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* Reap PID whatever its end.  */
static void
reap (pid_t pid)
{
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    continue;
}

static pid_t
fork_child (void)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  /* A child outlives no run that was interrupted.  */
  if (pid == 0)
    prctl (PR_SET_PDEATHSIG, SIGKILL);
  return pid;
}

/* ---- The counter ------------------------------------------------------- */

/* Add one to the decimal number in the file open on FD.  */
static bool
increment (int fd)
{
  char buf[32];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n < 0)
    return false;
  buf[n] = '\0';
  long v = strtol (buf, NULL, 10);
  int len = snprintf (buf, sizeof buf, "%ld\n", v + 1);
  return pwrite (fd, buf, len, 0) == len;
}

static long
read_counter (const char *path)
{
  FILE *f = fopen (path, "re");
  long v = 0;
  if (f == NULL)
    return 0;
  if (fscanf (f, "%ld", &v) != 1)
    v = -1;
  fclose (f);
  return v;
}

/* The kinds of lock object the counter phase uses.  */
enum kind
{
  KIND_PLAIN, KIND_RLOCK, KIND_TEMPORARY, KIND_PID, KIND_SEMAPHORE,
  KIND_MIXED, KIND_PAIR, KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] =
  { "plain", "rlock", "temporary", "pid", "semaphore", "mixed",
    "two files" };

/* The semaphore phase spreads over this many slots, each with its own
   counter: two holders of one slot would lose an increment.  */
#define SEM_SLOTS 2

/* What one process reports to the parent, in shared memory.  */
struct tally
{
  long done;            /* increments made */
  long timeouts;        /* ETIMEDOUT / EWOULDBLOCK where allowed */
  long unexpected;      /* calls that failed or broke a promise */
  int first_errno;
  char first_what[64];
};

struct worker
{
  enum kind kind;
  int backend;
  const char *dir;
  unsigned seed;
  struct tally t;
};

static void
unexpected (struct tally *t, const char *what, int error)
{
  if (t->unexpected++ == 0)
    {
      t->first_errno = error;
      snprintf (t->first_what, sizeof t->first_what, "%s", what);
    }
}

static portalock *
new_object (const char *path, int backend, enum kind kind)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL
      || portalock_set_backend (lock, backend) != 0
      || portalock_set_timeout (lock, -1) != 0
      || (kind == KIND_RLOCK && portalock_set_reentrant (lock, true) != 0)
      || (kind == KIND_TEMPORARY && portalock_set_temporary (lock, true) != 0)
      || (kind == KIND_PID && portalock_set_record_pid (lock, true) != 0))
    die ("lock object for %s", path);
  return lock;
}

/* One increment under a semaphore slot.  */
static bool
sem_round (struct worker *w, portalock_semaphore *sem, int *fds)
{
  if (portalock_semaphore_acquire (sem) != 0)
    {
      unexpected (&w->t, "semaphore_acquire", errno);
      return false;
    }
  int slot = portalock_semaphore_slot (sem);
  bool ok = slot >= 0 && slot < SEM_SLOTS && increment (fds[slot]);
  if (!ok)
    unexpected (&w->t, "semaphore slot or increment", errno);
  /* Stay a moment, so that waiters block on both slots at once.  */
  usleep (50);
  if (portalock_semaphore_release (sem) != 0)
    unexpected (&w->t, "semaphore_release", errno);
  return ok;
}

/* Set LOCK's wait for attempt I of a mixed worker: untimed, timed with
   room to spare, timed with almost none, or no wait at all.  Return true
   if a failure to get the lock is allowed.  */
static bool
mixed_wait (portalock *lock, unsigned r, int misses)
{
  /* After a run of misses, wait without limit: the loop must end.  */
  int how = misses > 8 ? 0 : (int) (r % 4);
  portalock_set_fail_when_locked (lock, how == 3);
  switch (how)
    {
    case 0:
      portalock_set_timeout (lock, -1);
      return false;
    case 1:
      portalock_set_timeout (lock, 60);
      return false;
    case 2:
      portalock_set_timeout (lock, 0.0002);
      return true;
    default:
      portalock_set_timeout (lock, 5);
      return true;
    }
}

/* One increment under LOCK.  Return true if it was made.  */
static bool
lock_round (struct worker *w, portalock *lock, const char *path, int fd,
            int *misses)
{
  bool may_miss = false;
  if (w->kind == KIND_MIXED)
    may_miss = mixed_wait (lock, rnd (&w->seed), *misses);
  if (portalock_acquire (lock) != 0)
    {
      int e = errno;
      if (may_miss && (e == ETIMEDOUT || e == EWOULDBLOCK))
        {
          w->t.timeouts++;
          ++*misses;
        }
      else
        unexpected (&w->t, "acquire", e);
      return false;
    }
  *misses = 0;
  if (w->kind == KIND_RLOCK
      && (portalock_acquire (lock) != 0 || portalock_release (lock) != 0
          || portalock_fd (lock) < 0))
    unexpected (&w->t, "rlock: inner acquire/release dropped the lock",
                errno);
  if (w->kind == KIND_PID)
    {
      pid_t pid = 0;
      if (portalock_pid_record_read (path, &pid) != 1 || pid != getpid ())
        unexpected (&w->t, "pid record of a held lock not live", errno);
    }
  bool ok = increment (fd);
  if (!ok)
    unexpected (&w->t, "increment", errno);
  /* Two files: stay a moment, so that the other threads block in the
     kernel on both files at once.  */
  if (w->kind == KIND_PAIR)
    usleep (50);
  if (portalock_release (lock) != 0)
    unexpected (&w->t, "release", errno);
  return ok;
}

/* Two lock files, each guarding its own counter, taken one at a time
   in random order: with several threads in several processes, a
   process-scoped backend's kernel sees a process wait for another that
   waits for it, though no thread holds one file while it waits for the
   other.  */
static void
pair_worker (struct worker *w, long budget)
{
  portalock *locks[2];
  int fds[2];
  int misses = 0;
  for (int s = 0; s < 2; s++)
    {
      char name[32];
      snprintf (name, sizeof name, "counter.%d", s);
      fds[s] = open (join (w->dir, name), O_RDWR | O_CLOEXEC);
      snprintf (name, sizeof name, "lock.%d", s);
      locks[s] = new_object (join (w->dir, name), w->backend, KIND_PLAIN);
      if (fds[s] < 0)
        die ("open counter");
    }
  while (w->t.done < cfg.count && budget-- > 0)
    {
      int s = (int) (rnd (&w->seed) % 2);
      w->t.done += lock_round (w, locks[s], NULL, fds[s], &misses);
    }
  for (int s = 0; s < 2; s++)
    {
      portalock_free (locks[s]);
      close (fds[s]);
    }
}

static void *
count_worker (void *arg)
{
  struct worker *w = arg;
  const char *lockpath = join (w->dir, "lock");
  /* Allow for retries, but stop by itself whatever happens.  */
  long budget = 20 * cfg.count + 1000;
  int misses = 0;

  if (w->kind == KIND_SEMAPHORE)
    {
      int fds[SEM_SLOTS];
      for (int s = 0; s < SEM_SLOTS; s++)
        {
          char name[32];
          snprintf (name, sizeof name, "counter.%d", s);
          fds[s] = open (join (w->dir, name), O_RDWR | O_CLOEXEC);
          if (fds[s] < 0)
            die ("open counter");
        }
      portalock_semaphore *sem
        = portalock_semaphore_new ("sem", SEM_SLOTS, w->dir);
      if (sem == NULL || portalock_semaphore_set_timeout (sem, -1) != 0
          || portalock_semaphore_set_backend (sem, w->backend) != 0)
        die ("semaphore");
      while (w->t.done < cfg.count && budget-- > 0)
        w->t.done += sem_round (w, sem, fds);
      portalock_semaphore_free (sem);
      for (int s = 0; s < SEM_SLOTS; s++)
        close (fds[s]);
      return NULL;
    }

  if (w->kind == KIND_PAIR)
    {
      pair_worker (w, budget);
      return NULL;
    }

  int fd = open (join (w->dir, "counter"), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    die ("open counter");
  portalock *lock = new_object (lockpath, w->backend, w->kind);
  while (w->t.done < cfg.count && budget-- > 0)
    w->t.done += lock_round (w, lock, lockpath, fd, &misses);
  portalock_free (lock);
  close (fd);
  return NULL;
}

/* Run the M threads of one process; add their tallies into *T.  */
static void
count_process (enum kind kind, int backend, const char *dir, int index,
               struct tally *t)
{
  struct worker *w = calloc (cfg.threads, sizeof *w);
  pthread_t *th = calloc (cfg.threads, sizeof *th);
  if (w == NULL || th == NULL)
    die ("calloc");
  for (int i = 0; i < cfg.threads; i++)
    {
      w[i].kind = kind;
      w[i].backend = backend;
      w[i].dir = dir;
      w[i].seed = cfg.seed ^ (unsigned) (index * 7919 + i * 104729);
      if (pthread_create (&th[i], NULL, count_worker, &w[i]) != 0)
        die ("pthread_create");
    }
  for (int i = 0; i < cfg.threads; i++)
    {
      pthread_join (th[i], NULL);
      t->done += w[i].t.done;
      t->timeouts += w[i].t.timeouts;
      if (w[i].t.unexpected && !t->unexpected)
        {
          t->first_errno = w[i].t.first_errno;
          memcpy (t->first_what, w[i].t.first_what, sizeof t->first_what);
        }
      t->unexpected += w[i].t.unexpected;
    }
  free (w);
  free (th);
}

static void
count_one (int backend, const char *bname, enum kind kind)
{
  const char *dir = fresh_dir ("count-%s-%s", bname, kind_names[kind]);
  const char *names[] = { "counter", "counter.0", "counter.1" };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      int fd = open (join (dir, names[i]), O_RDWR | O_CREAT | O_CLOEXEC,
                     0644);
      if (fd < 0 || write (fd, "0\n", 2) != 2)
        die ("counter file");
      close (fd);
    }

  size_t size = cfg.procs * sizeof (struct tally);
  struct tally *tallies = mmap (NULL, size, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (tallies == MAP_FAILED)
    die ("mmap");
  memset (tallies, 0, size);
  pid_t *pids = calloc (cfg.procs, sizeof *pids);
  if (pids == NULL)
    die ("calloc");
  for (int p = 0; p < cfg.procs; p++)
    {
      pids[p] = fork_child ();
      if (pids[p] == 0)
        {
          count_process (kind, backend, dir, p, &tallies[p]);
          _exit (0);
        }
    }
  bool exited = true;
  for (int p = 0; p < cfg.procs; p++)
    exited &= reap_ok (pids[p]);
  free (pids);

  struct tally sum = { 0 };
  for (int p = 0; p < cfg.procs; p++)
    {
      sum.done += tallies[p].done;
      sum.timeouts += tallies[p].timeouts;
      if (tallies[p].unexpected && !sum.unexpected)
        {
          sum.first_errno = tallies[p].first_errno;
          memcpy (sum.first_what, tallies[p].first_what,
                  sizeof sum.first_what);
        }
      sum.unexpected += tallies[p].unexpected;
    }
  munmap (tallies, size);

  long expected = (long) cfg.procs * cfg.threads * cfg.count;
  long counted = kind == KIND_SEMAPHORE || kind == KIND_PAIR
    ? read_counter (join (dir, "counter.0"))
      + read_counter (join (dir, "counter.1"))
    : read_counter (join (dir, "counter"));
  report (exited && counted == expected && sum.done == expected
          && sum.unexpected == 0,
          "count %s %s: %d procs x %d threads x %ld = %ld, counted %ld, "
          "made %ld, %ld timed out (allowed), %ld unexpected%s%s%s%s%s",
          bname, kind_names[kind], cfg.procs, cfg.threads, cfg.count,
          expected, counted, sum.done, sum.timeouts, sum.unexpected,
          sum.unexpected ? " (first: " : "",
          sum.unexpected ? sum.first_what : "",
          sum.unexpected ? ": " : "",
          sum.unexpected ? strerror (sum.first_errno) : "",
          sum.unexpected ? ")" : "");
  if (!exited)
    printf ("  a counting process did not exit normally\n");
}

/* ---- SIGKILL storms ---------------------------------------------------- */

/* The atomic target holds "gen=G len=L\n", L bytes that depend on G, and
   "end\n".  Return true if the file at PATH is one whole version; set
   *GEN.  */
static bool
target_whole (const char *path, long *gen)
{
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return false;
  long g, len;
  bool ok = fscanf (f, "gen=%ld len=%ld", &g, &len) == 2 && fgetc (f) == '\n'
    && len >= 0 && len <= 1 << 20;
  for (long i = 0; ok && i < len; i++)
    ok = fgetc (f) == 'a' + (int) ((g + i) % 26);
  char tail[8] = "";
  ok = ok && fgets (tail, sizeof tail, f) != NULL && strcmp (tail, "end\n") == 0
    && fgetc (f) == EOF;
  fclose (f);
  *gen = ok ? g : -1;
  return ok;
}

/* Publish a new version of the target at PATH, in pieces, so that a kill
   can land half way.  */
static void
write_target (const char *path, long gen, unsigned *seed)
{
  portalock_atomic *a = portalock_atomic_open (path, PORTALOCK_ATOMIC_REPLACE,
                                               0644);
  if (a == NULL)
    return;
  FILE *f = portalock_atomic_stream (a);
  if (f == NULL)
    {
      portalock_atomic_abort (a);
      return;
    }
  long len = 1 + rnd (seed) % 20000;
  fprintf (f, "gen=%ld len=%ld\n", gen, len);
  for (long i = 0; i < len; i++)
    {
      fputc ('a' + (int) ((gen + i) % 26), f);
      if (i % 4096 == 4095)
        fflush (f);
    }
  fputs ("end\n", f);
  portalock_atomic_commit (a);
}

/* What a storm child does until it is killed (or a bound is reached):
   random work with every kind of object, one byte to PROGRESS after
   each step.  */
static void
storm_child (int backend, const char *dir, int progress, unsigned seed)
{
  const char *lockpath = join (dir, "lock");
  const char *temppath = join (dir, "temp.lock");
  portalock *pid_lock = new_object (lockpath, backend, KIND_PID);
  portalock *plain = new_object (lockpath, backend, KIND_PLAIN);
  portalock *temp = new_object (temppath, backend, KIND_TEMPORARY);
  portalock_semaphore *sem = portalock_semaphore_new ("sem", SEM_SLOTS, dir);
  if (sem == NULL || portalock_semaphore_set_timeout (sem, -1) != 0
      || portalock_semaphore_set_backend (sem, backend) != 0)
    _exit (2);
  long gen = (long) getpid () * 100000;
  for (long step = 0; step < 100000; step++)
    {
      switch (rnd (&seed) % 4)
        {
        case 0:
        case 1:
          {
            portalock *lock = step % 2 ? pid_lock : plain;
            if (portalock_acquire (lock) == 0)
              {
                write_target (join (dir, "target"), ++gen, &seed);
                portalock_release (lock);
              }
          }
          break;
        case 2:
          if (portalock_acquire (temp) == 0)
            {
              if (write (portalock_fd (temp), "x", 1) != 1)
                _exit (3);
              portalock_release (temp);
            }
          break;
        default:
          if (portalock_semaphore_acquire (sem) == 0)
            portalock_semaphore_release (sem);
          break;
        }
      char c = 's';
      if (write (progress, &c, 1) < 0 && errno != EAGAIN)
        _exit (4);
    }
  _exit (0);
}

/* Return true if a non-blocking exclusive lock on PATH can be taken with
   every backend built here (a missing file counts as free).  */
static bool
free_everywhere (const char *path, char *why, size_t why_size)
{
  int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT;
  bool ok = true;
  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    {
      if (!portalock_backend_available (b))
        continue;
      if (portalock_backend_lock (b, fd, PORTALOCK_EX | PORTALOCK_NB, 0, 0,
                                  0) != 0)
        {
          snprintf (why, why_size, "%s held on %s (%s)",
                    path, portalock_backend_name (b), strerror (errno));
          ok = false;
          break;
        }
      portalock_backend_lock (b, fd, PORTALOCK_UN, 0, 0, 0);
    }
  close (fd);
  return ok;
}

/* After a storm: every object can be taken at once by a new holder.  */
static bool
objects_free (int backend, const char *dir, char *why, size_t why_size)
{
  portalock *locks[3] = {
    new_object (join (dir, "lock"), backend, KIND_PID),
    new_object (join (dir, "temp.lock"), backend, KIND_TEMPORARY),
    new_object (join (dir, "lock"), backend, KIND_PLAIN),
  };
  bool ok = true;
  for (int i = 0; i < 3; i++)
    {
      portalock_set_timeout (locks[i], 0);
      if (ok && portalock_acquire (locks[i]) != 0)
        {
          snprintf (why, why_size, "a new %s object: %s",
                    i == 1 ? "temporary" : i == 0 ? "pid" : "plain",
                    strerror (errno));
          ok = false;
        }
      portalock_free (locks[i]);
    }
  portalock_semaphore *s[SEM_SLOTS];
  for (int i = 0; i < SEM_SLOTS; i++)
    {
      s[i] = portalock_semaphore_new ("sem", SEM_SLOTS, dir);
      if (s[i] == NULL)
        die ("semaphore");
      portalock_semaphore_set_backend (s[i], backend);
      portalock_semaphore_set_timeout (s[i], 0);
      if (ok && portalock_semaphore_acquire (s[i]) != 0)
        {
          snprintf (why, why_size, "semaphore slot %d: %s", i,
                    strerror (errno));
          ok = false;
        }
    }
  for (int i = 0; i < SEM_SLOTS; i++)
    portalock_semaphore_free (s[i]);
  return ok;
}

/* Check the invariants after one storm round; return true if they
   hold.  */
static bool
storm_invariants (int backend, const char *dir, long *gen)
{
  char why[PATH_MAX + 128] = "";
  const char *paths[] = { "lock", "temp.lock", "sem.00.lock", "sem.01.lock" };
  bool ok = true;
  for (size_t i = 0; ok && i < sizeof paths / sizeof *paths; i++)
    ok = free_everywhere (join (dir, paths[i]), why, sizeof why);
  if (ok && !target_whole (join (dir, "target"), gen))
    {
      snprintf (why, sizeof why, "atomic target is not one whole version");
      ok = false;
    }
  pid_t pid = 0;
  if (ok && portalock_pid_record_read (join (dir, "lock"), &pid) == 1)
    {
      snprintf (why, sizeof why, "PID record names %ld as a live holder",
                (long) pid);
      ok = false;
    }
  if (ok)
    ok = objects_free (backend, dir, why, sizeof why);
  if (!ok)
    printf ("  violation: %s\n", why);
  return ok;
}

/* Read up to WANT progress bytes from FD, waiting no more than a minute
   for each: a child that makes no progress for that long is stuck.  */
static bool
await_progress (int fd, unsigned want)
{
  char buf[64];
  while (want > 0)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, 60000);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      ssize_t n = read (fd, buf, want < sizeof buf ? want : sizeof buf);
      if (n <= 0)
        return false;
      want -= n;
    }
  return true;
}

/* One round: start PROCS children, kill each after a random number of
   steps, reap them all.  Return how many made no progress.  */
static int
storm_round (int backend, const char *dir, int procs, int round,
             unsigned *seed)
{
  pid_t pids[procs];
  int progress[procs];
  int stuck = 0;
  for (int p = 0; p < procs; p++)
    {
      int fds[2];
      if (pipe2 (fds, O_CLOEXEC) != 0)
        die ("pipe");
      pids[p] = fork_child ();
      if (pids[p] == 0)
        {
          close (fds[0]);
          fcntl (fds[1], F_SETFL, O_NONBLOCK);
          storm_child (backend, dir, fds[1],
                       *seed ^ (unsigned) (round * 31 + p));
        }
      close (fds[1]);
      progress[p] = fds[0];
    }
  for (int p = 0; p < procs; p++)
    {
      if (!await_progress (progress[p], 1 + rnd (seed) % 24))
        stuck++;
      /* Land the kill anywhere in the next step.  */
      unsigned spin = rnd (seed) % 20000;
      for (volatile unsigned i = 0; i < spin; i++)
        continue;
      kill (pids[p], SIGKILL);
    }
  for (int p = 0; p < procs; p++)
    {
      reap (pids[p]);
      close (progress[p]);
    }
  return stuck;
}

static void
storm_one (int backend, const char *bname)
{
  const char *dir = fresh_dir ("storm-%s", bname);
  unsigned seed = cfg.seed ^ (unsigned) backend * 2654435761u;
  write_target (join (dir, "target"), 0, &seed);
  long gen = 0;
  if (!target_whole (join (dir, "target"), &gen))
    die ("initial atomic target");

  int procs = cfg.procs > 64 ? 64 : cfg.procs;
  double start = now ();
  int rounds = 0, bad_rounds = 0, stuck = 0;
  for (; rounds < cfg.storms; rounds++)
    {
      if (cfg.duration > 0 && now () - start > cfg.duration)
        break;
      stuck += storm_round (backend, dir, procs, rounds, &seed);
      if (!storm_invariants (backend, dir, &gen))
        bad_rounds++;
    }

  int left = count_entries (dir);
  report (bad_rounds == 0 && stuck == 0,
          "storm %s: %d rounds, %d SIGKILLs: locks free on every backend, "
          "atomic target whole (last version %ld), no live PID record, "
          "every object free for a new holder; %d bad rounds, %d stuck",
          bname, rounds, rounds * procs, gen, bad_rounds, stuck);
  note ("storm %s: %d files in the directory afterwards (temporary files "
        "of killed atomic writers stay)", bname, left);
}

/* ---- Fork and exec ----------------------------------------------------- */

/* The program run by exec: exit 1 if this process has a descriptor on a
   file under DIR.  */
static int
exec_probe (const char *dir, bool quiet)
{
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return 2;
  int found = 0;
  size_t dirlen = strlen (dir);
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      char path[64 + sizeof e->d_name], target[PATH_MAX];
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink (path, target, sizeof target - 1);
      if (n < 0)
        continue;
      target[n] = '\0';
      if (strncmp (target, dir, dirlen) == 0 && target[dirlen] == '/')
        {
          if (!quiet)
            printf ("  inherited across exec: fd %s -> %s\n", e->d_name,
                    target);
          found = 1;
        }
    }
  closedir (d);
  return found;
}

/* Fork and exec the probe on DIR; return its exit status.  */
static int
run_exec_probe (const char *dir, bool quiet)
{
  pid_t pid = fork_child ();
  if (pid == 0)
    {
      execl (self_exe, self_exe, quiet ? "--exec-probe-quiet" : "--exec-probe",
             dir, (char *) NULL);
      _exit (127);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* What a forked child does to the inherited object before exiting.  */
enum child_act { ACT_EXIT_NOW, ACT_EXIT, ACT_RELEASE, ACT_FREE, ACT_CONVERT,
                 ACT_COUNT };
static const char *const act_names[ACT_COUNT] =
  { "_exit", "exit", "release", "free", "convert to shared" };

/* Return true if a fresh process cannot lock PATH (even shared, where
   the backend has shared locks): the parent's exclusive lock stands.  */
static bool
held_elsewhere (const char *path, int backend)
{
  int flags = backend == PORTALOCK_BACKEND_LOCKF ? PORTALOCK_EX : PORTALOCK_SH;
  return probe_lock (path, backend, flags, 0, 0) == EWOULDBLOCK;
}

/* In a forked child: do ACT to the inherited LOCK or SEM, and exit.  */
static void __attribute__ ((__noreturn__))
child_act (int act, portalock *lock, portalock_semaphore *sem)
{
  switch (act)
    {
    case ACT_EXIT_NOW:
      break;
    case ACT_EXIT:
      exit (0);
    case ACT_RELEASE:
      if (sem != NULL)
        portalock_semaphore_release (sem);
      else
        portalock_release (lock);
      break;
    case ACT_FREE:
      if (sem != NULL)
        portalock_semaphore_free (sem);
      else
        portalock_free (lock);
      break;
    default:
      portalock_convert (lock, PORTALOCK_SH);
      break;
    }
  _exit (0);
}

static void
fork_kind (int backend, const char *bname, enum kind kind)
{
  const char *dir = fresh_dir ("fork-%s-%s", bname, kind_names[kind]);
  const char *path = kind == KIND_SEMAPHORE ? join (dir, "sem.00.lock")
                                            : join (dir, "lock");
  portalock *lock = NULL;
  portalock_semaphore *sem = NULL;
  bool ok = true;
  char why[1024] = "";

  if (kind == KIND_SEMAPHORE)
    {
      sem = portalock_semaphore_new ("sem", 1, dir);
      if (sem == NULL || portalock_semaphore_set_backend (sem, backend) != 0
          || portalock_semaphore_acquire (sem) != 0)
        die ("semaphore for the fork check");
    }
  else
    {
      lock = new_object (join (dir, "lock"), backend, kind);
      if (portalock_acquire (lock) != 0)
        die ("lock for the fork check");
    }

  if (run_exec_probe (dir, false) != 0)
    {
      ok = false;
      snprintf (why, sizeof why, "an exec'd program inherited a descriptor");
    }

  for (int act = 0; act < ACT_COUNT; act++)
    {
      if (act == ACT_CONVERT
          && (kind == KIND_SEMAPHORE || kind == KIND_TEMPORARY
              || backend == PORTALOCK_BACKEND_LOCKF))
        continue;
      pid_t pid = fork_child ();
      if (pid == 0)
        child_act (act, lock, sem);
      reap (pid);
      const char *lost = NULL;
      pid_t rec = 0;
      if (!held_elsewhere (path, backend))
        lost = "lock";
      else if (kind == KIND_PID
               && (portalock_pid_record_read (path, &rec) != 1
                   || rec != getpid ()))
        lost = "PID record";
      if (lost != NULL)
        {
          size_t len = strlen (why);
          snprintf (why + len, sizeof why - len,
                    "%sthe parent's %s was lost after a forked child's %s",
                    ok ? "" : "; ", lost, act_names[act]);
          ok = false;
        }
      /* Whatever the child did, the parent holds the lock again for the
         next check.  */
      if (lost != NULL && sem == NULL)
        {
          portalock_free (lock);
          lock = new_object (join (dir, "lock"), backend, kind);
          if (portalock_acquire (lock) != 0)
            die ("lock for the fork check");
        }
    }

  if (sem != NULL)
    portalock_semaphore_free (sem);
  else
    portalock_free (lock);
  /* The probe must see a free lock once the parent lets go, or it
     proves nothing above.  */
  bool probe_sees = probe_lock (path, backend, PORTALOCK_EX, 0, 0) == 0;
  if (ok && probe_sees)
    report (true, "fork %s %s: not inherited across exec; a forked child's "
            "_exit, exit, release, free%s leave the parent's lock",
            bname, kind_names[kind],
            backend == PORTALOCK_BACKEND_LOCKF || kind == KIND_SEMAPHORE
            || kind == KIND_TEMPORARY ? "" : ", convert");
  else
    report (false, "fork %s %s: %s", bname, kind_names[kind],
            ok ? "the probe cannot see the lock free once released" : why);
}

/* ---- Resource stability ------------------------------------------------ */

static long
rss_kb (void)
{
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return -1;
  char line[256];
  long kb = -1;
  while (fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "VmRSS: %ld", &kb) == 1)
      break;
  fclose (f);
  return kb;
}

/* The resident size may grow this much (kB) over a run: the allocator's
   bookkeeping, not a leak.  */
#define RSS_SLACK_KB 2048

/* One cycle of kind I % 5 with the objects in OBJ and SEM.  */
static bool
one_cycle (long i, portalock **obj, portalock_semaphore *sem)
{
  int k = (int) (i % 5);
  if (k == 4)
    return portalock_semaphore_acquire (sem) == 0
      && portalock_semaphore_release (sem) == 0;
  if (portalock_acquire (obj[k]) != 0)
    return false;
  if (k == 1 && portalock_acquire (obj[k]) == 0)
    portalock_release (obj[k]);
  return portalock_release (obj[k]) == 0;
}

/* While holding a PID lock, reading the record must not cost a
   descriptor per call.  On fcntl and lockf the first read's descriptor
   stays open (closing it would drop the object's lock: the per-inode
   table defers that close, and later reads take it back), so one more
   is allowed, never more.  */
static bool
pid_read_keeps_fds (portalock *pid_lock, const char *path)
{
  if (portalock_acquire (pid_lock) != 0)
    return false;
  int before = count_fds ();
  for (int i = 0; i < 50; i++)
    {
      pid_t pid;
      portalock_pid_record_read (path, &pid);
    }
  int after = count_fds ();
  portalock_release (pid_lock);
  bool ok = after <= before + 1;
  if (!ok)
    printf ("  pid_record_read on a held lock: fds %d -> %d over 50 "
            "calls\n", before, after);
  return ok;
}

/* A timed wait that runs out against a holder in another process, then
   succeeds once it lets go: exercises the timed wait's helper.  */
static bool
contended_wait (portalock *lock, const char *path, int backend)
{
  struct holder h;
  if (!holder_start (&h, path, backend, PORTALOCK_EX, 0, 0))
    return false;
  portalock_set_timeout (lock, 0.001);
  bool ok = portalock_acquire (lock) != 0 && errno == ETIMEDOUT;
  holder_release (&h);
  portalock_set_timeout (lock, -1);
  if (portalock_acquire (lock) != 0)
    return false;
  return portalock_release (lock) == 0 && ok;
}

static void
cycles_one (int backend, const char *bname)
{
  const char *dir = fresh_dir ("cycles-%s", bname);
  char lockpath[PATH_MAX];
  snprintf (lockpath, sizeof lockpath, "%s", join (dir, "lock"));
  portalock *obj[4] = {
    new_object (lockpath, backend, KIND_PLAIN),
    new_object (join (dir, "rlock"), backend, KIND_RLOCK),
    new_object (join (dir, "pid.lock"), backend, KIND_PID),
    new_object (join (dir, "temp.lock"), backend, KIND_TEMPORARY),
  };
  portalock_semaphore *sem = portalock_semaphore_new ("sem", 1, dir);
  if (sem == NULL || portalock_semaphore_set_backend (sem, backend) != 0)
    die ("semaphore");
  unsigned seed = cfg.seed;

  long warmup = cfg.cycles / 10 < 1000 ? cfg.cycles / 10 : 1000;
  int fd0 = 0, th0 = 0, fd1, th1;
  long rss0 = 0, rss1, failed = 0, extras_failed = 0, atomics = 0;
  for (long i = 0; i < cfg.cycles; i++)
    {
      if (i == warmup)
        {
          fd0 = count_fds ();
          th0 = count_threads ();
          rss0 = rss_kb ();
        }
      failed += !one_cycle (i, obj, sem);
      if (i % 1000 == 500)
        {
          pid_t pids[8];
          if (portalock_holders (lockpath, pids, 8) < 0)
            extras_failed++;
          write_target (join (dir, "target"), i, &seed);
          atomics++;
        }
      if (i % 20000 == 700)
        extras_failed += !contended_wait (obj[0], lockpath, backend);
      if (i % 20000 == 900)
        extras_failed += !pid_read_keeps_fds (obj[2], join (dir, "pid.lock"));
    }
  fd1 = count_fds ();
  th1 = count_threads ();
  rss1 = rss_kb ();
  for (int k = 0; k < 4; k++)
    portalock_free (obj[k]);
  portalock_semaphore_free (sem);

  report (failed == 0 && extras_failed == 0 && fd1 == fd0 && th1 == th0
          && rss1 - rss0 <= RSS_SLACK_KB,
          "cycles %s: %ld acquire/release cycles (plain, rlock, pid, "
          "temporary, semaphore), %ld atomic writes and holder queries; "
          "fds %d -> %d, threads %d -> %d, RSS %ld kB -> %ld kB; "
          "%ld failed cycles, %ld failed checks",
          bname, cfg.cycles, atomics, fd0, fd1, th0, th1, rss0, rss1,
          failed, extras_failed);
}

/* ---- Driver ------------------------------------------------------------ */

static bool
wanted (const char *list, const char *name)
{
  if (list == NULL)
    return true;
  size_t n = strlen (name);
  for (const char *p = list; *p != '\0';)
    {
      size_t len = strcspn (p, ",");
      if (len == n && strncmp (p, name, n) == 0)
        return true;
      p += len + (p[len] == ',');
    }
  return false;
}

static void
usage (int status)
{
  printf ("Usage: plstress [OPTION]...\n"
          "Stress portalock: exact counts, SIGKILL storms, fork/exec, "
          "resource stability.\n\n"
          "  --quick           the CI run (about a minute on two cores)\n"
          "  --procs=N         processes (default 4; quick 2)\n"
          "  --threads=M       threads per process (default 4; quick 2)\n"
          "  --count=K         increments per thread (default 2000; "
          "quick 250)\n"
          "  --cycles=C        acquire/release cycles per backend "
          "(default 100000)\n"
          "  --storms=S        SIGKILL rounds per backend (default 60; "
          "quick 12)\n"
          "  --duration=SECS   stop each backend's storm after SECS "
          "(0: no bound)\n"
          "  --seed=N          random seed (default: from the clock)\n"
          "  --phases=LIST     count,storm,fork,cycles (default all)\n"
          "  --backends=LIST   flock,ofd,fcntl,lockf (default all built)\n");
  exit (status);
}

static long
number (const char *text, long min)
{
  char *end;
  errno = 0;
  long v = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min)
    {
      fprintf (stderr, "plstress: bad number '%s'\n", text);
      exit (2);
    }
  return v;
}

static void
parse_args (int argc, char **argv)
{
  static const struct option options[] = {
    { "quick", no_argument, NULL, 'q' },
    { "procs", required_argument, NULL, 'n' },
    { "threads", required_argument, NULL, 'm' },
    { "count", required_argument, NULL, 'k' },
    { "cycles", required_argument, NULL, 'c' },
    { "storms", required_argument, NULL, 's' },
    { "duration", required_argument, NULL, 'd' },
    { "seed", required_argument, NULL, 'r' },
    { "phases", required_argument, NULL, 'p' },
    { "backends", required_argument, NULL, 'b' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  cfg = (struct config) { .procs = 4, .threads = 4, .count = 2000,
                          .cycles = 100000, .storms = 60,
                          .seed = (unsigned) time (NULL) ^ getpid () };
  /* --quick sets the defaults; explicit numbers win wherever they are.  */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--quick") == 0)
      cfg = (struct config) { .procs = 2, .threads = 2, .count = 250,
                              .cycles = 100000, .storms = 40,
                              .duration = 60, .seed = cfg.seed };
  int c;
  while ((c = getopt_long (argc, argv, "", options, NULL)) != -1)
    switch (c)
      {
      case 'q':
        break;
      case 'n':
        cfg.procs = (int) number (optarg, 1);
        break;
      case 'm':
        cfg.threads = (int) number (optarg, 1);
        break;
      case 'k':
        cfg.count = number (optarg, 1);
        break;
      case 'c':
        cfg.cycles = number (optarg, 10);
        break;
      case 's':
        cfg.storms = (int) number (optarg, 0);
        break;
      case 'd':
        cfg.duration = (double) number (optarg, 0);
        break;
      case 'r':
        cfg.seed = (unsigned) number (optarg, 0);
        break;
      case 'p':
        cfg.phases = optarg;
        break;
      case 'b':
        cfg.backends = optarg;
        break;
      case 'h':
        usage (0);
        break;
      default:
        usage (2);
      }
  if (optind < argc)
    usage (2);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--exec-probe") == 0)
    return exec_probe (argv[2], false);
  if (argc == 3 && strcmp (argv[1], "--exec-probe-quiet") == 0)
    return exec_probe (argv[2], true);
  parse_args (argc, argv);

  static char exe[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0)
    die ("readlink /proc/self/exe");
  exe[n] = '\0';
  self_exe = exe;

  printf ("plstress: %d procs x %d threads x %ld increments, %ld cycles, "
          "%d storm rounds, seed %u\n", cfg.procs, cfg.threads, cfg.count,
          cfg.cycles, cfg.storms, cfg.seed);

  /* The exec probe must see a descriptor that is inherited, or its
     silence below means nothing.  */
  if (wanted (cfg.phases, "fork"))
    {
      const char *dir = fresh_dir ("canary");
      int fd = open (join (dir, "inherited"), O_RDWR | O_CREAT, 0644);
      if (fd < 0)
        die ("canary");
      report (run_exec_probe (dir, true) == 1,
              "exec probe sees a descriptor opened without O_CLOEXEC");
      close (fd);
    }

  for (int b = PORTALOCK_BACKEND_FLOCK; b <= PORTALOCK_BACKEND_LOCKF; b++)
    {
      const char *bname = portalock_backend_name (b);
      if (!portalock_backend_available (b) || !wanted (cfg.backends, bname))
        continue;
      if (wanted (cfg.phases, "count"))
        for (int k = 0; k < KIND_COUNT; k++)
          count_one (b, bname, k);
      if (wanted (cfg.phases, "storm"))
        storm_one (b, bname);
      if (wanted (cfg.phases, "fork"))
        for (int k = 0; k < KIND_MIXED; k++)
          fork_kind (b, bname, k);
      if (wanted (cfg.phases, "cycles"))
        cycles_one (b, bname);
    }

  printf ("\n=== plstress summary (seed %u)\n"
          "# of expected passes\t\t%d\n"
          "# of unexpected failures\t%d\n", cfg.seed, passes, failures);
  fflush (stdout);
  return failures == 0 && passes > 0 ? 0 : 1;
}
