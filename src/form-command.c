/* form-command.c: plock FILE COMMAND, plock --fd=FD COMMAND and plock FD,
   the forms of util-linux flock(1).

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

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "filecheck.h"
#include "holder.h"
#include "lockfile.h"
#include "method-lock.h"
#include "plock.h"
#include "portalock.h"
#include "progname.h"

extern char **environ;

/* Return true if COMMAND can be found and executed, as execvp would;
   else false with errno.  */
static bool
command_exists (const char *command)
{
  if (strchr (command, '/') != NULL)
    return access (command, X_OK) == 0;
  const char *path = getenv ("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  size_t clen = strlen (command);
  int err = ENOENT;
  for (const char *p = path;; p++)
    {
      const char *end = strchrnul (p, ':');
      size_t dlen = end - p;
      char *full = malloc (dlen + clen + 3);
      if (full == NULL)
        return true;    /* let exec tell */
      if (dlen == 0)
        strcpy (full, ".");
      else
        {
          memcpy (full, p, dlen);
          full[dlen] = '\0';
        }
      strcat (full, "/");
      strcat (full, command);
      struct stat st;
      bool ok = stat (full, &st) == 0 && !S_ISDIR (st.st_mode)
        && access (full, X_OK) == 0;
      if (!ok && errno == EACCES)
        err = EACCES;
      free (full);
      if (ok)
        return true;
      if (*end == '\0')
        break;
      p = end;
    }
  errno = err;
  return false;
}

/* The running command, for the signal forwarder.  */
volatile pid_t command_pid;

/* A signal to pass on that came before the command's PID was known.
   Without threads it would wait, blocked, until then; but a lock of
   the lease method has a heartbeat thread, which the kernel may pick to
   handle it meanwhile.  */
static volatile sig_atomic_t pending_signal;

/* Set, from the library's heartbeat thread, when the lock of the strict,
   lease or auto method is lost while COMMAND runs.  */
static volatile sig_atomic_t command_lock_lost;

static const int forwarded_signals[] =
  { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define NFORWARDED (sizeof forwarded_signals / sizeof forwarded_signals[0])

/* Pass a signal sent to plock on to the command.  A signal the terminal
   sends (Ctrl-C) reaches the whole foreground process group, the command
   included, so only signals sent by a process are passed on.  */
static void
forward_signal (int sig, siginfo_t *info, void *context)
{
  (void) context;
  int saved_errno = errno;
  if (info == NULL || info->si_code <= 0)
    {
      pending_signal = sig;
      pid_t pid = command_pid;
      if (pid > 0)
        kill (pid, sig);
    }
  errno = saved_errno;
}

/* Report that COMMAND could not be run (errno ERR); return the status.  */
static int
exec_failure (const char *command, int err, bool quiet)
{
  if (!quiet)
    error (0, err, "failed to execute %s", command);
  return err == ENOMEM ? EX_OSERR : EX_UNAVAILABLE;
}

/* Run CMD (argv form) with the lock held on FD, as flock(1) does, and
   return plock's exit status.  */
int
run_command (struct options *o, char **cmd, int fd)
{
  signal (SIGCHLD, SIG_DFL);
  /* As in flock(1), --verbose's lines stay in stdout's buffer: on a
     pipe or a file they follow COMMAND's output (and -F drops them).  */
  if (o->verbose)
    printf ("%s: executing %s\n", program_name, cmd[0]);
  fflush (stderr);

  if (o->no_fork)
    {
      execvp (cmd[0], cmd);
      int err = errno;
      _exit (exec_failure (cmd[0], err, o->quiet));
    }

  sigset_t forwarded, old;
  sigemptyset (&forwarded);
  for (size_t i = 0; i < NFORWARDED; i++)
    sigaddset (&forwarded, forwarded_signals[i]);
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_init (&attr);
  posix_spawn_file_actions_init (&actions);
  if (o->do_close)
    posix_spawn_file_actions_addclose (&actions, fd);

  if (o->forward)
    {
      struct sigaction sa;
      memset (&sa, 0, sizeof sa);
      sa.sa_sigaction = forward_signal;
      sa.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset (&sa.sa_mask);
      /* Block them until the command's PID is known, and give the
         command the dispositions and mask plock had.  */
      sigprocmask (SIG_BLOCK, &forwarded, &old);
      for (size_t i = 0; i < NFORWARDED; i++)
        sigaction (forwarded_signals[i], &sa, NULL);
      posix_spawnattr_setsigdefault (&attr, &forwarded);
      posix_spawnattr_setsigmask (&attr, &old);
      posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGDEF
                                | POSIX_SPAWN_SETSIGMASK);
    }

  pid_t pid;
  int err = posix_spawnp (&pid, cmd[0], &actions, &attr, cmd, environ);
  if (err == ENOEXEC)
    {
      /* A script without "#!": execvp runs it with /bin/sh, so must we.  */
      int argc = 0;
      while (cmd[argc] != NULL)
        argc++;
      char **sh = malloc ((argc + 2) * sizeof *sh);
      if (sh != NULL)
        {
          sh[0] = (char *) "/bin/sh";
          memcpy (sh + 1, cmd, (argc + 1) * sizeof *sh);
          err = posix_spawn (&pid, "/bin/sh", &actions, &attr, sh, environ);
          free (sh);
        }
    }
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&actions);
  if (err != 0)
    return exec_failure (cmd[0], err, o->quiet);
  command_pid = pid;
  /* What reached another thread while the PID was not yet known (the
     handler looks at the PID after it notes the signal, so one of the
     two sends it), and a loss of the lock meanwhile.  */
  if (pending_signal != 0)
    kill (pid, pending_signal);
  if (command_lock_lost)
    kill (pid, SIGTERM);
  if (o->forward)
    sigprocmask (SIG_SETMASK, &old, NULL);

  int status;
  pid_t w;
  while ((w = waitpid (pid, &status, 0)) < 0 && errno == EINTR)
    ;
  command_pid = 0;
  if (w < 0)
    {
      if (!o->quiet)
        error (0, errno, "waitpid failed");
      return EXIT_FAILURE;
    }
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return EX_OSERR;
}

