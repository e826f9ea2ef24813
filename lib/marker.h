/* marker.h: marker and lease locks on the file system itself, internal.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* A marker lock excludes through the file system: a file at the lock's
   name says who holds it.  It is shaped as a lock method (acquire,
   release, renew, holders, break); lock objects will reach it through
   their method setting.  The protocol, the record format and the clock
   assumptions are in the manual ("Marker and lease locks") and in
   marker.c.  None of these functions is exported.  */

#ifndef PORTALOCK_MK_H
#define PORTALOCK_MK_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The two forms of a marker lock.  */
enum portalock_mk_kind
{
  PORTALOCK_MK_STRICT,  /* never reclaimed unless provably dead */
  PORTALOCK_MK_LEASE    /* renewed by a heartbeat; evicted once stale */
};

/* What a marker's record says (portalock_mk_holders).  */
struct portalock_mk_record
{
  char host[256];           /* the holder's host identity */
  char boot[64];            /* its boot id, "-" if unknown */
  long pid;                 /* its process */
  unsigned long long start; /* the process's start time (clock ticks
                               since boot), 0 if unknown */
  char token[33];           /* 32 hex digits, unique to one acquisition */
  enum portalock_mk_kind kind;
  unsigned long long ttl_ms;      /* a lease's time to live, 0 if strict */
  unsigned long long generation;  /* the fencing token; 0 while being set */
  unsigned long long beat;        /* heartbeats so far */
};

struct portalock_mk;

/* Called once, from the heartbeat thread or from the call that finds
   out, when a held lease is lost: before another host may take it if
   this process runs.  */
typedef void (*portalock_mk_lost_fn) (struct portalock_mk *m,
                                          void *arg);

/* Return a new marker lock of KIND on PATH (not yet held), with a TTL
   of 30 s and a check interval of 0.25 s; NULL with errno: EINVAL for
   a NULL or empty PATH, a PATH ending in '/', a KIND that is none;
   ENOMEM.  Creates nothing.  */
struct portalock_mk *portalock_mk_new (const char *path,
                                               enum portalock_mk_kind
                                               kind);

/* Set a lease's time to live (SECONDS > 0, finite) or the longest
   pause between two looks at another holder's marker while waiting
   (SECONDS > 0).  Return 0, or -1 with EINVAL (bad value), EBUSY
   (held).  */
int portalock_mk_set_ttl (struct portalock_mk *m, double seconds);
int portalock_mk_set_check_interval (struct portalock_mk *m,
                                         double seconds);

/* Set the function called when a held lease is lost (NULL: none), and
   whether a thread of the library renews the lease at a quarter of its
   TTL (the default; without it the caller calls
   portalock_mk_renew).  Return 0, or -1 with EBUSY (held).  */
int portalock_mk_set_lost_callback (struct portalock_mk *m,
                                        portalock_mk_lost_fn fn,
                                        void *arg);
int portalock_mk_set_heartbeat (struct portalock_mk *m, bool on);

/* Take the lock: one try if NONBLOCK (EWOULDBLOCK if held), else wait,
   polling with a backoff capped at the check interval, until DEADLINE
   (CLOCK_MONOTONIC; NULL: no limit; ETIMEDOUT).  A strict lock reclaims
   a marker of this host and boot whose process is gone; a lease evicts
   one that did not change for its TTL and a margin on this machine's
   clock.  Return 0, or -1 with errno: EBUSY if M holds already; from
   the file system.  */
int portalock_mk_acquire (struct portalock_mk *m, bool nonblock,
                              const struct timespec *deadline);

/* Take the lock as a writer: as portalock_mk_acquire, then wait, as
   it does, until no live reader marker is left beside the marker
   (marker-readers.c), evicting stale ones.  A writer that gives up in
   that second phase lets the marker go before it returns.  Return 0,
   or -1 with errno as portalock_mk_acquire, or ENOLCK if the marker was
   lost while waiting.  */
int portalock_mk_acquire_writer (struct portalock_mk *m, bool nonblock,
                                 const struct timespec *deadline);

/* Take the lock as a reader: take the marker as a pass (no generation
   claimed, no heartbeat), register a reader marker ".BASE.rd-TOKEN"
   beside it, give the marker back.  The reader marker is what M holds
   then: a lease's heartbeat renews it, release removes it, and M's
   generation is the greatest claimed when it registered.  Waits and
   returns as portalock_mk_acquire.  */
int portalock_mk_acquire_shared (struct portalock_mk *m, bool nonblock,
                                 const struct timespec *deadline);

/* Give the lock back.  Return 0; or -1 with errno: ENOLCK if the marker
   at the name is no longer this one's (lost; nothing at the name is
   touched), EINVAL if M does not hold; from the file system (then M
   still holds).  */
int portalock_mk_release (struct portalock_mk *m);

/* One heartbeat of a held lease (a strict lock: only the check that the
   marker is still there).  Return 0; or -1 with errno: ENOLCK if lost
   (reported through the callback first), EINVAL if M does not hold;
   ESTALE, EIO, ... for a failure that left the lease held until its
   local deadline, when the caller may retry.  */
int portalock_mk_renew (struct portalock_mk *m);

/* Return true if M held and has lost the lock: a lease past its local
   deadline (last successful heartbeat + TTL - margin) or a marker found
   gone.  Reports the loss through the callback once.  */
bool portalock_mk_lost (struct portalock_mk *m);

/* M's generation: the fencing token of its current hold, 0 if none.  */
unsigned long long portalock_mk_generation (struct portalock_mk *m);

/* Read the marker at PATH into *REC.  Return 1, 0 if there is none, or
   -1 with errno: EINVAL (bad arguments), EPROTO (a file at the name
   that is not a record), from open/read.  */
int portalock_mk_holders (const char *path,
                              struct portalock_mk_record *rec);

/* Break the marker at PATH: if TOKEN is not NULL, only if it is still
   the marker with that token.  Return 0; or -1 with errno: ENOENT (no
   marker), ESTALE (another marker took its place: left alone), EINVAL;
   from the file system.  */
int portalock_mk_break (const char *path, const char *token);

/* Release M if it holds (ignoring errors), stop its heartbeat, free it.  */
void portalock_mk_free (struct portalock_mk *m);

/* Test seams, for the test programs only.  Set this process's host
   identity and boot id (NULL: the system's) before any marker is made;
   set a function the marker's heartbeat calls before each file call,
   naming it ("write", "sync", "read"), which returns an errno to make
   that call fail with, or 0.  */
void portalock_mk_set_identity (const char *host, const char *boot);
void portalock_mk_set_fault (int (*fault) (const char *call));

/* Test seam: a function called by a waiter between its judgement that
   a marker may be removed and the removal.  */
void portalock_mk_set_claim_hook (void (*hook) (void));

#endif /* PORTALOCK_MK_H */
