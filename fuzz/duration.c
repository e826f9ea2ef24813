/* duration.c: fuzz target for the tools' duration and number parsers
   (src/duration.c), which read command-line arguments.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);

  double seconds = -1;
  if (parse_duration (text, &seconds)
      && (!isfinite (seconds) || seconds < 0))
    fuzz_fail ("parse_duration accepted a negative or infinite value",
               text);

  long long value = -1;
  if (parse_count (text, INT_MAX, &value) && (value < 0 || value > INT_MAX))
    fuzz_fail ("parse_count went past its bounds", text);
  if (parse_count (text, LLONG_MAX, &value) && value < 0)
    fuzz_fail ("parse_count returned a negative number", text);

  int fd = -1;
  enum number_status st;
  if (flock_descriptor_operand (text, &fd, &st) && st == NUMBER_OK
      && text[strspn (text, " \t\n\v\f\r")] == '\0')
    fuzz_fail ("flock_descriptor_operand took a blank operand for a "
               "descriptor", text);

  free (text);
  return 0;
}
