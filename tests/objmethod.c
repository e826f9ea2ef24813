/* objmethod.c: lock objects with every method, on a plain directory and
   across two FUSE mounts of one (two "machines").

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuseharness.h"
#include "marker.h"
#include "portalock.h"
#include "testutil.h"

#define WORKERS 4
#define ROUNDS 40

/* The two sides: the same directory, or two mounts of one.  */
static const char *side[2];
static const char *label;
static int serial;

static char *
on (int s, const char *name)
{
  static char buf[8][4300];
  static int next;
  char *b = buf[next++ % 8];
  snprintf (b, sizeof buf[0], "%s/%s", side[s], name);
  return b;
}

static portalock *
new_lock (const char *path, enum portalock_method method)
{
  portalock *lock = portalock_new (path);
  if (lock == NULL || portalock_set_method (lock, method) != 0
      || portalock_set_timeout (lock, 0) != 0)
    die ("new lock");
  return lock;
}

/* A child that takes PATH with METHOD as host HOST, writes a byte to
   READY once it holds, and holds until killed or READY's other end
   closes.  Return its PID.  */
static pid_t
holder (const char *path, enum portalock_method method, const char *host,
        double ttl, int *ready_fd)
{
  int p[2], q[2];
  if (pipe (p) != 0 || pipe (q) != 0)
    die ("pipe");
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (p[0]);
      close (q[1]);
      portalock_mk_set_identity (host, "boot-1");
      portalock *lock = new_lock (path, method);
      if (ttl > 0)
        portalock_set_lease_ttl (lock, ttl);
      if (portalock_set_timeout (lock, 60) != 0
          || portalock_acquire (lock) != 0)
        _exit (2);
      char c = 'h';
      if (write (p[1], &c, 1) != 1)
        _exit (3);
      IGNORE_RESULT (read (q[0], &c, 1));
      portalock_release (lock);
      _exit (0);
    }
  close (p[1]);
  close (q[0]);
  char c;
  if (read (p[0], &c, 1) != 1)
    die ("holder did not take %s", path);
  close (p[0]);
  *ready_fd = q[1];
  fuse_child (pid);
  return pid;
}

static void
end_holder (pid_t pid, int fd)
{
  close (fd);
  waitpid (pid, NULL, 0);
  fuse_child (0);
}

