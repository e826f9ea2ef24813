/* holder.c: the background process that keeps a lock after plock exits.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "holder.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "duration.h"
#include "error.h"
#include "filecheck.h"
#include "method-lock.h"
#include "process.h"
#include "progname.h"

/* How it works.  plock opens the file (so that every error about the
   file is plock's own, before anything runs in the background) and
   forks.  The child takes the lock itself, exactly as plock would for a
   command: locks of the fcntl and lockf kinds belong to a process and
   are not inherited, so only the process that keeps the lock may take
   it.  Once it holds the lock and has written its record, the child
   tells plock through a pipe, and plock exits 0; so when plock returns,
   the lock is held, and "plock FILE && next" has no race.  If the child
   fails, it sends the errno, and plock reports it as it would its own.
   Until it reports, the child dies with plock (PR_SET_PDEATHSIG): a
   plock interrupted while waiting leaves nothing behind.

   The holder is the forked plock itself, not a new program: it costs no
   exec and shares plock's pages.  It starts a session of its own, puts
   its standard streams on /dev/null, keeps no descriptor but the lock's,
   the record's and its owner's, and waits in ppoll(2) for one of:
   SIGTERM, SIGINT or SIGHUP; its owner's exit (a pidfd on Linux, which
   becomes readable when the process exits); the --max-hold deadline.
   Then it clears its record while it still holds the lock, deletes the
   file if asked, and exits, which releases the lock.  */

/* The holder's report to plock.  */
enum stage
{
  STAGE_HELD,           /* the lock is held and the record written */
  STAGE_OPEN,           /* reopening the file failed */
  STAGE_LOCK,           /* locking failed */
  STAGE_RECORD,         /* writing the record failed */
  STAGE_SYSTEM          /* some other system call failed */
};

struct report
{
  int stage;
  int err;
  double waited;        /* seconds spent getting the lock */
};

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal (int sig)
{
  stop_signal = sig;
}

/* Close every descriptor but the N in KEEP.  */
static void
close_other_descriptors (const int *keep, int n)
{
  int sorted[8];
  int count = 0;
  for (int i = 0; i < n; i++)
    if (keep[i] >= 0)
      {
        int j = count++;
        while (j > 0 && sorted[j - 1] > keep[i])
          {
            sorted[j] = sorted[j - 1];
            j--;
          }
        sorted[j] = keep[i];
      }
  unsigned int low = 3;
  for (int i = 0; i <= count; i++)
    {
      unsigned int high = i < count ? (unsigned int) sorted[i] : ~0U;
      if (high > low)
        {
          if (process_close_range (low, high - 1) == 0)
            {
              low = high + 1;
              continue;
            }
          long max = sysconf (_SC_OPEN_MAX);
          if (max < 0 || max > 65536)
            max = 65536;
          for (unsigned int fd = low; fd < high && fd < (unsigned) max; fd++)
            close (fd);
        }
      if (i < count)
        low = high + 1;
    }
}

/* Send REPORT to plock on FD.  Return true if it was sent.  */
static bool
send_report (int fd, int stage, int err, double waited)
{
  struct report r = { .stage = stage, .err = err, .waited = waited };
  ssize_t n;
  do
    n = write (fd, &r, sizeof r);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof r;
}

