/* plock-win32.c: plock on Windows: run a command while holding a lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Windows has no fork, no signals to forward and no way to hand a lock
   over to a background process that another command can later ask to
   let go, so plock there keeps the command forms only:

     plock [-s|-x] [-n|-w SECONDS] [-E N] [-N] FILE COMMAND [ARG]...
     plock [OPTION]... FILE -c STRING

   with flock's exit codes, reading the command line as the POSIX plock
   (and flock) does: -c STRING may come before FILE too.  Every other
   form (a lone FILE, which would leave a holder; a descriptor; --test,
   --holder, -u, ...) fails with "not supported on this system" and exit
   status 71 (EX_OSERR), without touching FILE.  */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closeout.h"
#include "duration.h"
#include "error.h"
#include "portalock.h"
#include "progname.h"
#include "version-etc.h"
#include "version-info.h"

/* Exit codes, as on POSIX (sysexits.h, which mingw lacks).  */
enum
{
  EXIT_USAGE = 64,
  EXIT_LOCK = 65,
  EXIT_OPEN = 66,
  EXIT_EXEC = 69,
  EXIT_UNSUPPORTED = 71,
  EXIT_CREATE = 73
};

enum
{
  OPT_UNSUPPORTED = CHAR_MAX + 1
};

static struct option const long_options[] =
{
  { "shared", no_argument, NULL, 's' },
  { "exclusive", no_argument, NULL, 'x' },
  { "nonblock", no_argument, NULL, 'n' },
  { "nb", no_argument, NULL, 'n' },
  { "timeout", required_argument, NULL, 'w' },
  { "wait", required_argument, NULL, 'w' },
  { "conflict-exit-code", required_argument, NULL, 'E' },
  { "command", required_argument, NULL, 'c' },
  { "no-create", no_argument, NULL, 'N' },
  { "quiet", no_argument, NULL, 'q' },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'V' },
  /* POSIX plock's other options: recognised, refused.  */
  { "unlock", no_argument, NULL, 'u' },
  { "close", no_argument, NULL, 'o' },
  { "no-fork", no_argument, NULL, 'F' },
  { "hold", no_argument, NULL, 'H' },
  { "record-pid", no_argument, NULL, 'p' },
  { "fcntl", no_argument, NULL, OPT_UNSUPPORTED },
  { "start", required_argument, NULL, OPT_UNSUPPORTED },
  { "length", required_argument, NULL, OPT_UNSUPPORTED },
  { "fd", required_argument, NULL, OPT_UNSUPPORTED },
  { "verbose", no_argument, NULL, OPT_UNSUPPORTED },
  { "owner", required_argument, NULL, OPT_UNSUPPORTED },
  { "detach", no_argument, NULL, OPT_UNSUPPORTED },
  { "max-hold", required_argument, NULL, OPT_UNSUPPORTED },
  { "pid-file", required_argument, NULL, OPT_UNSUPPORTED },
  { "test", no_argument, NULL, OPT_UNSUPPORTED },
  { "holder", no_argument, NULL, OPT_UNSUPPORTED },
  { "remove", no_argument, NULL, OPT_UNSUPPORTED },
  { "api", required_argument, NULL, OPT_UNSUPPORTED },
  { "no-forward-signals", no_argument, NULL, OPT_UNSUPPORTED },
  { "sync", no_argument, NULL, OPT_UNSUPPORTED },
  { NULL, 0, NULL, 0 }
};

static _Noreturn void
usage (int status)
{
  if (status != EXIT_SUCCESS)
    {
      fprintf (stderr, "Try '%s --help' for more information.\n",
               program_name);
      exit (status);
    }
  printf ("\
Usage: %s [OPTION]... FILE|DIR COMMAND [ARG]...\n\
  or:  %s [OPTION]... FILE|DIR -c STRING\n\
Run COMMAND while holding a lock on FILE (created if missing).\n\
\n\
  -s, --shared               take a shared lock\n\
  -x, -e, --exclusive        take an exclusive lock (the default)\n\
  -n, --nb, --nonblock       fail at once if the lock is held\n\
  -w, --wait, --timeout=SECS  fail if the lock is not acquired within\n\
                               SECS (0: the same as -n)\n\
  -E, --conflict-exit-code=N  exit status after a conflict or a timeout\n\
                               (0 to 255, default 1)\n\
  -c, --command=STRING       run STRING with \"%%COMSPEC%% /c\" (cmd.exe)\n\
  -N, --no-create            do not create FILE\n\
  -q, --quiet                print no diagnostics but usage errors\n\
  -h, --help                 display this help and exit\n\
  -V, --version              output version information and exit\n\
\n\
This is plock for Windows: holding a lock past plock's exit (a lone\n\
FILE), descriptors, and the other options of the POSIX plock are not\n\
supported on this system (exit status 71).\n\
\n\
Exit status: COMMAND's; 1 (or -E N) on conflict or timeout; 64 usage\n\
error; 65 the lock call failed; 66 cannot open FILE; 69 COMMAND could\n\
not be run; 71 not supported on this system; 73 cannot create FILE.\n",
          program_name, program_name);
  emit_bug_reporting_address ();
  exit (status);
}

