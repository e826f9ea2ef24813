/* marker-tool.h: what plock and punlock tell from the marker of a lock of
   the strict or lease method.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef MARKER_TOOL_H
#define MARKER_TOOL_H 1

#include <stdbool.h>
#include <stdio.h>

#include "portalock.h"

/* What a marker's holder is, as far as this machine can prove.  */
enum marker_holder
{
  MARKER_FOREIGN,       /* another host, another boot, or no boot id:
                           nothing here can tell whether it lives */
  MARKER_UNKNOWN,       /* this machine's, but its process's start time
                           is not known: a reused PID cannot be told */
  MARKER_GONE,          /* this machine's, and its process is gone (or
                           its PID is another process's now) */
  MARKER_LIVE           /* this machine's, and the very process runs */
};

/* Judge the holder of the marker INFO.  */
enum marker_holder marker_judge (const struct portalock_marker_info *info);

/* Return the name of INFO's method ("strict", "lease").  */
const char *marker_method_name (const struct portalock_marker_info *info);

/* Print INFO to STREAM as plock --holder does: "HOST PID TOKEN
   GENERATION METHOD" and a line feed.  */
void marker_print (FILE *stream, const struct portalock_marker_info *info);

#endif /* MARKER_TOOL_H */