/* Put the standard streams on /dev/null.  */
static int
detach_stdio (void)
{
  int null = open ("/dev/null", O_RDWR);
  if (null < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (null != fd && dup2 (null, fd) < 0)
      return -1;
  if (null > 2)
    close (null);
  return 0;
}

/* Wait until a stop signal, the owner's exit, the loss of the lock (a
   byte on LOST_FD, -1 for none) or the deadline.  Return true if the
   lock was lost.  */
static bool
hold_until_released (struct hold_request *req, int lost_fd,
                     const sigset_t *waitmask)
{
  double deadline = isfinite (req->max_hold)
    ? lockfile_now () + req->max_hold : INFINITY;
  /* poll(2) passes over an entry whose descriptor is negative.  */
  struct pollfd pfd[2] = { { .fd = req->owner_fd, .events = POLLIN },
                           { .fd = lost_fd, .events = POLLIN } };
  bool poll_owner = !req->detach && req->owner_fd < 0;

  while (stop_signal == 0)
    {
      struct timespec ts, *tsp = NULL;
      double left = INFINITY;
      if (isfinite (deadline))
        {
          left = deadline - lockfile_now ();
          if (left <= 0)
            return false;
        }
      /* Without a pidfd, look at the owner every second.  */
      if (poll_owner && left > 1)
        left = 1;
      /* A deadline too far for time_t is none: never "now".  */
      if (duration_to_timespec (left, &ts))
        tsp = &ts;
      int r = ppoll (pfd, 2, tsp, waitmask);
      if (r < 0 && errno != EINTR)
        return false;
      if (r > 0)
        return pfd[1].revents != 0;     /* lost, or the owner exited */
      if (poll_owner && kill (req->owner, 0) != 0 && errno == ESRCH)
        return false;
    }
  return false;
}

/* Let go: clear the record while still holding the lock, then delete
   the file if asked, then give the lock back: the lock object's
   release (OBJ, if not NULL), or the exit, which releases a kernel
   lock.  Exit 0, or LOCK_EXIT_LOST if the lock was lost (LOST, or found
   so by the release).  */
static _Noreturn void
release_and_exit (struct hold_request *req, bool wrote_record,
                  portalock *obj, bool lost)
{
  if (wrote_record)
    {
      if (req->pid_file != NULL)
        {
          pid_t pid;
          if (portalock_pid_record_read (req->pid_file, &pid) >= 0
              && pid == getpid ())
            unlink (req->pid_file);
        }
      else if (obj == NULL)
        clear_own_record (req->fd);
    }
  if (req->remove && !lost)
    remove_locked_file (req->fd, req->lock.path);
  if (obj != NULL)
    {
      method_lock_finish (obj, req->lock.path, &lost, true);
      _exit (lost ? LOCK_EXIT_LOST : EXIT_SUCCESS);
    }
  portalock_backend_lock (req->lock.api, req->fd, PORTALOCK_UN,
                          req->lock.start, req->lock.length, 0);
  _exit (EXIT_SUCCESS);
}

/* Have SIGTERM, SIGINT and SIGHUP end the holder's wait: block them
   but in ppoll, with the mask stored in *WAITMASK.  A lock object's
   heartbeat thread, made after this, inherits the block, so that they
   reach the thread that waits.  */
static void
catch_stop_signals (sigset_t *waitmask)
{
  sigset_t stops;
  sigemptyset (&stops);
  sigaddset (&stops, SIGTERM);
  sigaddset (&stops, SIGINT);
  sigaddset (&stops, SIGHUP);
  sigprocmask (SIG_BLOCK, &stops, waitmask);
  sigdelset (waitmask, SIGTERM);
  sigdelset (waitmask, SIGINT);
  sigdelset (waitmask, SIGHUP);
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGQUIT, SIG_DFL);
}

/* The pipe the lost-lock callback writes a byte to.  */
static int lost_pipe[2] = { -1, -1 };

/* Called by the library's heartbeat thread when the lock is lost.  */
static void
holder_lost (portalock *lock, void *arg)
{
  (void) lock;
  (void) arg;
  char c = 1;
  while (write (lost_pipe[1], &c, 1) < 0 && errno == EINTR)
    ;
}

/* Take the lock of REQ's method through a lock object, for the holder:
   every descriptor it does not need is closed first, since the object
   keeps descriptors of its own (its marker, the heartbeat's).  Return
   the object, or send the report and exit.  */