/* Bad input changes nothing.  */
static void
check_bad_input (void)
{
  enum portalock_method m = PORTALOCK_METHOD_KERNEL;
  double ttl = -1;
  portalock *lock = new_lock (on (0, "bad"), PORTALOCK_METHOD_STRICT);
  int before = count_entries (side[0]);
  check (fails_with (portalock_set_method (lock, 5), EINVAL)
         && fails_with (portalock_set_method (NULL, 1), EINVAL)
         && fails_with (portalock_set_lease_ttl (lock, 0), EINVAL)
         && fails_with (portalock_set_lease_ttl (lock, -1), EINVAL)
         && fails_with (portalock_set_lease_ttl (lock, NAN), EINVAL)
         && fails_with (portalock_set_lease_ttl (lock, INFINITY), EINVAL)
         && fails_with (portalock_set_lease_ttl (lock, 1e7), EINVAL)
         && portalock_method_name (5) == NULL && errno == EINVAL
         && fails_with (portalock_held_method (lock), EBADF)
         && fails_with (portalock_held_method (NULL), EINVAL)
         && fails_with (portalock_method_from_name ("strict=3", &m, &ttl),
                        EINVAL)
         && fails_with (portalock_method_from_name ("lease=", &m, &ttl),
                        EINVAL)
         && fails_with (portalock_method_from_name ("lease=-1", &m, &ttl),
                        EINVAL)
         && fails_with (portalock_method_from_name ("lease=1x", &m, &ttl),
                        EINVAL)
         && fails_with (portalock_method_from_name ("lease=2", &m, NULL),
                        EINVAL)
         && fails_with (portalock_method_from_name ("Kernel", &m, &ttl),
                        EINVAL)
         && m == PORTALOCK_METHOD_KERNEL && ttl == -1
         && count_entries (side[0]) == before,
         "methods: %s: bad settings and names: EINVAL, nothing changed",
         label);
  check (portalock_method_from_name ("lease=2.5", &m, &ttl) == 0
         && m == PORTALOCK_METHOD_LEASE && ttl == 2.5
         && portalock_method_from_name ("auto", &m, &ttl) == 0
         && m == PORTALOCK_METHOD_AUTO && ttl == 0
         && strcmp (portalock_method_name (PORTALOCK_METHOD_STRICT),
                    "strict") == 0,
         "methods: %s: names read and written", label);

  /* A shared temporary marker lock (its last holder cannot tell it is
     the last across machines): ENOTSUP before anything is made.  */
  portalock_set_flags (lock, PORTALOCK_SH);
  portalock_set_temporary (lock, true);
  check (fails_with (portalock_acquire (lock), ENOTSUP)
         && count_entries (side[0]) == before,
         "methods: %s: a shared temporary strict lock: ENOTSUP, nothing "
         "created", label);
  portalock_free (lock);

  /* A PORTALOCK_METHOD that names nothing.  */
  lock = new_lock (on (0, "bad"), PORTALOCK_METHOD_DEFAULT);
  setenv ("PORTALOCK_METHOD", "lease=0", 1);
  check (fails_with (portalock_acquire (lock), EINVAL)
         && count_entries (side[0]) == before,
         "methods: %s: a bad PORTALOCK_METHOD: EINVAL, nothing created",
         label);
  setenv ("PORTALOCK_METHOD", "lease=7", 1);
  struct portalock_marker_info info;
  check (portalock_acquire (lock) == 0
         && portalock_held_method (lock) == PORTALOCK_METHOD_LEASE
         && portalock_marker_read (on (0, "bad"), &info, sizeof info) == 1
         && info.ttl_ms == 7000 && info.pid == getpid ()
         && info.method == PORTALOCK_METHOD_LEASE,
         "methods: %s: PORTALOCK_METHOD=lease=7 gives a lease of 7 s",
         label);
  check (fails_with (portalock_set_method (lock, PORTALOCK_METHOD_KERNEL),
                     EBUSY),
         "methods: %s: the method of a held lock: EBUSY", label);
  portalock_release (lock);
  unsetenv ("PORTALOCK_METHOD");
  check (portalock_acquire (lock) == 0
         && portalock_held_method (lock) == PORTALOCK_METHOD_KERNEL
         && portalock_marker_read (on (0, "bad"), &info, sizeof info) == 0,
         "methods: %s: without PORTALOCK_METHOD the default is the kernel",
         label);
  portalock_free (lock);
  check (fails_with (portalock_marker_read (on (0, "bad"), &info, 8), EINVAL)
         && fails_with (portalock_marker_read (NULL, &info, sizeof info),
                        EINVAL)
         && fails_with (portalock_marker_break (on (0, "bad"), NULL), ENOENT)
         && fails_with (portalock_marker_break (on (0, "bad"), "12"),
                        EINVAL),
         "methods: %s: marker reads and breaks of nothing", label);
  unlink (on (0, "bad"));
}

/* Two objects of one process; the data kept; generations.  */
static void
check_objects (enum portalock_method method)
{
  const char *what = portalock_method_name (method);
  const char *path = on (0, "obj");
  write_file (path, "data of the user\n");
  portalock *a = new_lock (path, method), *b = new_lock (on (1, "obj"),
                                                         method);
  check (portalock_acquire (a) == 0
         && fails_with (portalock_acquire (b), EWOULDBLOCK),
         "methods: %s, %s: two objects of one process exclude", label, what);
  uint64_t g1 = portalock_generation (a);
  check (portalock_release (a) == 0 && portalock_acquire (b) == 0
         && g1 > 0 && portalock_generation (b) > g1
         && portalock_held_method (b) == (int) method,
         "methods: %s, %s: the next holder's generation is greater", label,
         what);

  /* A forked child lets go of its copy: the parent still holds.  */
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      portalock_release (b);
      portalock_free (b);
      _exit (0);
    }
  waitpid (pid, NULL, 0);
  struct portalock_marker_info info;
  check (portalock_marker_read (path, &info, sizeof info) == 1
         && info.pid == getpid () && !portalock_lost (b)
         && fails_with (portalock_acquire (a), EWOULDBLOCK),
         "methods: %s, %s: a forked child's release leaves the parent's "
         "lock", label, what);
  check (portalock_release (b) == 0
         && portalock_marker_read (path, &info, sizeof info) == 0
         && has_text (path, "data of the user\n"),
         "methods: %s, %s: released, no marker left, the data kept", label,
         what);
  portalock_free (a);
  portalock_free (b);
  unlink (path);
}

