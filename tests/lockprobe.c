/* lockprobe.c: a program for tests that need a lock taker across exec.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage:
     lockprobe try FILE     try an exclusive lock on FILE without waiting;
                            exit 0 if taken, 1 if held elsewhere, 2 on error
     lockprobe idle         write "R" to stdout, then wait for EOF on stdin
                            (a process that may have inherited descriptors)
     lockprobe backend      print the name of the default backend
     lockprobe version      print portalock_version ()
     lockprobe offbits      print the width of the library's off_t (this
                            program's, built with the library's flags)
     lockprobe longdouble   print LDBL_MANT_DIG and LDBL_MAX_10_EXP: how
                            strtold reads -w's durations here
     lockprobe record FILE  print what portalock_pid_record_read says of
                            FILE: its return value and the PID, or
                            "-1 ERRNO-NUMBER PID" */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "try") == 0)
    {
      int fd = open (argv[2], O_RDWR | O_CLOEXEC);
      if (fd < 0)
        return 2;
      if (portalock_lock (fd, PORTALOCK_EX | PORTALOCK_NB) == 0)
        return 0;
      return errno == EWOULDBLOCK ? 1 : 2;
    }
  if (argc == 2 && strcmp (argv[1], "idle") == 0)
    {
      char c;
      if (write (STDOUT_FILENO, "R", 1) != 1)
        return 2;
      while (read (STDIN_FILENO, &c, 1) > 0)
        ;
      return 0;
    }
  if (argc == 2 && strcmp (argv[1], "backend") == 0)
    {
      puts (portalock_backend_name (PORTALOCK_BACKEND_DEFAULT));
      return 0;
    }
  if (argc == 2 && strcmp (argv[1], "version") == 0)
    {
      puts (portalock_version ());
      return 0;
    }
  if (argc == 2 && strcmp (argv[1], "offbits") == 0)
    {
      printf ("%d\n", (int) (sizeof (off_t) * CHAR_BIT));
      return 0;
    }
  if (argc == 2 && strcmp (argv[1], "longdouble") == 0)
    {
      printf ("%d %d\n", LDBL_MANT_DIG, LDBL_MAX_10_EXP);
      return 0;
    }
  if (argc == 3 && strcmp (argv[1], "record") == 0)
    {
      pid_t pid = 0;
      int r = portalock_pid_record_read (argv[2], &pid);
      if (r < 0)
        printf ("-1 %d %ld\n", errno, (long) pid);
      else
        printf ("%d %ld\n", r, (long) pid);
      return 0;
    }
  fprintf (stderr, "usage: lockprobe try FILE | idle | backend | version"
           " | offbits | longdouble | record FILE\n");
  return 2;
}
