/* pattern.c: slot file names from portalocker's filename_pattern.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "portalock-private.h"

/* portalocker names a semaphore's slot files with Python's str.format:
   filename_pattern.format (name=NAME, number=N).  This file carries out
   the part of Python's format language such a pattern can use to name
   files: literal text, "{{" and "}}", and the fields {name} and {number}
   with a format spec of the standard mini-language,

     [[fill]align][sign][#][0][width][grouping][.precision][type]

   as far as it applies to a string (name) or an integer (number).
   Everything else Python's format would accept (positional fields,
   attributes, indexes, conversions such as !r, nested fields, float
   types, 'c') is refused with EINVAL, as is a combination whose Python
   result is hard to predict (zero padding with a grouping separator).  */

/* A parsed format spec.  */
struct spec
{
  char fill;
  char align;           /* '<', '>', '^', '=', or 0: the default */
  char sign;            /* '+', '-', ' ' */
  bool alternate;       /* '#' */
  size_t width;
  char grouping;        /* ',', '_' or 0 */
  long precision;       /* -1: none */
  char type;            /* 0, or the type letter */
};

/* A growing output string.  */
struct buffer
{
  char *text;
  size_t length, size;
};

static bool
put (struct buffer *b, const char *s, size_t n)
{
  if (b->length + n + 1 > b->size)
    {
      size_t size = 2 * b->size + n + 16;
      char *text = realloc (b->text, size);
      if (text == NULL)
        return false;
      b->text = text;
      b->size = size;
    }
  memcpy (b->text + b->length, s, n);
  b->length += n;
  b->text[b->length] = '\0';
  return true;
}

static bool
put_fill (struct buffer *b, char fill, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!put (b, &fill, 1))
      return false;
  return true;
}

/* Return the number of characters (UTF-8 code points) in the N bytes at
   S.  */
static size_t
characters (const char *s, size_t n)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += ((unsigned char) s[i] & 0xC0) != 0x80;
  return count;
}

/* Return the number of bytes of the first CHARS characters at S (N
   bytes).  */
static size_t
prefix_bytes (const char *s, size_t n, size_t chars)
{
  size_t i = 0, count = 0;
  for (; i < n; i++)
    if (((unsigned char) s[i] & 0xC0) != 0x80 && count++ == chars)
      break;
  return i;
}

static bool
read_number (const char **p, const char *end, size_t *value)
{
  if (*p == end || **p < '0' || **p > '9')
    return false;
  size_t v = 0;
  while (*p < end && **p >= '0' && **p <= '9')
    {
      /* Names are short: a width beyond this cannot name a file.  */
      if (v > 100000)
        return false;
      v = v * 10 + (*(*p)++ - '0');
    }
  *value = v;
  return true;
}

/* Parse the spec from S to END for a NUMERIC or string field into *SP.
   Return true if it is one this file can carry out.  */
static bool
parse_spec (const char *s, const char *end, bool numeric, struct spec *sp)
{
  const char *p = s;
  bool fill_given = false;
  memset (sp, 0, sizeof *sp);
  sp->fill = ' ';
  sp->sign = '-';
  sp->precision = -1;
  for (const char *q = s; q < end; q++)
    if ((unsigned char) *q >= 0x80 || *q == '{' || *q == '}')
      return false;
  if (end - p >= 2 && strchr ("<>=^", p[1]) != NULL)
    {
      sp->fill = p[0];
      sp->align = p[1];
      fill_given = true;
      p += 2;
    }
  else if (p < end && strchr ("<>=^", *p) != NULL)
    sp->align = *p++;
  if (p < end && strchr ("+- ", *p) != NULL)
    {
      if (!numeric)
        return false;
      sp->sign = *p++;
    }
  if (p < end && *p == '#')
    {
      if (!numeric)
        return false;
      sp->alternate = true;
      p++;
    }
  bool zero = false;
  if (p < end && *p == '0')
    {
      if (!numeric)
        return false;
      zero = true;
      p++;
    }
  if (p < end && *p >= '0' && *p <= '9' && !read_number (&p, end,
                                                         &sp->width))
    return false;
  if (p < end && (*p == ',' || *p == '_'))
    {
      if (!numeric)
        return false;
      sp->grouping = *p++;
    }
  if (p < end && *p == '.')
    {
      size_t precision;
      p++;
      if (numeric || !read_number (&p, end, &precision))
        return false;
      sp->precision = precision;
    }
  if (p < end)
    sp->type = *p++;
  if (p != end)
    return false;

  if (!numeric)
    return ((sp->type == 0 || sp->type == 's') && sp->align != '=');
  if (sp->type != 0 && strchr ("bdoxXn", sp->type) == NULL)
    return false;
  if (sp->grouping == ','
      && sp->type != 0 && sp->type != 'd')
    return false;
  if (sp->grouping != 0 && (sp->type == 'n' || zero))
    return false;
  if (zero)
    {
      if (!fill_given)
        sp->fill = '0';
      if (sp->align == 0)
        sp->align = '=';
    }
  return true;
}