/* portalock_default_method: what PORTALOCK_METHOD_DEFAULT stands for.  */
static void
check_default_method (void)
{
  enum portalock_method m = PORTALOCK_METHOD_AUTO;
  double ttl = -1;
  unsetenv ("PORTALOCK_METHOD");
  check (portalock_default_method (&m, &ttl) == 0
         && m == PORTALOCK_CONFIGURED_METHOD && ttl == 0,
         "methods: the default method is configure's without "
         "PORTALOCK_METHOD");
  setenv ("PORTALOCK_METHOD", "lease=2.5", 1);
  check (portalock_default_method (&m, &ttl) == 0
         && m == PORTALOCK_METHOD_LEASE && ttl == 2.5
         && portalock_default_method (&m, NULL) == 0
         && m == PORTALOCK_METHOD_LEASE,
         "methods: the default method follows PORTALOCK_METHOD=lease=2.5");
  setenv ("PORTALOCK_METHOD", "default", 1);
  m = PORTALOCK_METHOD_STRICT;
  ttl = 9;
  check (fails_with (portalock_default_method (&m, &ttl), EINVAL)
         && m == PORTALOCK_METHOD_STRICT && ttl == 9,
         "methods: PORTALOCK_METHOD=default names no method: EINVAL, "
         "nothing stored");
  setenv ("PORTALOCK_METHOD", "lease=0", 1);
  check (fails_with (portalock_default_method (&m, &ttl), EINVAL)
         && m == PORTALOCK_METHOD_STRICT && ttl == 9,
         "methods: PORTALOCK_METHOD=lease=0: EINVAL, nothing stored");
  unsetenv ("PORTALOCK_METHOD");
  check (fails_with (portalock_default_method (NULL, &ttl), EINVAL),
         "methods: portalock_default_method (NULL, ...): EINVAL");
}

/* Semaphores and PID records.  */
static void
check_semaphore_pid (void)
{
  portalock_semaphore *s[3];
  for (int i = 0; i < 3; i++)
    {
      s[i] = portalock_semaphore_new ("sem", 2, side[i % 2]);
      if (s[i] == NULL
          || portalock_semaphore_set_method (s[i], PORTALOCK_METHOD_STRICT)
          != 0 || portalock_semaphore_set_timeout (s[i], 0) != 0)
        die ("semaphore");
    }
  check (portalock_semaphore_acquire (s[0]) == 0
         && portalock_semaphore_acquire (s[1]) == 0
         && fails_with (portalock_semaphore_acquire (s[2]), EWOULDBLOCK)
         && exists (on (0, "sem.00.lock.marker"))
         && exists (on (0, "sem.01.lock.marker")),
         "methods: %s: a semaphore of 2 with strict markers", label);
  check (fails_with (portalock_semaphore_set_method (s[0], 1), EBUSY)
         && fails_with (portalock_semaphore_set_method (s[2], 9), EINVAL),
         "methods: %s: a semaphore's bad method settings", label);
  for (int i = 0; i < 3; i++)
    portalock_semaphore_free (s[i]);
  check (!exists (on (0, "sem.00.lock.marker"))
         && !exists (on (0, "sem.01.lock.marker")),
         "methods: %s: a freed semaphore leaves no marker", label);

  portalock *lock = new_lock (on (0, "pid"), PORTALOCK_METHOD_LEASE);
  char text[32];
  snprintf (text, sizeof text, "%ld\n", (long) getpid ());
  check (portalock_set_record_pid (lock, true) == 0
         && portalock_acquire (lock) == 0 && has_text (on (0, "pid"), text),
         "methods: %s: a lease writes the PID record", label);
  portalock_free (lock);
  unlink (on (0, "pid"));
}

