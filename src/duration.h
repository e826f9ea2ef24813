/* duration.h: parsing the durations and numbers plock and punlock accept.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef DURATION_H
#define DURATION_H 1

#include <stdbool.h>
#include <sys/types.h>

/* Parse TEXT as a duration: a decimal number of seconds (as strtod reads
   it in the C locale, "0.5", "1e3"), optionally followed by one of the
   suffixes s, m, h, d.  Store it in *SECONDS and return true; return
   false for anything else, including negative, infinite, NaN or
   overflowing values, and empty or trailing text.  */
bool parse_duration (const char *text, double *seconds);

/* Parse TEXT as a non-negative decimal integer no larger than MAX, with
   nothing before or after it.  Store it in *VALUE and return true, else
   return false.  */
bool parse_count (const char *text, long long max, long long *value);

/* Return true if TEXT is a descriptor number in flock(1)'s sense: only
   decimal digits.  */
bool is_descriptor_number (const char *text);

#endif /* DURATION_H */
