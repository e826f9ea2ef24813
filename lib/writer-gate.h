/* writer-gate.h: writer preference of lock objects, the gate that
   writers hold while they wait (writer-gate.c).  Not installed.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#ifndef PORTALOCK_WRITER_GATE_H
#define PORTALOCK_WRITER_GATE_H 1

#include <stdbool.h>
#include <time.h>

#include "portalock.h"

/* Before LOCK, which holds nothing, is locked TYPE (one try if
   NONBLOCK, else waiting until DEADLINE, NULL for no limit): pass its
   gate as a writer or a reader if LOCK prefers writers.  Return 0 with
   *GATE the gate held (NULL if LOCK does not prefer writers), to be
   given to portalock_gate_leave once the lock is taken or has failed;
   or -1 with errno (EWOULDBLOCK, ETIMEDOUT, ENOTSUP, from open), holding
   nothing.  */
int portalock_gate_enter (portalock *lock, int type, bool nonblock,
                          const struct timespec *deadline, portalock **gate);

/* Before LOCK, held shared, is made TYPE: if LOCK prefers writers and
   TYPE is exclusive, take the gate if it is free at once, and set *GATE
   to it (else NULL).  Never waits: a writer may hold the gate while it
   waits for LOCK's shared lock to go.  */
void portalock_gate_enter_convert (portalock *lock, int type,
                                   portalock **gate);

/* Let go of GATE, from portalock_gate_enter or _enter_convert (NULL:
   nothing).  Keeps errno.  */
void portalock_gate_leave (portalock *gate);

#endif /* PORTALOCK_WRITER_GATE_H */
