/* interop.c: tests that portalock and Python's portalocker share locks,
   semaphores and lock files, and which backends meet Python's fcntl.flock
   and fcntl.lockf.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: interop PYTHON PLOCK.  If PYTHON cannot import portalocker,
   every check is UNSUPPORTED.  Each Python process runs one small
   script and talks to this program in lines over pipes: it says "held",
   "busy", "blocked" or "slot FILE", and waits for a line before it lets
   go.  Nothing is timed: every step waits for the other side's word, or
   for a waiter that /proc/locks shows blocked in the kernel.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

static const char *python;
static const char *plock;

/* The Python side.  portalocker 2.2 prints while a semaphore acquires,
   so the script talks on the descriptor, not through print.  */
static const char script[] =
  "import fcntl, os, sys\n"
  "import portalocker\n"
  "sys.stdout = open (os.devnull, 'w')\n"
  "errors = (portalocker.LockException, portalocker.AlreadyLocked)\n"
  "def say (s):\n"
  "    os.write (1, (s + '\\n').encode ())\n"
  "def wait ():\n"
  "    sys.stdin.readline ()\n"
  "what, path = sys.argv[1], sys.argv[2]\n"
  "if what == 'hold':\n"
  "    lock = portalocker.Lock (path, timeout=0, fail_when_locked=True)\n"
  "    try:\n"
  "        lock.acquire ()\n"
  "    except errors:\n"
  "        say ('busy')\n"
  "        sys.exit (0)\n"
  "    say ('held')\n"
  "    wait ()\n"
  "    lock.release ()\n"
  "    say ('released')\n"
  "elif what == 'wait':\n"
  "    try:\n"
  "        portalocker.Lock (path, timeout=0, fail_when_locked=True)"
  ".acquire ()\n"
  "        say ('free')\n"
  "        sys.exit (0)\n"
  "    except errors:\n"
  "        say ('blocked')\n"
  "    lock = portalocker.Lock (path, timeout=float (sys.argv[3]),"
  " check_interval=0.01)\n"
  "    try:\n"
  "        lock.acquire ()\n"
  "    except errors:\n"
  "        say ('timeout')\n"
  "        sys.exit (0)\n"
  "    say ('held')\n"
  "    lock.release ()\n"
  "elif what == 'sem':\n"
  "    kw = dict (directory=path, timeout=0)\n"
  "    if sys.argv[3]:\n"
  "        kw['name'] = sys.argv[3]\n"
  "    if len (sys.argv) > 5:\n"
  "        kw['filename_pattern'] = sys.argv[5]\n"
  "    sem = portalocker.BoundedSemaphore (int (sys.argv[4]), **kw)\n"
  "    try:\n"
  "        lock = sem.acquire ()\n"
  "    except errors:\n"
  "        say ('busy')\n"
  "        sys.exit (0)\n"
  "    say ('slot ' + os.path.basename (str (sem.lock.filename)))\n"
  "    wait ()\n"
  "    sem.release ()\n"
  "elif what in ('flock', 'lockf'):\n"
  "    f = open (path, 'a+')\n"
  "    call = fcntl.flock if what == 'flock' else fcntl.lockf\n"
  "    try:\n"
  "        call (f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
  "    except OSError:\n"
  "        say ('busy')\n"
  "        sys.exit (0)\n"
  "    say ('held')\n"
  "    wait ()\n";

/* A running Python script.  */
struct py
{
  pid_t pid;
  int to;
  FILE *from;
};

/* Start the script with the arguments A1 to A5; the first NULL ends
   them.  */
static void
py_start (struct py *p, const char *a1, const char *a2, const char *a3,
          const char *a4, const char *a5)
{
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  fflush (NULL);
  p->pid = fork ();
  if (p->pid < 0)
    die ("fork");
  if (p->pid == 0)
    {
      dup2 (down[0], 0);
      dup2 (up[1], 1);
      close (down[0]);
      close (down[1]);
      close (up[0]);
      close (up[1]);
      execl (python, python, "-c", script, a1, a2, a3, a4, a5,
             (char *) NULL);
      _exit (127);
    }
  close (down[0]);
  close (up[1]);
  p->to = down[1];
  p->from = fdopen (up[0], "r");
  if (p->from == NULL)
    die ("fdopen");
}

