/* fuseharness.h: two FUSE mounts of one directory, the test suite's two
   machines on a network file system.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef FUSEHARNESS_H
#define FUSEHARNESS_H 1

#include <stdbool.h>
#include <sys/types.h>

/* The directory shown twice and the two mount points (test_path's
   "source", "mount1", "mount2"), set by fuse_setup.  */
extern char fuse_source[4096];
extern char fuse_mounts[2][4096];

/* Run ARGV (ended by NULL) with its output thrown away; return true if
   it exited with status 0.  */
bool fuse_run (const char *const *argv);

/* Return true if /dev/fuse, bindfs and fusermount are here; then make
   the directories and arrange for the mounts to be undone at exit and
   on SIGTERM, SIGINT and SIGHUP.  */
bool fuse_setup (void);

/* Mount the source at both mount points, with lock forwarding if
   FORWARD.  Return false if bindfs refuses (the caller reports the
   checks UNSUPPORTED).  */
bool fuse_mount_both (bool forward);

/* Remember PID, a child that may keep a file open on a mount: it is
   killed and reaped before the mounts are undone.  0 forgets it.  */
void fuse_child (pid_t pid);

/* Undo the mounts (ending the child first); a mount that still refuses
   is detached lazily.  */
void fuse_unmount_all (void);

#endif /* FUSEHARNESS_H */
