/* punlock.c: release a lock that plock left with a holder process.

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
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "closeout.h"
#include "duration.h"
#include "error.h"
#include "portalock.h"
#include "progname.h"
#include "redis-tool.h"
#include "release.h"
#include "signame.h"
#include "version-etc.h"
#include "version-info.h"

#define AUTHORS "The portalock authors"

enum
{
  OPT_PID = CHAR_MAX + 1,
  OPT_PID_FILE,
  OPT_REMOVE,
  OPT_REDIS,
  OPT_BREAK,
  OPT_TOKEN
};

static const struct option long_options[] =
{
  { "wait", required_argument, NULL, 'w' },
  { "timeout", required_argument, NULL, 'w' },
  { "signal", required_argument, NULL, 'S' },
  { "kill-after", required_argument, NULL, 'k' },
  { "pid", required_argument, NULL, OPT_PID },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "force", no_argument, NULL, 'f' },
  { "remove", no_argument, NULL, OPT_REMOVE },
  { "redis", required_argument, NULL, OPT_REDIS },
  { "break", no_argument, NULL, OPT_BREAK },
  { "token", required_argument, NULL, OPT_TOKEN },
  { "quiet", no_argument, NULL, 'q' },
  { "verbose", no_argument, NULL, 'v' },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'V' },
  { NULL, 0, NULL, 0 }
};

static _Noreturn void
usage (int status)
{
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try '%s --help' for more information.\n",
             program_name);
  else
    {
      printf ("\
Usage: %s [OPTION]... FILE|DIR...\n\
  or:  %s [OPTION]... FD\n",
              program_name, program_name);
      fputs ("\
Release the locks that 'plock FILE' keeps in holder processes: find the\n\
holder, make sure with the kernel that it is a live plock holder of a lock\n\
on FILE, signal it, and wait until it has let go.  A process that is not a\n\
plock holder is never signalled.  With FD, the same as 'plock -u FD'.\n\
A lock of the strict or lease method (plock --method) is a marker file\n\
beside FILE that names its holder: it is released only if that is a live\n\
plock holder of this host and boot, with the PID and start time the\n\
marker names; anything else is left to --break.\n\
", stdout);
      fputs ("\
\n\
Mandatory arguments to long options are mandatory for short options too.\n\
", stdout);
      fputs ("\
  -w, --wait, --timeout=DURATION  wait that long for the holder to let go\n\
                               after signalling (default 10s; 0: do not\n\
                               wait)\n\
  -S, --signal=SIG           signal the holder with SIG (default TERM)\n\
  -k, --kill-after=DURATION  if it still holds the lock then, send KILL and\n\
                               wait DURATION more\n\
      --pid=PID              release only the holder PID (still verified)\n\
      --pid-file=FILE        read the holder's PID from the record in FILE\n\
  -f, --force                nothing to release is success; clear stale\n\
                               records\n\
      --remove               delete FILE after the release, if no process\n\
                               of any api locked it again; only a regular\n\
                               file or an empty directory (not with -w 0)\n\
      --break                break the marker of a lock of the strict or\n\
                               lease method, whoever holds it, without\n\
                               signalling anyone (its holder learns of\n\
                               the loss and exits 74)\n\
      --token=TOKEN          with --break: only if the marker is still\n\
                               the hold TOKEN's ('plock --holder' shows it);\n\
                               a reader's marker (a shared lock) too\n\
      --redis=URL            release the holders of the Redis locks NAME...\n\
                               that 'plock --redis=URL NAME' left on this\n\
                               host (\"\": $PORTALOCK_REDIS_URL)\n\
  -q, --quiet                print no diagnostics but usage errors\n\
  -v, --verbose              report what is signalled and released\n\
  -h, --help                 display this help and exit\n\
  -V, --version              output version information and exit\n\
", stdout);
      fputs ("\
\n\
DURATION is a number of seconds, such as 0.5, optionally followed by\n\
s, m, h or d.  SIG is a signal name (TERM, SIGUSR1) or number.\n\
", stdout);
      fputs ("\
\n\
Exit status:\n\
  0   released (with -f, also: nothing to release)\n\
  1   nothing to release: not locked, or a stale record or marker\n\
  64  usage error\n\
  65  unlocking FD failed; --remove of a file that is not a regular\n\
      file or a directory (a FIFO, a device node)\n\
  66  FILE does not exist\n\
  69  held by a process that is not a plock holder, or by a marker\n\
      whose holder punlock cannot prove to be one of this machine's\n\
  70  internal error\n\
  71  system error\n\
  75  still held after the timeout (and -k); --remove: locked again\n\
  77  not permitted to signal the holder\n\
With --redis, also: 68 the Redis server cannot be reached; 69 held by a\n\
process on another host, or punlock was built without Redis support;\n\
76 the server answered with an error; 77 it refused the password.\n\
With --break: 0 broken (with -f, also: no marker); 1 no marker, or one\n\
of another token; 65 FILE.marker is not a marker; 75 the marker changed\n\
while punlock looked; 77 not permitted.\n\
", stdout);
      emit_bug_reporting_address ();
    }
  exit (status);
}

static _Noreturn void
usage_error (const char *message, const char *arg)
{
  if (arg != NULL)
    error (0, 0, "%s: '%s'", message, arg);
  else
    error (0, 0, "%s", message);
  usage (EX_USAGE);
}

/* punlock FD: plock -u FD.  The lock on an inherited descriptor is one
   of its open file description (flock or OFD), which is what plock FD
   takes.  */