/* Read the script's next word into BUF; return BUF ("" at the end).  */
static const char *
py_read (struct py *p, char *buf, size_t size)
{
  if (fgets (buf, size, p->from) == NULL)
    buf[0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return buf;
}

static bool
py_says (struct py *p, const char *word)
{
  char buf[256];
  return strcmp (py_read (p, buf, sizeof buf), word) == 0;
}

/* Tell the script to go on (let go), and reap it at the end.  */
static void
py_go (struct py *p)
{
  if (write (p->to, "\n", 1) != 1)
    {
      /* It may have ended already.  */
    }
}

static int
py_finish (struct py *p)
{
  close (p->to);
  /* Let it say its last words, so that it never writes to a closed
     pipe.  */
  char buf[256];
  while (fgets (buf, sizeof buf, p->from) != NULL)
    continue;
  fclose (p->from);
  int status;
  if (waitpid (p->pid, &status, 0) != p->pid || !WIFEXITED (status))
    return -1;
  return WEXITSTATUS (status);
}

/* Run the script with ARGS to the end; return its first word in BUF.  */
static const char *
py_once (char *buf, size_t size, const char *a1, const char *a2)
{
  struct py p;
  py_start (&p, a1, a2, NULL, NULL, NULL);
  py_read (&p, buf, size);
  py_go (&p);
  py_finish (&p);
  return buf;
}

/* Try to take PATH's lock once with BACKEND; return 0 or the errno.  */
static int
c_try (const char *path, enum portalock_backend backend)
{
  portalock *lock = new_backend_lock (path, backend);
  portalock_set_timeout (lock, 0);
  int r = portalock_acquire (lock) == 0 ? 0 : errno;
  portalock_free (lock);
  return r;
}

static void
test_lock (void)
{
  const char *path = test_path ("lock");
  char buf[256];

  /* C holds, Python is locked out; then Python gets it.  */
  portalock *lock = new_backend_lock (path, PORTALOCK_BACKEND_FLOCK);
  check (portalock_acquire (lock) == 0
         && strcmp (py_once (buf, sizeof buf, "hold", path), "busy") == 0,
         "a C lock object excludes portalocker.Lock");
  portalock_release (lock);
  check (strcmp (py_once (buf, sizeof buf, "hold", path), "held") == 0,
         "portalocker.Lock gets the lock once C let go");

  /* Python holds, C is locked out; then C gets it.  */
  struct py p;
  py_start (&p, "hold", path, NULL, NULL, NULL);
  check (py_says (&p, "held") && c_try (path, PORTALOCK_BACKEND_FLOCK)
         == EWOULDBLOCK,
         "portalocker.Lock excludes a C lock object (EWOULDBLOCK)");
  py_go (&p);
  check (py_says (&p, "released") && py_finish (&p) == 0
         && c_try (path, PORTALOCK_BACKEND_FLOCK) == 0,
         "a C lock object gets the lock once Python let go");

  /* A timed wait hands over from C to Python.  */
  portalock_acquire (lock);
  py_start (&p, "wait", path, "60", NULL, NULL);
  check (py_says (&p, "blocked"), "Python waits for the C holder");
  portalock_release (lock);
  check (py_says (&p, "held") && py_finish (&p) == 0,
         "a timed wait hands over from C to portalocker");

  /* And from Python to C: the C waiter blocks in the kernel.  */
  py_start (&p, "hold", path, NULL, NULL, NULL);
  check (py_says (&p, "held"), "Python holds again");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock *w = new_backend_lock (path, PORTALOCK_BACKEND_FLOCK);
      portalock_set_timeout (w, 60);
      _exit (portalock_acquire (w) == 0 ? 0 : 1);
    }
  check (await_blocked_waiter (path),
         "a C waiter blocks in the kernel on Python's lock");
  py_go (&p);
  int status;
  check (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
         && WEXITSTATUS (status) == 0 && py_finish (&p) == 0,
         "a timed wait hands over from portalocker to C");
  portalock_free (lock);
}

/* A C semaphore and a Python BoundedSemaphore on the same slots: NAME
   (NULL: both defaults), PATTERN (NULL: both defaults).  */
static void
test_semaphore_with (const char *what, const char *name, const char *pattern)
{
  const char *dir = test_path (what);
  if (mkdir (dir, 0755) != 0)
    die ("mkdir %s", dir);
  char buf[256];
  struct py p;
  py_start (&p, "sem", dir, name != NULL ? name : "", "2", pattern);
  py_read (&p, buf, sizeof buf);
  check (strncmp (buf, "slot ", 5) == 0,
         "%s: Python's BoundedSemaphore takes a slot", what);

  portalock_semaphore *a
    = portalock_semaphore_new (name != NULL ? name
                               : PORTALOCK_SEMAPHORE_DEFAULT_NAME, 2, dir);
  portalock_semaphore *b
    = portalock_semaphore_new (name != NULL ? name
                               : PORTALOCK_SEMAPHORE_DEFAULT_NAME, 2, dir);
  if (a == NULL || b == NULL)
    die ("portalock_semaphore_new");
  portalock_semaphore_set_backend (a, PORTALOCK_BACKEND_FLOCK);
  portalock_semaphore_set_backend (b, PORTALOCK_BACKEND_FLOCK);
  portalock_semaphore_set_timeout (a, 0);
  portalock_semaphore_set_timeout (b, 0);
  if (pattern != NULL && (portalock_semaphore_set_pattern (a, pattern) != 0
                          || portalock_semaphore_set_pattern (b, pattern)
                          != 0))
    die ("portalock_semaphore_set_pattern %s", pattern);
  check (portalock_semaphore_acquire (a) == 0,
         "%s: C takes the other slot", what);
  check (fails_with (portalock_semaphore_acquire (b), EWOULDBLOCK),
         "%s: a second C user finds both slots held", what);
  struct py q;
  py_start (&q, "sem", dir, name != NULL ? name : "", "2", pattern);
  check (py_says (&q, "busy") && py_finish (&q) == 0,
         "%s: a second Python user finds both slots held", what);
  /* Python lets go: its slot is free for C.  */
  py_go (&p);
  py_finish (&p);
  check (portalock_semaphore_acquire (b) == 0,
         "%s: C takes the slot Python gave back", what);
  portalock_semaphore_free (a);
  portalock_semaphore_free (b);
  check (count_entries (dir) == 2,
         "%s: C and Python used the same two slot files", what);
}

