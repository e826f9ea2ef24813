/* version-info.h: the --version text of plock and punlock.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef VERSION_INFO_H
#define VERSION_INFO_H 1

/* Print COMMAND's --version text in GNU form on stdout.  */
void print_version (const char *command);

#endif /* VERSION_INFO_H */
