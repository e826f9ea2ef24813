/* plock.c: take a file lock from the shell, for a command or to keep it.

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

/* plock is a strict superset of util-linux flock(1): every option,
   argument form, exit status and --verbose message of flock means the
   same here.  What it adds: a lone FILE takes the lock and leaves a
   holder process (holder.c) that punlock (release.c) asks to let go;
   --test, --holder, PID records, signal forwarding and a choice of
   locking primitive.  This file reads the command line and chooses the
   form; each form is a file of its own (form-command.c, form-hold.c,
   form-test.c, form-redis.c), and plock.h is what they share.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "closeout.h"
#include "duration.h"
#include "error.h"
#include "filecheck.h"
#include "holder.h"
#include "lockfile.h"
#include "method-lock.h"
#include "plock.h"
#include "portalock.h"
#include "progname.h"
#include "redis-tool.h"
#include "release.h"
#include "version-etc.h"
#include "version-info.h"

#define AUTHORS "The portalock authors"

enum
{
  OPT_FCNTL = CHAR_MAX + 1,
  OPT_START,
  OPT_LENGTH,
  OPT_FD,
  OPT_VERBOSE,
  OPT_OWNER,
  OPT_DETACH,
  OPT_MAX_HOLD,
  OPT_PID_FILE,
  OPT_TEST,
  OPT_HOLDER,
  OPT_REMOVE,
  OPT_API,
  OPT_NO_FORWARD,
  OPT_SYNC,
  OPT_REDIS,
  OPT_TTL,
  OPT_PROBE,
  OPT_PREFER_WRITERS,
  OPT_VERIFY,
  OPT_METHOD
};

static const struct option long_options[] =
{
  { "shared", no_argument, NULL, 's' },
  { "exclusive", no_argument, NULL, 'x' },
  { "unlock", no_argument, NULL, 'u' },
  { "nonblock", no_argument, NULL, 'n' },
  { "nonblocking", no_argument, NULL, 'n' },
  { "nb", no_argument, NULL, 'n' },
  { "wait", required_argument, NULL, 'w' },
  { "timeout", required_argument, NULL, 'w' },
  { "conflict-exit-code", required_argument, NULL, 'E' },
  { "close", no_argument, NULL, 'o' },
  { "command", required_argument, NULL, 'c' },
  { "no-fork", no_argument, NULL, 'F' },
  { "fcntl", no_argument, NULL, OPT_FCNTL },
  { "start", required_argument, NULL, OPT_START },
  { "length", required_argument, NULL, OPT_LENGTH },
  { "fd", required_argument, NULL, OPT_FD },
  { "verbose", no_argument, NULL, OPT_VERBOSE },
  { "hold", no_argument, NULL, 'H' },
  { "owner", required_argument, NULL, OPT_OWNER },
  { "detach", no_argument, NULL, OPT_DETACH },
  { "max-hold", required_argument, NULL, OPT_MAX_HOLD },
  { "record-pid", no_argument, NULL, 'p' },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "test", no_argument, NULL, OPT_TEST },
  { "holder", no_argument, NULL, OPT_HOLDER },
  { "probe", no_argument, NULL, OPT_PROBE },
  { "verify", no_argument, NULL, OPT_VERIFY },
  { "no-create", no_argument, NULL, 'N' },
  { "remove", no_argument, NULL, OPT_REMOVE },
  { "quiet", no_argument, NULL, 'q' },
  { "api", required_argument, NULL, OPT_API },
  { "method", required_argument, NULL, OPT_METHOD },
  { "no-forward-signals", no_argument, NULL, OPT_NO_FORWARD },
  { "sync", no_argument, NULL, OPT_SYNC },
  { "redis", required_argument, NULL, OPT_REDIS },
  { "ttl", required_argument, NULL, OPT_TTL },
  { "prefer-writers", no_argument, NULL, OPT_PREFER_WRITERS },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'V' },
  { NULL, 0, NULL, 0 }
};

/* util-linux flock(1)'s long options, in the order of its own table,
   with the release that brought each: plock resolves an abbreviation of
   one of them exactly as flock does (see long_options_for).  */
