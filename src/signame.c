/* signame.c: signal names and numbers, for punlock --signal.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "signame.h"

#include <signal.h>
#include <stddef.h>
#include <strings.h>

#include "duration.h"

static const struct
{
  int number;
  const char *name;
} signals[] =
{
  { SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
  { SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
  { SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
  { SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
  { SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
  { SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
  { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
  { SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
  { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" },
#ifdef SIGIO
  { SIGIO, "IO" },
#endif
#ifdef SIGPWR
  { SIGPWR, "PWR" },
#endif
  { SIGSYS, "SYS" },
};

int
signal_from_text (const char *text)
{
  long long n;
  if (parse_count (text, 1000, &n))
    {
#ifdef SIGRTMAX
      int max = SIGRTMAX;
#else
      int max = 64;
#endif
      return n >= 1 && n <= max ? (int) n : -1;
    }
  if (strncasecmp (text, "SIG", 3) == 0)
    text += 3;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp (text, signals[i].name) == 0)
      return signals[i].number;
  return -1;
}

const char *
signal_name (int sig)
{
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (signals[i].number == sig)
      return signals[i].name;
  return NULL;
}
