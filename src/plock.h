/* plock.h: what plock's command line (plock.c) and its forms share.

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

#ifndef PLOCK_H
#define PLOCK_H 1

#include <stdbool.h>
#include <sys/types.h>

#include "lockfile.h"
#include "portalock.h"

/* Everything the command line says.  */
struct options
{
  struct lock_request lock;
  bool api_given;
  bool range_given;
  bool have_timeout;
  bool untimeable;              /* a -w no timer takes (flock: exit 71) */
  int conflict_code;
  bool do_close, no_fork, verbose, quiet;
  bool unlock;
  const char *command_string;
  int fd;                       /* --fd, or -1 */
  bool hold, detach, owner_given, max_hold_given;
  pid_t owner;
  double max_hold;
  bool record;
  const char *pid_file;
  bool test, holder_query, remove, forward;
  bool probe;                   /* --probe: what locks mean on FILE's fs */
  bool sync;                    /* --sync: fsync FILE before the unlock */
  const char *redis_url;        /* --redis: a lock on a Redis server */
  double ttl;                   /* --ttl, or 0 */
  bool method_given;            /* --method named one (lock.method) */
  bool verify;                  /* --verify DIR...: which methods exclude */
};

/* plock.c: report a usage error (MESSAGE, and ARG if not NULL) and exit
   with EX_USAGE.  */
_Noreturn void usage_error (const char *message, const char *arg);

/* plock.c: whether a lone operand is a descriptor, as flock(1) decides;
   and the refusal of a -w value no timer takes.  */
bool descriptor_operand (const char *arg, int *fd);
void refuse_untimeable (const struct options *o);

/* form-command.c: FILE COMMAND, FILE -c STRING, --fd=FD COMMAND; FD.  */
int command_form (struct options *o, char **cmd);
int descriptor_form (struct options *o, int fd);

/* form-command.c: run CMD with the lock held on FD (-1: none) and
   return plock's exit status; the command's PID while it runs, for the
   signal forwarder.  */
int run_command (struct options *o, char **cmd, int fd);
extern volatile pid_t command_pid;

/* form-hold.c: FILE alone, or --hold; and the --pid-file's open.  */
int hold_form (struct options *o);
int open_pid_file (const char *path, bool *created);

/* form-test.c: --test FILE|FD and --holder FILE.  */
int test_form (struct options *o, const char *arg);
int holder_form (struct options *o, const char *path);

/* form-test.c: --probe FILE.  */
int probe_form (struct options *o, const char *path);

/* form-verify.c: --verify DIR...: check which lock methods exclude
   across DIRS; exit 0 if METHOD (DEFAULT: the default; TTL for a lease,
   0: the library's) does.  */
int verify_form (struct options *o, enum portalock_method method,
                 double ttl, char **dirs, int ndirs);

/* form-redis.c: --redis=URL, every form, with NAME for FILE.  */
int redis_form (struct options *o, char **cmd, const char *name);

#endif /* PLOCK_H */