static portalock *
take_object (struct hold_request *req, int report_fd)
{
  if (pipe2 (lost_pipe, O_CLOEXEC) != 0)
    {
      send_report (report_fd, STAGE_SYSTEM, errno, 0);
      _exit (EX_OSERR);
    }
  int keep[] = { req->pid_file_fd, req->owner_fd, report_fd, lost_pipe[0],
                 lost_pipe[1] };
  close_other_descriptors (keep, 5);
  req->fd = -1;
  int status;
  portalock *obj = method_lock_new (&req->lock, req->record, holder_lost,
                                    NULL, true, &status);
  if (obj == NULL)
    {
      send_report (report_fd, STAGE_SYSTEM, errno, 0);
      _exit (status);
    }
  if (portalock_acquire (obj) != 0)
    {
      send_report (report_fd, STAGE_LOCK, errno, 0);
      _exit (EX_DATAERR);
    }
  req->fd = portalock_fd (obj);
  return obj;
}

/* The child: lock, record, report, hold.  Never returns.  */
static _Noreturn void
run_holder (struct hold_request *req, int report_fd, pid_t plock_pid)
{
  process_die_with_parent (SIGKILL);
  if (getppid () != plock_pid)
    _exit (EX_OSERR);
  setsid ();
  process_set_name (HOLDER_NAME);

  double started = lockfile_now ();
  sigset_t waitmask;
  portalock *obj = NULL;
  if (method_uses_object (&req->lock))
    {
      catch_stop_signals (&waitmask);
      obj = take_object (req, report_fd);
    }
  else
    {
      if (lockfile_acquire (&req->lock, &req->fd) != 0)
        {
          int err = errno;
          send_report (report_fd, req->fd < 0 ? STAGE_OPEN : STAGE_LOCK,
                       err, 0);
          _exit (EX_DATAERR);
        }
      /* From now on the stop signals only end the wait in ppoll.  */
      catch_stop_signals (&waitmask);
    }
  double waited = lockfile_now () - started;

  /* A lock object writes the record into the file itself.  */
  bool wrote_record = false;
  if (req->pid_file_fd >= 0 || (req->record && obj == NULL))
    {
      int rfd = req->pid_file_fd >= 0 ? req->pid_file_fd : req->fd;
      if (portalock_pid_record_write (rfd, req->lock.type) != 0)
        {
          send_report (report_fd, STAGE_RECORD, errno, waited);
          if (obj != NULL)
            portalock_free (obj);
          _exit (EX_CANTCREAT);
        }
      wrote_record = true;
    }

  if (detach_stdio () != 0)
    {
      send_report (report_fd, STAGE_SYSTEM, errno, waited);
      release_and_exit (req, wrote_record, obj, false);
    }
  if (obj == NULL)
    {
      int keep[] = { req->fd, req->pid_file_fd, req->owner_fd, report_fd };
      close_other_descriptors (keep, 4);
    }
  if (req->pid_file_fd >= 0)
    {
      close (req->pid_file_fd);
      req->pid_file_fd = -1;
    }

  /* Stay alive once plock has gone: from here the owner decides.  */
  process_die_with_parent (0);
  if (!send_report (report_fd, STAGE_HELD, 0, waited))
    release_and_exit (req, wrote_record, obj, false);
  close (report_fd);

  bool lost = hold_until_released (req, lost_pipe[0], &waitmask);
  release_and_exit (req, wrote_record, obj, lost);
}

int
record_failure (const char *name, int err, bool quiet)
{
  if (err == EEXIST)
    {
      if (!quiet)
        error (0, 0, "%s holds data that is not a PID record: "
               "not written (drop -p, or use --pid-file)", name);
      return EX_DATAERR;
    }
  if (!quiet)
    {
      if (err == EINVAL)
        error (0, 0, "cannot write the PID record to %s: not a regular "
               "file", name);
      else
        error (0, err, "cannot write the PID record to %s", name);
    }
  return EX_CANTCREAT;
}

/* In plock: turn the holder's report R (or its absence) into messages
   and an exit status.  */
