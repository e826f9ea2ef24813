/* duration.h: parsing the durations and numbers plock and punlock accept.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef DURATION_H
#define DURATION_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* What reading a number gave.  */
enum number_status
{
  NUMBER_OK,
  NUMBER_INVALID,               /* not a number: "invalid ...: 'TEXT'" */
  NUMBER_RANGE                  /* a number, out of range: add ERANGE */
};

/* Read TEXT as util-linux flock(1) reads a descriptor or an exit code
   (strtoimax in base 10): optional leading blanks, an optional sign,
   decimal digits, nothing after.  Store it in *VALUE and return
   NUMBER_OK if it lies in [MIN, MAX]; else return NUMBER_RANGE for a
   number out of range, NUMBER_INVALID for anything else ("" too).  */
enum number_status flock_parse_int (const char *text, long long min,
                                    long long max, long long *value);

/* Read TEXT as flock(1) reads --start and --length: an unsigned
   integer as strtoumax reads it in base 0 (blanks, '+', 0x for
   hexadecimal, 0 for octal; no '-'), optionally followed by K, M, G, T,
   P, E, Z or Y (powers of 1024, also written KiB...; KB... for powers of
   1000), with a decimal fraction allowed before a suffix ("0.5K").  */
enum number_status flock_parse_size (const char *text, uintmax_t *value);

/* What reading a duration gave.  */
enum duration_status
{
  DURATION_OK,
  DURATION_INVALID,             /* not a duration */
  DURATION_RANGE,               /* strtold overflowed or underflowed */
  DURATION_UNTIMEABLE           /* a number no timer takes: negative,
                                   NaN, infinite, 2^63 s or more */
};

/* Read TEXT as a duration in seconds: a number as strtold reads it in
   the C locale (leading blanks, a sign, "0.5", "1e3", hexadecimal, "inf"),
   which is what flock(1) reads for -w, truncated to whole microseconds as
   flock does; or, plock's own, a finite non-negative such number followed
   by one of the suffixes s, m, h, d (seconds, minutes, hours, days),
   which flock refuses.  Store the seconds in *SECONDS and return
   DURATION_OK.  A plain number that flock would accept but could not
   arm a timer with gives DURATION_UNTIMEABLE; a suffixed one that comes
   to 2^63 seconds or more gives DURATION_INVALID.  */
enum duration_status flock_parse_timeout (const char *text,
                                          double *seconds);

/* Read TEXT as flock_parse_timeout does and return true if it gave
   DURATION_OK (with *SECONDS set), else false: for the durations flock(1)
   does not have (--max-hold, punlock's -w and -k), a duration too large
   for a timer is a usage error, never "now".  */
bool parse_duration (const char *text, double *seconds);

/* Store SECONDS (a duration from parse_duration, or INFINITY) in *TS and
   return true; or return false if it is so long that it means "no
   deadline" (4e18 seconds or more, infinity, NaN), so that no
   conversion to time_t ever overflows.  */
bool duration_to_timespec (double seconds, struct timespec *ts);

/* Parse TEXT as a non-negative decimal integer no larger than MAX, with
   nothing before or after it.  Store it in *VALUE and return true, else
   return false.  */
bool parse_count (const char *text, long long max, long long *value);

/* Decide, as flock(1) does with strtol, whether the lone operand TEXT
   of plock or punlock is a descriptor: leading blanks, a sign and
   decimal digits that fit an int ("9", " 9", "+3", "-5", which is then
   a bad descriptor).  Return false if it is not, and so names a FILE.
   Else return true and set *STATUS: NUMBER_OK with *FD set; or, for
   what flock takes for a descriptor but refuses ("bad file
   descriptor"), NUMBER_RANGE for a number beyond int and
   NUMBER_INVALID for an empty or blank TEXT.  */
bool flock_descriptor_operand (const char *text, int *fd,
                               enum number_status *status);

#endif /* DURATION_H */
