/* semaphore.c: tests of bounded semaphores (portalock_semaphore_*).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Every check names the backend under test: the default one, which
   configure's --with-lock-backend or PORTALOCK_BACKEND picks.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if TEST_POSIX
# include <signal.h>
# include <sys/mman.h>
# include <sys/resource.h>
# include <sys/wait.h>
#else
/* A Windows build: the holders are copies of this program
   (w32child.h).  */
# include <direct.h>
# include <windows.h>
# include "w32child.h"
#endif

#ifndef NAME_MAX
# define NAME_MAX 255
#endif

/* This program's name, for the Windows holders.  */
static const char *self;

static const char *bname;

static const char *
fresh_dir (const char *name)
{
  const char *dir = test_path (name);
  if (make_dir (dir) != 0)
    die ("mkdir %s", dir);
  return dir;
}

/* The path of slot SLOT of semaphore NAME in DIR, in a static buffer.  */
static const char *
slot_path (const char *dir, const char *name, unsigned slot)
{
  static char path[PATH_MAX];
  if (snprintf (path, sizeof path, "%s/%s.%02u.lock", dir, name, slot)
      >= (int) sizeof path)
    die ("slot path too long");
  return path;
}

static portalock_semaphore *
new_sem (const char *name, unsigned maximum, const char *dir, double timeout)
{
  portalock_semaphore *sem = portalock_semaphore_new (name, maximum, dir);
  if (sem == NULL || portalock_semaphore_set_timeout (sem, timeout) != 0)
    die ("portalock_semaphore_new %s", name);
  return sem;
}

/* A child process holding a slot of a semaphore until told to let go.
   It answers with the slot it got (an int, -1 if none), then, told to
   let go, frees the semaphore and answers 'U'.  On POSIX it is a forked
   child; on Windows a copy of this program (hold_slot, from main).  */
struct sem_holder
{
#if TEST_POSIX
  pid_t pid;
  int to_child;
  int from_child;
#else
  struct child child;
#endif
  int slot;
};

/* Take a slot of semaphore NAME of MAXIMUM slots in DIR, without
   waiting; say which on OUT; wait for a byte (or the end) on IN, free
   the semaphore and say 'U'.  */
static void
hold_slot (const char *name, unsigned maximum, const char *dir, int in,
           int out)
{
  portalock_semaphore *sem = portalock_semaphore_new (name, maximum, dir);
  int slot = -1;
  if (sem != NULL && portalock_semaphore_set_timeout (sem, 0) == 0
      && portalock_semaphore_acquire (sem) == 0)
    slot = portalock_semaphore_slot (sem);
  IGNORE_RESULT (write (out, &slot, sizeof slot));
  char c;
  IGNORE_RESULT (read (in, &c, 1));
  portalock_semaphore_free (sem);
  c = 'U';
  IGNORE_RESULT (write (out, &c, 1));
}

#if TEST_POSIX
static bool
sem_holder_start (struct sem_holder *h, const char *name, unsigned maximum,
                  const char *dir)
{
  int down[2], up[2];
  if (pipe2 (down, O_CLOEXEC) != 0 || pipe2 (up, O_CLOEXEC) != 0)
    die ("pipe");
  h->pid = fork ();
  if (h->pid < 0)
    die ("fork");
  if (h->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      hold_slot (name, maximum, dir, down[0], up[1]);
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  h->to_child = down[1];
  h->from_child = up[0];
  if (read (h->from_child, &h->slot, sizeof h->slot) != sizeof h->slot)
    h->slot = -1;
  return h->slot >= 0;
}

static void
sem_holder_end (struct sem_holder *h, bool kill_it)
{
  char c = 'R';
  if (kill_it)
    kill (h->pid, SIGKILL);
  else
    {
      IGNORE_RESULT (write (h->to_child, &c, 1));
      IGNORE_RESULT (read (h->from_child, &c, 1));
    }
  waitpid (h->pid, NULL, 0);
  close (h->to_child);
  close (h->from_child);
}
#else
/* The holder runs "self hold NAME MAXIMUM DIR IN OUT" (hold_slot).  */
static bool
sem_holder_start (struct sem_holder *h, const char *name, unsigned maximum,
                  const char *dir)
{
  char max[16];
  snprintf (max, sizeof max, "%u", maximum);
  const char *args[] = { self, "hold", name, max, dir, NULL };
  child_start (&h->child, self, args);
  if (read (h->child.from, &h->slot, sizeof h->slot) != sizeof h->slot)
    h->slot = -1;
  return h->slot >= 0;
}

/* A killed holder is ended with TerminateProcess, which Windows
   documents as closing the process's handles: its locks go with
   them.  */
static void
sem_holder_end (struct sem_holder *h, bool kill_it)
{
  if (kill_it)
    TerminateProcess ((HANDLE) h->child.process, 9);
  else
    child_order (&h->child, 'R');
  child_finish (&h->child);
}
#endif

/* portalocker's own test, in C: two of two slots taken, a third object
   cannot get one, however it asks.  */
static void
test_bounded (void)
{
  const char *dir = fresh_dir ("bounded");
  portalock_semaphore *a = new_sem ("test", 2, dir, 5);
  portalock_semaphore *b = new_sem ("test", 2, dir, 5);
  portalock_semaphore *c = new_sem ("test", 2, dir, 0);

  check (count_entries (dir) == 0, "%s: a new semaphore creates no file",
         bname);
  check (portalock_semaphore_slot (a) == -1, "%s: a new semaphore holds no "
         "slot", bname);
  check (portalock_semaphore_acquire (a) == 0, "%s: first of two", bname);
  check (portalock_semaphore_acquire (b) == 0, "%s: second of two", bname);
  int sa = portalock_semaphore_slot (a), sb = portalock_semaphore_slot (b);
  check (sa >= 0 && sa < 2 && sb >= 0 && sb < 2 && sa != sb,
         "%s: two holders hold different slots (%d, %d)", bname, sa, sb);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (c) != 0, EWOULDBLOCK),
         "%s: a third, timeout 0: EWOULDBLOCK", bname);
  check (portalock_semaphore_slot (c) == -1, "%s: a failed acquire holds "
         "nothing", bname);
  portalock_semaphore_set_timeout (c, 5);
  portalock_semaphore_set_fail_when_locked (c, true);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (c) != 0, EWOULDBLOCK),
         "%s: a third, fail_when_locked: EWOULDBLOCK", bname);
  portalock_semaphore_set_fail_when_locked (c, false);
  portalock_semaphore_set_timeout (c, 0.001);
  portalock_semaphore_set_check_interval (c, 0.0005);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (c) != 0, ETIMEDOUT),
         "%s: a third, timeout 0.001: ETIMEDOUT", bname);
  portalock_semaphore_set_check_interval (c, 0);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (c) != 0, ETIMEDOUT),
         "%s: a third, check interval 0: ETIMEDOUT", bname);

  errno = 0;
  check (failed_with (portalock_semaphore_acquire (a) != 0, EBUSY)
         && portalock_semaphore_slot (a) == sa,
         "%s: acquiring a held semaphore: EBUSY, still held", bname);
  check (portalock_semaphore_release (a) == 0
         && portalock_semaphore_slot (a) == -1, "%s: release", bname);
  check (portalock_semaphore_release (a) == 1, "%s: release when not held "
         "returns 1", bname);
  portalock_semaphore_set_timeout (c, 0);
  check (portalock_semaphore_acquire (c) == 0
         && portalock_semaphore_slot (c) == sa,
         "%s: the released slot goes to the next acquirer", bname);
  check (count_entries (dir) == 2
         && access (slot_path (dir, "test", 0), F_OK) == 0
         && access (slot_path (dir, "test", 1), F_OK) == 0,
         "%s: the slot files are test.00.lock and test.01.lock", bname);

  /* Freeing a holder gives its slot back.  */
  portalock_semaphore_free (b);
  check (portalock_semaphore_acquire (a) == 0
         && portalock_semaphore_slot (a) == sb,
         "%s: freeing a holder gives its slot back", bname);
  portalock_semaphore_release (c);
  check (count_entries (dir) == 2, "%s: the slot files stay after release",
         bname);
  portalock_semaphore_free (a);
  portalock_semaphore_free (c);
  portalock_semaphore_free (NULL);
}

