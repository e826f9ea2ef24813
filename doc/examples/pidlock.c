/* pidlock.c: a single-instance daemon's pid file: the lock says whether
   an instance runs, the record says which (portalocker's PidFileLock).

   Copyright (C) 2026 The portalock authors.

   Copying and distribution of this file, with or without modification,
   are permitted in any medium without royalty provided the copyright
   notice and this notice are preserved.  This file is offered as-is,
   without any warranty.  */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <portalock.h>

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s PIDFILE\n", argv[0]);
      return 2;
    }
  portalock *lock = portalock_new (argv[1]);
  if (lock == NULL || portalock_set_record_pid (lock, true) != 0
      || portalock_set_temporary (lock, true) != 0
      || portalock_set_fail_when_locked (lock, true) != 0)
    {
      perror ("portalock_new");
      return 1;
    }

  if (portalock_acquire (lock) != 0)
    {
      pid_t pid;
      if (errno == EWOULDBLOCK
          && portalock_pid_record_read (argv[1], &pid) == 1)
        printf ("already running as process %ld\n", (long) pid);
      else
        fprintf (stderr, "%s: %s\n", argv[1], strerror (errno));
      portalock_free (lock);
      return 1;
    }

  /* Anyone may now ask who runs, and be told only of a live process.  */
  pid_t pid;
  if (portalock_pid_record_read (argv[1], &pid) == 1 && pid == getpid ())
    printf ("running as process %ld\n", (long) pid);

  /* Where the kernel can tell, it names the holders too.  */
  pid_t holders[4];
  int n = portalock_holders (argv[1], holders, 4);
  if (n >= 1 && holders[0] == getpid ())
    printf ("the kernel agrees\n");

  portalock_free (lock);   /* releases: the pid file is deleted */
  return 0;
}
