/* duration.c: parsing the durations and numbers plock and punlock accept.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The tools never call setlocale for LC_NUMERIC, so strtold reads the C
   locale's decimal point: "0.5" means half a second everywhere, as
   flock(1) reads it in the C locale.  */

/* 2^63: the first number of seconds a 64-bit time_t cannot hold.  */
#define TIME_LIMIT 9223372036854775808.0L

/* Seconds from this on are kept as "no deadline": far beyond any real
   wait, and well inside time_t after adding the current time.  */
#define FOREVER_SECONDS 4e18

enum number_status
flock_parse_int (const char *text, long long min, long long max,
                 long long *value)
{
  if (*text == '\0')
    return NUMBER_INVALID;
  char *end;
  errno = 0;
  intmax_t v = strtoimax (text, &end, 10);
  if (errno == ERANGE)
    return NUMBER_RANGE;
  if (end == text || *end != '\0')
    return NUMBER_INVALID;
  if (v < min || v > max)
    return NUMBER_RANGE;
  *value = v;
  return NUMBER_OK;
}

/* Multiply *X by BASE POWER times; return false on overflow.  */
static bool
scale (uintmax_t *x, unsigned base, int power)
{
  while (power-- > 0)
    {
      if (*x > UINTMAX_MAX / base)
        return false;
      *x *= base;
    }
  return true;
}

/* Add to *X what the decimal fraction FRAC (its digits, without the
   ZEROS zeros that follow the point) of one UNIT is worth, digit by
   digit, the way util-linux computes it: each digit D in position P
   (counted from the point) adds UNIT / (10^P / D).  */
static void
add_fraction (uintmax_t *x, uintmax_t frac, int zeros, uintmax_t unit)
{
  uintmax_t div = 10, pos = 1;
  while (div < frac)
    {
      if (div <= UINTMAX_MAX / 10)
        div *= 10;
      else
        frac /= 10;
    }
  for (int i = 0; i < zeros; i++)
    {
      if (div <= UINTMAX_MAX / 10)
        div *= 10;
      else
        frac /= 10;
    }
  do
    {
      unsigned digit = frac % 10;
      uintmax_t place = div / pos;
      frac /= 10;
      pos *= 10;
      if (digit != 0 && place / digit != 0)
        *x += unit / (place / digit);
    }
  while (frac != 0);
}

enum number_status
flock_parse_size (const char *text, uintmax_t *value)
{
  static const char units[] = "KMGTPEZY";
  static const char units_lower[] = "kmgtpezy";
  const char *p = text;

  if (*text == '\0')
    return NUMBER_INVALID;
  while (isspace ((unsigned char) *p))
    p++;
  if (*p == '-')
    return NUMBER_INVALID;

  char *end;
  errno = 0;
  uintmax_t x = strtoumax (text, &end, 0);
  if (end == text)
    return NUMBER_INVALID;
  if (errno != 0 && (x == UINTMAX_MAX || x == 0))
    return errno == ERANGE ? NUMBER_RANGE : NUMBER_INVALID;
  if (*end == '\0')
    {
      *value = x;
      return NUMBER_OK;
    }

  /* A suffix: K, M, G... (powers of 1024), KiB... (the same), or KB...
     (powers of 1000), possibly after a decimal fraction.  */
  uintmax_t frac = 0;
  int zeros = 0;
  unsigned base = 1024;
  p = end;
  for (;;)
    {
      if (p[0] != '\0' && p[1] == 'i' && (p[2] == 'B' || p[2] == 'b')
          && p[3] == '\0')
        break;
      if (p[0] != '\0' && (p[1] == 'B' || p[1] == 'b') && p[2] == '\0')
        {
          base = 1000;
          break;
        }
      if (p[0] == '\0' || p[1] == '\0')
        break;
      if (frac != 0 || p[0] != '.')
        return NUMBER_INVALID;
      for (p++; *p == '0'; p++)
        zeros++;
      if (isdigit ((unsigned char) *p))
        {
          errno = 0;
          frac = strtoumax (p, &end, 0);
          if (end == p || (errno != 0 && (frac == UINTMAX_MAX || frac == 0)))
            return errno == ERANGE ? NUMBER_RANGE : NUMBER_INVALID;
          if (frac != 0 && *end == '\0')
            return NUMBER_INVALID;
          p = end;
        }
      else if (*p == '\0')
        return NUMBER_INVALID;
    }

  const char *u = *p != '\0' ? strchr (units, *p) : NULL;
  int power;
  if (u != NULL)
    power = u - units + 1;
  else if (*p != '\0' && (u = strchr (units_lower, *p)) != NULL)
    power = u - units_lower + 1;
  else
    return NUMBER_INVALID;

  if (!scale (&x, base, power))
    return NUMBER_RANGE;
  if (frac != 0)
    {
      uintmax_t unit = 1;
      scale (&unit, base, power);
      add_fraction (&x, frac, zeros, unit);
    }
  *value = x;
  return NUMBER_OK;
}

