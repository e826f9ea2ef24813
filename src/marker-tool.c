/* marker-tool.c: what plock and punlock tell from the marker of a lock of
   the strict or lease method.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* A marker names its holder by host, boot id, PID and the process's
   start time (the manual's "Marker and lease locks").  Only a holder of
   this host, in this boot, is one that punlock can look at; and a PID
   proves the holder only with the same start time, since the PID may
   have gone to another process since.  The host and boot are compared
   as the library writes them: each byte outside [A-Za-z0-9._-]
   replaced by '_'.  */

#include <config.h>

#include "marker-tool.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "process.h"

/* Copy S to OUT, of SIZE bytes, as a marker's record writes it.  */
static void
clean_copy (char *out, size_t size, const char *s)
{
  size_t i;
  for (i = 0; i + 1 < size && s[i] != '\0'; i++)
    {
      char c = s[i];
      bool ok = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                 || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '-');
      out[i] = ok ? c : '_';
    }
  out[i] = '\0';
  if (i == 0)
    snprintf (out, size, "unknown");
}

enum marker_holder
marker_judge (const struct portalock_marker_info *info)
{
  char name[256] = "", host[256], id[64], boot[64];
  if (gethostname (name, sizeof name - 1) != 0)
    name[0] = '\0';
  name[sizeof name - 1] = '\0';
  clean_copy (host, sizeof host, name);
  process_boot_id (id, sizeof id);
  clean_copy (boot, sizeof boot, id);
  if (strcmp (info->host, host) != 0 || strcmp (info->boot, "-") == 0
      || strcmp (info->boot, boot) != 0)
    return MARKER_FOREIGN;
  if (info->pid <= 0 || info->pid > INT32_MAX)
    return MARKER_FOREIGN;
  pid_t pid = info->pid;
  if (kill (pid, 0) != 0 && errno == ESRCH)
    return MARKER_GONE;
  unsigned long long start = process_start_time (pid);
  if (info->start == 0 || start == 0)
    return MARKER_UNKNOWN;
  return start == info->start ? MARKER_LIVE : MARKER_GONE;
}

const char *
marker_method_name (const struct portalock_marker_info *info)
{
  const char *name = portalock_method_name (info->method);
  return name != NULL ? name : "?";
}

void
marker_print (FILE *stream, const struct portalock_marker_info *info)
{
  fprintf (stream, "%s %" PRId64 " %s %" PRIu64 " %s\n", info->host,
           info->pid, info->token, info->generation,
           marker_method_name (info));
}
