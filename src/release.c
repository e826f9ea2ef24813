/* release.c: asking the holder of a lock to let go, for punlock and plock -u.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "release.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "filecheck.h"
#include "holder.h"
#include "lockfile.h"
#include "marker-tool.h"
#include "portalock.h"
#include "progname.h"
#include "signame.h"

/* Trust.  punlock signals a process only after three checks, made after
   it has a pidfd of the process (so that the PID cannot go to another
   process between the checks and the signal): the kernel lists it as
   holding a lock on the file (portalock_holders: /proc/locks and
   /proc/PID/fdinfo), it is a plock holder (its name, HOLDER_NAME), and
   it has not exited.  A PID from a record or --pid is only a hint, held
   to the same checks.  */

#define MAX_TARGETS 64

struct target
{
  pid_t pid;
  int pidfd;            /* -1 where the system has no pidfds */
  bool done;            /* exited */
};

static int
send_signal (const struct target *t, int sig)
{
  return signal_process (t->pidfd, t->pid, sig);
}

/* Return true if T has exited.  */
static bool
target_exited (struct target *t)
{
  if (t->done)
    return true;
  if (t->pidfd >= 0)
    {
      struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
      t->done = poll (&pfd, 1, 0) > 0;
    }
  else
    t->done = kill (t->pid, 0) != 0 && errno == ESRCH;
  return t->done;
}

/* Return the holders of PATH in a fresh array, their count in *N; NULL
   with errno on failure.  */
static pid_t *
list_holders (const char *path, int *n)
{
  size_t max = 16;
  for (;;)
    {
      pid_t *pids = malloc (max * sizeof *pids);
      if (pids == NULL)
        return NULL;
      int count = portalock_holders (path, pids, max);
      if (count < 0 || (size_t) count <= max)
        {
          if (count < 0)
            {
              int err = errno;
              free (pids);
              errno = err;
              return NULL;
            }
          *n = count;
          return pids;
        }
      free (pids);
      max = count + 16;
    }
}

