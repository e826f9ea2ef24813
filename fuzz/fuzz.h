/* fuzz.h: what the fuzz targets share.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef FUZZ_H
#define FUZZ_H 1

#include <stddef.h>
#include <stdint.h>

/* The entry point of every target, as libFuzzer calls it: run one input
   of SIZE bytes at DATA.  Return 0.  A broken promise aborts, which
   libFuzzer (or the plain replay driver) reports with the input.  */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Return a NUL-terminated copy of the input (a NUL inside it ends the
   string early, as it would for a C caller), or abort if out of memory.
   Free it with free.  */
char *fuzz_string (const uint8_t *data, size_t size);

/* Report a broken promise about INPUT and abort.  */
void fuzz_fail (const char *what, const char *input)
  __attribute__ ((__noreturn__));

/* Return the path of NAME in a private temporary directory (under
   $TMPDIR), made at the first call and removed at exit.  */
const char *fuzz_path (const char *name);

#endif /* FUZZ_H */