static _Noreturn void
unsupported (const char *what)
{
  error (EXIT_UNSUPPORTED, 0, "%s: not supported on this system", what);
  abort ();
}

/* Return ARG quoted for a Windows command line, as the C runtime's
   parser reads it back: as it is if it has no blank or quote (cmd.exe
   reads its own command line and would keep the quotes), else in double
   quotes, with the backslashes before a quote doubled and the quote
   escaped.  The result is malloc'd.  */
static char *
quote_arg (const char *arg)
{
  size_t len = strlen (arg);
  char *q = malloc (2 * len + 3);
  if (q == NULL)
    error (EXIT_UNSUPPORTED, ENOMEM, "quoting COMMAND");
  if (len > 0 && strpbrk (arg, " \t\n\v\"") == NULL)
    return strcpy (q, arg);
  char *p = q;
  *p++ = '"';
  size_t slashes = 0;
  for (const char *s = arg; *s != '\0'; s++)
    {
      if (*s == '\\')
        slashes++;
      else
        {
          if (*s == '"')
            {
              for (size_t i = 0; i <= slashes; i++)
                *p++ = '\\';
            }
          slashes = 0;
        }
      *p++ = *s;
    }
  for (size_t i = 0; i < slashes; i++)
    *p++ = '\\';
  *p++ = '"';
  *p = '\0';
  return q;
}

/* Run ARGV (NULL-terminated), wait for it, and return its exit
   status; exit with 69 if it could not be started.  */
static int
run (char **argv)
{
  size_t n = 0;
  while (argv[n] != NULL)
    n++;
  char **quoted = calloc (n + 1, sizeof *quoted);
  if (quoted == NULL)
    error (EXIT_UNSUPPORTED, ENOMEM, "running COMMAND");
  for (size_t i = 0; i < n; i++)
    quoted[i] = quote_arg (argv[i]);
  fflush (stdout);
  fflush (stderr);
  intptr_t status = _spawnvp (_P_WAIT, argv[0],
                              (const char *const *) quoted);
  int e = errno;
  for (size_t i = 0; i < n; i++)
    free (quoted[i]);
  free (quoted);
  if (status == -1)
    error (EXIT_EXEC, e, "%s", argv[0]);
  return (int) (status & 0xff);
}

/* Return the name to call plock by in messages: ARGV0 without its
   directory and ".exe".  Windows hands a program its full path, which
   would make every message and the --help text start with it.  */
static char *
tool_name (char *argv0)
{
  char *base = argv0;
  for (char *p = argv0; *p != '\0'; p++)
    if (*p == '\\' || *p == '/' || *p == ':')
      base = p + 1;
  size_t len = strlen (base);
  if (len > 4 && _stricmp (base + len - 4, ".exe") == 0)
    base[len - 4] = '\0';
  return *base != '\0' ? base : argv0;
}

/* flock's order FILE -c STRING.  The options end at FILE, so that a
   COMMAND's own options are never taken for plock's; then, as in the
   POSIX plock and in flock, a -c STRING, --command STRING or
   --command=STRING right after FILE names the command string, and must
   end the command line.  Return that string, or COMMAND (from a -c
   before FILE, or NULL) if none follows FILE; move optind past what was
   read.  */
static const char *
command_after_file (int argc, char **argv, const char *command)
{
  if (optind >= argc)
    return command;
  const char *arg = argv[optind];
  if (strcmp (arg, "-c") == 0 || strcmp (arg, "--command") == 0)
    {
      if (argc - optind != 2 || command != NULL)
        {
          error (0, 0, "%s requires exactly one command argument", arg);
          exit (EXIT_USAGE);
        }
      optind = argc;
      return argv[argc - 1];
    }
  if (strncmp (arg, "--command=", strlen ("--command=")) == 0)
    {
      if (argc - optind != 1 || command != NULL)
        {
          error (0, 0, "--command requires exactly one command argument");
          usage (EXIT_USAGE);
        }
      optind = argc;
      return arg + strlen ("--command=");
    }
  return command;
}

