/* holder.h: the background process that keeps a lock after plock exits.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef HOLDER_H
#define HOLDER_H 1

#include <stdbool.h>
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