/* Holders in other processes: all N slots held makes the next acquirer
   fail; a holder that is killed gives its slot back.  */
static void
test_processes (void)
{
  const char *dir = fresh_dir ("procs");
  enum { N = 3 };
  struct sem_holder h[N];
  bool seen[N] = { false };
  bool started = true;
  for (int i = 0; i < N; i++)
    {
      started &= sem_holder_start (&h[i], "procs", N, dir);
      if (h[i].slot >= 0 && h[i].slot < N)
        seen[h[i].slot] = true;
    }
  check (started && seen[0] && seen[1] && seen[2],
         "%s: three processes hold the three slots", bname);
  struct sem_holder extra;
  check (!sem_holder_start (&extra, "procs", N, dir), "%s: a fourth process "
         "gets none", bname);
  sem_holder_end (&extra, false);

  portalock_semaphore *sem = new_sem ("procs", N, dir, 0);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (sem) != 0, EWOULDBLOCK),
         "%s: all slots held by other processes: EWOULDBLOCK", bname);
  sem_holder_end (&h[1], true);
  portalock_semaphore_set_timeout (sem, 30);
  check (portalock_semaphore_acquire (sem) == 0
         && portalock_semaphore_slot (sem) == h[1].slot,
         "%s: a killed holder's slot is free again", bname);
  sem_holder_end (&h[0], false);
  sem_holder_end (&h[2], false);
  portalock_semaphore_free (sem);
}

/* Wait until a slot of semaphore NAME in DIR (of MAXIMUM slots) has a
   waiter blocked in the kernel (/proc/locks), or 10 seconds pass.
   Return that slot, or -1 if none was seen.  */
#if TEST_POSIX
static int
blocked_slot (const char *dir, const char *name, unsigned maximum)
{
  char needles[8][64];
  unsigned n = maximum < 8 ? maximum : 8;
  for (unsigned i = 0; i < n; i++)
    {
      struct stat st;
      if (stat (slot_path (dir, name, i), &st) != 0)
        return -1;
      snprintf (needles[i], sizeof needles[i], ":%llu ",
                (unsigned long long) st.st_ino);
    }
  for (int tries = 0; tries < 10000; tries++)
    {
      FILE *f = fopen ("/proc/locks", "r");
      if (f == NULL)
        return -1;
      char line[512];
      int seen = -1;
      while (seen < 0 && fgets (line, sizeof line, f) != NULL)
        for (unsigned i = 0; i < n && seen < 0; i++)
          if (strstr (line, "->") != NULL && strstr (line, needles[i]))
            seen = i;
      fclose (f);
      if (seen >= 0)
        return seen;
      usleep (1000);
    }
  return -1;
}
#else
/* No waiter can be seen asleep on Windows (testutil.h): none is seen.  */
static int
blocked_slot (const char *dir, const char *name, unsigned maximum)
{
  (void) dir;
  (void) name;
  (void) maximum;
  return -1;
}
#endif

struct waiter
{
  portalock_semaphore *sem;
  int result;
  int error;
};

static void *
waiter_thread (void *arg)
{
  struct waiter *w = arg;
  w->result = portalock_semaphore_acquire (w->sem);
  w->error = errno;
  return NULL;
}

/* A waiter blocks, and gets the slot that is freed.  If OTHER, that is
   not the slot it waits on in the kernel, and it finds it at its next
   look, one check interval later.  If not, it is, and the kernel wakes
   it: the check interval and the timeout are so long that only that
   can make it succeed.  */
