/* form-test.c: plock --test, --holder and --probe: questions that take no
   lock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "lockfile.h"
#include "marker-tool.h"
#include "method-lock.h"
#include "plock.h"
#include "portalock.h"

/* plock --test --method=strict|lease|auto FILE: take the lock and give
   it back at once, which is the only way to tell whether the lock could
   be taken now (a lease that nobody renews any more can be, and so
   the lock object takes it).  FILE is not created.  */
static int
test_object (struct options *o, const char *path)
{
  struct lock_request req = o->lock;
  req.path = path;
  req.create = false;
  if (!o->have_timeout)
    req.nonblock = true;
  struct stat st;
  if (stat (path, &st) != 0)
    {
      if (errno == ENOENT && o->lock.create)
        return EXIT_SUCCESS;
      return lockfile_open_status (&req, errno, o->quiet);
    }
  int status;
  portalock *lock = method_lock_new (&req, false, NULL, NULL, o->quiet,
                                     &status);
  if (lock == NULL)
    return status;
  if (portalock_acquire (lock) != 0)
    {
      int err = errno;
      portalock_free (lock);
      return method_lock_status (&req, err, false, o->conflict_code,
                                 o->verbose, o->quiet);
    }
  bool lost = false;
  status = method_lock_finish (lock, path, &lost, o->quiet);
  return status;
}

/* plock --test FILE|FD.  */
int
test_form (struct options *o, const char *arg)
{
  if (method_uses_object (&o->lock))
    return test_object (o, arg);

  int fd;
  bool is_dir;
  struct lock_request req = o->lock;
  req.create = false;
  req.write = false;
  if (!o->have_timeout)
    req.nonblock = true;

  int n;
  if (descriptor_operand (arg, &n))
    {
      /* Try on a descriptor of one's own: a lock taken and dropped on
         the inherited one would change the caller's lock.  */
      char path[64];
      if (fcntl (n, F_GETFD) < 0)
        {
          if (!o->quiet)
            error (0, errno, "%d", n);
          return EX_DATAERR;
        }
      snprintf (path, sizeof path, "/proc/self/fd/%d", n);
      req.path = path;
      fd = lockfile_open (&req, &is_dir);
      req.path = NULL;
      if (fd < 0)
        {
          if (!o->quiet)
            error (0, errno, "%s: cannot reopen", arg);
          return EX_DATAERR;
        }
    }
  else
    {
      req.path = arg;
      fd = lockfile_open (&req, &is_dir);
      if (fd < 0)
        {
          if (errno == ENOENT && o->lock.create)
            return EXIT_SUCCESS;
          return lockfile_open_status (&req, errno, o->quiet);
        }
      req.path = NULL;    /* no need to follow a replaced file */
    }
  int status = 0;
  if (lockfile_acquire (&req, &fd) != 0)
    status = lockfile_lock_status (&req, arg, errno, o->conflict_code,
                                   o->verbose, o->quiet);
  close (fd);
  return status;
}

/* plock --holder FILE: the PIDs of the kernel's holders, one a line,
   then the holder that FILE's marker names, if there is one (a lock of
   the strict or lease method), as "HOST PID TOKEN GENERATION METHOD".  */
int
holder_form (struct options *o, const char *path)
{
  struct portalock_marker_info info;
  int marked = portalock_marker_read (path, &info, sizeof info);
  if (marked < 0)
    {
      int err = errno;
      if (!o->quiet)
        {
          if (err == EPROTO)
            error (0, 0, "warning: %s.marker is not a lock's marker",
                   path);
          else
            error (0, err, "warning: %s: cannot read its marker", path);
        }
      marked = 0;
    }
  pid_t pids[256];
  int n = portalock_holders (path, pids, 256);
  if (n < 0)
    {
      int err = errno;
      if (marked == 0 || (err != ENOENT && err != ENOTSUP))
        {
          if (!o->quiet)
            error (0, err, "%s", path);
          return err == ENOENT || err == EACCES || err == ENOTDIR
            ? EX_NOINPUT : EX_OSERR;
        }
      n = 0;
    }
  for (int i = 0; i < n && i < 256; i++)
    printf ("%ld\n", (long) pids[i]);
  if (marked > 0)
    marker_print (stdout, &info);
  return n > 0 || marked > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The words for a verdict.  */
static const char *
verdict_name (uint32_t verdict)
{
  switch (verdict)
    {
    case PORTALOCK_FS_SPANS:
      return "every client";
    case PORTALOCK_FS_LOCAL:
      return "this machine only";
    default:
      return "unknown";
    }
}

/* plock --probe FILE: the file system that holds FILE, and how far its
   locks reach (portalock_fs_probe); exit 0 if the locks of the api
   plock would use (flock, or POSIX for the others) reach every
   client.  */
int
probe_form (struct options *o, const char *path)
{
  struct portalock_fs_info info;
  if (portalock_fs_probe (path, &info, sizeof info) != 0)
    {
      int err = errno;
      if (!o->quiet)
        error (0, err, "%s", path);
      return err == ENOENT || err == EACCES || err == ENOTDIR ? EX_NOINPUT
        : EX_OSERR;
    }
  bool posix = o->lock.api != PORTALOCK_BACKEND_FLOCK;
  uint32_t verdict = posix ? info.posix_verdict : info.flock_verdict;
  if (!o->quiet)
    {
      printf ("type: %s\n", info.fstype[0] != '\0' ? info.fstype : "unknown");
      printf ("source: %s\n", info.source);
      printf ("mount point: %s\n", info.mount_point);
      printf ("options: %s%s%s\n", info.mount_options,
              info.mount_options[0] && info.super_options[0] ? "," : "",
              info.super_options);
      printf ("flock locks reach: %s\n", verdict_name (info.flock_verdict));
      printf ("posix locks reach: %s\n", verdict_name (info.posix_verdict));
    }
  return verdict == PORTALOCK_FS_SPANS ? EXIT_SUCCESS : EXIT_FAILURE;
}