static int
report_status (struct hold_request *req, const struct report *r,
               bool got_report, pid_t child)
{
  const char *name = req->lock.path;
  if (!got_report)
    {
      int status;
      while (waitpid (child, &status, 0) < 0 && errno == EINTR)
        ;
      if (!req->quiet)
        error (0, 0, "%s: the holder process failed to start", name);
      return EX_OSERR;
    }
  switch (r->stage)
    {
    case STAGE_HELD:
      if (req->verbose && !req->quiet)
        {
          printf ("%s: getting lock took %.6f seconds\n",
                  program_name, r->waited);
          printf ("%s: holder %ld keeps the lock\n", program_name,
                  (long) child);
        }
      return EXIT_SUCCESS;
    case STAGE_OPEN:
      return lockfile_open_status (&req->lock, r->err, req->quiet);
    case STAGE_LOCK:
      if (method_uses_object (&req->lock))
        return method_lock_status (&req->lock, r->err, req->record,
                                   req->conflict_code, req->verbose,
                                   req->quiet);
      return lockfile_lock_status (&req->lock, name, r->err,
                                   req->conflict_code, req->verbose,
                                   req->quiet);
    case STAGE_RECORD:
      return record_failure (req->pid_file ? req->pid_file : name,
                             r->err, req->quiet);
    default:
      if (!req->quiet)
        error (0, r->err, "%s: the holder process failed to start", name);
      return EX_OSERR;
    }
}

/* The body of a file holder: ARG is the request.  */
static void
file_holder (void *arg, int report_fd, int owner_fd, pid_t plock_pid)
{
  struct hold_request *req = arg;
  req->owner_fd = owner_fd;
  run_holder (req, report_fd, plock_pid);
}

int
start_holder (pid_t owner, bool detach, bool quiet, holder_body *body,
              void *arg, pid_t *child, int *report_fd)
{
  int owner_fd = -1;
  if (!detach)
    {
      owner_fd = open_pidfd (owner);
      if (owner_fd < 0 && errno == ESRCH)
        {
          if (!quiet)
            error (0, 0, "owner process %ld is not running", (long) owner);
          return EX_USAGE;
        }
    }

  int p[2];
  if (pipe2 (p, O_CLOEXEC) != 0)
    {
      if (!quiet)
        error (0, errno, "cannot create a pipe");
      if (owner_fd >= 0)
        close (owner_fd);
      return EX_OSERR;
    }
  fflush (stdout);
  fflush (stderr);
  pid_t plock_pid = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    {
      int err = errno;
      close (p[0]);
      close (p[1]);
      if (owner_fd >= 0)
        close (owner_fd);
      if (!quiet)
        error (0, err, "fork failed");
      return EX_OSERR;
    }
  if (pid == 0)
    {
      close (p[0]);
      body (arg, p[1], owner_fd, plock_pid);
      /* BODY never returns; should it, the holder failed.  */
      _exit (EX_OSERR);
    }

  close (p[1]);
  if (owner_fd >= 0)
    close (owner_fd);
  *child = pid;
  *report_fd = p[0];
  return 0;
}

bool
read_holder_report (int fd, void *buf, size_t size)
{
  ssize_t n;
  do
    n = read (fd, buf, size);
  while (n < 0 && errno == EINTR);
  close (fd);
  return n == (ssize_t) size;
}

int
hold_lock (struct hold_request *req)
{
  req->owner_fd = -1;
  pid_t child;
  int report_fd;
  int status = start_holder (req->owner, req->detach, req->quiet,
                             file_holder, req, &child, &report_fd);
  if (status != 0)
    return status;
  if (req->fd >= 0)
    close (req->fd);
  if (req->pid_file_fd >= 0)
    close (req->pid_file_fd);

  struct report r;
  bool got = read_holder_report (report_fd, &r, sizeof r);
  if (got && r.stage != STAGE_HELD)
    {
      int child_status;
      while (waitpid (child, &child_status, 0) < 0 && errno == EINTR)
        ;
    }
  return report_status (req, &r, got, child);
}