static void
test_semaphore (void)
{
  test_semaphore_with ("sem-defaults", NULL, NULL);
  test_semaphore_with ("sem-pattern", "jobs", "{name}-{number:x}.sem");
}

/* plock and Python, on the flock api whatever the default.  */
static void
test_plock (void)
{
  const char *path = test_path ("plock");
  char buf[256];
  struct py p;
  py_start (&p, "hold", path, NULL, NULL, NULL);
  check (py_says (&p, "held"), "Python holds for plock");
  char cmd[1024];
  snprintf (cmd, sizeof cmd, "'%s' --api=flock -n '%s' true", plock, path);
  int status = system (cmd);
  check (WIFEXITED (status) && WEXITSTATUS (status) == 1,
         "plock -n fails with 1 while portalocker holds the lock");
  py_go (&p);
  py_finish (&p);

  /* plock holds while its command waits for a line.  */
  int down[2], up[2];
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      dup2 (down[0], 0);
      dup2 (up[1], 1);
      close (down[0]);
      close (down[1]);
      close (up[0]);
      close (up[1]);
      execl (plock, plock, "--api=flock", "--sync", path, "/bin/sh", "-c",
             "echo held; read x; printf 'written by plock' >> \"$PLOCK_FILE\"",
             (char *) NULL);
      _exit (127);
    }
  close (down[0]);
  close (up[1]);
  char c = 0;
  check (read (up[0], &c, 1) == 1 && c == 'h'
         && strcmp (py_once (buf, sizeof buf, "hold", path), "busy") == 0,
         "portalocker is locked out while plock runs its command");
  close (down[1]);
  check (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
         && WEXITSTATUS (status) == 0,
         "plock --sync: the command and the sync succeed");
  close (up[0]);
  check (strcmp (py_once (buf, sizeof buf, "hold", path), "held") == 0,
         "portalocker gets the lock once plock let go");
}

/* Which backends meet Python's fcntl.flock and fcntl.lockf.  */
static void
test_backends (void)
{
  const char *path = test_path ("backends");
  struct statfs sf;
  bool nfs = (statfs (test_path (""), &sf) == 0
              && sf.f_type == 0x6969 /* NFS_SUPER_MAGIC */);
  static const struct
  {
    const char *python;
    enum portalock_backend backend;
    bool meet;
  } cases[] =
    {
      { "flock", PORTALOCK_BACKEND_FLOCK, true },
      { "flock", PORTALOCK_BACKEND_OFD, false },
      { "flock", PORTALOCK_BACKEND_FCNTL, false },
      { "flock", PORTALOCK_BACKEND_LOCKF, false },
      { "lockf", PORTALOCK_BACKEND_FLOCK, false },
      { "lockf", PORTALOCK_BACKEND_OFD, true },
      { "lockf", PORTALOCK_BACKEND_FCNTL, true },
      { "lockf", PORTALOCK_BACKEND_LOCKF, true },
    };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      const char *bname = portalock_backend_name (cases[i].backend);
      if (!portalock_backend_available (cases[i].backend))
        {
          unsupported ("Python's fcntl.%s and %s: not built here",
                       cases[i].python, bname);
          continue;
        }
      if (!cases[i].meet && nfs)
        {
          unsupported ("Python's fcntl.%s and %s: on NFS, flock is a "
                       "POSIX lock", cases[i].python, bname);
          continue;
        }
      struct py p;
      py_start (&p, cases[i].python, path, NULL, NULL, NULL);
      bool held = py_says (&p, "held");
      int r = c_try (path, cases[i].backend);
      check (held && (cases[i].meet ? r == EWOULDBLOCK : r == 0),
             "Python's fcntl.%s and portalock's %s %s", cases[i].python,
             bname, cases[i].meet ? "exclude each other"
             : "do not see each other");
      py_go (&p);
      py_finish (&p);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    die ("usage: interop PYTHON PLOCK");
  python = argv[1];
  plock = argv[2];
  char cmd[512];
  snprintf (cmd, sizeof cmd,
            "'%s' -c 'import portalocker' >/dev/null 2>&1", python);
  if (access (python, X_OK) != 0 || system (cmd) != 0)
    {
      unsupported ("interoperability with Python's portalocker "
                   "(%s cannot import it)", python);
      return check_exit ();
    }
  if (!portalock_backend_available (PORTALOCK_BACKEND_FLOCK))
    {
      unsupported ("interoperability with portalocker: no flock here");
      return check_exit ();
    }
  test_lock ();
  test_semaphore ();
  test_plock ();
  test_backends ();
  return check_exit ();
}