static bool
contains (const pid_t *pids, int n, pid_t pid)
{
  for (int i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Wait until every target has exited or SECONDS pass.  Return true if
   all have.  */
static bool
await_targets (struct target *t, int n, double seconds)
{
  double deadline = lockfile_now () + seconds;
  for (;;)
    {
      struct pollfd pfds[MAX_TARGETS];
      int np = 0;
      bool all = true, polling = false;
      for (int i = 0; i < n; i++)
        if (!target_exited (&t[i]))
          {
            all = false;
            if (t[i].pidfd >= 0)
              pfds[np++] = (struct pollfd) { .fd = t[i].pidfd,
                                             .events = POLLIN };
            else
              polling = true;
          }
      if (all)
        return true;
      double left = deadline - lockfile_now ();
      if (left <= 0)
        return false;
      /* Without pidfds, look every 10 ms.  */
      int ms = left * 1000 > 1e8 ? 100000000 : (int) ceil (left * 1000);
      if (polling && ms > 10)
        ms = 10;
      if (poll (pfds, np, ms) < 0 && errno != EINTR)
        return false;
    }
}

/* Take, without waiting, a lock of every kind there is on FD, open on
   PATH: a flock lock, and an OFD lock (which conflicts with fcntl and
   lockf locks) or, without OFD locks, a fcntl lock.  A holder of any
   api then neither holds nor can get a lock on the file until FD is
   closed.  A descriptor that cannot take an exclusive lock of the fcntl
   kind (open read-only) takes a shared one, and the kernel's list of
   holders then says whether anyone else holds one.  Return 0, or -1
   with errno (EWOULDBLOCK: someone holds the lock).  */
static int
lock_every_kind (int fd, const char *path)
{
  if (portalock_backend_lock (PORTALOCK_BACKEND_FLOCK, fd,
                              PORTALOCK_EX | PORTALOCK_NB, 0, 0, 0) != 0)
    return -1;
  enum portalock_backend record_kind
    = portalock_backend_available (PORTALOCK_BACKEND_OFD)
    ? PORTALOCK_BACKEND_OFD : PORTALOCK_BACKEND_FCNTL;
  if (portalock_backend_lock (record_kind, fd, PORTALOCK_EX | PORTALOCK_NB,
                              0, 0, 0) != 0)
    {
      if (errno == EWOULDBLOCK)
        return -1;
      if (portalock_backend_lock (record_kind, fd,
                                  PORTALOCK_SH | PORTALOCK_NB, 0, 0, 0) != 0
          && errno == EWOULDBLOCK)
        return -1;
    }
  pid_t pids[8];
  int n = portalock_holders (path, pids, 8);
  if (n < 0)
    return errno == ENOTSUP ? 0 : -1;
  for (int i = 0; i < n; i++)
    if (i >= 8 || pids[i] != getpid ())
      {
        errno = EWOULDBLOCK;
        return -1;
      }
  return 0;
}

/* Open PATH for lock_every_kind without following a symbolic link and
   without blocking on a FIFO; read-write if WRITE (else read-write if
   permitted).  Refuse (EINVAL) anything but a regular file or, unless
   WRITE, a directory.  Return the descriptor or -1 with errno.  */
static int
open_to_probe (const char *path, bool write)
{
  int flags = O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = open (path, O_RDWR | flags);
  if (fd < 0 && !write && (errno == EISDIR || errno == EACCES))
    fd = open (path, O_RDONLY | flags);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat (fd, &st) != 0
      || !(S_ISREG (st.st_mode) || (!write && S_ISDIR (st.st_mode))))
    {
      close (fd);
      errno = EINVAL;
      return -1;
    }
  return fd;
}

/* Delete PATH if no one holds its lock, with any api, never a file
   someone locked after the release; only a regular file or an (empty)
   directory.  Return punlock's status.  */
static int
remove_file (const char *path, const struct release_options *opts)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    {
      if (errno == ENOENT)
        return EXIT_SUCCESS;
      if (!opts->quiet)
        error (0, errno, "%s: not removed", path);
      return EX_NOINPUT;
    }
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
    {
      if (!opts->quiet)
        error (0, 0, "%s: not removed: not a regular file", path);
      return EX_DATAERR;
    }
  int fd = open_to_probe (path, false);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return EXIT_SUCCESS;
      if (!opts->quiet)
        error (0, errno, "%s: not removed", path);
      return EX_NOINPUT;
    }
  if (lock_every_kind (fd, path) != 0)
    {
      int err = errno;
      close (fd);
      if (!opts->quiet)
        {
          if (err == EWOULDBLOCK)
            error (0, 0, "%s: not removed: locked again by another process",
                   path);
          else
            error (0, err, "%s: not removed", path);
        }
      return err == EWOULDBLOCK ? EX_TEMPFAIL : EX_DATAERR;
    }
  int status = EXIT_SUCCESS;
  if (remove_locked_file (fd, path) != 0)
    {
      if (!opts->quiet)
        {
          if (errno == EINVAL)
            error (0, 0, "%s: not removed: not a regular file", path);
          else
            error (0, errno, "cannot remove %s", path);
        }
      status = errno == EINVAL ? EX_DATAERR : EX_CANTCREAT;
    }
  else if (opts->verbose)
    printf ("%s: %s: removed\n", program_name, path);
  close (fd);
  return status;
}

/* Clear the stale record in PATH (the file itself, or OPTS->pid_file),
   under a lock of every kind so that no live holder's record is lost,
   and only if what is there is a record.  */
