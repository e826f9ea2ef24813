/* form-verify.c: plock --verify DIR...: which lock methods exclude across
   these directories.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* The directories are meant to be mounts of one file system (or one
   path, with plock --verify run on two machines at once).  For each
   method, worker processes spread over the directories take turns at
   the lock on DIR/.plock-verify with that method, and note on
   CLOCK_MONOTONIC, which all processes of one machine share, when each
   of their holds began (after the grant) and ended (before the
   release).  The noted interval lies inside the real hold, so two
   noted intervals of different workers that overlap are two holds at
   once: the method does not exclude there.  A shared counter would
   also measure how coherent the file system's caches are; intervals
   measure the lock alone.  A marker lock that a worker finds lost at
   its release (ENOLCK) counts as a failure too: that is how a run on
   two machines, whose clocks cannot be compared, sees the other
   machine break into a hold.

   Every file the run creates is removed on every way out but SIGKILL:
   the lock file (deleted while locked, as --remove does, so that no
   concurrent run locks a deleted file unawares), and the marker
   methods' files beside it.  A file that was there before the run is
   left alone.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "plock.h"
#include "portalock.h"
#include "xalloc.h"

/* The lock file's name in each directory.  The marker methods' files
   beside it begin with it, or with '.' and it.  */
#define VERIFY_NAME ".plock-verify"

/* Bounds: workers, and the holds each notes per method.  */
#define MAX_WORKERS 16
#define MAX_HOLDS 256
#define MAX_PHASES 8

/* How long a worker holds the lock: long enough for another worker to
   try meanwhile, short enough for many holds in a fraction of a
   second.  */
#define HOLD_NS 2000000

struct hold
{
  int64_t start, end;
};

/* What the workers write and the parent reads: one per worker.  */
struct worker_log
{
  int holds;
  int lost;                     /* releases that found the marker gone */
  int error;                    /* errno of a failure other than a
                                   timeout, or 0 */
  int chosen;                   /* what an auto lock used */
  struct hold hold[MAX_HOLDS];
};

struct phase
{
  enum portalock_method method;
  enum portalock_backend backend;
  char name[32];
};

/* Set by a signal: stop the workers, clean up, and die of it.  */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t *shared_stop;

/* Every worker started, so that a marker one of them left (it died
   holding) is known for ours.  */
static pid_t worker_pids[MAX_PHASES * MAX_WORKERS];
static int nworker_pids;

static void
on_stop (int sig)
{
  stop_signal = sig;
  if (shared_stop != NULL)
    *shared_stop = 1;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * (int64_t) 1000000000 + ts.tv_nsec;
}

static void
pause_ns (int64_t ns)
{
  struct timespec ts = { ns / 1000000000, ns % 1000000000 };
  while (nanosleep (&ts, &ts) != 0 && errno == EINTR && !*shared_stop)
    continue;
}

/* A worker: take the lock on PATH with P's method until END (or until
   told to stop), note each hold in LOG, and exit.  */
static _Noreturn void
worker (const struct phase *p, const char *path, double ttl, int64_t end,
        struct worker_log *log)
{
  signal (SIGINT, SIG_IGN);
  signal (SIGTERM, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_method (lock, p->method) != 0
      || (p->method == PORTALOCK_METHOD_KERNEL
          && portalock_set_backend (lock, p->backend) != 0)
      || (ttl > 0 && p->method != PORTALOCK_METHOD_KERNEL
          && p->method != PORTALOCK_METHOD_STRICT
          && portalock_set_lease_ttl (lock, ttl) != 0)
      || portalock_set_check_interval (lock, 0.002) != 0)
    {
      log->error = errno;
      _exit (0);
    }
  int64_t t;
  int transient = 0;
  while (!*shared_stop && log->holds < MAX_HOLDS && (t = now_ns ()) < end)
    {
      if (portalock_set_timeout (lock, (end - t) / 1e9) != 0
          || portalock_acquire (lock) != 0)
        {
          /* A file system may fail an open(O_CREAT) that races with a
             deletion or a creation through another client (bindfs
             says ENOENT): try again, a few times.  */
          if ((errno == ENOENT || errno == ESTALE) && ++transient < 20)
            {
              pause_ns (HOLD_NS / 4);
              continue;
            }
          if (errno != ETIMEDOUT && errno != EWOULDBLOCK)
            log->error = errno;
          break;
        }
      int64_t start = now_ns ();
      log->chosen = portalock_held_method (lock);
      pause_ns (HOLD_NS);
      int64_t stop = now_ns ();
      if (portalock_release (lock) != 0)
        {
          if (errno != ENOLCK)
            {
              log->error = errno;
              break;
            }
          log->lost++;
        }
      log->hold[log->holds].start = start;
      log->hold[log->holds].end = stop;
      log->holds++;
      /* Let the others in: a worker that asks again at once would often
         win against waiters that poll.  */
      pause_ns (HOLD_NS / 4);
    }
  portalock_free (lock);
  _exit (0);
}