static const struct
{
  const char *name;
  int has_arg;
  int val;
  int since;                    /* 0: flock 2.38, 1: 2.42, 2: later */
} flock_long_options[] =
{
  { "shared", no_argument, 's', 0 },
  { "exclusive", no_argument, 'x', 0 },
  { "unlock", no_argument, 'u', 0 },
  { "nonblocking", no_argument, 'n', 0 },
  { "nb", no_argument, 'n', 0 },
  { "timeout", required_argument, 'w', 0 },
  { "wait", required_argument, 'w', 0 },
  { "conflict-exit-code", required_argument, 'E', 0 },
  { "close", no_argument, 'o', 0 },
  { "no-fork", no_argument, 'F', 0 },
  { "verbose", no_argument, OPT_VERBOSE, 0 },
  { "fcntl", no_argument, OPT_FCNTL, 1 },
  { "start", required_argument, OPT_START, 1 },
  { "length", required_argument, OPT_LENGTH, 1 },
  { "fd", required_argument, OPT_FD, 2 },
  { "help", no_argument, 'h', 0 },
  { "version", no_argument, 'V', 0 }
};
#define FLOCK_RELEASES 3
#define NFLOCK_OPTIONS \
  (sizeof flock_long_options / sizeof flock_long_options[0])

/* flock_long_options as getopt_long tables, one per release.  */
static struct option flock_tables[FLOCK_RELEASES][NFLOCK_OPTIONS + 1];

static void
make_flock_tables (void)
{
  for (int r = 0; r < FLOCK_RELEASES; r++)
    {
      int n = 0;
      for (size_t i = 0; i < NFLOCK_OPTIONS; i++)
        if (flock_long_options[i].since <= r)
          {
            flock_tables[r][n].name = flock_long_options[i].name;
            flock_tables[r][n].has_arg = flock_long_options[i].has_arg;
            flock_tables[r][n].flag = NULL;
            flock_tables[r][n].val = flock_long_options[i].val;
            n++;
          }
      memset (&flock_tables[r][n], 0, sizeof flock_tables[r][n]);
    }
}

/* How getopt_long reads the long option NAME (its first LEN bytes) with
   TABLE: return the index of the option it means, -1 if none, -2 if the
   abbreviation is ambiguous.  An exact name wins; an abbreviation is
   ambiguous only between options that mean different things.  */
static int
resolve_long_option (const struct option *table, const char *name,
                     size_t len)
{
  int found = -1;
  bool ambiguous = false;
  for (int i = 0; table[i].name != NULL; i++)
    if (strncmp (table[i].name, name, len) == 0)
      {
        if (table[i].name[len] == '\0')
          return i;
        if (found < 0)
          found = i;
        else if (table[i].has_arg != table[found].has_arg
                 || table[i].val != table[found].val)
          ambiguous = true;
      }
  return ambiguous ? -2 : found;
}

/* The table getopt_long must read the next argument ARG with, so that
   flock(1)'s abbreviations keep their meaning whatever plock adds.  A
   long option that is not one of plock's names exactly but abbreviates
   one of flock's is read with the table of the first flock release that
   gives it a meaning, so that plock accepts what any release accepts
   (--s is --shared, as in 2.38, where 2.42's --start makes it
   ambiguous); if every release finds it ambiguous, with flock 2.38's
   table, so that the message names flock's choices, unless it is one
   of plock's names exactly.  Anything else is read with plock's own
   table.  */
static const struct option *
long_options_for (const char *arg)
{
  if (arg == NULL || strncmp (arg, "--", 2) != 0 || arg[2] == '\0')
    return long_options;
  const char *name = arg + 2;
  size_t len = strcspn (name, "=");
  int ambiguous_in = -1;
  for (int r = 0; r < FLOCK_RELEASES; r++)
    {
      int i = resolve_long_option (flock_tables[r], name, len);
      if (i >= 0)
        return flock_tables[r];
      if (i == -2 && ambiguous_in < 0)
        ambiguous_in = r;
    }
  int ours = resolve_long_option (long_options, name, len);
  if (ambiguous_in < 0
      || (ours >= 0 && long_options[ours].name[len] == '\0'))
    return long_options;
  return flock_tables[ambiguous_in];
}

