/* url.c: parse the redis:// and unix:// URLs that name a server.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "redis-private.h"

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Return a copy of the LEN bytes at S with %XX escapes decoded, or NULL
   with errno: EINVAL for a bad escape or an encoded NUL, ENOMEM.  */
static char *
decode (const char *s, size_t len)
{
  char *out = malloc (len + 1);
  if (out == NULL)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] != '%')
        {
          out[n++] = s[i];
          continue;
        }
      int hi = i + 2 < len ? hexval (s[i + 1]) : -1;
      int lo = hi >= 0 ? hexval (s[i + 2]) : -1;
      if (lo < 0 || (hi == 0 && lo == 0))
        {
          free (out);
          errno = EINVAL;
          return NULL;
        }
      out[n++] = (char) (hi * 16 + lo);
      i += 2;
    }
  out[n] = '\0';
  return out;
}

/* Parse a decimal number of 1 to 10 digits, at most MAX, from the LEN
   bytes at S.  Return it, or -1.  */
static long
number (const char *s, size_t len, long max)
{
  if (len == 0 || len > 10)
    return -1;
  long v = 0;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -1;
      v = v * 10 + (s[i] - '0');
    }
  return v <= max ? v : -1;
}

/* Parse "USER:PASSWORD@" at the start of the LEN bytes at *S, if there
   is an '@' before END; advance *S past it.  Return 0 or -1.  */
static int
parse_userinfo (const char **s, const char *end, struct plr_url *u)
{
  const char *at = memchr (*s, '@', end - *s);
  if (at == NULL)
    return 0;
  const char *colon = memchr (*s, ':', at - *s);
  if (colon == NULL)
    {
      /* A lone word is a password, as redis-cli reads it.  */
      u->password = decode (*s, at - *s);
      if (u->password == NULL)
        return -1;
    }
  else
    {
      if (colon > *s)
        {
          u->user = decode (*s, colon - *s);
          if (u->user == NULL)
            return -1;
        }
      u->password = decode (colon + 1, at - colon - 1);
      if (u->password == NULL)
        return -1;
    }
  *s = at + 1;
  return 0;
}

static int
parse_tcp (const char *s, struct plr_url *u)
{
  const char *slash = strchr (s, '/');
  const char *end = slash ? slash : s + strlen (s);
  if (parse_userinfo (&s, end, u) != 0)
    return -1;
  const char *host = s, *host_end, *port = NULL;
  if (*s == '[')
    {
      host = s + 1;
      host_end = memchr (host, ']', end - host);
      if (host_end == NULL)
        goto invalid;
      if (host_end + 1 < end)
        {
          if (host_end[1] != ':')
            goto invalid;
          port = host_end + 2;
        }
    }
  else
    {
      host_end = memchr (s, ':', end - s);
      if (host_end != NULL)
        port = host_end + 1;
      else
        host_end = end;
    }
  if (host_end == host || memchr (host, '%', host_end - host) != NULL)
    goto invalid;
  u->host = strndup (host, host_end - host);
  if (u->host == NULL)
    return -1;
  u->port = 6379;
  if (port != NULL)
    {
      long p = number (port, end - port, 65535);
      if (p < 1)
        goto invalid;
      u->port = (int) p;
    }
  if (slash != NULL && slash[1] != '\0')
    {
      u->db = number (slash + 1, strlen (slash + 1), INT_MAX);
      if (u->db < 0)
        goto invalid;
    }
  return 0;
 invalid:
  errno = EINVAL;
  return -1;
}

static int
parse_unix (const char *s, struct plr_url *u)
{
  const char *query = strchr (s, '?');
  const char *end = query ? query : s + strlen (s);
  const char *path = memchr (s, '/', end - s);
  if (path == NULL)
    goto invalid;
  if (path > s)
    {
      if (path[-1] != '@' || parse_userinfo (&s, path, u) != 0)
        goto invalid;
    }
  if (path + 1 == end)
    goto invalid;
  u->path = strndup (path, end - path);
  if (u->path == NULL)
    return -1;
  if (query != NULL)
    {
      if (strncmp (query, "?db=", 4) != 0)
        goto invalid;
      u->db = number (query + 4, strlen (query + 4), INT_MAX);
      if (u->db < 0)
        goto invalid;
    }
  return 0;
 invalid:
  errno = EINVAL;
  return -1;
}

int
plr_url_parse (const char *url, struct plr_url *u)
{
  memset (u, 0, sizeof *u);
  int r;
  if (strncmp (url, "redis://", 8) == 0)
    r = parse_tcp (url + 8, u);
  else if (strncmp (url, "unix://", 7) == 0)
    r = parse_unix (url + 7, u);
  else
    {
      errno = EINVAL;
      r = -1;
    }
  if (r != 0)
    {
      int saved_errno = errno;
      plr_url_free (u);
      errno = saved_errno;
    }
  return r;
}

void
plr_url_free (struct plr_url *u)
{
  free (u->host);
  free (u->path);
  free (u->user);
  if (u->password != NULL)
    {
      /* Do not leave the password in freed memory.  */
      volatile char *p = u->password;
      while (*p)
        *p++ = '\0';
    }
  free (u->password);
  memset (u, 0, sizeof *u);
}