static int
unlock_descriptor (const char *arg, int fd,
                   const struct release_options *opts)
{
  enum portalock_backend api = portalock_default_backend ();
  if (api == PORTALOCK_BACKEND_FCNTL || api == PORTALOCK_BACKEND_LOCKF)
    api = portalock_backend_available (PORTALOCK_BACKEND_OFD)
      ? PORTALOCK_BACKEND_OFD : PORTALOCK_BACKEND_FLOCK;
  if (fcntl (fd, F_GETFD) < 0
      || portalock_backend_lock (api, fd, PORTALOCK_UN, 0, 0, 0) != 0)
    {
      if (!opts->quiet)
        error (0, errno, "%s", arg);
      return errno == ENOLCK || errno == ENOMEM ? EX_OSERR : EX_DATAERR;
    }
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  struct release_options opts;
  memset (&opts, 0, sizeof opts);
  opts.wait = 10;
  opts.signal = SIGTERM;
  int c;
  long long n;
  const char *redis_url = NULL;
  bool do_break = false;
  const char *token = NULL;

  set_program_name (argv[0]);
  argv[0] = (char *) program_name;
  atexit (close_stdout);

  while ((c = getopt_long (argc, argv, "w:S:k:fqvhV", long_options, NULL))
         != -1)
    switch (c)
      {
      case 'w':
        if (!parse_duration (optarg, &opts.wait))
          usage_error ("invalid timeout value", optarg);
        break;
      case 'S':
        opts.signal = signal_from_text (optarg);
        if (opts.signal < 0)
          usage_error ("invalid signal", optarg);
        break;
      case 'k':
        if (!parse_duration (optarg, &opts.kill_wait))
          usage_error ("invalid --kill-after duration", optarg);
        opts.kill_after = true;
        break;
      case OPT_PID:
        if (flock_parse_int (optarg, 1, INT_MAX, &n) != NUMBER_OK)
          usage_error ("invalid PID", optarg);
        opts.pid = n;
        break;
      case OPT_PID_FILE:
        if (*optarg == '\0')
          usage_error ("empty --pid-file name", NULL);
        opts.pid_file = optarg;
        break;
      case 'f':
        opts.force = true;
        break;
      case OPT_REMOVE:
        opts.remove = true;
        break;
      case OPT_REDIS:
        redis_url = optarg;
        break;
      case OPT_BREAK:
        do_break = true;
        break;
      case OPT_TOKEN:
        if (strlen (optarg) != 32
            || strspn (optarg, "0123456789abcdefABCDEF") != 32)
          usage_error ("invalid token (expected 32 hexadecimal digits)",
                       optarg);
        token = optarg;
        break;
      case 'q':
        opts.quiet = true;
        break;
      case 'v':
        opts.verbose = true;
        break;
      case 'h':
        usage (EXIT_SUCCESS);
        break;
      case 'V':
        print_version ("punlock");
        exit (EXIT_SUCCESS);
      default:
        usage (EX_USAGE);
      }

  if (optind == argc)
    usage_error ("requires file descriptor, file or directory", NULL);
  /* The file is deleted once the holders have let go, which a wait of
     0 does not see.  */
  if (opts.remove && opts.wait <= 0)
    usage_error ("--remove waits for the release: not with a wait of 0",
                 NULL);

  if (token != NULL && !do_break)
    usage_error ("--token needs --break", NULL);
  if (do_break)
    {
      if (redis_url != NULL || opts.pid != 0 || opts.pid_file != NULL
          || opts.remove)
        usage_error ("--break takes no --redis, --pid, --pid-file or "
                     "--remove", NULL);
      int status = EXIT_SUCCESS;
      for (int i = optind; i < argc; i++)
        {
          int s = break_marker (argv[i], token, &opts);
          if (s > status)
            status = s;
        }
      return status;
    }

  if (redis_url != NULL)
    {
      if (opts.pid_file != NULL || opts.remove)
        usage_error ("--redis takes no --pid-file or --remove", NULL);
      int status = EXIT_SUCCESS;
      for (int i = optind; i < argc; i++)
        {
          int s = redis_release (redis_url, argv[i], &opts);
          if (s > status)
            status = s;
        }
      return status;
    }

  /* A lone operand is read as plock -u reads it, which is as flock(1)
     reads a descriptor.  */
  int fd;
  enum number_status st;
  if (argc - optind == 1
      && flock_descriptor_operand (argv[optind], &fd, &st))
    {
      if (st != NUMBER_OK)
        usage_error ("bad file descriptor", argv[optind]);
      if (opts.pid != 0 || opts.pid_file != NULL || opts.remove)
        usage_error ("--pid, --pid-file and --remove need a FILE", NULL);
      return unlock_descriptor (argv[optind], fd, &opts);
    }

  int status = EXIT_SUCCESS;
  for (int i = optind; i < argc; i++)
    {
      int s = release_file (argv[i], &opts);
      if (s > status)
        status = s;
    }
  return status;
}