static _Noreturn void
usage (int status)
{
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try '%s --help' for more information.\n",
             program_name);
  else
    {
      printf ("\
Usage: %s [OPTION]... FILE|DIR COMMAND [ARG]...\n\
  or:  %s [OPTION]... FILE|DIR -c STRING\n\
  or:  %s [OPTION]... FD\n\
  or:  %s [OPTION]... --fd=FD COMMAND [ARG]...\n\
  or:  %s [OPTION]... FILE|DIR\n\
  or:  %s --test [OPTION]... FILE|DIR|FD\n\
  or:  %s --holder FILE|DIR\n\
  or:  %s --probe [--api=API] FILE|DIR\n",
              program_name, program_name, program_name, program_name,
              program_name, program_name, program_name, program_name);
      printf ("  or:  %s --verify [-w DURATION] DIR...\n", program_name);
      fputs ("\
Take a file lock from the shell: run COMMAND holding a lock on FILE or DIR\n\
(which is created if need be), or lock the open file descriptor FD; with\n\
FILE alone, take the lock and keep it in a background holder process\n\
until 'punlock FILE'.  A strict superset of util-linux flock(1).\n\
", stdout);
      fputs ("\
\n\
Mandatory arguments to long options are mandatory for short options too.\n\
", stdout);
      fputs ("\
  -s, --shared               get a shared lock\n\
  -x, -e, --exclusive        get an exclusive lock (the default)\n\
  -u, --unlock               remove the lock on FD; with FILE alone,\n\
                               the same as 'punlock FILE'\n\
  -n, --nb, --nonblock       fail rather than wait\n\
  -w, --wait, --timeout=DURATION  fail if the lock is not acquired within\n\
                               DURATION (0: the same as -n)\n\
  -E, --conflict-exit-code=N  exit status after a conflict or a timeout\n\
                               (0 to 255, default 1)\n\
  -o, --close                close the lock's descriptor before running\n\
                               COMMAND\n\
  -c, --command=STRING       run STRING with \"$SHELL -c\" (default /bin/sh)\n\
  -F, --no-fork              execute COMMAND in place of plock, keeping the\n\
                               lock\n\
      --fcntl                use open file description locks (--api=ofd)\n\
      --start=OFFSET         lock a byte range starting at OFFSET\n\
      --length=N             lock N bytes (0: to the end of the file)\n\
      --fd=FD                lock FD and run COMMAND around it\n\
      --verbose              report the wait, what is run, and failures\n\
", stdout);
      fputs ("\
  -H, --hold                 take the lock and leave a holder process; exit\n\
                               once it holds the lock (FILE alone does this)\n\
      --owner=PID            the holder lets go when PID exits (default:\n\
                               plock's parent: the hold ends when it exits,\n\
                               at once under make, sudo, ssh or sh -c)\n\
      --detach               the holder has no owner: it holds until\n\
                               punlock or --max-hold\n\
      --max-hold=DURATION    the holder lets go after DURATION\n\
  -p, --record-pid           write the holder's PID into FILE, which must\n\
                               be empty or hold such a record (never\n\
                               implied: nothing else writes into FILE)\n\
      --pid-file=FILE        write the PID record into FILE instead\n\
      --test                 exit 0 if the lock could be taken now, else\n\
                               with the conflict status\n\
      --holder               print the PIDs holding a lock on FILE, and\n\
                               the holder its marker names as \"HOST PID\n\
                               TOKEN GENERATION METHOD\"; exit 0 if there\n\
                               are any, 1 if none\n\
      --probe                print FILE's file system and whether the\n\
                               locks of the api reach other machines there;\n\
                               exit 0 if they do, 1 if not or not known\n\
      --verify               take the lock on DIR/.plock-verify with every\n\
                               method, from processes spread over the DIRs\n\
                               (mounts of one file system), for -w DURATION\n\
                               in all (default 4s); print which methods\n\
                               exclude; exit 0 if the default one (or\n\
                               --method's) does\n\
  -N, --no-create            do not create FILE\n\
      --remove               delete FILE on release, safely\n\
  -q, --quiet                print no diagnostics but usage errors\n\
      --api=API              lock with API: flock, ofd, fcntl or lockf\n\
                               (default: the library's default)\n\
      --method=METHOD        lock with METHOD: kernel (the kernel's lock,\n\
                               as flock(1)); strict or lease[=TTL] (a\n\
                               marker file, FILE.marker, which excludes\n\
                               across the machines of a network file\n\
                               system; a lease is renewed by a heartbeat,\n\
                               TTL seconds, default 30); auto (the kernel\n\
                               lock where it spans every client of FILE's\n\
                               file system, else a lease).  Default:\n\
                               $PORTALOCK_METHOD, else the library's\n\
                               (kernel unless built otherwise)\n\
      --no-forward-signals   do not pass signals on to COMMAND\n\
      --sync                 fsync FILE after COMMAND, before the unlock\n\
      --prefer-writers       join the writer-preferring protocol: once a\n\
                               writer (-x) waits, readers (-s) that come\n\
                               after it wait behind it; every reader and\n\
                               writer of FILE must use it (FILE.gate);\n\
                               with strict and lease markers across\n\
                               machines always keep that order\n\
", stdout);
      fputs ("\
      --redis=URL            lock NAME on the Redis server at URL instead\n\
                               of a file (\"\": $PORTALOCK_REDIS_URL):\n\
                               redis://[USER:PASSWORD@]HOST[:PORT][/DB] or\n\
                               unix:///PATH; the forms above take NAME for\n\
                               FILE (not FD, --fd, -F, -u, -p, --remove)\n\
      --ttl=DURATION         with --redis: the lease lasts DURATION unless\n\
                               renewed (default 30s, at least 0.1s); it is\n\
                               renewed every third of it while held\n\
", stdout);
      fputs ("\
  -h, --help                 display this help and exit\n\
  -V, --version              output version information and exit\n\
", stdout);
      fputs ("\
\n\
DURATION is a number of seconds as flock(1) reads it (0.5, 1e3, 0x10),\n\
or plock's own: such a number followed by s, m, h or d.  A lone operand\n\
that reads as a number (9, +9, ' 9', -5) is a file descriptor, as in\n\
flock: write ./9 for a file named 9.  An abbreviated long option means\n\
what it means to flock (--h is --help, --t --timeout, --co\n\
--conflict-exit-code, --no-f --no-fork): spell plock's own options far\n\
enough to tell them apart.  SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1\n\
and SIGUSR2 sent to plock are passed on to COMMAND, which finds\n\
PLOCK_FILE and PLOCK_FD in its environment.\n\
", stdout);
      fputs ("\
\n\
Exit status:\n\
  0   the lock was obtained (with COMMAND: COMMAND's status)\n\
  1   conflict (-n, --test) or timeout (-w); see -E\n\
  64  usage error\n\
  65  the lock or unlock call failed, or -p found data in FILE; or\n\
      the method cannot lock so (strict, lease: a shared lock; strict,\n\
      lease, auto: FD, --fd, --start or --length)\n\
  66  cannot open FILE\n\
  69  COMMAND could not be executed\n\
  70  internal error\n\
  71  system error (fork, ENOLCK, holder failed to start)\n\
  73  cannot create FILE, write the PID record or sync FILE\n\
  74  the lock was lost while held (a lease that could not be renewed, a\n\
      marker broken by 'punlock --break'): COMMAND was sent SIGTERM\n\
  128+N  COMMAND was killed by signal N\n\
With --verify: 0 the method excludes, 1 it does not, 75 it could not be\n\
  tested (the lock stayed held elsewhere), 66 a DIR is missing or no\n\
  directory, 73 a DIR is not writable.\n\
With --redis, also:\n\
  68  the Redis server cannot be reached\n\
  69  plock was built without Redis support\n\
  76  the Redis server answered with an error\n\
  77  the Redis server refused the password or the command\n\
", stdout);
      emit_bug_reporting_address ();
    }
  exit (status);
}