static void
clear_stale_record (const char *path, const struct release_options *opts)
{
  pid_t pid = 0;
  if (opts->pid_file != NULL)
    {
      struct stat st;
      if (lstat (opts->pid_file, &st) == 0 && S_ISREG (st.st_mode)
          && portalock_pid_record_read (opts->pid_file, &pid) == 0
          && pid != 0)
        unlink (opts->pid_file);
      return;
    }
  int fd = open_to_probe (path, true);
  if (fd < 0)
    return;
  if (lock_every_kind (fd, path) == 0
      && portalock_pid_record_read (path, &pid) == 0 && pid != 0)
    {
      struct stat a, b;
      if (fstat (fd, &a) == 0 && stat (path, &b) == 0
          && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        {
          int r = ftruncate (fd, 0);
          (void) r;
        }
    }
  close (fd);
}

/* Nothing to release: say why, return the status.  */
static int
nothing_to_release (const char *path, const struct release_options *opts)
{
  pid_t pid = 0;
  const char *record = opts->pid_file ? opts->pid_file : path;
  /* The kernel lists no holder: a record, if any, is stale.  */
  portalock_pid_record_read (record, &pid);
  if (pid != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: stale record: PID %ld holds no lock on %s",
               record, (long) pid, path);
      if (opts->force)
        {
          clear_stale_record (path, opts);
          return EXIT_SUCCESS;
        }
      return EXIT_FAILURE;
    }
  if (opts->force)
    return EXIT_SUCCESS;
  if (!opts->quiet)
    error (0, 0, "%s: not locked", path);
  return EXIT_FAILURE;
}

/* Pick the targets among PATH's holders: pidfds open, checks made.
   Return -1 and the status in *STATUS if there is nothing to signal.  */
static int
pick_targets (const char *path, const struct release_options *opts,
              pid_t want, struct target *t, int *status)
{
  int n;
  pid_t *pids = list_holders (path, &n);
  if (pids == NULL)
    {
      if (!opts->quiet)
        error (0, errno, "%s: cannot tell who holds the lock", path);
      *status = errno == ENOENT ? EX_NOINPUT : EX_OSERR;
      return -1;
    }
  int count = 0;
  pid_t stranger = 0;
  for (int i = 0; i < n; i++)
    {
      if (want != 0 && pids[i] != want)
        continue;
      if (!is_holder_process (pids[i]))
        {
          if (stranger == 0)
            stranger = pids[i];
          continue;
        }
      if (count == MAX_TARGETS)
        break;
      t[count].pid = pids[i];
      t[count].pidfd = open_pidfd (pids[i]);
      t[count].done = false;
      if (t[count].pidfd < 0 && errno == ESRCH)
        continue;
      count++;
    }
  free (pids);

  /* Check again now that the pidfds pin the processes.  */
  if (count > 0)
    {
      pids = list_holders (path, &n);
      int kept = 0;
      for (int i = 0; i < count; i++)
        if (pids != NULL && contains (pids, n, t[i].pid)
            && is_holder_process (t[i].pid) && !target_exited (&t[i]))
          t[kept++] = t[i];
        else if (t[i].pidfd >= 0)
          close (t[i].pidfd);
      free (pids);
      count = kept;
    }
  if (count > 0)
    return count;

  if (stranger != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld, which is not a plock holder",
               path, (long) stranger);
      *status = EX_UNAVAILABLE;
    }
  else if (want != 0 && opts->pid_file != NULL && opts->pid == 0)
    *status = nothing_to_release (path, opts);
  else if (want != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: PID %ld holds no lock on it", path, (long) want);
      *status = opts->force ? EXIT_SUCCESS : EXIT_FAILURE;
    }
  else
    *status = nothing_to_release (path, opts);
  return -1;
}

static void
close_targets (struct target *t, int n)
{
  for (int i = 0; i < n; i++)
    if (t[i].pidfd >= 0)
      close (t[i].pidfd);
}

