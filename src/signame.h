/* signame.h: signal names and numbers, for punlock --signal.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef SIGNAME_H
#define SIGNAME_H 1

/* Return the signal TEXT names: a number, or a name with or without
   "SIG" in any case ("TERM", "sigusr1", "15").  Return -1 if it names
   no signal or signal 0.  */
int signal_from_text (const char *text);

/* Return the name of signal SIG without "SIG" ("TERM"), or NULL.  */
const char *signal_name (int sig);

#endif /* SIGNAME_H */