_Noreturn void
usage_error (const char *message, const char *arg)
{
  if (arg != NULL)
    error (0, 0, "%s: '%s'", message, arg);
  else
    error (0, 0, "%s", message);
  usage (EX_USAGE);
}

/* A usage error flock(1) reports too: its message, and no "Try" line,
   as flock prints none there.  */
static _Noreturn void
flock_usage_error (const char *message)
{
  error (0, 0, "%s", message);
  exit (EX_USAGE);
}

/* A number flock(1) refuses: "MESSAGE: 'TEXT'", with the reason if it is
   out of range.  */
static _Noreturn void
bad_number (const char *message, const char *text,
            enum number_status status)
{
  error (0, status == NUMBER_RANGE ? ERANGE : 0, "%s: '%s'", message, text);
  exit (EX_USAGE);
}

/* Read the -w argument TEXT into O.  A number that flock(1) accepts but
   cannot arm its timer with is refused as flock refuses it, but only
   once the command line is known to be right (see main).  */
static void
parse_timeout (const char *text, struct options *o)
{
  enum duration_status st = flock_parse_timeout (text, &o->lock.timeout);
  if (st == DURATION_INVALID || st == DURATION_RANGE)
    {
      error (0, st == DURATION_RANGE ? ERANGE : 0, "%s: '%s'",
             "invalid timeout value", text);
      exit (EX_USAGE);
    }
  o->untimeable = st == DURATION_UNTIMEABLE;
  o->have_timeout = true;
}

