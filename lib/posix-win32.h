/* posix-win32.h: the few POSIX file calls the library uses, on Windows.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* configure makes config.h include this header last in a Windows build
   of the library (never in the tools, never elsewhere), so that the
   portable code of the library -- lock objects, semaphores, PID records
   -- builds unchanged, the way gnulib's replacement headers work.  Each
   replacement is carried out in posix-win32.c with the Windows calls
   that give the POSIX meaning the library relies on:

   - open takes a UTF-8 path (converted to UTF-16), opens with
     CreateFileW sharing read, write and delete (so that a temporary lock
     can be deleted while another process holds it open), never with
     CREATE_ALWAYS or TRUNCATE_EXISTING (which would truncate a file
     whose deletion is pending), and hands back a CRT descriptor.
   - stat, fstat and lstat report the volume serial number as st_dev and
     the 64-bit file index as st_ino, so that the identity checks compare
     what Windows compares, and a file whose deletion is pending as
     st_nlink 0.
   - unlink deletes through DeleteFileW, with the same UTF-8 path.  */

#ifndef PORTALOCK_POSIX_WIN32_H
#define PORTALOCK_POSIX_WIN32_H 1

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
/* winpthread is linked into the DLL (m4/portalock-platform.m4), but its
   headers declare its functions imported from libwinpthread-1.dll
   whenever DLL_EXPORT is defined, as libtool defines it for the objects
   of a DLL: read them without it, so that the calls go to the copy
   linked in.  */
#if defined DLL_EXPORT && PORTALOCK_STATIC_WINPTHREAD
# undef DLL_EXPORT
# include <pthread.h>
# define DLL_EXPORT 1
#else
# include <pthread.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* Return a malloc'd UTF-16 copy of the UTF-8 string PATH, or NULL with
   errno (EINVAL for bytes that are not UTF-8, ENOMEM).  */
wchar_t *portalock_win32_wide (const char *path);

/* Identities as wide as Windows's.  */
typedef uint32_t portalock_win32_dev_t;
typedef uint64_t portalock_win32_ino_t;
#undef dev_t
#define dev_t portalock_win32_dev_t
#undef ino_t
#define ino_t portalock_win32_ino_t

struct portalock_win32_stat
{
  dev_t st_dev;
  ino_t st_ino;
  unsigned st_mode;
  unsigned st_nlink;
  int64_t st_size;
  time_t st_mtime;
};

#undef stat
#define stat portalock_win32_stat
#undef fstat
#define fstat portalock_win32_fstat
#undef lstat
#define lstat portalock_win32_lstat
int portalock_win32_stat (const char *path, struct portalock_win32_stat *st);
int portalock_win32_fstat (int fd, struct portalock_win32_stat *st);
int portalock_win32_lstat (const char *path, struct portalock_win32_stat *st);

#ifndef S_ISLNK
# define S_ISLNK(m) ((m) == 0xFFFFFFFFu)
#endif

/* Flags open understands beyond the CRT's; the CRT's _O_NOINHERIT is
   O_CLOEXEC.  The others change nothing on Windows.  */
#define O_CLOEXEC _O_NOINHERIT
#define O_NOCTTY 0x10000000
#define O_NONBLOCK 0x20000000
#define O_NOFOLLOW 0x40000000
#ifndef O_ACCMODE
# define O_ACCMODE (O_RDONLY | O_WRONLY | O_RDWR)
#endif

#undef open
#define open portalock_win32_open
int portalock_win32_open (const char *path, int flags, ...);

#undef unlink
#define unlink portalock_win32_unlink
int portalock_win32_unlink (const char *path);

/* fcntl: F_GETFL gives the access mode and O_APPEND of a descriptor that
   open made; F_SETFL changes nothing.  */
#define F_GETFL 3
#define F_SETFL 4
#define fcntl portalock_win32_fcntl
int portalock_win32_fcntl (int fd, int cmd, ...);

#define pread portalock_win32_pread
#define pwrite portalock_win32_pwrite
ssize_t portalock_win32_pread (int fd, void *buf, size_t size, off_t offset);
ssize_t portalock_win32_pwrite (int fd, const void *buf, size_t size,
                                off_t offset);

#define fsync portalock_win32_fsync
int portalock_win32_fsync (int fd);

/* kill (PID, 0): whether the process exists.  Any other signal: ENOTSUP.  */
#define kill portalock_win32_kill
int portalock_win32_kill (pid_t pid, int signo);

#ifndef HOST_NAME_MAX
# define HOST_NAME_MAX 255
#endif
#define gethostname portalock_win32_gethostname
int portalock_win32_gethostname (char *name, int size);

#ifndef NAME_MAX
# define NAME_MAX 255
#endif
#ifndef ESTALE
# define ESTALE 10116
#endif

/* There is no fork: the handlers never run.  */
static inline int
portalock_win32_atfork (void (*prepare) (void), void (*parent) (void),
                        void (*child) (void))
{
  (void) prepare;
  (void) parent;
  (void) child;
  return 0;
}
#undef pthread_atfork
#define pthread_atfork portalock_win32_atfork

#endif /* PORTALOCK_POSIX_WIN32_H */
