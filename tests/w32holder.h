/* w32holder.h: how the Windows test helpers start tests/w32holder.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The command line is

     w32holder ROLE PATH BACKEND FLAGS START LENGTH IN OUT

   ROLE is "hold" or "probe"; PATH is the lock file's UTF-8 path in
   hexadecimal (a command line passes through the ANSI code page, and
   _spawnl does not quote); BACKEND, FLAGS, START and LENGTH are
   portalock_backend_lock's arguments, in decimal; IN and OUT are the
   inherited descriptors of the pipes from and to the test program
   (w32child.h).

   The holder opens PATH as another program using the library would
   (read, write and delete shared; created if missing; read-only for a
   shared lock), and locks it: "hold" waits up to 30 seconds, "probe"
   does not wait.  It writes 'L' once it holds the lock, else 'E'
   followed by the int errno.  A probe then ends; a holder waits for a
   byte (or the end) on IN, unlocks, writes 'U' and ends.  */

#ifndef W32HOLDER_H
#define W32HOLDER_H 1

/* The arguments between ROLE and IN, and the room for one.  */
enum { W32HOLDER_ARGS = 5, W32HOLDER_ARG_SIZE = 4 * 260 + 1 };

#endif /* W32HOLDER_H */
