/* util.c: helpers the fuzz targets share, and a replay driver for
   builds without libFuzzer.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
fuzz_string (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  if (s == NULL)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

void
fuzz_fail (const char *what, const char *input)
{
  fprintf (stderr, "fuzz: broken promise: %s; input \"%s\"\n", what, input);
  abort ();
}

static char tmpdir[PATH_MAX];

static void
remove_tmpdir (void)
{
  DIR *d = opendir (tmpdir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      {
        char path[PATH_MAX + 256];
        snprintf (path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink (path);
      }
  closedir (d);
  rmdir (tmpdir);
}

const char *
fuzz_path (const char *name)
{
  static char path[PATH_MAX + 256];
  if (tmpdir[0] == '\0')
    {
      const char *base = getenv ("TMPDIR");
      snprintf (tmpdir, sizeof tmpdir, "%s/portalock-fuzz.XXXXXX",
                base != NULL && *base != '\0' ? base : "/tmp");
      if (mkdtemp (tmpdir) == NULL)
        {
          perror (tmpdir);
          abort ();
        }
      atexit (remove_tmpdir);
    }
  snprintf (path, sizeof path, "%s/%s", tmpdir, name);
  return path;
}

#ifndef PORTALOCK_LIBFUZZER

/* Without libFuzzer: run every file named on the command line, or found
   in a directory named there, through the target once.  */

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      perror (path);
      return 1;
    }
  size_t size = 0, alloc = 4096;
  uint8_t *data = malloc (alloc);
  size_t n;
  while (data != NULL && (n = fread (data + size, 1, alloc - size, f)) > 0)
    {
      size += n;
      if (size == alloc)
        {
          uint8_t *more = realloc (data, alloc *= 2);
          if (more == NULL)
            free (data);
          data = more;
        }
    }
  fclose (f);
  if (data == NULL)
    abort ();
  LLVMFuzzerTestOneInput (data, size);
  free (data);
  return 0;
}

int
main (int argc, char **argv)
{
  int inputs = 0, errors = 0;
  for (int i = 1; i < argc; i++)
    {
      struct stat st;
      if (stat (argv[i], &st) != 0)
        {
          perror (argv[i]);
          errors++;
          continue;
        }
      if (!S_ISDIR (st.st_mode))
        {
          errors += replay_file (argv[i]);
          inputs++;
          continue;
        }
      DIR *d = opendir (argv[i]);
      if (d == NULL)
        {
          perror (argv[i]);
          errors++;
          continue;
        }
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        {
          if (e->d_name[0] == '.')
            continue;
          char path[PATH_MAX];
          snprintf (path, sizeof path, "%s/%s", argv[i], e->d_name);
          errors += replay_file (path);
          inputs++;
        }
      closedir (d);
    }
  printf ("%s: %d inputs replayed, %d unreadable\n", argv[0], inputs,
          errors);
  return errors == 0 && inputs > 0 ? 0 : 1;
}

#endif /* !PORTALOCK_LIBFUZZER */
