/* w32holder.c: the other process of the Windows test programs: it
   takes a lock and holds it until told to let go (w32holder.h).

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <windows.h>

#include "portalock.h"
#include "w32holder.h"

/* Decode the hexadecimal HEX into PATH of SIZE bytes; return false if
   it is not hexadecimal or does not fit.  */
static bool
decode_path (const char *hex, char *path, size_t size)
{
  size_t n = strlen (hex);
  if (n % 2 != 0 || n / 2 >= size)
    return false;
  for (size_t i = 0; i < n / 2; i++)
    {
      unsigned byte;
      if (sscanf (hex + 2 * i, "%2x", &byte) != 1)
        return false;
      path[i] = (char) byte;
    }
  path[n / 2] = '\0';
  return true;
}

/* Open PATH, sharing read, write and delete, as the library does.  */
static int
open_shared (const char *path, int flags)
{
  wchar_t wide[MAX_PATH * 2];
  if (MultiByteToWideChar (CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide,
                           MAX_PATH * 2) == 0)
    {
      errno = EINVAL;
      return -1;
    }
  bool shared = (flags & PORTALOCK_SH) != 0;
  HANDLE h = CreateFileW (wide, GENERIC_READ | (shared ? 0 : GENERIC_WRITE),
                          FILE_SHARE_READ | FILE_SHARE_WRITE
                          | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
                          FILE_ATTRIBUTE_NORMAL, NULL);
  if (h == INVALID_HANDLE_VALUE)
    {
      errno = GetLastError () == ERROR_FILE_NOT_FOUND
              || GetLastError () == ERROR_PATH_NOT_FOUND ? ENOENT : EACCES;
      return -1;
    }
  int fd = _open_osfhandle ((intptr_t) h,
                            (shared ? _O_RDONLY : _O_RDWR) | _O_BINARY);
  if (fd < 0)
    CloseHandle (h);
  return fd;
}

static void
answer (int out, char c, int error)
{
  if (write (out, &c, 1) != 1)
    exit (3);
  if (c == 'E' && write (out, &error, sizeof error) != sizeof error)
    exit (3);
}

int
main (int argc, char **argv)
{
  char path[W32HOLDER_ARG_SIZE];
  if (argc != 4 + W32HOLDER_ARGS || !decode_path (argv[2], path, sizeof path))
    {
      fprintf (stderr, "usage: w32holder hold|probe HEXPATH BACKEND FLAGS"
               " START LENGTH IN OUT\n");
      return 2;
    }
  bool probe = strcmp (argv[1], "probe") == 0;
  int backend = atoi (argv[3]);
  int flags = atoi (argv[4]);
  off_t start = strtoll (argv[5], NULL, 10);
  off_t length = strtoll (argv[6], NULL, 10);
  int in = atoi (argv[7]);
  int out = atoi (argv[8]);

  int fd = open_shared (path, flags);
  if (fd < 0
      || portalock_backend_lock (backend, fd,
                                 probe ? flags | PORTALOCK_NB : flags,
                                 start, length, probe ? 0 : 30) != 0)
    {
      answer (out, 'E', errno);
      return 1;
    }
  answer (out, 'L', 0);
  if (probe)
    return 0;
  char c;
  if (read (in, &c, 1) < 0)
    return 1;
  portalock_backend_lock (backend, fd, PORTALOCK_UN, start, length, 0);
  answer (out, 'U', 0);
  return 0;
}
