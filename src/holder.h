/* holder.h: the background process that keeps a lock after plock exits.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef HOLDER_H
#define HOLDER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lockfile.h"

/* A holder names itself so (prctl PR_SET_NAME, seen in /proc/PID/comm);
   punlock signals only a process that has this name and that the
   kernel lists as holding a lock on the file.  */
#define HOLDER_NAME "plock-holder"

/* What plock --hold asks of the holder.  */
struct hold_request
{
  struct lock_request lock;
  int fd;                  /* REQ's file, opened by plock */
  bool record;             /* write the PID record into the file */
  const char *pid_file;    /* write it there instead; NULL if not */
  int pid_file_fd;         /* PID_FILE opened by plock, or -1 */
  bool remove;             /* delete the file on release */
  bool detach;             /* no owner */
  pid_t owner;             /* let go when it exits */
  int owner_fd;            /* a pidfd of OWNER, or -1 */
  double max_hold;         /* let go after that long; INFINITY */
  int conflict_code;
  bool verbose, quiet;
};

/* Start a holder for REQ and wait until it holds the lock and wrote its
   record, or failed.  Report as plock does and return plock's exit
   status.  REQ->fd and REQ->pid_file_fd are closed.  */
int hold_lock (struct hold_request *req);

/* The body of a holder process: the holder's own ARG, the write end
   REPORT_FD of the pipe it reports to plock through, a pidfd OWNER_FD
   of its owner (or -1) and plock's PID PLOCK_PID.  It never returns.  */
typedef void holder_body (void *arg, int report_fd, int owner_fd,
                          pid_t plock_pid);

/* Fork a holder process that runs BODY with ARG, for the owner process
   OWNER (for no owner if DETACH).  Return 0 and store the holder's PID
   in *CHILD and the read end of its report pipe in *REPORT_FD; or,
   unless QUIET, report why it could not start and return plock's exit
   status: EX_USAGE if OWNER is not running, EX_OSERR if the pipe or the
   fork failed.  Both the file and the Redis holders start so.  */
int start_holder (pid_t owner, bool detach, bool quiet, holder_body *body,
                  void *arg, pid_t *child, int *report_fd);

/* Read a report of SIZE bytes into BUF from FD, retrying on EINTR, then
   close FD.  Return true if the whole report came, false if the holder
   closed the pipe (or exited) before writing it.  */
bool read_holder_report (int fd, void *buf, size_t size);

/* Report, unless QUIET, that the PID record could not be written to
   NAME (errno ERR), and return plock's status: 65 if NAME holds data
   that is not a record (EEXIST), else 73.  */
int record_failure (const char *name, int err, bool quiet);

/* Return true if process PID is a holder (its name is HOLDER_NAME).  */
bool is_holder_process (pid_t pid);

/* Return a pidfd for process PID (pidfd_open(2)), or -1 with errno
   (ENOSYS where the system has none).  */
int open_pidfd (pid_t pid);

/* Send SIG to the process PIDFD refers to (pidfd_send_signal(2)), so
   that the signal cannot reach a process that took over its PID; where
   PIDFD is -1 or the system has no pidfds, to process PID (kill(2)).
   Return 0, or -1 with errno.  */
int signal_process (int pidfd, pid_t pid, int sig);

#endif /* HOLDER_H */
