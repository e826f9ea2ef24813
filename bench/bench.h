/* bench.h: what the parts of the benchmark program share.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef BENCH_H
#define BENCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "portalock.h"

/* The lock objects and semaphores may not be in the library yet: refer
   to them weakly, so the program still builds and links, and
   have_objects () and have_semaphores () say whether they are there.  */
#pragma weak portalock_new
#pragma weak portalock_set_timeout
#pragma weak portalock_set_backend
#pragma weak portalock_acquire
#pragma weak portalock_release
#pragma weak portalock_fd
#pragma weak portalock_free
#pragma weak portalock_acquire_start
#pragma weak portalock_pending_fd
#pragma weak portalock_acquire_finish
#pragma weak portalock_set_identity_check
#pragma weak portalock_semaphore_new
#pragma weak portalock_semaphore_acquire
#pragma weak portalock_semaphore_release
#pragma weak portalock_semaphore_free

/* How long each benchmark runs: --quick makes every one brief.  */
struct settings
{
  bool quick;
  const char *dir;       /* a private directory for the lock files */
  const char *python;    /* the Python interpreter for the peers, or NULL */
  const char *peers;     /* bench/peers.py */
  const char *plock;     /* the built plock, or NULL */
  const char *fuse;      /* a FUSE mount of DIR (bindfs), or NULL */
};
extern struct settings bench;

/* One line of the results, printed as tab-separated fields:
   ID FIGURE VALUE UNIT DETAIL REFERENCE REF-VALUE RATIO GOAL STATUS
   NOISE SAMPLES.  Numbers that do not apply are NaN and print as "-".  */
struct row
{
  const char *id;        /* stable key for tracking, such as fd.flock */
  const char *figure;    /* what was measured, for people */
  double value;
  const char *unit;
  const char *detail;    /* percentiles, counts, notes */
  const char *reference; /* what it is compared with */
  double ref_value;
  double ratio;          /* as the goal reads it */
  const char *goal;      /* such as "<= 1.10x"; "" for information */
  const char *status;    /* "met", "MISSED", "info", "skipped: ..." */
  double noise;          /* relative spread of the repeats, percent */
  int samples;
};
void emit (const struct row *row);

/* Print a row for a figure that could not be measured.  */
void emit_skipped (const char *id, const char *figure, const char *goal,
                   const char *why);

/* Return "met" or "MISSED" for RATIO against LIMIT: at most LIMIT if
   AT_MOST, else at least.  */
const char *judge (double ratio, bool at_most, double limit);

/* Nanoseconds on CLOCK_MONOTONIC, which every process shares.  */
int64_t now_ns (void);

/* CPU time this process has used, all its threads, in nanoseconds.  */
int64_t cpu_ns (void);

/* Statistics of N values (the array is sorted in place).  */
double median (double *v, size_t n);
double percentile (double *v, size_t n, double p);
/* Half the interquartile range relative to the median, in percent.  */
double spread (double *v, size_t n);

/* Report a failed setup step on stderr and exit 2.  */
_Noreturn void fail (const char *what, ...)
  __attribute__ ((__format__ (__printf__, 1, 2)));

/* printf into a static ring of buffers, for row details.  */
const char *fmt (const char *format, ...)
  __attribute__ ((__format__ (__printf__, 1, 2)));

/* Return PATH's name in the benchmark directory (a static buffer ring).  */
const char *bench_path (const char *name);

/* The raw system calls of BACKEND, without the library: the reference.
   Return 0 or -1 with errno.  */
int raw_lock (enum portalock_backend backend, int fd, bool wait);
int raw_unlock (enum portalock_backend backend, int fd);

/* Open PATH for reading and writing, creating it; exit on failure.  */
int open_or_die (const char *path);

/* The backends built into the library, in table order, ending with
   PORTALOCK_BACKEND_DEFAULT.  */
extern const enum portalock_backend bench_backends[];

/* The named features of the library that may not be built yet: lock
   objects and semaphores.  */
bool have_objects (void);
bool have_semaphores (void);

/* The benchmarks.  */
void bench_descriptor (void);
void bench_object (void);
void bench_handoff (void);
void bench_cpu (void);
void bench_throughput (void);
void bench_spawn (void);
void bench_plock_wait (void);
void bench_memory (void);
void bench_waiter_memory (void);
void bench_semaphore (void);
void bench_scaling (void);
void bench_rwlock (void);
void bench_markers (void);

/* Start a waiter of the hand-off protocol (handoff.c) in MODE: raw,
   plain, timed, object, or py-PEER for a Python peer.  */
pid_t start_waiter (const char *mode, enum portalock_backend backend,
                    const char *path, int *to, int *from);

/* Start "PEERS.py COMMAND PEER PATH" with pipes to its standard input
   (*TO) and from its standard output (*FROM).  */
pid_t start_peer (const char *command, const char *peer, const char *path,
                  int *to, int *from);

#endif /* BENCH_H */