static void
parse_options (int argc, char **argv, struct options *o)
{
  int c;
  long long n;
  uintmax_t size;
  enum number_status st;

  make_flock_tables ();
  for (;;)
    {
      const struct option *table
        = long_options_for (optind < argc ? argv[optind] : NULL);
      c = getopt_long (argc, argv, "+sxeunw:E:oc:FHpNqhV?", table, NULL);
      if (c == -1)
        break;
      switch (c)
        {
        case 's':
          o->lock.type = PORTALOCK_SH;
          o->unlock = false;
          break;
        case 'x':
        case 'e':
          o->lock.type = PORTALOCK_EX;
          o->unlock = false;
          break;
        case 'u':
          o->unlock = true;
          break;
        case 'n':
          o->lock.nonblock = true;
          break;
        case 'w':
          parse_timeout (optarg, o);
          break;
        case 'E':
          st = flock_parse_int (optarg, INT32_MIN, INT32_MAX, &n);
          if (st != NUMBER_OK)
            bad_number ("invalid exit code", optarg, st);
          if (n < 0 || n > 255)
            flock_usage_error ("exit code out of range (expected 0 to 255)");
          o->conflict_code = n;
          break;
        case 'o':
          o->do_close = true;
          break;
        case 'c':
          o->command_string = optarg;
          break;
        case 'F':
          o->no_fork = true;
          break;
        case OPT_FCNTL:
          o->lock.api = PORTALOCK_BACKEND_OFD;
          o->api_given = true;
          break;
        case OPT_START:
        case OPT_LENGTH:
          st = flock_parse_size (optarg, &size);
          if (st != NUMBER_OK)
            {
              /* flock(1) names the reason, even for text.  */
              error (0, st == NUMBER_RANGE ? ERANGE : EINVAL, "%s: '%s'",
                     c == OPT_START ? "invalid as start offset"
                     : "invalid as length of lock range", optarg);
              exit (EX_USAGE);
            }
          /* As in flock(1), a value beyond off_t becomes a negative
             offset, which the lock call refuses.  */
          if (c == OPT_START)
            o->lock.start = (off_t) size;
          else
            o->lock.length = (off_t) size;
          o->range_given = true;
          break;
        case OPT_FD:
          /* As flock(1) reads it (after 2.42): any number up to
             INT_MAX, and a negative one is no descriptor at all.  */
          st = flock_parse_int (optarg, LLONG_MIN, INT_MAX, &n);
          if (st != NUMBER_OK)
            bad_number ("invalid file descriptor", optarg, st);
          if (n < 0)
            flock_usage_error ("missing file descriptor, file or "
                               "directory");
          o->fd = n;
          break;
        case OPT_VERBOSE:
          o->verbose = true;
          break;
        case 'H':
          o->hold = true;
          break;
        case OPT_OWNER:
          if (!parse_count (optarg, INT_MAX, &n) || n == 0)
            usage_error ("invalid owner PID", optarg);
          o->owner = n;
          o->owner_given = true;
          if (kill (o->owner, 0) != 0 && errno == ESRCH)
            {
              error (0, 0, "owner process %lld is not running", n);
              usage (EX_USAGE);
            }
          break;
        case OPT_DETACH:
          o->detach = true;
          break;
        case OPT_MAX_HOLD:
          if (!parse_duration (optarg, &o->max_hold))
            usage_error ("invalid --max-hold duration", optarg);
          o->max_hold_given = true;
          break;
        case 'p':
          o->record = true;
          break;
        case OPT_PID_FILE:
          if (*optarg == '\0')
            usage_error ("empty --pid-file name", NULL);
          o->pid_file = optarg;
          break;
        case OPT_TEST:
          o->test = true;
          break;
        case OPT_HOLDER:
          o->holder_query = true;
          break;
        case OPT_PROBE:
          o->probe = true;
          break;
        case OPT_VERIFY:
          o->verify = true;
          break;
        case 'N':
          o->lock.create = false;
          break;
        case OPT_REMOVE:
          o->remove = true;
          break;
        case 'q':
          o->quiet = true;
          break;
        case OPT_API:
          {
            int b = portalock_backend_from_name (optarg);
            if (b <= PORTALOCK_BACKEND_DEFAULT
                || b == PORTALOCK_BACKEND_WIN32)
              usage_error ("invalid --api (expected flock, ofd, fcntl or "
                           "lockf)", optarg);
            if (!portalock_backend_available (b))
              usage_error ("this system has no such locking api", optarg);
            o->lock.api = b;
            o->api_given = true;
          }
          break;
        case OPT_METHOD:
          if (portalock_method_from_name (optarg, &o->lock.method,
                                          &o->lock.lease_ttl) != 0)
            usage_error ("invalid --method (expected kernel, strict, "
                         "lease, lease=TTL or auto)", optarg);
          o->method_given = o->lock.method != PORTALOCK_METHOD_DEFAULT;
          break;
        case OPT_SYNC:
          o->sync = true;
          break;
        case OPT_PREFER_WRITERS:
          o->lock.prefer_writers = true;
          break;
        case OPT_NO_FORWARD:
          o->forward = false;
          break;
        case OPT_REDIS:
          o->redis_url = optarg;
          break;
        case OPT_TTL:
          if (!parse_duration (optarg, &o->ttl))
            usage_error ("invalid --ttl duration", optarg);
          if (o->ttl == 0)
            usage_error ("--ttl too short to renew the lease", optarg);
          break;
        case 'h':
          usage (EXIT_SUCCESS);
          break;
        case 'V':
          print_version ("plock");
          exit (EXIT_SUCCESS);
        default:
          /* getopt_long has said what is wrong (or nothing, for -?, as
             in flock).  */
          usage (EX_USAGE);
        }
    }
}

