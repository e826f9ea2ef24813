/* util.c: timing, statistics, result rows and raw locks for the benchmark.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct settings bench;

const enum portalock_backend bench_backends[] =
{
  PORTALOCK_BACKEND_FLOCK, PORTALOCK_BACKEND_OFD, PORTALOCK_BACKEND_FCNTL,
  PORTALOCK_BACKEND_LOCKF, PORTALOCK_BACKEND_DEFAULT
};

void
fail (const char *what, ...)
{
  int e = errno;
  va_list ap;
  fputs ("plbench: ", stderr);
  va_start (ap, what);
  vfprintf (stderr, what, ap);
  va_end (ap);
  fprintf (stderr, ": %s\n", strerror (e));
  exit (2);
}

const char *
fmt (const char *format, ...)
{
  static char ring[128][256];
  static unsigned next;
  char *buf = ring[next++ % 128];
  va_list ap;
  va_start (ap, format);
  vsnprintf (buf, sizeof ring[0], format, ap);
  va_end (ap);
  return buf;
}

const char *
bench_path (const char *name)
{
  return fmt ("%s/%s", bench.dir, name);
}

static void
print_number (double v)
{
  if (isnan (v))
    fputs ("-", stdout);
  else if (fabs (v) >= 100)
    printf ("%.0f", v);
  else if (fabs (v) >= 10)
    printf ("%.1f", v);
  else
    printf ("%.2f", v);
}

static const char *
text (const char *s)
{
  return s == NULL || *s == '\0' ? "-" : s;
}

void
emit (const struct row *r)
{
  printf ("%s\t%s\t", r->id, r->figure);
  print_number (r->value);
  printf ("\t%s\t%s\t%s\t", text (r->unit), text (r->detail),
          text (r->reference));
  print_number (r->ref_value);
  putchar ('\t');
  if (isnan (r->ratio))
    fputs ("-", stdout);
  else
    printf ("%.2fx", r->ratio);
  printf ("\t%s\t%s\t", text (r->goal), text (r->status));
  if (isnan (r->noise))
    fputs ("-", stdout);
  else
    printf ("%.0f%%", r->noise);
  printf ("\t%d\n", r->samples);
  fflush (stdout);
}

void
emit_skipped (const char *id, const char *figure, const char *goal,
              const char *why)
{
  struct row r = { .id = id, .figure = figure, .value = NAN,
                   .ref_value = NAN, .ratio = NAN, .goal = goal,
                   .status = why, .noise = NAN };
  emit (&r);
}

const char *
judge (double ratio, bool at_most, double limit)
{
  if (isnan (ratio))
    return "info";
  return (at_most ? ratio <= limit : ratio >= limit) ? "met" : "MISSED";
}

int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Interpolated percentile P (0..100) of the N values at V, sorting V.  */
double
percentile (double *v, size_t n, double p)
{
  if (n == 0)
    return NAN;
  qsort (v, n, sizeof *v, compare_doubles);
  double pos = p / 100 * (n - 1);
  size_t i = (size_t) pos;
  if (i + 1 >= n)
    return v[n - 1];
  return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

double
median (double *v, size_t n)
{
  return percentile (v, n, 50);
}

double
spread (double *v, size_t n)
{
  if (n < 3)
    return NAN;
  double m = median (v, n);
  return m == 0 ? NAN
    : (percentile (v, n, 75) - percentile (v, n, 25)) / 2 / m * 100;
}

int
open_or_die (const char *path)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    fail ("open %s", path);
  return fd;
}

static int
fcntl_call (int cmd, int fd, short type)
{
  struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
  return fcntl (fd, cmd, &fl);
}

int
raw_lock (enum portalock_backend backend, int fd, bool wait)
{
  switch (backend)
    {
    case PORTALOCK_BACKEND_FLOCK:
      return flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB));
#ifdef F_OFD_SETLK
    case PORTALOCK_BACKEND_OFD:
      return fcntl_call (wait ? F_OFD_SETLKW : F_OFD_SETLK, fd, F_WRLCK);
#endif
    case PORTALOCK_BACKEND_FCNTL:
      return fcntl_call (wait ? F_SETLKW : F_SETLK, fd, F_WRLCK);
    case PORTALOCK_BACKEND_LOCKF:
      return lockf (fd, wait ? F_LOCK : F_TLOCK, 0);
    default:
      errno = ENOTSUP;
      return -1;
    }
}

int
raw_unlock (enum portalock_backend backend, int fd)
{
  switch (backend)
    {
    case PORTALOCK_BACKEND_FLOCK:
      return flock (fd, LOCK_UN);
#ifdef F_OFD_SETLK
    case PORTALOCK_BACKEND_OFD:
      return fcntl_call (F_OFD_SETLK, fd, F_UNLCK);
#endif
    case PORTALOCK_BACKEND_FCNTL:
      return fcntl_call (F_SETLK, fd, F_UNLCK);
    case PORTALOCK_BACKEND_LOCKF:
      return lockf (fd, F_ULOCK, 0);
    default:
      errno = ENOTSUP;
      return -1;
    }
}

bool
have_objects (void)
{
  return (portalock_new != NULL && portalock_set_timeout != NULL
          && portalock_set_backend != NULL && portalock_acquire != NULL
          && portalock_release != NULL && portalock_fd != NULL
          && portalock_free != NULL);
}

bool
have_semaphores (void)
{
  return (portalock_semaphore_new != NULL
          && portalock_semaphore_acquire != NULL
          && portalock_semaphore_release != NULL
          && portalock_semaphore_free != NULL);
}