static int
by_start (const void *a, const void *b)
{
  const struct hold *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

/* The number of holds in LOGS (N workers) that began while another had
   not ended; *HOLDS is set to the number of holds.  A worker's own
   holds follow one another, so every overlap is between two workers.  */
static int
count_overlaps (struct worker_log *logs, int n, int *holds)
{
  int total = 0;
  for (int w = 0; w < n; w++)
    total += logs[w].holds;
  *holds = total;
  struct hold *all = xnmalloc (total + 1, sizeof *all);
  int k = 0;
  for (int w = 0; w < n; w++)
    for (int i = 0; i < logs[w].holds; i++)
      all[k++] = logs[w].hold[i];
  qsort (all, total, sizeof *all, by_start);
  int overlaps = 0;
  int64_t last_end = INT64_MIN;
  for (int i = 0; i < total; i++)
    {
      if (all[i].start < last_end)
        overlaps++;
      if (all[i].end > last_end)
        last_end = all[i].end;
    }
  free (all);
  return overlaps;
}

/* The name of a method the library chose (auto).  */
static const char *
chosen_name (int method)
{
  const char *name = method > 0 ? portalock_method_name (method) : NULL;
  return name != NULL ? name : "?";
}

/* Names in DIR that the run may have made: VERIFY_NAME and what begins
   with it or with '.' and it.  */
static bool
verify_entry (const char *name)
{
  size_t n = strlen (VERIFY_NAME);
  return strncmp (name, VERIFY_NAME, n) == 0
    || (name[0] == '.' && strncmp (name + 1, VERIFY_NAME, n) == 0);
}

/* Return the list (NULL-terminated) of the verify entries in DIR now.  */
static char **
list_entries (const char *dir)
{
  size_t n = 0, max = 8;
  char **names = xnmalloc (max, sizeof *names);
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d != NULL && (e = readdir (d)) != NULL)
    if (verify_entry (e->d_name))
      {
        if (n + 1 >= max)
          names = x2nrealloc (names, &max, sizeof *names);
        names[n++] = xstrdup (e->d_name);
      }
  if (d != NULL)
    closedir (d);
  names[n] = NULL;
  return names;
}

static bool
listed (char **names, const char *name)
{
  for (; *names != NULL; names++)
    if (strcmp (*names, name) == 0)
      return true;
  return false;
}

static void
free_list (char **names)
{
  for (char **p = names; *p != NULL; p++)
    free (*p);
  free (names);
}

/* Remove what the run made in DIR: the entries that BEFORE does not
   list.  The lock file goes while locked, so that an acquirer that
   opened it meanwhile sees it deleted and starts again.  */
static void
clean_dir (const char *dir, char **before)
{
  char path[8192];
  snprintf (path, sizeof path, "%s/%s", dir, VERIFY_NAME);
  struct portalock_marker_info info;
  char host[sizeof info.host];
  if (gethostname (host, sizeof host) != 0)
    host[0] = '\0';
  host[sizeof host - 1] = '\0';
  if (portalock_marker_read (path, &info, sizeof info) == 1
      && strcmp (info.host, host) == 0)
    for (int i = 0; i < nworker_pids; i++)
      if (info.pid == worker_pids[i])
        portalock_marker_break (path, info.token);
  if (!listed (before, VERIFY_NAME))
    {
      portalock *lock = portalock_new (path);
      if (lock != NULL
          && portalock_set_method (lock, PORTALOCK_METHOD_KERNEL) == 0
          && portalock_set_temporary (lock, true) == 0
          && portalock_set_timeout (lock, 1) == 0
          && portalock_acquire (lock) == 0)
        portalock_release (lock);
      portalock_free (lock);
    }
  /* The generation files, and the files of this machine's holders (a
     worker that died holding); not those of another machine's run,
     which may still hold.  */
  char own[sizeof host + 3];
  snprintf (own, sizeof own, ".%s.", host);
  char **after = list_entries (dir);
  for (char **p = after; *p != NULL; p++)
    if (!listed (before, *p) && strcmp (*p, VERIFY_NAME) != 0
        && (strstr (*p, ".gen-") != NULL || strstr (*p, own) != NULL))
      {
        snprintf (path, sizeof path, "%s/%s", dir, *p);
        unlink (path);
      }
  free_list (after);
}

/* Run phase P with N workers over the NDIRS directories DIRS until
   END; fill LOGS.  Return 0, or an errno if a worker could not start.  */