/* Write plock's own PID record for the command forms.  Return the
   descriptor it went to (FD, or the --pid-file's), or -1 after
   reporting, with *STATUS set.  */
static int
write_own_record (struct options *o, int fd, int *status)
{
  int rfd = fd;
  bool created = false;
  if (o->pid_file != NULL)
    {
      rfd = open_pid_file (o->pid_file, &created);
      if (rfd < 0)
        {
          if (!o->quiet)
            error (0, errno, "cannot open PID file %s", o->pid_file);
          *status = errno == ENOENT || errno == EACCES ? EX_NOINPUT
            : EX_CANTCREAT;
          return -1;
        }
    }
  /* The library writes a record only over nothing or a record.  */
  if (portalock_pid_record_write (rfd, o->lock.type) != 0)
    {
      *status = record_failure (o->pid_file ? o->pid_file : o->lock.path,
                                errno, o->quiet);
      if (rfd != fd)
        {
          if (created)
            unlink (o->pid_file);
          close (rfd);
        }
      return -1;
    }
  return rfd;
}

/* Lock FD (open on O->lock.path, or inherited) as O says and return
   true; or report the failure, set *STATUS to plock's exit status for it
   (which may be 0: -E 0) and return false.  */
static bool
take_lock (struct options *o, int *fd, const char *name, int *status)
{
  double started = o->verbose ? lockfile_now () : 0;
  if (lockfile_acquire (&o->lock, fd) != 0)
    {
      int err = errno;
      if (*fd < 0)
        *status = lockfile_open_status (&o->lock, err, o->quiet);
      else
        *status = lockfile_lock_status (&o->lock, name, err,
                                        o->conflict_code, o->verbose,
                                        o->quiet);
      return false;
    }
  if (o->verbose)
    printf ("%s: getting lock took %.6f seconds\n", program_name,
            lockfile_now () - started);
  return true;
}