static void
lost_cb (portalock *lock, void *arg)
{
  (void) lock;
  char c = 'l';
  IGNORE_RESULT (write (*(int *) arg, &c, 1));
}

/* A lease broken under its holder: the holder hears of it, and its
   release touches nothing of the next holder's.  */
static void
check_lost (void)
{
  const char *path = on (0, "lost");
  int p[2];
  if (pipe (p) != 0)
    die ("pipe");
  portalock *lock = new_lock (path, PORTALOCK_METHOD_LEASE);
  if (portalock_set_lease_ttl (lock, 2) != 0
      || portalock_set_lost_callback (lock, lost_cb, &p[1]) != 0
      || portalock_acquire (lock) != 0)
    die ("lease");
  struct portalock_marker_info info;
  if (portalock_marker_read (path, &info, sizeof info) != 1)
    die ("marker");
  /* Another "machine" breaks it and takes it (on one machine, where
     the old holder's kernel lock still excludes, the taker comes once
     the old holder has let go).  */
  int ready = -1;
  pid_t pid = -1;
  bool two = side[0] != side[1];
  check (portalock_marker_break (on (1, "lost"), info.token) == 0,
         "methods: %s: an explicit break of a lease", label);
  if (two)
    pid = holder (on (1, "lost"), PORTALOCK_METHOD_LEASE, "hostB", 30,
                  &ready);
  char c;
  check (read (p[0], &c, 1) == 1 && portalock_lost (lock),
         "methods: %s: the holder of a broken lease is told", label);
  check (fails_with (portalock_acquire (lock), ENOLCK)
         && fails_with (portalock_release (lock), ENOLCK),
         "methods: %s: its acquire and release fail with ENOLCK", label);
  if (!two)
    pid = holder (on (1, "lost"), PORTALOCK_METHOD_LEASE, "hostB", 30,
                  &ready);
  struct portalock_marker_info now;
  check (portalock_marker_read (on (1, "lost"), &now, sizeof now) == 1
         && strcmp (now.host, "hostB") == 0,
         "methods: %s: the lost holder left the new holder's marker", label);
  end_holder (pid, ready);
  portalock_free (lock);
  close (p[0]);
  close (p[1]);
  unlink (path);
}

/* A killed holder: a strict one of another host is never reclaimed, one
   of this host is; a lease of another host is taken once stale.  */
static void
check_killed (void)
{
  static const struct
  {
    enum portalock_method method;
    const char *host;
    bool reclaimed;
    const char *what;
  } cases[] = {
    { PORTALOCK_METHOD_STRICT, "hostB", false, "strict, another host" },
    { PORTALOCK_METHOD_STRICT, "hostA", true, "strict, this host" },
    { PORTALOCK_METHOD_LEASE, "hostB", true, "lease, another host" },
  };
  portalock_mk_set_identity ("hostA", "boot-1");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      const char *emulator = test_emulator ();
      if (cases[i].method == PORTALOCK_METHOD_STRICT && cases[i].reclaimed
          && emulator != NULL)
        {
          /* QEMU puts in /proc/self/stat the time the emulator started,
             which a forked process inherits, not the kernel's start
             time: the holder's marker says it is another process than
             /proc/PID/stat does, and it looks dead while it holds.  */
          unsupported ("methods: %s, %s: refused while held, taken once "
                       "its holder is killed: %s, whose start time in "
                       "/proc/self/stat is not the kernel's", label,
                       cases[i].what, emulator);
          continue;
        }
      char name[32];
      snprintf (name, sizeof name, "killed%zu", i);
      int ready;
      pid_t pid = holder (on (1, name), cases[i].method, cases[i].host, 1,
                          &ready);
      portalock *lock = new_lock (on (0, name), cases[i].method);
      portalock_set_lease_ttl (lock, 1);
      bool refused = fails_with (portalock_acquire (lock), EWOULDBLOCK);
      kill (pid, SIGKILL);
      end_holder (pid, ready);
      int r;
      if (cases[i].reclaimed)
        {
          portalock_set_timeout (lock, 60);
          r = portalock_acquire (lock);
          check (refused && r == 0,
                 "methods: %s, %s: refused while held, taken once its "
                 "holder is killed", label, cases[i].what);
        }
      else
        {
          portalock_set_timeout (lock, 2);
          r = portalock_acquire (lock);
          check (refused && failed_with (r != 0, ETIMEDOUT),
                 "methods: %s, %s: a killed holder's marker is never "
                 "reclaimed", label, cases[i].what);
          check (portalock_marker_break (on (0, name), NULL) == 0
                 && portalock_acquire (lock) == 0,
                 "methods: %s, %s: taken after an explicit break", label,
                 cases[i].what);
        }
      portalock_free (lock);
      unlink (on (0, name));
    }
  portalock_mk_set_identity (NULL, NULL);
}