static int
run_phase (const struct phase *p, char **dirs, int ndirs, double ttl,
           int n, int64_t end, struct worker_log *logs)
{
  pid_t pids[MAX_WORKERS];
  int started = 0, err = 0;
  memset (logs, 0, n * sizeof *logs);
  fflush (NULL);
  for (int w = 0; w < n && !*shared_stop; w++)
    {
      char path[8192];
      snprintf (path, sizeof path, "%s/%s", dirs[w % ndirs], VERIFY_NAME);
      pids[w] = fork ();
      if (pids[w] < 0)
        {
          err = errno;
          *shared_stop = 1;
          break;
        }
      if (pids[w] == 0)
        worker (p, path, ttl, end, &logs[w]);
      started++;
      if (nworker_pids < MAX_PHASES * MAX_WORKERS)
        worker_pids[nworker_pids++] = pids[w];
    }
  for (int w = 0; w < started; w++)
    while (waitpid (pids[w], NULL, 0) < 0 && errno == EINTR)
      continue;
  return err;
}

/* The words for a verdict of the probe.  */
static const char *
reach (uint32_t verdict)
{
  return verdict == PORTALOCK_FS_SPANS ? "every client"
    : verdict == PORTALOCK_FS_LOCAL ? "this machine only" : "unknown";
}

/* Refuse DIR before anything is made if it is no directory.  */
static int
check_dir (const struct options *o, const char *dir)
{
  struct stat st;
  int err = stat (dir, &st) != 0 ? errno : !S_ISDIR (st.st_mode) ? ENOTDIR
    : access (dir, W_OK | X_OK) != 0 ? errno : 0;
  if (err == 0)
    return 0;
  if (!o->quiet)
    error (0, err, "%s", dir);
  return err == EACCES || err == EROFS ? EX_CANTCREAT : EX_NOINPUT;
}

/* The phases: the kernel lock with the default backend, then with each
   other backend built here, then strict, lease and auto.  */
static int
make_phases (struct phase *ph)
{
  int n = 0;
  enum portalock_backend dflt = portalock_default_backend ();
  for (int b = 0; b <= PORTALOCK_BACKEND_LOCKF; b++)
    {
      enum portalock_backend be = b == 0 ? dflt : (enum portalock_backend) b;
      if ((b != 0 && be == dflt) || !portalock_backend_available (be))
        continue;
      ph[n].method = PORTALOCK_METHOD_KERNEL;
      ph[n].backend = be;
      snprintf (ph[n].name, sizeof ph[n].name, "kernel/%s",
                portalock_backend_name (be));
      n++;
    }
  static const enum portalock_method markers[] =
    { PORTALOCK_METHOD_STRICT, PORTALOCK_METHOD_LEASE, PORTALOCK_METHOD_AUTO };
  for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
    {
      ph[n].method = markers[i];
      ph[n].backend = PORTALOCK_BACKEND_DEFAULT;
      snprintf (ph[n].name, sizeof ph[n].name, "%s",
                portalock_method_name (markers[i]));
      n++;
    }
  return n;
}

/* The phase that stands for METHOD (DEFAULT: the one PORTALOCK_METHOD
   names, else configure's) with the kernel backend API.  */
static int
chosen_phase (const struct phase *ph, int n, enum portalock_method method,
              enum portalock_backend api)
{
  if (method == PORTALOCK_METHOD_DEFAULT
      && portalock_default_method (&method, NULL) != 0)
    method = PORTALOCK_METHOD_KERNEL;
  for (int i = 0; i < n; i++)
    if (ph[i].method == method
        && (method != PORTALOCK_METHOD_KERNEL || ph[i].backend == api))
      return i;
  return 0;
}

/* What a phase found: EXIT_SUCCESS (the method excludes), EXIT_FAILURE
   (two holds overlapped, or a marker was lost) or EX_TEMPFAIL (not
   tested: fewer than two workers held the lock, or one failed); its
   line is printed unless O says quiet.  */