/* Open FILE for the lock, as flock(1) would; on failure report and
   exit.  For a command form, make sure first that a missing FILE is not
   created for a COMMAND that cannot run.  */
static void
refuse_missing_command (struct options *o, const char *command)
{
  if (command != NULL && o->lock.create && access (o->lock.path, F_OK) != 0
      && errno == ENOENT && !command_exists (command))
    exit (exec_failure (command, errno, o->quiet));
}

static int
open_lock_file (struct options *o, const char *command)
{
  bool is_dir;
  refuse_missing_command (o, command);
  int fd = lockfile_open (&o->lock, &is_dir);
  if (fd < 0)
    exit (lockfile_open_status (&o->lock, errno, o->quiet));
  return fd;
}

/* Called by the library's heartbeat thread when the lock is lost:
   COMMAND no longer runs under the lock, so it is stopped.  */
static void
command_lost (portalock *lock, void *arg)
{
  (void) lock;
  (void) arg;
  command_lock_lost = 1;
  pid_t pid = command_pid;
  if (pid > 0)
    kill (pid, SIGTERM);
}

/* Take the lock of O's method (strict, lease or auto) through a lock
   object, for COMMAND (NULL for -c), whose data descriptor COMMAND
   then inherits, as it would plock's own with flock(1).  Return the
   object, or report and return NULL with *STATUS set.  */
static portalock *
take_object (struct options *o, const char *command, int *status)
{
  /* plock opens FILE first, as for a kernel lock, so that what is wrong
     with it is said (and exits) as for a kernel lock: the object then
     opens it again.  */
  close (open_lock_file (o, command));
  bool record = o->record && o->pid_file == NULL;
  portalock *lock = method_lock_new (&o->lock, record, command_lost, NULL,
                                     o->quiet, status);
  if (lock == NULL)
    return NULL;
  double started = o->verbose ? lockfile_now () : 0;
  if (portalock_acquire (lock) != 0)
    {
      int err = errno;
      portalock_free (lock);
      *status = method_lock_status (&o->lock, err, record, o->conflict_code,
                                    o->verbose, o->quiet);
      return NULL;
    }
  if (o->verbose)
    printf ("%s: getting lock took %.6f seconds\n", program_name,
            lockfile_now () - started);
  int fd = portalock_fd (lock);
  int fl = fcntl (fd, F_GETFD);
  if (fl >= 0)
    fcntl (fd, F_SETFD, fl & ~FD_CLOEXEC);
  return lock;
}

/* Give back the lock object LOCK after COMMAND ran with STATUS; return
   plock's exit status: LOCK_EXIT_LOST if the lock was lost meanwhile,
   so that the caller knows its work was not protected to the end.  */
static int
give_back_object (struct options *o, portalock *lock, const char *command,
                  int status)
{
  bool lost = command_lock_lost;
  int s = method_lock_finish (lock, o->lock.path, &lost, o->quiet);
  if (lost)
    {
      if (!o->quiet)
        error (0, 0, "%s: the lock was lost while %s ran%s", o->lock.path,
               command, command_lock_lost ? "; it was sent SIGTERM" : "");
      return LOCK_EXIT_LOST;
    }
  return status == EXIT_SUCCESS ? s : status;
}

/* Set PLOCK_FILE and PLOCK_FD for COMMAND.  */
static void
export_environment (const char *path, int fd, bool closed)
{
  char buf[16];
  if (path != NULL)
    setenv ("PLOCK_FILE", path, 1);
  else
    unsetenv ("PLOCK_FILE");
  if (closed)
    unsetenv ("PLOCK_FD");
  else
    {
      snprintf (buf, sizeof buf, "%d", fd);
      setenv ("PLOCK_FD", buf, 1);
    }
}

