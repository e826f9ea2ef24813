/* marker-record.h: the record of a marker and the helpers that marker.c
   and marker-readers.c share, internal.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* A writer's marker (PATH.marker, marker.c) and a reader's marker
   (".NAME.rd-TOKEN" beside it, marker-readers.c) hold the same record
   and are judged by the same rules; these are the helpers both files
   use.  None is exported.  */

#ifndef PORTALOCK_MK_RECORD_H
#define PORTALOCK_MK_RECORD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "marker.h"

/* The longest record; buffers for one are RECORD_MAX + 1 bytes.  */
#define PORTALOCK_MK_RECORD_MAX 2048

/* Read up to SIZE - 1 bytes of PATH into BUF, NUL-terminated.  Return
   the count, or -1 with errno.  */
ssize_t portalock_mk_read_path (const char *path, char *buf, size_t size);

/* Read the file open on FD from its start into TEXT
   (PORTALOCK_MK_RECORD_MAX + 1 bytes), NUL-terminated.  Return the
   length, or -1 with errno.  */
ssize_t portalock_mk_read_fd (int fd, char *text);

/* Parse the NUL-terminated TEXT into *REC.  Return true if it is a
   record in exactly the documented form.  */
bool portalock_mk_parse_record (const char *text,
                                struct portalock_mk_record *rec);

/* A name of this process's in DIR: ".BASE.HOST.PID.RAND.SUFFIX"
   (M unused).  Return it malloc'd, or NULL with errno.  */
char *portalock_mk_private_name (const struct portalock_mk *m,
                                 const char *base, const char *dir,
                                 const char *suffix);

/* Split PATH into a malloc'd directory and last component.  Return 0,
   or -1 with errno (EINVAL, ENOMEM).  */
int portalock_mk_split_path (const char *path, char **dir, char **base);

/* Return true if the strict record REC is provably dead: written on
   this host in this boot by a process that is gone.  */
bool portalock_mk_provably_dead (const struct portalock_mk_record *rec);

/* Return true if S is all decimal digits (at most 20); set *V to
   their value.  */
bool portalock_mk_number (const char *s, unsigned long long *v);

/* A lease's margin for a TTL of TTL seconds (TTL / 5).  */
double portalock_mk_margin (double ttl);

/* Add SECONDS (not negative) to *T; the seconds from A to B.  */
void portalock_mk_add_seconds (struct timespec *t, double seconds);
double portalock_mk_seconds_between (const struct timespec *a,
                                     const struct timespec *b);

/* The name of the reader marker whose token is TOKEN beside the writer
   marker DIR/BASE: "DIR/.BASE.rd-TOKEN".  Return it malloc'd, or NULL
   with errno.  */
char *portalock_mk_reader_name (const char *dir, const char *base,
                                const char *token);

/* The greatest generation claimed beside the writer marker DIR/BASE, 0
   if none.  Return 0, or -1 with errno (from opendir).  */
int portalock_mk_max_generation (const char *dir, const char *base,
                                 unsigned long long *gen);

/* Phase 2 of a writer's acquire (marker-readers.c): with the writer
   marker DIR/BASE held, wait until no live reader marker is left,
   evicting stale ones (a lease's unchanged for its TTL and a margin on
   this machine's clock; a strict one provably dead).  One look if
   NONBLOCK (EWOULDBLOCK), else poll with a backoff capped at INTERVAL
   seconds until DEADLINE (NULL: none; ETIMEDOUT), or a pending
   acquisition's cancel (ECANCELED).  Return 0, or -1 with errno.  */
int portalock_mk_wait_readers (const char *dir, const char *base,
                               double interval, bool nonblock,
                               const struct timespec *deadline);

/* Break the reader marker with TOKEN beside the writer marker PATH.
   Return 0; or -1 with errno: ENOENT (none), EINVAL; from the file
   system.  */
int portalock_mk_break_reader (const char *path, const char *token);

/* Read the reader markers beside the writer marker PATH into RECS, up
   to MAX of them.  Return how many there are (more than MAX if some
   were not stored), or -1 with errno (EINVAL, ENOMEM, from opendir).
   Files at a reader marker's name that are not records are skipped.  */
int portalock_mk_readers (const char *path,
                          struct portalock_mk_record *recs, size_t max);

#endif /* PORTALOCK_MK_RECORD_H */
