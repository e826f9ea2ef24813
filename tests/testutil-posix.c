/* testutil-posix.c: the process helpers of the test programs, on POSIX
   systems: holders and probes are forked children, waiters are seen in
   /proc/locks.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portalock.h"

static char *tmpdir;
static pid_t tmpdir_owner;

static int
remove_one (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

static void
remove_tmpdir (void)
{
  if (tmpdir != NULL && getpid () == tmpdir_owner)
    nftw (tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
test_path (const char *name)
{
  static char paths[64][4096];
  static unsigned next;
  /* Threads of a test may ask at once.  */
  char *path = paths[__atomic_fetch_add (&next, 1, __ATOMIC_RELAXED) % 64];
  if (tmpdir == NULL)
    {
      const char *base = getenv ("TMPDIR");
      static char templ[4096];
      snprintf (templ, sizeof templ, "%s/portalock-test.XXXXXX",
                base != NULL && *base != '\0' ? base : "/tmp");
      tmpdir = mkdtemp (templ);
      if (tmpdir == NULL)
        die ("mkdtemp %s", templ);
      tmpdir_owner = getpid ();
      atexit (remove_tmpdir);
    }
  snprintf (path, sizeof paths[0], "%s/%s", tmpdir, name);
  return path;
}

FILE *
command_output (const char *const *argv, pid_t *pid)
{
  int p[2];
  if (pipe (p) != 0)
    die ("pipe");
  fflush (NULL);
  *pid = fork ();
  if (*pid < 0)
    die ("fork");
  if (*pid == 0)
    {
      dup2 (p[1], 1);
      close (p[0]);
      close (p[1]);
      execv (argv[0], (char **) argv);
      _exit (127);
    }
  close (p[1]);
  FILE *in = fdopen (p[0], "r");
  if (in == NULL)
    die ("fdopen");
  return in;
}

bool
command_succeeded (FILE *in, pid_t pid)
{
  fclose (in);
  int status;
  return (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
          && WEXITSTATUS (status) == 0);
}

int
count_fds (void)
{
  return count_entries ("/proc/self/fd");
}

int
count_threads (void)
{
  return count_entries ("/proc/self/task");
}

int
await_thread_count (int expected)
{
  double give_up = now () + 10;
  int n;
  while ((n = count_threads ()) != expected && now () < give_up)
    usleep (2000);
  return n;
}

long
thread_id (void)
{
  /* "/proc/thread-self" links to "PID/task/TID".  */
  char target[64];
  ssize_t len = readlink ("/proc/thread-self", target, sizeof target - 1);
  if (len <= 0)
    return -1;
  target[len] = '\0';
  const char *slash = strrchr (target, '/');
  return slash != NULL ? atol (slash + 1) : -1;
}

bool
await_thread_gone (long tid)
{
  if (tid < 0)
    return true;
  char path[64];
  snprintf (path, sizeof path, "/proc/self/task/%ld", tid);
  double give_up = now () + 10;
  struct stat st;
  bool listed;
  while ((listed = stat (path, &st) == 0) && now () < give_up)
    usleep (2000);
  return !listed;
}

double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
open_for (const char *path, int flags)
{
  int mode = (flags & PORTALOCK_SH) ? O_RDONLY : O_RDWR;
  return open (path, mode | O_CREAT | O_CLOEXEC, 0644);
}