static void
test_waiter (unsigned maximum, bool other)
{
  const char *dir = fresh_dir (maximum == 1 ? "wait1" : other ? "wait2o"
                               : "wait2s");
  struct sem_holder h[2];
  for (unsigned i = 0; i < maximum; i++)
    if (!sem_holder_start (&h[i], "wait", maximum, dir))
      die ("%s: holder", bname);
  struct waiter w = { new_sem ("wait", maximum, dir, 0), -1, 0 };
  /* Every slot is held before the waiter starts: it can only get the
     one that is freed, even where it cannot be seen waiting.  */
  bool all_held = failed_with (portalock_semaphore_acquire (w.sem) != 0,
                               EWOULDBLOCK);
  portalock_semaphore_set_timeout (w.sem, 20);
  portalock_semaphore_set_check_interval (w.sem, other ? 0.2 : 20);
  pthread_t thread;
  pthread_create (&thread, NULL, waiter_thread, &w);
  int blocked = blocked_slot (dir, "wait", maximum);
  int slot = blocked < 0 ? 0 : other ? 1 - blocked : blocked;
  unsigned victim = h[0].slot == slot ? 0 : 1;
  sem_holder_end (&h[victim], false);
  pthread_join (thread, NULL);
  errno = w.error;
  check (all_held && w.result == 0
         && portalock_semaphore_slot (w.sem) == slot,
         "%s: %u slot%s, %s slot freed: the waiter gets it%s", bname,
         maximum, maximum > 1 ? "s" : "", other ? "another" : "its own",
         blocked >= 0 ? "" : " (not seen blocked)");
  for (unsigned i = 0; i < maximum; i++)
    if (i != victim)
      sem_holder_end (&h[i], false);
  portalock_semaphore_free (w.sem);
}

/* A held semaphore refuses another acquire, a new backend and a new
   pattern with EBUSY, whichever slot it holds: slot 0 too.  Holding
   slot 0 of two, with slot 1 free, an acquire that forgot the slot
   held would take slot 1 whenever its pass started there, which it
   does for about every other acquire (the start is random): 64 tries
   all refused leave a chance of 2^-64 that such a fault goes
   unseen.  */
static void
test_busy_first_slot (void)
{
  const char *dir = fresh_dir ("busy0");
  struct holder h;
  write_file (slot_path (dir, "busy", 1), "");
  if (!holder_start (&h, slot_path (dir, "busy", 1), 0, PORTALOCK_EX, 0, 0))
    die ("holder");
  portalock_semaphore *sem = new_sem ("busy", 2, dir, 0);
  if (portalock_semaphore_acquire (sem) != 0)
    die ("acquire");
  holder_release (&h);
  bool busy = portalock_semaphore_slot (sem) == 0;
  for (int i = 0; i < 64 && busy; i++)
    {
      errno = 0;
      busy = failed_with (portalock_semaphore_acquire (sem) != 0, EBUSY)
             && portalock_semaphore_slot (sem) == 0;
    }
  check (busy && probe_lock (slot_path (dir, "busy", 1), 0, PORTALOCK_EX, 0,
                             0) == 0,
         "%s: acquiring a semaphore that holds slot 0, slot 1 free: EBUSY, "
         "slot 1 left alone", bname);
  errno = 0;
  check (failed_with (portalock_semaphore_set_backend (sem, 0) != 0, EBUSY)
         && failed_with (portalock_semaphore_set_pattern (sem,
                                                          "{name}.{number}x")
                         != 0, EBUSY),
         "%s: holding slot 0: set_backend and set_pattern: EBUSY", bname);
  check (portalock_semaphore_release (sem) == 0
         && portalock_semaphore_release (sem) == 1,
         "%s: slot 0 released once", bname);
  portalock_semaphore_free (sem);
}

#ifdef __linux__
# include <poll.h>
# include <sys/inotify.h>

struct rescan_waiter
{
  portalock_semaphore *sem;
  int result;
  int error;
  int done;                     /* written once the acquire returned */
};

static void *
rescan_thread (void *arg)
{
  struct rescan_waiter *w = arg;
  w->result = portalock_semaphore_acquire (w->sem);
  w->error = errno;
  char c = 'd';
  IGNORE_RESULT (write (w->done, &c, 1));
  return NULL;
}

/* A waiter with a long timeout looks at every slot again each check
   interval, so a slot freed while it waits on another is taken then,
   not at the deadline.  Each look opens the slot files, which inotify
   reports: the holders free a slot only once the waiter has looked
   several times, which it does not do before the deadline if it only
   blocks on one slot.  Then the deadline passes with every slot still
   held, and the acquire fails with ETIMEDOUT (after 60 s) instead of
   getting the freed slot.  Nothing here depends on how fast anything
   runs.  */
static void
test_rescan (void)
{
  enum { LOOKS = 8 };
  const char *dir = fresh_dir ("rescan");
  struct sem_holder h[2];
  for (int i = 0; i < 2; i++)
    if (!sem_holder_start (&h[i], "rescan", 2, dir))
      die ("%s: holder", bname);
  int in = inotify_init1 (IN_CLOEXEC);
  if (in < 0 || inotify_add_watch (in, dir, IN_OPEN) < 0)
    die ("inotify");
  int done[2];
  if (pipe2 (done, O_CLOEXEC) != 0)
    die ("pipe");
  struct rescan_waiter w = { new_sem ("rescan", 2, dir, 60), -1, 0,
                             done[1] };
  portalock_semaphore_set_check_interval (w.sem, 0.01);
  pthread_t thread;
  pthread_create (&thread, NULL, rescan_thread, &w);

  /* Count the opens of slot files until there were enough, or the
     acquire returned.  */
  int opens = 0;
  bool returned = false;
  while (opens < LOOKS && !returned)
    {
      struct pollfd p[2] = { { .fd = in, .events = POLLIN },
                             { .fd = done[0], .events = POLLIN } };
      if (poll (p, 2, -1) < 0)
        die ("poll");
      if (p[1].revents != 0)
        returned = true;
      if (p[0].revents != 0)
        {
          char buf[4096]
            __attribute__ ((aligned (__alignof__ (struct inotify_event))));
          ssize_t n = read (in, buf, sizeof buf);
          for (char *e = buf; n > 0 && e < buf + n;
               e += sizeof (struct inotify_event)
                    + ((struct inotify_event *) e)->len)
            opens++;
        }
    }
  check (!returned, "%s: a waiter looks at the slots again while it waits "
         "(%d opens of slot files before the acquire returned)", bname,
         opens);
  /* Free one slot; the other's holder stays until the acquire is over,
     so that only the freed slot can be had.  */
  sem_holder_end (&h[0], false);
  pthread_join (thread, NULL);
  errno = w.error;
  check (w.result == 0 && portalock_semaphore_slot (w.sem) == h[0].slot,
         "%s: timeout 60 s, a slot freed mid-wait: taken at the next look",
         bname);
  sem_holder_end (&h[1], false);
  portalock_semaphore_free (w.sem);
  close (in);
  close (done[0]);
  close (done[1]);
}
#else
static void
test_rescan (void)
{
  unsupported ("%s: a waiter looks at the slots again while it waits "
               "(needs inotify to see it look)", bname);
}
#endif