/* Return true if the backend's locks belong to the process.  */
static bool
process_scoped (enum portalock_backend api)
{
  return api == PORTALOCK_BACKEND_FCNTL || api == PORTALOCK_BACKEND_LOCKF;
}

/* Settle the api: the library's default unless given, a range-capable
   one for a byte range (flock(1)'s --start implies --fcntl), and one
   whose locks belong to the open file description for a lock that must
   outlive plock on an inherited descriptor.  */
static void
choose_api (struct options *o, bool descriptor_outlives)
{
  if (o->api_given)
    {
      if (descriptor_outlives && process_scoped (o->lock.api))
        {
          error (0, 0, "%s locks belong to the process and end with plock: "
                 "use --api=ofd or --api=flock with a descriptor",
                 portalock_backend_name (o->lock.api));
          usage (EX_USAGE);
        }
      return;
    }
  o->lock.api = portalock_default_backend ();
  bool has_ofd = portalock_backend_available (PORTALOCK_BACKEND_OFD);
  if (o->range_given && o->lock.api == PORTALOCK_BACKEND_FLOCK)
    o->lock.api = has_ofd ? PORTALOCK_BACKEND_OFD : PORTALOCK_BACKEND_FCNTL;
  if (descriptor_outlives && process_scoped (o->lock.api))
    o->lock.api = has_ofd ? PORTALOCK_BACKEND_OFD : PORTALOCK_BACKEND_FLOCK;
}

/* A shared lock with an api that has none (lockf) is refused before
   anything is opened or created.  A directory is locked with flock(2)
   unless the api was given (see lockfile_open).  */
static void
refuse_shared_lockf (const struct options *o, const char *path)
{
  struct stat st;
  if (o->lock.type != PORTALOCK_SH
      || o->lock.api != PORTALOCK_BACKEND_LOCKF || o->unlock
      || (!o->api_given && path != NULL && stat (path, &st) == 0
          && S_ISDIR (st.st_mode)))
    return;
  if (!o->quiet)
    error (0, 0, "%s: the lockf api has no shared locks",
           path != NULL ? path : "descriptor");
  exit (EX_DATAERR);
}

/* Settle the method: --method, else PORTALOCK_METHOD, read as the
   library reads it, so that a site chooses the method of every plock
   without changing scripts; else the library's configure default
   (--with-lock-method, kernel unless the builder chose otherwise), as
   the library says (portalock_default_method).  A
   PORTALOCK_METHOD that the library would refuse is refused before
   anything is done: plock never falls back to a lock the site did not
   ask for.  */
static void
choose_method (struct options *o)
{
  if (o->method_given)
    return;
  if (portalock_default_method (&o->lock.method, &o->lock.lease_ttl) != 0)
    {
      const char *env = getenv ("PORTALOCK_METHOD");
      error (0, 0, "invalid PORTALOCK_METHOD in the environment: '%s' "
             "(expected kernel, strict, lease, lease=TTL or auto)", env);
      exit (EX_USAGE);
    }
}

/* Refuse, before anything is opened or created, what the method of O
   cannot do for the lock on NAME: with a lock object (strict, lease,
   auto), a descriptor (DESCRIPTOR: there is no path to put a marker
   beside) or a byte range; and -F with a lease, whose heartbeat thread
   the exec would end.  Exit 65, or 64 for -F.  (The api still chooses
   the kernel lock that a marker method takes for the processes of this
   machine.)  Shared locks and --prefer-writers work with every
   method.  */
static void
refuse_method_conflicts (const struct options *o, const char *name,
                         bool descriptor)
{
  if (!method_uses_object (&o->lock))
    return;
  const char *method = method_label (&o->lock);
  const char *why = NULL;
  if (descriptor)
    why = "locks a FILE, not a descriptor";
  else if (o->range_given)
    why = "cannot lock a byte range";
  if (why != NULL)
    {
      if (!o->quiet)
        error (0, 0, "%s: the %s method %s", name, method, why);
      exit (EX_DATAERR);
    }
  if (o->no_fork && o->lock.method != PORTALOCK_METHOD_STRICT)
    usage_error ("--no-fork would end the lease's heartbeat: not with "
                 "the method", method);
}