/* Signal the N targets with SIG.  Return 0 or punlock's status.  */
static int
signal_targets (const char *path, const struct release_options *opts,
                struct target *t, int n, int sig)
{
  for (int i = 0; i < n; i++)
    {
      if (send_signal (&t[i], sig) != 0)
        {
          if (errno == ESRCH)
            {
              t[i].done = true;
              continue;
            }
          int err = errno;
          if (!opts->quiet)
            error (0, err, "%s: cannot signal holder %ld", path,
                   (long) t[i].pid);
          return err == EPERM ? EX_NOPERM : EX_OSERR;
        }
      if (opts->verbose)
        {
          const char *name = signal_name (sig);
          if (name != NULL)
            printf ("%s: %s: sent SIG%s to holder %ld\n", program_name, path,
                    name, (long) t[i].pid);
          else
            printf ("%s: %s: sent signal %d to holder %ld\n", program_name,
                    path, sig, (long) t[i].pid);
        }
    }
  return 0;
}

static int signal_and_await (const char *path,
                             const struct release_options *opts,
                             struct target *t, int n);

/* Markers.  A lock of the strict or lease method is a marker file beside
   FILE (FILE.marker) that names its holder: host, boot, PID, the
   process's start time and a token (marker-tool.c).  punlock signals
   its holder only if it is provably that process on this machine, a
   live plock holder: same host and boot, same PID and start time, named
   HOLDER_NAME; and it looks again once it has a pidfd of the process.
   A holder elsewhere, or one that cannot be proved, is left alone: only
   an explicit break (punlock --break) takes a marker from it.  */

/* Break the marker of PATH with TOKEN, for a holder proved dead.
   Return true if it is gone (broken, or gone already).  */
static bool
clear_dead_marker (const char *path, const char *token)
{
  return portalock_marker_break (path, token) == 0 || errno == ENOENT
    || errno == ESTALE;
}

/* The holder INFO names is not one punlock may signal: say why and
   return punlock's status (69, or 1 for a holder that is gone).  */
static int
marker_refusal (const char *path, const struct portalock_marker_info *info,
                enum marker_holder judged, const struct release_options *opts)
{
  long pid = (long) info->pid;
  switch (judged)
    {
    case MARKER_GONE:
      if (opts->force && clear_dead_marker (path, info->token))
        {
          if (opts->verbose)
            printf ("%s: %s: cleared the marker of PID %ld, which is gone\n",
                    program_name, path, pid);
          return EXIT_SUCCESS;
        }
      if (!opts->quiet)
        error (0, 0, "%s: stale marker: its holder PID %ld is gone", path,
               pid);
      return opts->force ? EX_OSERR : EXIT_FAILURE;
    case MARKER_FOREIGN:
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld on host %s (a %s lock), which "
               "punlock cannot check from here: run punlock there, or "
               "break it with 'punlock --break'", path, pid, info->host,
               marker_method_name (info));
      return EX_UNAVAILABLE;
    case MARKER_UNKNOWN:
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld, which cannot be told from "
               "another process of that PID", path, pid);
      return EX_UNAVAILABLE;
    default:
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld, which is not a plock holder",
               path, pid);
      return EX_UNAVAILABLE;
    }
}

/* Return true if PATH's marker is still INFO's hold and its holder the
   live plock holder it was.  */
static bool
same_live_holder (const char *path, const struct portalock_marker_info *info)
{
  struct portalock_marker_info now;
  return (portalock_marker_read (path, &now, sizeof now) == 1
          && strcmp (now.token, info->token) == 0
          && marker_judge (&now) == MARKER_LIVE
          && is_holder_process (now.pid));
}

/* Release the holder of PATH's marker INFO as OPTS says, WANT (from
   --pid or --pid-file), if not 0, the PID it must have.  */