bool
holder_start (struct holder *h, const char *path, int backend, int flags,
              off_t start, off_t length)
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
      int fd = open_for (path, flags);
      if (fd < 0
          || portalock_backend_lock (backend, fd, flags, start, length,
                                     30) != 0)
        {
          int e = errno;
          unsigned char code = 'E';
          IGNORE_RESULT (write (up[1], &code, 1));
          IGNORE_RESULT (write (up[1], &e, sizeof e));
          _exit (1);
        }
      char c = 'L';
      IGNORE_RESULT (write (up[1], &c, 1));
      IGNORE_RESULT (read (down[0], &c, 1));
      portalock_backend_lock (backend, fd, PORTALOCK_UN, start, length, 0);
      c = 'U';
      IGNORE_RESULT (write (up[1], &c, 1));
      _exit (0);
    }
  close (down[0]);
  close (up[1]);
  h->to_child = down[1];
  h->from_child = up[0];
  char c = 0;
  if (read (h->from_child, &c, 1) != 1 || c != 'L')
    {
      int e = EIO;
      if (c == 'E')
        IGNORE_RESULT (read (h->from_child, &e, sizeof e));
      close (h->to_child);
      close (h->from_child);
      waitpid (h->pid, NULL, 0);
      errno = e;
      return false;
    }
  return true;
}

void
holder_release (struct holder *h)
{
  char c = 'R';
  IGNORE_RESULT (write (h->to_child, &c, 1));
  IGNORE_RESULT (read (h->from_child, &c, 1));
  close (h->to_child);
  close (h->from_child);
  waitpid (h->pid, NULL, 0);
}

void
holder_kill (struct holder *h)
{
  kill (h->pid, SIGKILL);
  waitpid (h->pid, NULL, 0);
  close (h->to_child);
  close (h->from_child);
}

int
probe_lock (const char *path, int backend, int flags, off_t start,
            off_t length)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      int fd = open_for (path, flags);
      if (fd < 0)
        _exit (255);
      if (portalock_backend_lock (backend, fd, flags | PORTALOCK_NB, start,
                                  length, 0) == 0)
        _exit (0);
      _exit (errno & 0xff);
    }
  int status;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
    die ("probe process");
  return WEXITSTATUS (status);
}

bool
await_blocked_waiter (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return false;
  char needle[64];
  snprintf (needle, sizeof needle, ":%llu ", (unsigned long long) st.st_ino);
  for (int tries = 0; tries < 10000; tries++)
    {
      FILE *f = fopen ("/proc/locks", "r");
      if (f == NULL)
        return false;
      char line[512];
      bool seen = false;
      while (!seen && fgets (line, sizeof line, f) != NULL)
        seen = strstr (line, "->") != NULL && strstr (line, needle) != NULL;
      fclose (f);
      if (seen)
        return true;
      usleep (1000);
    }
  return false;
}

bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

bool
fd_names (int fd, const char *path)
{
  struct stat a, b;
  return (fd >= 0 && fstat (fd, &a) == 0 && stat (path, &b) == 0
          && a.st_dev == b.st_dev && a.st_ino == b.st_ino
          && a.st_nlink > 0);
}

int
make_dir (const char *path)
{
  return mkdir (path, 0755);
}

bool
not_inherited (int fd)
{
  int flags = fcntl (fd, F_GETFD);
  return flags != -1 && (flags & FD_CLOEXEC) != 0;
}

/* Read the start of the /proc file NAME of thread TID of PID (0: this
   process) into TEXT (of SIZE bytes), NUL-terminated.  Return false if
   it cannot be read.  */
static bool
read_task_file (pid_t pid, pid_t tid, const char *name, char *text,
                size_t size)
{
  char path[96];
  if (pid == 0)
    snprintf (path, sizeof path, "/proc/self/task/%ld/%s", (long) tid, name);
  else
    snprintf (path, sizeof path, "/proc/%ld/task/%ld/%s", (long) pid,
              (long) tid, name);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, text, size - 1);
  int saved_errno = errno;
  syscall (SYS_close, fd);
  errno = saved_errno;
  if (n <= 0)
    return false;
  text[n] = '\0';
  return true;
}

/* The last component of PATH.  */
static const char *
base_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash != NULL ? slash + 1 : path;
}