int
main (int argc, char **argv)
{
  int flags = PORTALOCK_EX;
  double timeout = -1;
  bool nonblock = false;
  long long conflict = 1;
  const char *command = NULL;
  bool no_create = false;
  bool quiet = false;
  int c;

  /* getopt_long names argv[0] in its messages, and error the C
     runtime's __argv[0] (gnulib's getprogname), which is a copy.  */
  argv[0] = tool_name (argv[0]);
  __argv[0] = argv[0];
  set_program_name (argv[0]);
  atexit (close_stdout);

  while ((c = getopt_long (argc, argv, "+sxenw:E:c:NqhVuoFHp", long_options,
                           NULL)) != -1)
    switch (c)
      {
      case 's': flags = PORTALOCK_SH; break;
      case 'x': case 'e': flags = PORTALOCK_EX; break;
      case 'n': nonblock = true; break;
      case 'w':
        if (flock_parse_timeout (optarg, &timeout) != DURATION_OK)
          {
            error (0, 0, "invalid timeout value: '%s'", optarg);
            usage (EXIT_USAGE);
          }
        break;
      case 'E':
        if (flock_parse_int (optarg, 0, 255, &conflict) != NUMBER_OK)
          {
            error (0, 0, "exit code out of range (expected 0 to 255)");
            usage (EXIT_USAGE);
          }
        break;
      case 'c': command = optarg; break;
      case 'N': no_create = true; break;
      case 'q': quiet = true; break;
      case 'h': usage (EXIT_SUCCESS);
      case 'V':
        print_version ("plock");
        exit (EXIT_SUCCESS);
      case 'u': case 'o': case 'F': case 'H': case 'p':
      case OPT_UNSUPPORTED:
        unsupported (optind > 1 ? argv[optind - 1] : "this option");
      default:
        usage (EXIT_USAGE);
      }

  if (optind >= argc)
    {
      error (0, 0, "not enough arguments");
      usage (EXIT_USAGE);
    }
  const char *path = argv[optind++];
  command = command_after_file (argc, argv, command);
  if (command != NULL && optind < argc)
    {
      error (0, 0, "-c takes exactly one command argument");
      usage (EXIT_USAGE);
    }
  if (command == NULL && optind >= argc)
    unsupported ("holding a lock past plock's exit (plock FILE)");

  portalock *lock = portalock_new (path);
  if (lock == NULL
      || portalock_set_mode (lock, no_create ? "r" : "a") != 0
      || portalock_set_flags (lock, flags) != 0
      || portalock_set_timeout (lock, nonblock ? 0 : timeout) != 0)
    error (EXIT_UNSUPPORTED, errno, "%s", path);
  if (portalock_acquire (lock) != 0)
    {
      int e = errno;
      /* flock(1) says nothing on a conflict or a timeout.  */
      if (e == EWOULDBLOCK || e == ETIMEDOUT)
        exit ((int) conflict);
      if (!quiet)
        error (0, e, "cannot open lock file %s", path);
      exit (e == ENOENT || e == EACCES || e == EISDIR ? EXIT_OPEN
            : e == ENOSPC || e == EROFS ? EXIT_CREATE : EXIT_LOCK);
    }

  char *shell_argv[4];
  char **cmd_argv = argv + optind;
  if (command != NULL)
    {
      /* Windows' shell is COMSPEC's (cmd.exe); SHELL, which MSYS2 or a
         Unix parent may have set, names no Windows program.  */
      const char *shell = getenv ("COMSPEC");
      shell_argv[0] = (char *) (shell != NULL && *shell != '\0'
                                ? shell : "cmd.exe");
      shell_argv[1] = (char *) "/c";
      shell_argv[2] = (char *) command;
      shell_argv[3] = NULL;
      cmd_argv = shell_argv;
    }

  size_t len = strlen ("PLOCK_FILE=") + strlen (path) + 1;
  char *env = malloc (len);
  if (env != NULL)
    {
      snprintf (env, len, "PLOCK_FILE=%s", path);
      _putenv (env);
    }
  int status = run (cmd_argv);
  portalock_free (lock);
  return status;
}