/* Decide, as flock(1) does with strtol, whether the lone operand ARG
   is a descriptor: leading blanks, a sign and decimal digits that fit
   an int ("9", " 9", "+3", "-5", which is then a bad descriptor).  If
   so, store it in *FD and return true.  An operand flock would take
   for a descriptor but refuses (empty or blank, or a number beyond int)
   is refused with flock's message; anything else is a FILE (plock's
   hold, where flock says "bad file descriptor").  */
bool
descriptor_operand (const char *arg, int *fd)
{
  enum number_status st;
  if (!flock_descriptor_operand (arg, fd, &st))
    return false;
  if (st != NUMBER_OK)
    bad_number ("bad file descriptor", arg, st);
  return true;
}

/* flock(1) arms its timer once the command line has proved right, and
   exits 71 if the timer refuses the -w value (negative, NaN, infinite,
   2^63 seconds or more).  plock refuses it at the same point, with the
   same message, but before it opens (and perhaps creates) anything.  */
void
refuse_untimeable (const struct options *o)
{
  if (o->untimeable)
    {
      error (0, EINVAL, "cannot set up timer");
      exit (EX_OSERR);
    }
}

/* Name the program by the last component of ARGV0, as flock(1) does in
   its messages ("plock", or "flock" through a link of that name), and
   without libtool's "lt-" prefix; set_program_name gives error() and
   getopt the same name.  */
static void
set_short_program_name (const char *argv0)
{
  set_program_name (argv0);
  const char *slash = strrchr (program_name, '/');
  const char *base = slash != NULL ? slash + 1 : program_name;
  if (strncmp (base, "lt-", 3) == 0 && base[3] != '\0')
    base += 3;
  set_program_name (base);
}

