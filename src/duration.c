/* duration.c: parsing the durations and numbers plock and punlock accept.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "duration.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The tools never call setlocale for LC_NUMERIC, so strtod reads the C
   locale's decimal point: "0.5" means half a second everywhere, as
   flock(1) reads it in the C locale.  */

bool
parse_duration (const char *text, double *seconds)
{
  /* strtod would skip leading blanks and accept a sign, "inf", "nan" and
     hexadecimal: only digits and a point may start a duration.  */
  if (!((*text >= '0' && *text <= '9') || *text == '.'))
    return false;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    return false;

  char *end;
  errno = 0;
  double value = strtod (text, &end);
  if (end == text || errno == ERANGE || !isfinite (value) || value < 0)
    return false;

  double unit = 1;
  switch (*end)
    {
    case '\0':
      break;
    case 's':
      end++;
      break;
    case 'm':
      unit = 60;
      end++;
      break;
    case 'h':
      unit = 60 * 60;
      end++;
      break;
    case 'd':
      unit = 24 * 60 * 60;
      end++;
      break;
    default:
      return false;
    }
  if (*end != '\0')
    return false;
  value *= unit;
  if (!isfinite (value))
    return false;
  *seconds = value;
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
is_descriptor_number (const char *text)
{
  if (*text == '\0')
    return false;
  for (const char *p = text; *p != '\0'; p++)
    if (*p < '0' || *p > '9')
      return false;
  return true;
}