const char *
test_emulator (void)
{
  static char reason[PATH_MAX + 64];
  /* 0: not looked yet, 1: native, 2: emulated.  */
  static int known;
  int k = __atomic_load_n (&known, __ATOMIC_SEQ_CST);
  if (k != 0)
    return k == 2 ? reason : NULL;
  k = 1;
  const char *named = getenv ("PORTALOCK_TEST_EMULATOR");
  char seen[PATH_MAX], run[PATH_MAX];
  if (named != NULL && *named != '\0')
    {
      ssize_t nseen = readlink ("/proc/self/exe", seen, sizeof seen - 1);
      ssize_t nrun = readlink ("/proc/thread-self/exe", run, sizeof run - 1);
      if (nseen > 0 && nrun > 0)
        {
          seen[nseen] = '\0';
          run[nrun] = '\0';
          if (strcmp (seen, run) != 0
              && strcmp (base_name (run), base_name (named)) == 0)
            {
              snprintf (reason, sizeof reason, "under emulation (%s)", run);
              k = 2;
            }
        }
    }
  __atomic_store_n (&known, k, __ATOMIC_SEQ_CST);
  return k == 2 ? reason : NULL;
}

/* Under an emulator, /proc shows the calls the emulator makes to the
   host's kernel, by the host's numbers: a thread of the emulated
   program asleep in a futex shows the host's futex call.  That number
   is learnt once from a thread known to wait for a condition variable;
   -1 if it cannot be.  */
static pthread_mutex_t learn_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t learn_cond = PTHREAD_COND_INITIALIZER;
static bool learn_done;
static long learn_tid;

static void *
learn_thread (void *arg)
{
  (void) arg;
  pthread_mutex_lock (&learn_mutex);
  __atomic_store_n (&learn_tid, thread_id (), __ATOMIC_SEQ_CST);
  while (!learn_done)
    pthread_cond_wait (&learn_cond, &learn_mutex);
  pthread_mutex_unlock (&learn_mutex);
  return NULL;
}

static bool read_task_file (pid_t pid, pid_t tid, const char *name,
                            char *text, size_t size);

static long
host_futex_number (void)
{
  static long number = -2;
  if (number != -2)
    return number;
  number = -1;
  pthread_t t;
  if (pthread_create (&t, NULL, learn_thread, NULL) != 0)
    return number;
  long tid;
  while ((tid = __atomic_load_n (&learn_tid, __ATOMIC_SEQ_CST)) == 0)
    sched_yield ();
  /* It holds the mutex from before it says its ID until it waits: once
     it sleeps, it sleeps in the condition variable's futex.  */
  double give_up = now () + 10;
  char text[512];
  while (tid > 0 && now () < give_up)
    {
      if (read_task_file (0, tid, "stat", text, sizeof text))
        {
          const char *state = strrchr (text, ')');
          if (state != NULL && state[1] == ' ' && state[2] == 'S'
              && read_task_file (0, tid, "syscall", text, sizeof text)
              && text[0] >= '0' && text[0] <= '9')
            {
              number = strtol (text, NULL, 10);
              break;
            }
        }
      usleep (1000);
    }
  pthread_mutex_lock (&learn_mutex);
  learn_done = true;
  pthread_cond_signal (&learn_cond);
  pthread_mutex_unlock (&learn_mutex);
  pthread_join (t, NULL);
  return number;
}

bool
asleep_in_futex (pid_t pid, pid_t tid)
{
  char text[512];
  if (!read_task_file (pid, tid, "stat", text, sizeof text))
    return false;
  const char *state = strrchr (text, ')');
  if (state == NULL || state[1] != ' ' || state[2] != 'S')
    return false;
  if (!read_task_file (pid, tid, "syscall", text, sizeof text))
    return false;
  long nr = strtol (text, NULL, 10);
  if (test_emulator () != NULL)
    return nr == host_futex_number ();
#ifdef SYS_futex_time64
  if (nr == SYS_futex_time64)
    return true;
#endif
#ifdef SYS_futex
  return nr == SYS_futex;
#else
  return false;
#endif
}