#if TEST_POSIX
/* Make DIR/d/d/... until its path is LENGTH bytes long; return it (a
   fresh string) or die.  */
static char *
deep_dir (const char *dir, size_t length)
{
  char *path = malloc (length + 1);
  if (path == NULL || strlen (dir) + 2 > length)
    die ("deep_dir");
  strcpy (path, dir);
  size_t have = strlen (path);
  while (have < length)
    {
      /* Components of at most 200 bytes, and never one byte left over
         for the last, which could not hold a slash and a name.  */
      size_t left = length - have;
      size_t part = left - 1 > 200 ? 200 : left - 1;
      if (left - 1 - part == 1)
        part--;
      path[have] = '/';
      memset (path + have + 1, 'd', part);
      have += 1 + part;
      path[have] = '\0';
      if (mkdir (path, 0700) != 0 && errno != EEXIST)
        die ("mkdir %s", path);
    }
  return path;
}
#endif

/* A slot file's path must be shorter than PATH_MAX bytes (which count
   the terminating null byte): a path of PATH_MAX - 1 bytes is taken, one
   of PATH_MAX is refused with ENAMETOOLONG, by portalock_semaphore_new
   and by portalock_semaphore_set_pattern.  */
static void
test_path_max (void)
{
#if TEST_POSIX
  const char *top = fresh_dir ("pathmax");
  /* "s.00.lock" is 9 bytes after the directory and a slash.  */
  size_t dirlength = PATH_MAX - 1 - 1 - 9;
  char *dir = deep_dir (top, dirlength);
  portalock_semaphore *sem = portalock_semaphore_new ("s", 2, dir);
  check (sem != NULL && portalock_semaphore_set_timeout (sem, 0) == 0
         && portalock_semaphore_acquire (sem) == 0
         && portalock_semaphore_release (sem) == 0,
         "%s: a slot path of PATH_MAX - 1 bytes is taken, and used", bname);
  if (sem != NULL)
    {
      check (portalock_semaphore_set_pattern (sem, "{name}-{number:02d}.lock")
             == 0, "%s: set_pattern: a slot path of PATH_MAX - 1 bytes is "
             "taken", bname);
      errno = 0;
      check (failed_with (portalock_semaphore_set_pattern
                          (sem, "{name}-{number:02d}.lock1") != 0,
                          ENAMETOOLONG),
             "%s: set_pattern: a slot path of PATH_MAX bytes: ENAMETOOLONG",
             bname);
    }
  portalock_semaphore_free (sem);
  errno = 0;
  sem = portalock_semaphore_new ("ss", 2, dir);
  check (sem == NULL && errno == ENAMETOOLONG,
         "%s: a slot path of PATH_MAX bytes: ENAMETOOLONG", bname);
  portalock_semaphore_free (sem);
  free (dir);
#else
  unsupported ("%s: slot paths of PATH_MAX - 1 and PATH_MAX bytes (POSIX "
               "only)", bname);
#endif
}

/* The CPU time this process has used, in seconds.  */
#if TEST_POSIX
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
          + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}
#else
static double
cpu_seconds (void)
{
  FILETIME created, ended, kernel, user;
  if (!GetProcessTimes (GetCurrentProcess (), &created, &ended, &kernel,
                        &user))
    die ("GetProcessTimes");
  ULARGE_INTEGER k = { .LowPart = kernel.dwLowDateTime,
                       .HighPart = kernel.dwHighDateTime };
  ULARGE_INTEGER u = { .LowPart = user.dwLowDateTime,
                       .HighPart = user.dwHighDateTime };
  /* In units of 100 ns.  */
  return (k.QuadPart + u.QuadPart) / 1e7;
}
#endif

/* A waiter times out no earlier than asked, leaves no thread or
   descriptor behind, holds nothing, and does not spin meanwhile.  */