static int
release_marker (const char *path, const struct portalock_marker_info *info,
                pid_t want, const struct release_options *opts)
{
  if (want != 0 && want != info->pid)
    {
      if (!opts->quiet)
        error (0, 0, "%s: PID %ld holds no lock on it (its marker names "
               "PID %ld)", path, (long) want, (long) info->pid);
      return opts->force ? EXIT_SUCCESS : EXIT_FAILURE;
    }
  enum marker_holder judged = marker_judge (info);
  if (judged != MARKER_LIVE || !is_holder_process (info->pid))
    return marker_refusal (path, info, judged, opts);

  /* Pin the process, then look again.  */
  struct target t = { .pid = info->pid, .pidfd = open_pidfd (info->pid),
                      .done = false };
  if ((t.pidfd < 0 && errno == ESRCH) || !same_live_holder (path, info))
    {
      if (t.pidfd >= 0)
        close (t.pidfd);
      if (!opts->quiet)
        error (0, 0, "%s: its marker changed hands while punlock looked",
               path);
      return EX_TEMPFAIL;
    }
  int status = signal_and_await (path, opts, &t, 1);
  if (status != 0 || opts->wait <= 0)
    return status;

  /* A holder that had no time to give its marker back (-k killed it)
     is provably dead now: its marker goes.  */
  struct portalock_marker_info now;
  if (portalock_marker_read (path, &now, sizeof now) == 1
      && strcmp (now.token, info->token) == 0
      && !clear_dead_marker (path, info->token))
    {
      if (!opts->quiet)
        error (0, errno, "%s: cannot clear the marker of holder %ld", path,
               (long) info->pid);
      return EX_OSERR;
    }
  if (opts->verbose)
    printf ("%s: %s: released\n", program_name, path);
  if (!opts->remove)
    return EXIT_SUCCESS;
  if (portalock_marker_read (path, &now, sizeof now) != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: not removed: locked again by another process",
               path);
      return EX_TEMPFAIL;
    }
  return remove_file (path, opts);
}

int
break_marker (const char *path, const char *token,
              const struct release_options *opts)
{
  struct portalock_marker_info info;
  int r = portalock_marker_read (path, &info, sizeof info);
  /* A token that is not the writer marker's may be a reader's (a shared
     lock of a marker method).  */
  if (token != NULL && !(r == 1 && strcmp (token, info.token) == 0)
      && portalock_marker_break (path, token) == 0)
    {
      if (opts->verbose)
        printf ("%s: %s: broke the reader marker of token %s\n",
                program_name, path, token);
      return EXIT_SUCCESS;
    }
  if (r == 0 || (r < 0 && errno == ENOENT))
    {
      if (opts->force)
        return EXIT_SUCCESS;
      if (!opts->quiet)
        error (0, 0, "%s: no marker to break", path);
      return EXIT_FAILURE;
    }
  if (r < 0)
    {
      int err = errno;
      if (!opts->quiet)
        {
          if (err == EPROTO)
            error (0, 0, "%s.marker is not a lock's marker: left alone",
                   path);
          else
            error (0, err, "%s: cannot read its marker", path);
        }
      return err == EPROTO ? EX_DATAERR : err == EACCES ? EX_NOPERM
        : EX_OSERR;
    }
  /* Break only the hold that was read, whose holder is the one named
     in the messages: a marker that took its place meanwhile stays.  */
  if (token != NULL && strcmp (token, info.token) != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: held by token %s, not %s: left alone", path,
               info.token, token);
      return opts->force ? EXIT_SUCCESS : EXIT_FAILURE;
    }
  if (portalock_marker_break (path, info.token) != 0)
    {
      int err = errno;
      if (err == ENOENT || err == ESTALE)
        {
          if (!opts->quiet)
            error (0, 0, "%s: the marker of PID %ld on host %s changed "
                   "meanwhile: left alone", path, (long) info.pid,
                   info.host);
          return token != NULL || opts->force ? EXIT_SUCCESS
            : EX_TEMPFAIL;
        }
      if (!opts->quiet)
        error (0, err, "%s: cannot break its marker", path);
      return err == EPROTO ? EX_DATAERR : err == EACCES || err == EPERM
        ? EX_NOPERM : EX_OSERR;
    }
  if (opts->verbose)
    printf ("%s: %s: broke the %s lock of PID %ld on host %s (token %s)\n",
            program_name, path, marker_method_name (&info), (long) info.pid,
            info.host, info.token);
  return EXIT_SUCCESS;
}