/* FILE COMMAND, FILE -c STRING, --fd=FD COMMAND.  */
int
command_form (struct options *o, char **cmd)
{
  int fd;
  const char *name;
  char fdname[16];
  portalock *obj = NULL;
  int status;

  if (o->fd >= 0)
    {
      fd = o->fd;
      snprintf (fdname, sizeof fdname, "%d", fd);
      name = fdname;
      if (fcntl (fd, F_GETFD) < 0)
        {
          if (!o->quiet)
            error (0, errno, "%s", name);
          return EX_DATAERR;
        }
    }
  else if (method_uses_object (&o->lock) && !o->unlock)
    {
      /* The lock object opens FILE and takes the lock.  */
      obj = take_object (o, o->command_string ? NULL : cmd[0], &status);
      if (obj == NULL)
        return status;
      fd = portalock_fd (obj);
      name = o->lock.path;
    }
  else
    {
      fd = open_lock_file (o, o->command_string ? NULL : cmd[0]);
      name = o->lock.path;
    }

  if (obj == NULL && o->unlock)
    {
      if (portalock_backend_lock (o->lock.api, fd, PORTALOCK_UN,
                                  o->lock.start, o->lock.length, 0) != 0)
        return lockfile_lock_status (&o->lock, name, errno, o->conflict_code,
                                     o->verbose, o->quiet);
    }
  else if (obj == NULL && !take_lock (o, &fd, name, &status))
    return status;

  /* A lock object writes the record into FILE itself.  */
  int rfd = -1;
  if (o->pid_file != NULL || (o->record && obj == NULL))
    {
      rfd = write_own_record (o, fd, &status);
      if (rfd < 0)
        {
          if (obj != NULL)
            give_back_object (o, obj, cmd[0], EXIT_SUCCESS);
          return status;
        }
    }

  export_environment (o->lock.path, fd, o->do_close);
  status = run_command (o, cmd, fd);

  /* What COMMAND wrote reaches the disk (the server, on NFS) before the
     next holder can read it.  */
  if (o->sync && fsync (fd) != 0 && errno != EINVAL)
    {
      if (!o->quiet)
        error (0, errno, "cannot sync %s", name);
      if (status == EXIT_SUCCESS)
        status = EX_CANTCREAT;
    }

  /* The command is done: clear the record and, if asked, delete the
     file, both while the lock is still held.  */
  if (rfd >= 0)
    {
      if (rfd != fd)
        {
          pid_t pid = 0;
          portalock_pid_record_read (o->pid_file, &pid);
          if (pid == getpid ())
            unlink (o->pid_file);
          close (rfd);
        }
      else
        clear_own_record (fd);
    }
  if (o->remove && o->lock.path != NULL
      && remove_locked_file (fd, o->lock.path) != 0 && !o->quiet)
    {
      if (errno == EINVAL)
        error (0, 0, "%s: not removed: not a regular file", o->lock.path);
      else
        error (0, errno, "cannot remove %s", o->lock.path);
    }
  if (o->fd >= 0)
    portalock_backend_lock (o->lock.api, fd, PORTALOCK_UN, o->lock.start,
                            o->lock.length, 0);
  if (obj != NULL)
    status = give_back_object (o, obj, cmd[0], status);
  return status;
}

/* plock [-u] FD: lock or unlock an inherited descriptor.  */
int
descriptor_form (struct options *o, int fd)
{
  char name[16];
  snprintf (name, sizeof name, "%d", fd);
  if (fcntl (fd, F_GETFD) < 0)
    {
      if (!o->quiet)
        error (0, errno, "%s", name);
      return EX_DATAERR;
    }
  if (o->unlock)
    {
      if (portalock_backend_lock (o->lock.api, fd, PORTALOCK_UN,
                                  o->lock.start, o->lock.length, 0) == 0)
        return EXIT_SUCCESS;
      return lockfile_lock_status (&o->lock, name, errno, o->conflict_code,
                                   o->verbose, o->quiet);
    }
  int status = EXIT_SUCCESS;
  take_lock (o, &fd, name, &status);
  return status;
}