static void
test_timeout (void)
{
  const char *dir = fresh_dir ("timeout");
  struct sem_holder h[2];
  for (int i = 0; i < 2; i++)
    if (!sem_holder_start (&h[i], "t", 2, dir))
      die ("%s: holder", bname);
  portalock_semaphore *sem = new_sem ("t", 2, dir, 0.6);
  portalock_semaphore_set_check_interval (sem, 0.1);
  int fds = count_fds ();
  /* Counted here, not assumed 1: a sanitizer may run threads of its
     own.  */
  int threads = count_threads ();
  double cpu = cpu_seconds (), t0 = now ();
  errno = 0;
  int r = portalock_semaphore_acquire (sem);
  int e = errno;
  double elapsed = now () - t0;
  cpu = cpu_seconds () - cpu;
  errno = e;
  check (failed_with (r != 0, ETIMEDOUT), "%s: all held, timeout 0.6: "
         "ETIMEDOUT", bname);
  check (elapsed >= 0.6, "%s: not before the timeout (%.3f s)", bname,
         elapsed);
  check (cpu < elapsed / 2, "%s: the wait does not spin (%.3f s of CPU in "
         "%.3f s)", bname, cpu, elapsed);
  /* An emulator's own threads come and go in /proc/self/task.  */
  if (test_emulator () != NULL)
    unsupported ("%s: no thread or descriptor left behind: %s", bname,
                 test_emulator ());
  else
    check (count_threads () == threads && count_fds () == fds,
           "%s: no thread or descriptor left behind", bname);
  check (portalock_semaphore_slot (sem) == -1, "%s: nothing held after a "
         "timeout", bname);
  sem_holder_end (&h[0], false);
  sem_holder_end (&h[1], false);
  check (probe_lock (slot_path (dir, "t", 0), 0, PORTALOCK_EX, 0, 0) == 0
         && probe_lock (slot_path (dir, "t", 1), 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: a timed-out acquire leaves no lock behind", bname);
  portalock_semaphore_free (sem);
}

#if TEST_POSIX
/* Many processes, each acquiring and releasing many times: never more
   holders at once than the semaphore allows.  */
static void
test_bound_holds (void)
{
  const char *dir = fresh_dir ("stress");
  enum { N = 3, PROCS = 6, ROUNDS = 200 };
  int *shared = mmap (NULL, 4 * sizeof (int), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    die ("mmap");
  /* shared[0]: holders now; [1]: most at once; [2]: acquires; [3]: a
     slot held by two.  */
  int *owner = mmap (NULL, N * sizeof (int), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (owner == MAP_FAILED)
    die ("mmap");
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++)
    {
      pids[p] = fork ();
      if (pids[p] == 0)
        {
          portalock_semaphore *sem = new_sem ("stress", N, dir, -1);
          for (int i = 0; i < ROUNDS; i++)
            {
              if (portalock_semaphore_acquire (sem) != 0)
                _exit (1);
              int slot = portalock_semaphore_slot (sem);
              if (__atomic_exchange_n (&owner[slot], getpid (),
                                       __ATOMIC_SEQ_CST) != 0)
                __atomic_store_n (&shared[3], 1, __ATOMIC_SEQ_CST);
              int n = __atomic_add_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
              int most = __atomic_load_n (&shared[1], __ATOMIC_SEQ_CST);
              while (n > most
                     && !__atomic_compare_exchange_n (&shared[1], &most, n,
                                                      false, __ATOMIC_SEQ_CST,
                                                      __ATOMIC_SEQ_CST))
                ;
              sched_yield ();
              __atomic_sub_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
              __atomic_store_n (&owner[slot], 0, __ATOMIC_SEQ_CST);
              __atomic_add_fetch (&shared[2], 1, __ATOMIC_SEQ_CST);
              if (portalock_semaphore_release (sem) != 0)
                _exit (1);
            }
          portalock_semaphore_free (sem);
          _exit (0);
        }
    }
  bool all_ok = true;
  for (int p = 0; p < PROCS; p++)
    {
      int status;
      waitpid (pids[p], &status, 0);
      all_ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  check (all_ok && shared[2] == PROCS * ROUNDS,
         "%s: %d processes acquire and release %d times each", bname, PROCS,
         ROUNDS);
  check (shared[1] <= N && shared[3] == 0,
         "%s: never more than %d holders, never two on one slot "
         "(at most %d seen)", bname, N, shared[1]);
  check (count_entries (dir) == N, "%s: only the %d slot files exist", bname,
         N);
  munmap (shared, 4 * sizeof (int));
  munmap (owner, N * sizeof (int));
}
#else
static void
test_bound_holds (void)
{
  unsupported ("%s: processes that share memory need fork (POSIX only)", bname);
}
#endif

/* Threads of one process, each with its own object, exclude each other
   as processes do, on every backend.  */
static void *
thread_holder (void *arg)
{
  int *shared = arg;
  const char *dir = test_path ("threads");
  portalock_semaphore *sem = new_sem ("th", 2, dir, -1);
  for (int i = 0; i < 200; i++)
    {
      if (portalock_semaphore_acquire (sem) != 0)
        {
          __atomic_store_n (&shared[2], 1, __ATOMIC_SEQ_CST);
          break;
        }
      int n = __atomic_add_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
      if (n > 2)
        __atomic_store_n (&shared[1], 1, __ATOMIC_SEQ_CST);
      sched_yield ();
      __atomic_sub_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
      portalock_semaphore_release (sem);
    }
  portalock_semaphore_free (sem);
  return NULL;
}

static void
test_threads (void)
{
  fresh_dir ("threads");
  int shared[3] = { 0, 0, 0 };
  pthread_t threads[4];
  for (int i = 0; i < 4; i++)
    pthread_create (&threads[i], NULL, thread_holder, shared);
  for (int i = 0; i < 4; i++)
    pthread_join (threads[i], NULL);
  check (shared[1] == 0 && shared[2] == 0,
         "%s: four threads, two slots: never more than two holders",
         bname);
}

#if TEST_POSIX
/* Two processes of two threads each, each thread with its own object,
   on two slots.  With fcntl and lockf locks, a thread's wait for a slot
   the other process holds, while the other process waits for this
   one's, looks like a deadlock to the kernel, which sees processes: no
   acquire may fail with EDEADLK (or anything else), and the bound
   holds.  SHARED (in shared memory): holders now, bound broken, failed
   acquires, the last failure's errno.  */
static void *
process_thread_holder (void *arg)
{
  int *shared = arg;
  const char *dir = test_path ("procthreads");
  portalock_semaphore *sem = new_sem ("pt", 2, dir, -1);
  portalock_semaphore_set_check_interval (sem, 0.05);
  for (int i = 0; i < 300; i++)
    {
      if (portalock_semaphore_acquire (sem) != 0)
        {
          __atomic_store_n (&shared[3], errno, __ATOMIC_SEQ_CST);
          __atomic_add_fetch (&shared[2], 1, __ATOMIC_SEQ_CST);
          continue;
        }
      int n = __atomic_add_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
      if (n > 2)
        __atomic_store_n (&shared[1], 1, __ATOMIC_SEQ_CST);
      /* Hold a little, so that the others queue up behind the slots.  */
      struct timespec hold = { 0, 500000 };
      nanosleep (&hold, NULL);
      __atomic_sub_fetch (&shared[0], 1, __ATOMIC_SEQ_CST);
      portalock_semaphore_release (sem);
    }
  portalock_semaphore_free (sem);
  return NULL;
}

static void
test_processes_threads (void)
{
  fresh_dir ("procthreads");
  int *shared = mmap (NULL, 4 * sizeof (int), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    die ("mmap");
  pid_t pid[2];
  for (int p = 0; p < 2; p++)
    {
      pid[p] = fork ();
      if (pid[p] == 0)
        {
          pthread_t threads[2];
          for (int i = 0; i < 2; i++)
            pthread_create (&threads[i], NULL, process_thread_holder,
                            shared);
          for (int i = 0; i < 2; i++)
            pthread_join (threads[i], NULL);
          _exit (0);
        }
    }
  for (int p = 0; p < 2; p++)
    waitpid (pid[p], NULL, 0);
  errno = shared[3];
  check (shared[2] == 0, "%s: two processes of two threads, two slots: "
         "every acquire succeeds (%d failed)", bname, shared[2]);
  check (shared[1] == 0, "%s: ... and never more than two holders", bname);
  munmap (shared, 4 * sizeof (int));
}
#else
static void
test_processes_threads (void)
{
  unsupported ("%s: two processes of two threads with shared counters need fork (POSIX only)", bname);
}
#endif

#if TEST_POSIX
/* A forked child that frees its copy of a held semaphore does not give
   the parent's slot back.  */
static void
test_fork (void)
{
  const char *dir = fresh_dir ("fork");
  portalock_semaphore *sem = new_sem ("fork", 1, dir, 0);
  if (portalock_semaphore_acquire (sem) != 0)
    die ("acquire");
  pid_t pid = fork ();
  if (pid == 0)
    {
      /* The child's copy holds nothing: the slot is the parent's.  */
      bool ok = portalock_semaphore_slot (sem) == -1
                && portalock_semaphore_release (sem) == 1
                && portalock_semaphore_acquire (sem) != 0
                && errno == EWOULDBLOCK;
      portalock_semaphore_free (sem);
      _exit (ok ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "%s: in a forked child the semaphore holds nothing, and cannot "
         "take the parent's slot", bname);
  check (portalock_semaphore_slot (sem) == 0
         && probe_lock (slot_path (dir, "fork", 0), 0, PORTALOCK_EX, 0, 0)
         == EWOULDBLOCK, "%s: a child's release and free keep the parent's "
         "slot", bname);
  pid = fork ();
  if (pid == 0)
    {
      portalock_semaphore_free (sem);
      _exit (0);
    }
  waitpid (pid, NULL, 0);
  check (probe_lock (slot_path (dir, "fork", 0), 0, PORTALOCK_EX, 0, 0)
         == EWOULDBLOCK, "%s: a child's free alone keeps the parent's slot",
         bname);
  portalock_semaphore_free (sem);
  check (probe_lock (slot_path (dir, "fork", 0), 0, PORTALOCK_EX, 0, 0) == 0,
         "%s: the parent's free gives it back", bname);
}
#else
static void
test_fork (void)
{
  unsupported ("%s: a forked child's copy of a semaphore needs fork (POSIX only)", bname);
}
#endif

/* Set the environment variable NAME to VALUE, or remove it if VALUE is
   NULL; die on failure.  */
#if TEST_POSIX
static void
set_env (const char *name, const char *value)
{
  if (value != NULL ? setenv (name, value, 1) != 0 : unsetenv (name) != 0)
    die ("setenv %s", name);
}
#else
static void
set_env (const char *name, const char *value)
{
  if (_putenv_s (name, value != NULL ? value : "") != 0)
    die ("_putenv_s %s", name);
}
#endif

/* With no directory, the slot files go to $TMPDIR.  */
static void
test_default_directory (void)
{
  const char *dir = fresh_dir ("tmpdir");
  char *saved = getenv ("TMPDIR") ? strdup (getenv ("TMPDIR")) : NULL;
  set_env ("TMPDIR", dir);
  portalock_semaphore *sem = new_sem ("deflt", 1, NULL, 0);
  check (portalock_semaphore_acquire (sem) == 0
         && access (slot_path (dir, "deflt", 0), F_OK) == 0,
         "%s: the slot files go to $TMPDIR", bname);
  portalock_semaphore_free (sem);
  set_env ("TMPDIR", saved);
  free (saved);
}

/* With no directory and an empty $TMPDIR, the slot files go to /tmp, a
   POSIX directory: the manual names no default directory for Windows.  */
#if TEST_POSIX
static void
test_tmp_directory (void)
{
  char *saved = getenv ("TMPDIR") ? strdup (getenv ("TMPDIR")) : NULL;
  char name[64];
  snprintf (name, sizeof name, "portalock-test-%ld", (long) getpid ());
  set_env ("TMPDIR", "");
  portalock_semaphore *sem = new_sem (name, 1, NULL, 0);
  check (portalock_semaphore_acquire (sem) == 0
         && access (slot_path ("/tmp", name, 0), F_OK) == 0,
         "%s: an empty $TMPDIR means /tmp", bname);
  portalock_semaphore_free (sem);
  unlink (slot_path ("/tmp", name, 0));
  set_env ("TMPDIR", saved);
  free (saved);
}
#else
static void
test_tmp_directory (void)
{
  unsupported ("%s: an empty $TMPDIR means /tmp (POSIX only)", bname);
}
#endif

#if TEST_POSIX
/* Python's portalocker, where installed, for the interoperation test:
   in DIR, "hold" takes both slots of the two-slot semaphore "interop",
   says "held" and keeps them until its input ends; "try" says "got" or
   "busy".  */
static const char python[] = "/usr/bin/python3";
static const char python_script[] =
  "import sys, portalocker\n"
  "d, mode = sys.argv[1], sys.argv[2]\n"
  "def sem(timeout):\n"
  "    return portalocker.BoundedSemaphore(2, name='interop', directory=d,\n"
  "                                        timeout=timeout)\n"
  "if mode == 'hold':\n"
  "    held = [sem(0), sem(0)]\n"
  "    for s in held:\n"
  "        s.acquire()\n"
  "    print('held', flush=True)\n"
  "    sys.stdin.read()\n"
  "else:\n"
  "    try:\n"
  "        sem(0.01).acquire(fail_when_locked=True)\n"
  "        print('got')\n"
  "    except portalocker.AlreadyLocked:\n"
  "        print('busy')\n";

/* Start Python's portalocker with MODE in DIR; its output comes through
   *FROM, its input goes through *TO.  Return its PID.  */
static pid_t
start_python (const char *dir, const char *mode, int *to, int *from)
{
  int down[2], up[2];
  if (pipe2 (down, O_CLOEXEC) != 0 || pipe2 (up, O_CLOEXEC) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (down[0], STDIN_FILENO);
      dup2 (up[1], STDOUT_FILENO);
      execl (python, python, "-c", python_script, dir, mode, (char *) NULL);
      _exit (127);
    }
  close (down[0]);
  close (up[1]);
  *to = down[1];
  *from = up[0];
  return pid;
}

/* Read what Python said into BUF: the first line that is "held",
   "busy" or "got" (portalocker 2.2.1 prints other things too), else
   "".  */
static void
read_python (int from, char *buf, size_t size)
{
  char line[512];
  size_t have = 0;
  buf[0] = '\0';
  for (;;)
    {
      ssize_t n = read (from, line + have, 1);
      if (n <= 0)
        return;
      if (line[have] != '\n' && have < sizeof line - 2)
        {
          have++;
          continue;
        }
      line[have] = '\0';
      have = 0;
      if (strcmp (line, "held") == 0 || strcmp (line, "busy") == 0
          || strcmp (line, "got") == 0)
        {
          if (strlen (line) < size)
            strcpy (buf, line);
          return;
        }
    }
}

/* A C program and a Python program using portalocker share one
   semaphore: the same slot files, the same flock locks.  */
static void
test_python (void)
{
  if (strcmp (bname, "flock") != 0)
    {
      unsupported ("%s: sharing a semaphore with Python's portalocker "
                   "(it uses flock)", bname);
      return;
    }
  if (system ("/usr/bin/python3 -c 'import portalocker' 2>/dev/null") != 0)
    {
      unsupported ("%s: sharing a semaphore with Python's portalocker "
                   "(not installed)", bname);
      return;
    }
  const char *dir = fresh_dir ("python");
  int to, from, status;
  char said[64];
  pid_t pid = start_python (dir, "hold", &to, &from);
  read_python (from, said, sizeof said);
  portalock_semaphore *sem = new_sem ("interop", 2, dir, 0);
  errno = 0;
  check (strncmp (said, "held", 4) == 0
         && failed_with (portalock_semaphore_acquire (sem) != 0, EWOULDBLOCK),
         "%s: both slots held by Python: EWOULDBLOCK", bname);
  close (to);
  read_python (from, said, sizeof said);
  waitpid (pid, &status, 0);
  close (from);
  check (portalock_semaphore_acquire (sem) == 0, "%s: once Python exits, "
         "a slot is free", bname);

  portalock_semaphore *second = new_sem ("interop", 2, dir, 0);
  if (portalock_semaphore_acquire (second) != 0)
    die ("acquire");
  pid = start_python (dir, "try", &to, &from);
  read_python (from, said, sizeof said);
  waitpid (pid, &status, 0);
  close (to);
  close (from);
  check (strncmp (said, "busy", 4) == 0, "%s: both slots held here: Python "
         "finds the semaphore busy (it said \"%.4s\")", bname, said);
  portalock_semaphore_free (second);
  pid = start_python (dir, "try", &to, &from);
  read_python (from, said, sizeof said);
  waitpid (pid, &status, 0);
  close (to);
  close (from);
  check (strncmp (said, "got", 3) == 0, "%s: one slot free: Python gets it "
         "(it said \"%.4s\")", bname, said);
  portalock_semaphore_free (sem);
}
#else
static void
test_python (void)
{
  unsupported ("%s: sharing a semaphore with Python's portalocker needs fork, exec and flock (POSIX only)", bname);
}
#endif

/* Check that NEW returned NULL with ERROR and created nothing.  */
static void
check_refused (portalock_semaphore *sem, int error, const char *dir,
               int fds, const char *what)
{
  int e = errno;
  check (sem == NULL && e == error, "%s: %s: %s", bname, what,
         strerror (error));
  portalock_semaphore_free (sem);
  check (count_entries (dir) == 1 && count_fds () == fds,
         "%s: %s: nothing created, no descriptor left", bname, what);
}

static void
test_bad_input (void)
{
  const char *dir = fresh_dir ("bad");
  char file[PATH_MAX];
  snprintf (file, sizeof file, "%s/file", dir);
  FILE *f = fopen (file, "w");
  fclose (f);
  int fds = count_fds ();
  char name[NAME_MAX + 1], missing[PATH_MAX];

  check_refused (portalock_semaphore_new (NULL, 2, dir), EINVAL, dir, fds,
                 "a NULL name");
  check_refused (portalock_semaphore_new ("", 2, dir), EINVAL, dir, fds,
                 "an empty name");
  check_refused (portalock_semaphore_new ("a/b", 2, dir), EINVAL, dir, fds,
                 "a name with '/'");
  check_refused (portalock_semaphore_new ("zero", 0, dir), EINVAL, dir, fds,
                 "maximum 0");
  snprintf (missing, sizeof missing, "%s/missing", dir);
  check_refused (portalock_semaphore_new ("s", 2, missing), ENOENT, dir, fds,
                 "a missing directory");
  check_refused (portalock_semaphore_new ("s", 2, file), ENOTDIR, dir, fds,
                 "a file as directory");
  check_refused (portalock_semaphore_new ("s", 2, ""), ENOENT, dir, fds,
                 "an empty directory name");

  /* ".99.lock" is 8 bytes: a name of NAME_MAX - 8 bytes fits with 100
     slots, not with 101 (".100.lock").  The slot's path must also be
     shorter than PATH_MAX, which on Windows (260 bytes) a name of
     NAME_MAX - 8 bytes in the temporary directory is not: there the
     name is as long as the path allows.  */
  size_t room = PATH_MAX - 2 - strlen (dir) - 8;
  size_t length = room < NAME_MAX - 8 ? room : NAME_MAX - 8;
  memset (name, 'n', length);
  name[length] = '\0';
  portalock_semaphore *sem = portalock_semaphore_new (name, 100, dir);
  check (sem != NULL, "%s: the longest name that fits", bname);
  portalock_semaphore_free (sem);
  check_refused (portalock_semaphore_new (name, 101, dir), ENAMETOOLONG, dir,
                 fds, length == NAME_MAX - 8 ? "a slot file name over NAME_MAX"
                 : "a slot path over PATH_MAX, one slot more");
  char *longdir = malloc (PATH_MAX);
  memset (longdir, 'd', PATH_MAX - 1);
  longdir[PATH_MAX - 1] = '\0';
  for (int i = 1; i < PATH_MAX - 1; i += 2)
    longdir[i] = '/';
  check_refused (portalock_semaphore_new ("s", 2, longdir), ENAMETOOLONG, dir,
                 fds, "a slot path over PATH_MAX");
  free (longdir);

  sem = new_sem ("s", 2, dir, 0);
  errno = 0;
  check (failed_with (portalock_semaphore_set_timeout (NULL, 1) != 0, EINVAL)
         && failed_with (portalock_semaphore_set_timeout (sem, NAN) != 0,
                        EINVAL), "%s: set_timeout: NULL, NaN: EINVAL", bname);
  check (failed_with (portalock_semaphore_set_check_interval (NULL, 1) != 0,
                     EINVAL)
         && failed_with (portalock_semaphore_set_check_interval (sem, -1) != 0,
                        EINVAL)
         && failed_with (portalock_semaphore_set_check_interval (sem, NAN)
                        != 0, EINVAL)
         && failed_with (portalock_semaphore_set_check_interval (sem, INFINITY)
                        != 0, EINVAL),
         "%s: set_check_interval: NULL, negative, NaN, infinite: EINVAL",
         bname);
  check (failed_with (portalock_semaphore_set_fail_when_locked (NULL, true)
                     != 0, EINVAL), "%s: set_fail_when_locked (NULL): EINVAL",
         bname);
  check (failed_with (portalock_semaphore_set_backend (NULL, 0) != 0, EINVAL)
         && failed_with (portalock_semaphore_set_backend
                        (sem, (enum portalock_backend) 42) != 0, EINVAL),
         "%s: set_backend: NULL, no backend: EINVAL", bname);
  check (failed_with (portalock_semaphore_set_backend
                     (sem, TEST_POSIX ? PORTALOCK_BACKEND_WIN32
                      : PORTALOCK_BACKEND_FLOCK) != 0, ENOTSUP),
         "%s: set_backend, a backend not built: ENOTSUP", bname);
  check (failed_with (portalock_semaphore_acquire (NULL) != 0, EINVAL)
         && failed_with (portalock_semaphore_release (NULL) != 0, EINVAL)
         && failed_with (portalock_semaphore_slot (NULL) != 0, EINVAL),
         "%s: acquire, release, slot of NULL: EINVAL", bname);
  check (count_entries (dir) == 1 && count_fds () == fds,
         "%s: the bad calls created nothing", bname);
  if (portalock_semaphore_acquire (sem) != 0)
    die ("acquire");
  check (failed_with (portalock_semaphore_set_backend (sem, 0) != 0, EBUSY),
         "%s: set_backend while held: EBUSY", bname);
  portalock_semaphore_free (sem);

  /* Errors from open(2) reach the caller, and nothing is created.  */
  char gone[PATH_MAX];
  snprintf (gone, sizeof gone, "%s/gone", dir);
  make_dir (gone);
  sem = new_sem ("s", 2, gone, 0);
  rmdir (gone);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (sem) != 0, ENOENT)
         && portalock_semaphore_slot (sem) == -1
         && access (gone, F_OK) != 0,
         "%s: the directory removed after new: ENOENT, nothing created",
         bname);
  portalock_semaphore_free (sem);

  char busy[PATH_MAX];
  snprintf (busy, sizeof busy, "%s/busy", dir);
  make_dir (busy);
  make_dir (slot_path (busy, "d", 0));
  sem = new_sem ("d", 1, busy, 0);
  errno = 0;
  check (failed_with (portalock_semaphore_acquire (sem) != 0, EISDIR)
         && portalock_semaphore_slot (sem) == -1,
         "%s: a directory where the slot file should be: EISDIR", bname);
  portalock_semaphore_free (sem);
  check (count_fds () == fds, "%s: failed acquires leave no descriptor",
         bname);
}

int
main (int argc, char **argv)
{
  self = argv[0];
  /* A Windows holder: "self hold NAME MAXIMUM DIR IN OUT".  */
  if (argc == 7 && strcmp (argv[1], "hold") == 0)
    {
      hold_slot (argv[2], strtoul (argv[3], NULL, 10), argv[4],
                 atoi (argv[5]), atoi (argv[6]));
      return 0;
    }
  bname = portalock_backend_name (PORTALOCK_BACKEND_DEFAULT);
  test_bounded ();
  test_processes ();
  test_waiter (1, false);
  /* Which of two slots a waiter waits on shows only in /proc/locks.  */
  if (TEST_POSIX)
    test_waiter (2, false);
  else
    unsupported ("%s: 2 slots, its own slot freed: the waiter gets it "
                 "(which slot it waits on is not seen on Windows)", bname);
  test_waiter (2, true);
  test_rescan ();
  test_timeout ();
  test_bound_holds ();
  test_threads ();
  test_processes_threads ();
  test_fork ();
  test_default_directory ();
  test_tmp_directory ();
  test_python ();
  test_bad_input ();
  test_busy_first_slot ();
  test_path_max ();
  return check_exit ();
}