int
main (int argc, char **argv)
{
  struct options o;
  memset (&o, 0, sizeof o);
  o.lock.type = PORTALOCK_EX;
  o.lock.timeout = INFINITY;
  o.lock.create = true;
  o.conflict_code = 1;
  o.fd = -1;
  o.forward = true;

  set_short_program_name (argv[0]);
  argv[0] = (char *) program_name;
  atexit (close_stdout);

  if (argc < 2)
    usage_error ("not enough arguments", NULL);
  parse_options (argc, argv, &o);
  /* plock owns its signals, so its timed waits (-w) may block in its own
     thread and be interrupted by a timer signal at the deadline, which
     hands the lock over with one wake-up less than the library's helper
     thread.  SIGRTMIN + 2 is none that plock forwards or handles (see
     forwarded_signals) nor one a C library reserves; the timer sends it
     only during a wait, and a command plock runs starts with its default
     action, as every caught signal does across exec.  Where it cannot be
     had, the helper thread does the wait.  */
  portalock_set_timeout_signal (SIGRTMIN + 2);

  if (o.no_fork && o.do_close)
    flock_usage_error ("the --no-fork and --close options are "
                       "incompatible");
  if (o.have_timeout && o.lock.timeout == 0)
    o.lock.nonblock = true;
  if (o.lock.nonblock)
    o.lock.timeout = 0;

  char **ops = argv + optind;
  int nops = argc - optind;
  char *sh_argv[4];
  char **cmd = NULL;

  if (o.sync && (o.no_fork || o.holder_query
                 || (o.fd < 0 && o.command_string == NULL && nops < 2)))
    usage_error ("--sync needs a COMMAND, run without --no-fork", NULL);

  if (o.ttl != 0 && o.redis_url == NULL)
    usage_error ("--ttl needs --redis", NULL);

  /* Which form?  */
  if (o.verify)
    {
      if (nops < 1 || o.probe || o.test || o.holder_query || o.hold
          || o.unlock || o.redis_url != NULL || o.fd >= 0
          || o.command_string != NULL || o.lock.type == PORTALOCK_SH)
        usage_error ("--verify needs one DIR or more, and no other form",
                     NULL);
      choose_api (&o, false);
      refuse_untimeable (&o);
      return verify_form (&o, o.method_given ? o.lock.method
                          : PORTALOCK_METHOD_DEFAULT, o.lock.lease_ttl,
                          ops, nops);
    }
  if (o.probe)
    {
      if (nops != 1 || o.redis_url != NULL || o.holder_query || o.test)
        usage_error ("--probe needs exactly one FILE, and no --redis, "
                     "--holder or --test", NULL);
      choose_api (&o, false);
      return probe_form (&o, ops[0]);
    }
  if (o.holder_query && o.redis_url == NULL)
    {
      if (nops != 1)
        usage_error ("--holder needs exactly one FILE", NULL);
      return holder_form (&o, ops[0]);
    }
  if (o.fd >= 0)
    {
      if (o.lock.prefer_writers)
        usage_error ("--prefer-writers needs a FILE, not --fd", NULL);
      if (o.command_string == NULL && nops == 0)
        usage_error ("--fd needs a COMMAND", NULL);
      if (o.command_string != NULL && nops > 0)
        usage_error ("-c takes exactly one command argument", NULL);
      cmd = ops;
    }
  else if (nops == 0)
    flock_usage_error ("requires file descriptor, file or directory");
  else if (nops >= 2 || o.command_string != NULL)
    {
      const char *c1 = nops >= 2 ? ops[1] : NULL;
      if (c1 != NULL && (strcmp (c1, "-c") == 0
                         || strcmp (c1, "--command") == 0))
        {
          if (nops != 3 || o.command_string != NULL)
            {
              error (0, 0, "%s requires exactly one command argument", c1);
              exit (EX_USAGE);
            }
          o.command_string = ops[2];
        }
      else if (c1 != NULL && strncmp (c1, "--command=", 10) == 0)
        {
          if (nops != 2 || o.command_string != NULL)
            usage_error ("--command requires exactly one command argument",
                         NULL);
          o.command_string = c1 + 10;
        }
      else if (o.command_string != NULL && nops != 1)
        usage_error ("-c takes exactly one command argument", NULL);
      else if (o.command_string == NULL)
        cmd = ops + 1;
      o.lock.path = ops[0];
    }

  if (o.command_string != NULL)
    {
      sh_argv[0] = getenv ("SHELL");
      if (sh_argv[0] == NULL || *sh_argv[0] == '\0')
        sh_argv[0] = (char *) "/bin/sh";
      sh_argv[1] = (char *) "-c";
      sh_argv[2] = (char *) o.command_string;
      sh_argv[3] = NULL;
      cmd = sh_argv;
    }

  if (o.redis_url != NULL)
    return redis_form (&o, cmd, ops[0]);
  choose_method (&o);
  bool hold_only = o.detach || o.owner_given || o.max_hold_given;
  if (cmd != NULL)
    {
      if (o.hold || hold_only || o.test)
        usage_error ("--hold, --owner, --detach, --max-hold and --test take "
                     "no COMMAND", NULL);
      choose_api (&o, false);
      o.lock.api_given = o.api_given;
      if (!o.unlock)
        {
          char fdname[16];
          snprintf (fdname, sizeof fdname, "%d", o.fd);
          refuse_method_conflicts (&o, o.fd >= 0 ? fdname : o.lock.path,
                                   o.fd >= 0);
        }
      refuse_shared_lockf (&o, o.lock.path);
      if (o.record && o.lock.path != NULL && o.pid_file == NULL)
        o.lock.write = true;
      refuse_untimeable (&o);
      return command_form (&o, cmd);
    }

  /* One operand.  */
  const char *arg = ops[0];
  if (o.test)
    {
      if (o.hold || hold_only || o.unlock)
        usage_error ("--test takes no --hold or --unlock", NULL);
      choose_api (&o, false);
      o.lock.api_given = o.api_given;
      int tfd;
      refuse_method_conflicts (&o, arg, descriptor_operand (arg, &tfd));
      refuse_untimeable (&o);
      return test_form (&o, arg);
    }
  int fd;
  if (!o.hold && descriptor_operand (arg, &fd))
    {
      if (hold_only || o.record || o.pid_file || o.remove)
        usage_error ("--owner, --detach, --max-hold, --record-pid, "
                     "--pid-file and --remove need a FILE", NULL);
      if (o.lock.prefer_writers)
        usage_error ("--prefer-writers needs a FILE, not a descriptor",
                     NULL);
      choose_api (&o, true);
      if (!o.unlock)
        refuse_method_conflicts (&o, arg, true);
      refuse_untimeable (&o);
      return descriptor_form (&o, fd);
    }
  refuse_untimeable (&o);
  if (o.unlock)
    {
      struct release_options r;
      memset (&r, 0, sizeof r);
      r.wait = o.have_timeout ? o.lock.timeout : 10;
      r.signal = SIGTERM;
      r.remove = o.remove;
      r.pid_file = o.pid_file;
      r.quiet = o.quiet;
      r.verbose = o.verbose;
      return release_file (arg, &r);
    }
  choose_api (&o, false);
  o.lock.api_given = o.api_given;
  refuse_method_conflicts (&o, arg, false);
  refuse_shared_lockf (&o, arg);
  o.lock.path = arg;
  return hold_form (&o);
}
