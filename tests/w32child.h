/* w32child.h: the other processes of the Windows test programs.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* A Windows test program cannot fork: the other process of a check runs
   a program (the test itself, or tests/w32holder) whose last two
   arguments are the inherited descriptors IN and OUT of two pipes.  It
   reads one-letter orders from IN and answers on OUT, so every step
   waits for the other process by reading a pipe, never by sleeping; it
   sees the end of IN when the test closes its end or dies.  Carried out
   in testutil-win32.c.  */

#ifndef W32CHILD_H
#define W32CHILD_H 1

#include <stdint.h>

struct child
{
  intptr_t process;     /* its handle */
  int to;               /* orders to the child */
  int from;             /* its answers */
};

/* Start PROGRAM with the arguments ARGS (ended by NULL, PROGRAM's name
   first), followed by IN and OUT; die if it cannot be started.  */
void child_start (struct child *c, const char *program,
                  const char *const *args);

/* Send the order LETTER to C and return its one-letter answer, '?' if
   none.  */
char child_order (struct child *c, char letter);

/* Return C's next answer, '?' if none.  */
char child_answer (struct child *c);

/* End C: close its orders pipe, wait for it, close its answers pipe and
   return its exit status.  */
int child_finish (struct child *c);

#endif /* W32CHILD_H */