/* Truncate SECONDS (greater than -1, less than 2^63) to whole
   microseconds, as flock(1) turns its timeout into a struct timeval,
   and store them in *OUT.  Return false if that gives a negative time,
   which a timer refuses.  */
static bool
to_microseconds (long double seconds, double *out)
{
  int64_t whole = (int64_t) seconds;
  long micro = (long) ((seconds - whole) * 1000000);
  if (whole < 0 || micro < 0)
    return false;
  *out = (double) whole + micro / 1e6;
  return true;
}

enum duration_status
flock_parse_timeout (const char *text, double *seconds)
{
  if (*text == '\0')
    return DURATION_INVALID;
  char *end;
  errno = 0;
  /* flock 2.38 reads strtold's result into a double, then converts to
     microseconds in long double: round as it does ("-0.000001" is then
     0, not -1 microsecond).  */
  long double value = (double) strtold (text, &end);
  if (errno == ERANGE)
    return DURATION_RANGE;
  if (end == text)
    return DURATION_INVALID;

  if (*end == '\0')
    {
      /* flock(1) reads any number strtold reads, then arms a timer with
         it: the kernel refuses a negative time, and the conversion to
         time_t of NaN, infinities and 2^63 or more does not give a
         positive one.  */
      if (!(value > -1) || !(value < TIME_LIMIT)
          || !to_microseconds (value, seconds))
        return DURATION_UNTIMEABLE;
      return DURATION_OK;
    }

  /* plock's own suffixes, where flock(1) refuses the text.  */
  long double unit;
  switch (*end)
    {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 60 * 60;
      break;
    case 'd':
      unit = 24 * 60 * 60;
      break;
    default:
      return DURATION_INVALID;
    }
  if (end[1] != '\0' || !isfinite (value) || value < 0)
    return DURATION_INVALID;
  value *= unit;
  if (!(value < TIME_LIMIT))
    return DURATION_INVALID;
  to_microseconds (value, seconds);
  return DURATION_OK;
}

bool
parse_duration (const char *text, double *seconds)
{
  return flock_parse_timeout (text, seconds) == DURATION_OK;
}

bool
duration_to_timespec (double seconds, struct timespec *ts)
{
  if (!(seconds < FOREVER_SECONDS))
    return false;
  if (seconds < 0)
    seconds = 0;
  ts->tv_sec = (time_t) seconds;
  ts->tv_nsec = (long) ((seconds - ts->tv_sec) * 1e9);
  if (ts->tv_nsec > 999999999)
    ts->tv_nsec = 999999999;
  return true;
}

bool
parse_count (const char *text, long long max, long long *value)
{
  long long v = 0;
  if (*text == '\0')
    return false;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p < '0' || *p > '9')
        return false;
      int digit = *p - '0';
      if (v > (max - digit) / 10)
        return false;
      v = v * 10 + digit;
    }
  *value = v;
  return true;
}

bool
flock_descriptor_operand (const char *text, int *fd,
                          enum number_status *status)
{
  long long n;
  *status = flock_parse_int (text, INT32_MIN, INT32_MAX, &n);
  if (*status == NUMBER_OK)
    {
      *fd = n;
      return true;
    }
  return (*status == NUMBER_RANGE
          || text[strspn (text, " \t\n\v\f\r")] == '\0');
}