/* Append BODY (N bytes) to B, padded as SP says; a numeric field's sign
   and prefix, the first LEAD bytes of BODY, stay before '=' padding.  */
static bool
put_padded (struct buffer *b, const struct spec *sp, const char *body,
            size_t n, size_t lead, char default_align)
{
  size_t chars = characters (body, n);
  size_t pad = sp->width > chars ? sp->width - chars : 0;
  char align = sp->align != 0 ? sp->align : default_align;
  size_t before = (align == '>' ? pad : align == '^' ? pad / 2 : 0);
  size_t after = align == '=' ? 0 : pad - before;
  if (align == '=')
    return (put (b, body, lead) && put_fill (b, sp->fill, pad)
            && put (b, body + lead, n - lead));
  return (put_fill (b, sp->fill, before) && put (b, body, n)
          && put_fill (b, sp->fill, after));
}

static bool
format_number (struct buffer *b, const struct spec *sp, unsigned number)
{
  unsigned base = (sp->type == 'b' ? 2 : sp->type == 'o' ? 8
                   : sp->type == 'x' || sp->type == 'X' ? 16 : 10);
  const char *digits = (sp->type == 'X' ? "0123456789ABCDEF"
                        : "0123456789abcdef");
  char raw[64], body[160];
  size_t n = 0;
  do
    raw[n++] = digits[number % base];
  while ((number /= base) != 0);

  size_t m = 0;
  if (sp->sign == '+' || sp->sign == ' ')
    body[m++] = sp->sign;
  if (sp->alternate && base != 10)
    {
      body[m++] = '0';
      body[m++] = sp->type;
    }
  size_t lead = m;
  size_t group = base == 10 ? 3 : 4;
  for (size_t i = n; i-- > 0;)
    {
      body[m++] = raw[i];
      if (sp->grouping != 0 && i > 0 && i % group == 0)
        body[m++] = sp->grouping;
    }
  return put_padded (b, sp, body, m, lead, '>');
}

static bool
format_name (struct buffer *b, const struct spec *sp, const char *name)
{
  size_t n = strlen (name);
  if (sp->precision >= 0)
    n = prefix_bytes (name, n, sp->precision);
  return put_padded (b, sp, name, n, 0, '<');
}

int
portalock_format_slot (const char *pattern, const char *name,
                       unsigned number, char **result)
{
  struct buffer b = { NULL, 0, 0 };
  int e = 0;
  if (!put (&b, "", 0))
    return ENOMEM;
  for (const char *p = pattern; *p != '\0' && e == 0;)
    {
      if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}'))
        {
          e = put (&b, p, 1) ? 0 : ENOMEM;
          p += 2;
        }
      else if (*p == '}')
        e = EINVAL;
      else if (*p == '{')
        {
          const char *close = strchr (p, '}');
          if (close == NULL)
            {
              e = EINVAL;
              break;
            }
          const char *colon = memchr (p, ':', close - p);
          const char *field_end = colon != NULL ? colon : close;
          size_t field_length = field_end - (p + 1);
          struct spec sp;
          const char *spec = colon != NULL ? colon + 1 : close;
          if (field_length == 4 && memcmp (p + 1, "name", 4) == 0)
            e = (!parse_spec (spec, close, false, &sp) ? EINVAL
                 : format_name (&b, &sp, name) ? 0 : ENOMEM);
          else if (field_length == 6 && memcmp (p + 1, "number", 6) == 0)
            e = (!parse_spec (spec, close, true, &sp) ? EINVAL
                 : format_number (&b, &sp, number) ? 0 : ENOMEM);
          else
            e = EINVAL;
          p = close + 1;
        }
      else
        {
          size_t n = strcspn (p, "{}");
          e = put (&b, p, n) ? 0 : ENOMEM;
          p += n;
        }
    }
  if (e != 0)
    {
      free (b.text);
      return e;
    }
  *result = b.text;
  return 0;
}