static int
judge_phase (const struct options *o, const struct phase *p,
             struct worker_log *logs, int nworkers)
{
  int holds, lost = 0, errors = 0, workers_held = 0, why = 0, used = 0;
  int overlaps = count_overlaps (logs, nworkers, &holds);
  for (int w = 0; w < nworkers; w++)
    {
      lost += logs[w].lost;
      workers_held += logs[w].holds > 0;
      if (logs[w].error != 0)
        errors++, why = logs[w].error;
      if (used == 0 && logs[w].holds > 0)
        used = logs[w].chosen;
    }
  bool fails = overlaps > 0 || lost > 0;
  bool untested = !fails && (workers_held < 2 || errors > 0);
  if (!o->quiet)
    {
      printf ("%s: %s: %d overlaps in %d holds", p->name,
              fails ? "DOES NOT EXCLUDE" : untested ? "not tested"
              : "excludes", overlaps, holds);
      if (lost > 0)
        printf (", %d lost", lost);
      if (p->method == PORTALOCK_METHOD_AUTO && holds > 0)
        printf (" (used %s)", chosen_name (used));
      if (errors > 0)
        printf (" (%s)", strerror (why));
      else if (untested)
        printf (" (the lock stayed held elsewhere)");
      putchar ('\n');
    }
  return fails ? EXIT_FAILURE : untested ? EX_TEMPFAIL : EXIT_SUCCESS;
}

/* Note what each of the NDIRS DIRS holds in BEFORE, make the lock file
   in each (so that the workers do not race to create it through
   different clients), and print the probe's verdicts.  */
static void
prepare_dirs (const struct options *o, char **dirs, int ndirs,
              char ***before)
{
  for (int i = 0; i < ndirs; i++)
    {
      before[i] = list_entries (dirs[i]);
      char path[8192];
      snprintf (path, sizeof path, "%s/%s", dirs[i], VERIFY_NAME);
      int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                     | O_CLOEXEC, 0644);
      if (fd >= 0)
        close (fd);
    }
  for (int i = 0; i < ndirs && !o->quiet; i++)
    {
      struct portalock_fs_info info;
      if (portalock_fs_probe (dirs[i], &info, sizeof info) == 0)
        printf ("%s: %s: flock locks reach %s, posix locks reach %s\n",
                dirs[i], info.fstype[0] ? info.fstype : "unknown",
                reach (info.flock_verdict), reach (info.posix_verdict));
    }
}

/* plock --verify DIR...: METHOD (and its lease TTL, 0: the library's)
   is the one whose verdict is the exit status.  */
int
verify_form (struct options *o, enum portalock_method method, double ttl,
             char **dirs, int ndirs)
{
  for (int i = 0; i < ndirs; i++)
    {
      int status = check_dir (o, dirs[i]);
      if (status != 0)
        return status;
    }

  struct phase ph[MAX_PHASES];
  int nph = make_phases (ph);
  int chosen = chosen_phase (ph, nph, method, o->lock.api);
  int nworkers = 2 * ndirs < 4 ? 4 : 2 * ndirs > MAX_WORKERS ? MAX_WORKERS
    : 2 * ndirs;
  double total = o->have_timeout && o->lock.timeout > 0
    && isfinite (o->lock.timeout) ? o->lock.timeout : 4;
  int64_t slice = (total < 3600 ? total : 3600) * 1e9 / nph;

  struct worker_log *logs = mmap (NULL, MAX_WORKERS * sizeof *logs
                                  + sizeof *shared_stop,
                                  PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (logs == MAP_FAILED)
    {
      if (!o->quiet)
        error (0, errno, "cannot map the workers' logs");
      return EX_OSERR;
    }
  shared_stop = (volatile sig_atomic_t *) (logs + MAX_WORKERS);

  /* A signal stops the check, which cleans up before it dies of it.  */
  struct sigaction sa, old[3];
  static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  for (int i = 0; i < 3; i++)
    sigaction (sigs[i], &sa, &old[i]);
  char **before[ndirs];
  prepare_dirs (o, dirs, ndirs, before);

  int status = EXIT_SUCCESS, err = 0;
  for (int p = 0; p < nph && !*shared_stop; p++)
    {
      err = run_phase (&ph[p], dirs, ndirs, ttl, nworkers,
                       now_ns () + slice, logs);
      if (err != 0 || *shared_stop)
        break;
      int verdict = judge_phase (o, &ph[p], logs, nworkers);
      if (p == chosen)
        status = verdict;
    }

  for (int i = 0; i < ndirs; i++)
    {
      clean_dir (dirs[i], before[i]);
      free_list (before[i]);
    }
  for (int i = 0; i < 3; i++)
    sigaction (sigs[i], &old[i], NULL);
  if (stop_signal != 0)
    {
      fflush (stdout);
      raise (stop_signal);
      return 128 + stop_signal;
    }
  if (err != 0)
    {
      if (!o->quiet)
        error (0, err, "cannot start the workers");
      return EX_OSERR;
    }
  if (!o->quiet)
    printf ("%s (%s) %s\n", ph[chosen].name,
            method == PORTALOCK_METHOD_DEFAULT ? "the default" : "chosen",
            status == EXIT_SUCCESS ? "excludes across these directories"
            : status == EXIT_FAILURE ? "does not exclude across these "
            "directories" : "could not be tested");
  return status;
}
