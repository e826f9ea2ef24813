/* version-info.c: the --version text of plock and punlock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#include <config.h>

#include "version-info.h"

#include <stdio.h>

/* gnulib's version_etc prints the Free Software Foundation's copyright
   line, which is not this package's: the same GNU form, with ours.  */
void
print_version (const char *command)
{
  printf ("%s (%s) %s\n", command, PACKAGE_NAME, PACKAGE_VERSION);
  fputs ("Copyright (C) 2026 The portalock authors.\n\
License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n\
This is free software: you are free to change and redistribute it.\n\
There is NO WARRANTY, to the extent permitted by law.\n\
\n\
Written by the portalock authors.\n", stdout);
}
