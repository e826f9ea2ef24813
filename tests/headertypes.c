/* headertypes.c: the public headers declare one interface, whatever flags
   a program is built with.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Built twice, as a library user would build it (no config.h, no test
   helpers): with TEST_FILE_OFFSET_BITS=32, and with
   TEST_FILE_OFFSET_BITS=64 and TEST_TIME_BITS=64 (glibc allows 64-bit
   time only with 64-bit offsets).  Any flag the build itself passes is
   undone first.  Each build must compile: the functions whose types
   could vary are declared again below with the types the manual gives,
   and a declaration that disagrees with the header's is an error.  Each
   prints the size and signedness of every type the interface uses and
   the layout of its structures; interface.exp checks that the two
   builds print the same.  */

#ifndef TEST_TIME_BITS
# define TEST_TIME_BITS 0
#endif

#undef _FILE_OFFSET_BITS
#undef _TIME_BITS
#if TEST_FILE_OFFSET_BITS
# define _FILE_OFFSET_BITS TEST_FILE_OFFSET_BITS
#endif
#if TEST_TIME_BITS
# define _TIME_BITS TEST_TIME_BITS
#endif

/* The Redis header first, to show that it needs no other header.  */
#include "portalock-redis.h"
#include "portalock.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

PORTALOCK_API int portalock_lock_range (int fd, int flags, int64_t start,
                                        int64_t length, double seconds);
PORTALOCK_API int portalock_backend_lock (enum portalock_backend backend,
                                          int fd, int flags, int64_t start,
                                          int64_t length, double seconds);

#define SIGNED(type) ((type) -1 < (type) 1)
#define TYPE(type) \
  printf ("type %s %zu %s\n", #type, sizeof (type), \
          SIGNED (type) ? "signed" : "unsigned")
#define POINTER(type) printf ("type %s %zu\n", #type, sizeof (type))
#define MEMBER(type, member) \
  printf ("member %s.%s %zu %zu\n", #type, #member, \
          offsetof (type, member), sizeof (((type *) 0)->member))

int
main (void)
{
  /* The types of the two headers' parameters, results and members.  */
  TYPE (int64_t);
  TYPE (uint64_t);
  TYPE (size_t);
  TYPE (bool);
  TYPE (int);
  TYPE (unsigned);
  TYPE (mode_t);
  TYPE (pid_t);
  TYPE (enum portalock_backend);
  TYPE (enum portalock_method);
  printf ("type double %zu\n", sizeof (double));
  POINTER (FILE *);
  POINTER (portalock *);
  POINTER (portalock_redis_lost_fn);
  POINTER (portalock_lost_fn);
  printf ("struct portalock_marker_info %zu\n",
          sizeof (struct portalock_marker_info));
  MEMBER (struct portalock_marker_info, pid);
  MEMBER (struct portalock_marker_info, start);
  MEMBER (struct portalock_marker_info, generation);
  MEMBER (struct portalock_marker_info, host);
  MEMBER (struct portalock_marker_info, token);
  MEMBER (struct portalock_marker_info, reserved);
  printf ("struct portalock_redis_holder %zu\n",
          sizeof (struct portalock_redis_holder));
  MEMBER (struct portalock_redis_holder, token);
  MEMBER (struct portalock_redis_holder, remaining);
  MEMBER (struct portalock_redis_holder, shared);
  MEMBER (struct portalock_redis_holder, identity);

  /* What the flags change, for the log: none of it is in the
     interface.  */
  printf ("here off_t has %zu bytes, time_t %zu\n", sizeof (off_t),
          sizeof (time_t));
  printf ("PASS: the headers compile with _FILE_OFFSET_BITS=%d%s,"
          " declaring int64_t ranges\n", TEST_FILE_OFFSET_BITS,
          TEST_TIME_BITS == 64 ? " and _TIME_BITS=64" : "");
  return 0;
}
