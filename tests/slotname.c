/* slotname.c: tests of the slot file names made from portalocker's
   filename_pattern, against fixed answers and against Python itself.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: slotname [PYTHON].  With PYTHON (a python3 interpreter), every
   pattern is also formatted by Python's str.format, which is what
   portalocker calls, and the names must agree byte for byte.  */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portalock-private.h"
#include "testutil.h"

static const char *const patterns[] =
  {
    "{name}.{number:02d}.lock", "{name}-{number}", "{number:03}",
    "{number:>4}", "{number:<4}.x", "{number:^5}", "{number:*^6}",
    "{number:=+5}", "{number:+}", "{number: }", "{number:#b}",
    "{number:#o}", "{number:#X}", "{number:x}", "{number:_b}",
    "{number:_x}", "{number:,}", "{number:_}", "{number:#010x}",
    "{number:n}", "{number:d}", "{name:.2}{number}", "{name:>8}{number}",
    "{name:_<8}{number}", "{name:^9s}{number}", "{{x}}{number}",
    "{number:<05}", "{number:x<5}", "{number:=8}", "{number:08}",
    "{number:#_x}", "{number:#d}", "{name:.0}{number:5}", "{name:10.3}|"
  };
static const char *const names[] = { "job", "h\xc3\xa9llo" };
static const unsigned numbers[] =
  { 0, 1, 7, 10, 99, 100, 255, 1000, 12345, 1234567 };

#define COUNT(a) (sizeof (a) / sizeof *(a))

static bool
formats_to (const char *pattern, const char *name, unsigned number,
            const char *expected)
{
  char *s;
  if (portalock_format_slot (pattern, name, number, &s) != 0)
    return false;
  bool ok = strcmp (s, expected) == 0;
  if (!ok)
    printf ("%s with %s, %u: \"%s\", not \"%s\"\n", pattern, name, number,
            s, expected);
  free (s);
  return ok;
}

static void
test_fixed (void)
{
  check (formats_to ("{name}.{number:02d}.lock", "bounded_semaphore", 3,
                     "bounded_semaphore.03.lock")
         && formats_to ("{name}.{number:02d}.lock", "s", 123, "s.123.lock"),
         "portalocker's default pattern");
  check (formats_to ("{number:#06x}", "n", 255, "0x00ff")
         && formats_to ("{number:*^5}", "n", 7, "**7**")
         && formats_to ("{number:*^4}", "n", 7, "*7**")
         && formats_to ("{number:<05d}", "n", 3, "30000")
         && formats_to ("{number:=+6}", "n", 5, "+    5")
         && formats_to ("{number:,}", "n", 1234567, "1,234,567")
         && formats_to ("{number:_x}", "n", 0x12345, "1_2345"),
         "number format specs");
  check (formats_to ("{name:.2}", "abc", 0, "ab")
         && formats_to ("{name:>5.2}", "abc", 0, "   ab")
         && formats_to ("{name:.2}", "h\xc3\xa9llo", 0, "h\xc3\xa9")
         && formats_to ("{name:<4}|", "h\xc3\xa9", 0, "h\xc3\xa9  |"),
         "name format specs count characters, not bytes");
  check (formats_to ("{{{name}}}", "x", 0, "{x}")
         && formats_to ("a}}b{{c", "x", 0, "a}b{c"),
         "escaped braces");
  char *s = NULL;
  static const char *const bad[] =
    { "{", "}", "{0}", "{}", "{name!s}", "{number.real}", "{number:.1}",
      "{number:e}", "{name:=5}", "{name:05}", "{number:z}", "{number:,b}",
      "{number:n_}", "{name:#}", "{number:{x}}", "{number:\xc3\xa9>5}" };
  bool ok = true;
  for (size_t i = 0; i < COUNT (bad); i++)
    if (portalock_format_slot (bad[i], "n", 1, &s) != EINVAL)
      {
        printf ("%s was not refused\n", bad[i]);
        ok = false;
      }
  check (ok, "what the formatter does not carry out is EINVAL");
}

/* Format every pattern with every name and number in Python, and
   compare.  */
static void
test_python (const char *python)
{
  static const char script[] =
    "import os, sys\n"
    "names = os.fsencode (sys.argv[1]).decode ('utf-8').split ('/')\n"
    "numbers = [int (n) for n in sys.argv[2].split (',')]\n"
    "for p in sys.argv[3:]:\n"
    "    for name in names:\n"
    "        for n in numbers:\n"
    "            sys.stdout.buffer.write ("
    "p.format (name=name, number=n).encode ('utf-8') + b'\\n')\n";
  char numlist[256] = "";
  for (size_t i = 0; i < COUNT (numbers); i++)
    snprintf (numlist + strlen (numlist), sizeof numlist - strlen (numlist),
              "%s%u", i ? "," : "", numbers[i]);
  char namelist[64];
  snprintf (namelist, sizeof namelist, "%s/%s", names[0], names[1]);

  /* PYTHON, -c, SCRIPT, NAMELIST, NUMLIST, the patterns, and NULL.  */
  enum { FIXED_ARGS = 5 };
  const char *argv[FIXED_ARGS + COUNT (patterns) + 1];
  size_t argc = 0;
  argv[argc++] = python;
  argv[argc++] = "-c";
  argv[argc++] = script;
  argv[argc++] = namelist;
  argv[argc++] = numlist;
  for (size_t i = 0; i < COUNT (patterns); i++)
    argv[argc++] = patterns[i];
  argv[argc] = NULL;

  pid_t pid;
  FILE *in = command_output (argv, &pid);
  char line[1024];
  int compared = 0, differ = 0;
  for (size_t i = 0; i < COUNT (patterns); i++)
    for (size_t j = 0; j < COUNT (names); j++)
      for (size_t k = 0; k < COUNT (numbers); k++)
        {
          if (fgets (line, sizeof line, in) == NULL)
            {
              differ++;
              continue;
            }
          line[strcspn (line, "\n")] = '\0';
          char *s;
          if (portalock_format_slot (patterns[i], names[j], numbers[k], &s)
              != 0)
            {
              printf ("%s: refused\n", patterns[i]);
              differ++;
              continue;
            }
          if (strcmp (s, line) != 0)
            {
              printf ("%s with %u: C \"%s\", Python \"%s\"\n", patterns[i],
                      numbers[k], s, line);
              differ++;
            }
          compared++;
          free (s);
        }
  check (command_succeeded (in, pid) && differ == 0 && compared > 0,
         "%d slot names agree with Python's str.format", compared);
}

int
main (int argc, char **argv)
{
  test_fixed ();
  if (argc > 1 && access (argv[1], X_OK) == 0)
    test_python (argv[1]);
  else
    unsupported ("slot names against Python's str.format (no python3)");
  return check_exit ();
}