/* Signal the N targets T of PATH as OPTS says, wait for them to exit
   (sending KILL after the wait if asked), and close their pidfds.
   Return 0, or punlock's status.  */
static int
signal_and_await (const char *path, const struct release_options *opts,
                  struct target *t, int n)
{
  int status = signal_targets (path, opts, t, n, opts->signal);
  if (status == 0 && opts->wait > 0
      && !await_targets (t, n, opts->wait))
    {
      if (opts->kill_after)
        {
          status = signal_targets (path, opts, t, n, SIGKILL);
          if (status == 0 && !await_targets (t, n, opts->kill_wait))
            status = EX_TEMPFAIL;
        }
      else
        status = EX_TEMPFAIL;
      if (status == EX_TEMPFAIL && !opts->quiet)
        for (int i = 0; i < n; i++)
          if (!target_exited (&t[i]))
            error (0, 0, "%s: still held by holder %ld", path,
                   (long) t[i].pid);
    }
  close_targets (t, n);
  return status;
}

int
release_file (const char *path, const struct release_options *opts)
{
  /* The file can only be deleted once the holders have let go, which
     -w 0 does not wait for: refuse rather than signal and not delete.  */
  if (opts->remove && opts->wait <= 0)
    {
      error (0, 0, "--remove waits for the release: not with a wait of 0");
      return EX_USAGE;
    }
  /* A lock of the strict or lease method: its marker names the holder.
     Anything else at the marker's name (EPROTO) is no lock's: the file
     may still be held with a kernel lock.  */
  struct portalock_marker_info info;
  bool marked = portalock_marker_read (path, &info, sizeof info) == 1;
  struct stat st;
  if (!marked && stat (path, &st) != 0)
    {
      if (errno == ENOENT && opts->force)
        return EXIT_SUCCESS;
      if (!opts->quiet)
        error (0, errno, "%s", path);
      return EX_NOINPUT;
    }

  pid_t want = opts->pid;
  if (opts->pid_file != NULL)
    {
      /* The record in a PID file is only a hint of which holder to
         release (it holds no lock on the PID file itself): it is
         checked against the kernel like any PID.  */
      pid_t recorded = 0;
      int r = portalock_pid_record_read (opts->pid_file, &recorded);
      if (r < 0 && recorded == 0)
        {
          if (errno == ENOENT && opts->force)
            return EXIT_SUCCESS;
          if (!opts->quiet)
            {
              if (errno == EINVAL)
                error (0, 0, "cannot read PID file %s: not a regular file",
                       opts->pid_file);
              else
                error (0, errno, "cannot read PID file %s", opts->pid_file);
            }
          return EX_NOINPUT;
        }
      if (recorded == 0)
        return nothing_to_release (path, opts);
      if (want != 0 && want != recorded)
        {
          if (!opts->quiet)
            error (0, 0, "%s names PID %ld, not %ld", opts->pid_file,
                   (long) recorded, (long) want);
          return EXIT_FAILURE;
        }
      want = recorded;
    }

  if (marked)
    return release_marker (path, &info, want, opts);

  struct target t[MAX_TARGETS];
  int status;
  int n = pick_targets (path, opts, want, t, &status);
  if (n < 0)
    return status;

  status = signal_and_await (path, opts, t, n);
  if (status != 0 || opts->wait <= 0)
    return status;

  /* Done once the holders have gone: a waiter may own the lock by now,
     which is no failure of the release.  */
  if (opts->verbose)
    printf ("%s: %s: released\n", program_name, path);
  if (opts->remove)
    status = remove_file (path, opts);
  return status;
}