/* A holder on side 0 with METHOD; does a try on side 1 succeed?  */
static bool
excludes_across (enum portalock_method method)
{
  char name[32];
  snprintf (name, sizeof name, "across%d", serial++);
  int ready;
  pid_t pid = holder (on (0, name), method, "hostA", 30, &ready);
  portalock_mk_set_identity ("hostB", "boot-2");
  portalock *lock = new_lock (on (1, name), method);
  int r = portalock_acquire (lock);
  int e = errno;
  portalock_free (lock);
  portalock_mk_set_identity (NULL, NULL);
  end_holder (pid, ready);
  unlink (on (0, name));
  return r != 0 && e == EWOULDBLOCK;
}

/* Exact counts: holders on both sides add to one counter.  */
static long
read_counter (const char *path)
{
  FILE *f = fopen (path, "r");
  long v = -1;
  if (f != NULL)
    {
      if (fscanf (f, "%ld", &v) != 1)
        v = -1;
      fclose (f);
    }
  return v;
}

static bool
write_counter (const char *path, long v)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    return false;
  fprintf (f, "%ld\n", v);
  return fclose (f) == 0;
}

static void
check_counts (enum portalock_method method)
{
  const char *what = portalock_method_name (method);
  /* Names of their own: a name removed through one mount may still be
     cached as there by the other's kernel.  */
  char counter[32], lockname[32];
  snprintf (counter, sizeof counter, "count%d", serial);
  snprintf (lockname, sizeof lockname, "countlock%d", serial++);
  if (!write_counter (on (0, counter), 0))
    die ("counter");
  pid_t pids[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    {
      pids[i] = fork ();
      if (pids[i] < 0)
        die ("fork");
      if (pids[i] == 0)
        {
          char host[8];
          snprintf (host, sizeof host, "host%c", 'A' + i % 2);
          portalock_mk_set_identity (host, "boot-1");
          portalock *lock = new_lock (on (i % 2, lockname), method);
          portalock_set_timeout (lock, 120);
          portalock_set_sync (lock, true);
          int bad = 0;
          for (int r = 0; r < ROUNDS; r++)
            {
              if (portalock_acquire (lock) != 0)
                {
                  fprintf (stderr, "acquire: %s\n", strerror (errno));
                  _exit (2);
                }
              long c = read_counter (on (i % 2, counter));
              if (c < 0 || !write_counter (on (i % 2, counter), c + 1))
                _exit (3);
              if (read_counter (on (i % 2, counter)) != c + 1)
                bad++;
              if (portalock_release (lock) != 0)
                {
                  fprintf (stderr, "release: %s\n", strerror (errno));
                  _exit (4);
                }
            }
          _exit (bad ? 1 : 0);
        }
    }
  bool ok = true;
  for (int i = 0; i < WORKERS; i++)
    {
      int status;
      bool good = (waitpid (pids[i], &status, 0) == pids[i]
                   && WIFEXITED (status) && WEXITSTATUS (status) == 0);
      if (!good)
        fprintf (stderr, "worker %d: status 0x%x\n", i, status);
      ok &= good;
    }
  if (read_counter (on (0, counter)) != WORKERS * ROUNDS)
    fprintf (stderr, "counter: %ld\n", read_counter (on (0, counter)));
  check (ok && read_counter (on (0, counter)) == WORKERS * ROUNDS,
         "methods: %s, %s: %d holds on both sides, exact count", label,
         what, WORKERS * ROUNDS);
  unlink (on (0, counter));
  unlink (on (0, lockname));
}

static void
plain_checks (void)
{
  check_bad_input ();
  check_default_method ();
  check_objects (PORTALOCK_METHOD_STRICT);
  check_objects (PORTALOCK_METHOD_LEASE);
  check_semaphore_pid ();
  check_lost ();
  portalock *lock = new_lock (on (0, "auto"), PORTALOCK_METHOD_AUTO);
  struct portalock_fs_info info;
  if (portalock_fs_probe (side[0], &info, sizeof info) != 0)
    die ("probe");
  int expect = info.verdict == PORTALOCK_FS_SPANS ? PORTALOCK_METHOD_KERNEL
    : PORTALOCK_METHOD_LEASE;
  check (portalock_acquire (lock) == 0
         && portalock_held_method (lock) == expect,
         "methods: %s: auto takes the %s here", label,
         portalock_method_name (expect));
  portalock_free (lock);
  unlink (on (0, "auto"));
}

static void
mount_checks (void)
{
  check (!excludes_across (PORTALOCK_METHOD_KERNEL),
         "methods: %s: the kernel method does not exclude across the "
         "mounts (the harness is real)", label);
  check (excludes_across (PORTALOCK_METHOD_STRICT)
         && excludes_across (PORTALOCK_METHOD_LEASE)
         && excludes_across (PORTALOCK_METHOD_AUTO),
         "methods: %s: strict, lease and auto exclude across the mounts",
         label);
  portalock *lock = new_lock (on (0, "auto"), PORTALOCK_METHOD_AUTO);
  check (portalock_acquire (lock) == 0
         && portalock_held_method (lock) == PORTALOCK_METHOD_LEASE,
         "methods: %s: auto takes a lease on a FUSE mount", label);
  portalock_free (lock);
  unlink (on (0, "auto"));
  check_objects (PORTALOCK_METHOD_STRICT);
  check_lost ();
  check_killed ();
  check_counts (PORTALOCK_METHOD_STRICT);
  check_counts (PORTALOCK_METHOD_LEASE);
  check_counts (PORTALOCK_METHOD_AUTO);
}

int
main (void)
{
  unsetenv ("PORTALOCK_METHOD");
  static char dir[4096];
  snprintf (dir, sizeof dir, "%s", test_path ("plain"));
  if (make_dir (dir) != 0)
    die ("mkdir");
  side[0] = side[1] = dir;
  label = "plain directory";
  plain_checks ();

  if (!fuse_setup ())
    {
      unsupported ("methods: two mounts: no /dev/fuse, bindfs or "
                   "fusermount here");
      return check_exit ();
    }
  if (!fuse_mount_both (false))
    {
      fuse_unmount_all ();
      unsupported ("methods: two mounts: bindfs refused to mount here");
      return check_exit ();
    }
  side[0] = fuse_mounts[0];
  side[1] = fuse_mounts[1];
  label = "two mounts";
  mount_checks ();
  fuse_unmount_all ();

  if (fuse_mount_both (true))
    {
      label = "two forwarding mounts";
      check (excludes_across (PORTALOCK_METHOD_KERNEL)
             && excludes_across (PORTALOCK_METHOD_STRICT),
             "methods: %s: the kernel method excludes across them, and "
             "strict too", label);
      fuse_unmount_all ();
    }
  else
    unsupported ("methods: two forwarding mounts: bindfs refused");
  return check_exit ();
}
