/* atomic-place.h: where an atomic write goes: the system's part of it.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* atomic.c carries out the public calls of atomic writes the same way
   everywhere: the arguments, the stream, flushing and closing the
   temporary file, and the order of the steps.  What names, creates,
   publishes and deletes the files is the system's, behind this
   interface: atomic-posix.c (a directory descriptor, O_EXCL,
   renameat2 or link, fsync of the directory) and atomic-win32.c
   (full UTF-16 paths, CREATE_NEW, MoveFileExW).  Every call returns 0
   or an errno value, and changes nothing the user did not ask to
   change.  */

#ifndef PORTALOCK_ATOMIC_PLACE_H
#define PORTALOCK_ATOMIC_PLACE_H 1

#include <stdint.h>
#include <sys/types.h>

/* The target and the temporary file of one atomic write.  */
struct portalock_atomic_place;

/* The random characters of a temporary file's name: ".NAME.XXXXXX".  */
#define PORTALOCK_ATOMIC_RANDOM_CHARS 6

/* How many names a temporary file tries before giving up (EEXIST).  */
#define PORTALOCK_ATOMIC_TRIES 100

/* Fill SUFFIX with PORTALOCK_ATOMIC_RANDOM_CHARS letters and digits and
   a null byte, which SEED (one per write) and ATTEMPT make differ
   between writes, processes and tries (atomic.c).  */
void portalock_atomic_suffix (char *suffix, uintptr_t seed,
                              unsigned attempt);

/* Find the target PATH's directory, making it and its parents first if
   FLAGS has PORTALOCK_ATOMIC_MKDIRS; check that the target may be
   written as FLAGS say (EISDIR for a directory; EEXIST if it exists and
   FLAGS lack PORTALOCK_ATOMIC_REPLACE); and create a temporary file
   next to it, with MODE where the system applies modes, named with
   portalock_atomic_suffix (SEED, ...).  On success set *PLACE and *FD,
   a descriptor open for reading and writing on the new, empty file.  On
   failure no temporary file is left.  */
int portalock_atomic_place_open (const char *path, int flags, mode_t mode,
                                 uintptr_t seed,
                                 struct portalock_atomic_place **place,
                                 int *fd);

/* Get what was written to FD, the temporary file, onto the disk.  */
int portalock_atomic_place_sync (int fd);

/* Ask the file system again why a write to FD, the temporary file,
   failed: one byte written past its end gives the error (EFBIG,
   ENOSPC, EDQUOT, EIO...), and if that works the cause has passed:
   EIO.  */
int portalock_atomic_place_write_error (int fd);

/* Give PLACE's temporary file, closed and on the disk, the target's
   name, replacing an existing target only if FLAGS has
   PORTALOCK_ATOMIC_REPLACE (else EEXIST), and get the new name onto the
   disk.  If the name could not be given, the temporary file is
   deleted.  */
int portalock_atomic_place_publish (struct portalock_atomic_place *place,
                                    int flags);

/* Delete PLACE's temporary file, closed; errno is kept.  */
void portalock_atomic_place_discard (struct portalock_atomic_place *place);

/* Free PLACE.  */
void portalock_atomic_place_free (struct portalock_atomic_place *place);

#endif /* PORTALOCK_ATOMIC_PLACE_H */
