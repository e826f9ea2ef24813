/* testutil.h: reporting and process helpers for the test programs.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

#ifndef TESTUTIL_H
#define TESTUTIL_H 1

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct portalock;

/* 1 where the test programs can fork, send signals and read /proc (the
   POSIX builds), 0 in a Windows build.  A check that needs them is a
   whole function under "#if TEST_POSIX" whose other branch reports it
   UNSUPPORTED with the reason.  */
#ifdef _WIN32
# define TEST_POSIX 0
#else
# define TEST_POSIX 1
#endif

/* Flags of open that only one kind of system has.  */
#ifndef O_CLOEXEC
# define O_CLOEXEC 0
#endif
#ifndef O_BINARY
# define O_BINARY 0
#endif

/* Report one check: "PASS: NAME" if OK, else "FAIL: NAME (errno ...)".
   Return OK.  */
bool check (bool ok, const char *name, ...)
  __attribute__ ((__format__ (__printf__, 2, 3)));

/* Report that a check does not apply here.  */
void unsupported (const char *name, ...)
  __attribute__ ((__format__ (__printf__, 1, 2)));

/* Return the exit status for main: 0 once something was reported.  */
int check_exit (void);

/* Report a failed setup step and exit 1: nothing after it can be
   trusted.  */
void die (const char *what, ...)
  __attribute__ ((__format__ (__printf__, 1, 2), __noreturn__));

/* Return the path of NAME in a private temporary directory, made once
   per process and removed with its contents at exit.  The string stays
   valid through the next 63 calls.  */
const char *test_path (const char *name);

/* Return true if R is -1 and errno is ERROR: a call failed as it should.  */
bool fails_with (int r, int error);

/* Return true if FAILED and errno is ERROR.  */
bool failed_with (bool failed, int error);

/* Start the program ARGV[0] with the arguments ARGV (ended by NULL)
   and return a stream on its standard output, its process in *PID; die
   if it cannot be started.  Only POSIX builds run programs this way: on
   Windows it dies.  */
FILE *command_output (const char *const *argv, pid_t *pid);

/* Close IN, from command_output, wait for the process PID and return
   true if it exited with status 0.  */
bool command_succeeded (FILE *in, pid_t pid);

/* Return the number of entries of directory DIR but "." and "..", or -1
   if it cannot be read.  */
int count_entries (const char *dir);

/* Return the number of this process's open descriptors (counting the
   one that reads them) and of its threads.  On Windows, count_fds is the
   number of the C runtime's open descriptors.  */
int count_fds (void);
int count_threads (void);

/* Wait until this process has EXPECTED threads, or 10 seconds pass;
   return the last count.  A thread that pthread_join (or the library)
   has joined may still be listed for a moment after the join returns,
   so a count that must be exact is taken once it reaches what the test
   expects: a readiness wait, not a timing.  A leaked thread keeps the
   count above EXPECTED, and the check that follows fails.  */
int await_thread_count (int expected);

/* The calling thread's ID as /proc/self/task lists it, or -1 where
   threads cannot be seen by ID (no /proc/thread-self, Windows).  */
long thread_id (void);

/* Wait until the thread with ID TID (from thread_id) is no longer
   listed, or 10 seconds pass; return true if it went.  True at once
   for -1.  */
bool await_thread_gone (long tid);

/* Seconds on the monotonic clock.  */
double now (void);

/* A child process that takes a lock and holds it until told to let go.
   It runs the same library calls as the parent: BACKEND (0: default),
   FLAGS, and a byte range.  On POSIX it is a forked child; on Windows a
   process running tests/w32holder, which makes the same calls.  */
struct holder
{
  pid_t pid;
  intptr_t process; /* Windows: the process's handle */
  int to_child;     /* write a byte to release */
  int from_child;   /* reads 'L' once held, 'U' once released */
};

/* Start a holder of PATH and wait until it holds the lock.  Return true
   on success; on failure (the child could not lock) return false with
   errno set to the child's errno.  */
bool holder_start (struct holder *h, const char *path, int backend,
                   int flags, off_t start, off_t length);

/* Tell the holder to release, wait until it has, and reap it.  */
void holder_release (struct holder *h);

/* Kill the holder (SIGKILL; TerminateProcess on Windows) and reap it.  */
void holder_kill (struct holder *h);

/* Try to take a lock on PATH from a fresh process, without waiting.
   Return 0 if it could (it lets go at once), else the errno it got.  */
int probe_lock (const char *path, int backend, int flags, off_t start,
                off_t length);

/* Wait until the kernel lists a blocked lock request on PATH's inode in
   /proc/locks (a waiter is asleep in the kernel), or 10 seconds pass.
   Return true if one was seen.  A readiness signal, not a timing.
   Windows shows no waiter: there it returns false at once.  */
bool await_blocked_waiter (const char *path);

/* A program that tests one backend takes its name as its first argument
   (of NARGS).  Die with USAGE unless ARGC is NARGS + 1; die if ARGV[1]
   names no backend.  Return the backend if it is built here; else
   report it UNSUPPORTED and return 0.  */
int backend_from_args (int argc, char **argv, int nargs, const char *usage);

/* A new lock object on PATH for BACKEND; die if it cannot be made.  */
struct portalock *new_backend_lock (const char *path, int backend);

/* Return true if PATH exists (as a link, if it is one).  */
bool exists (const char *path);

/* Make PATH hold exactly TEXT; die on failure.  */
void write_file (const char *path, const char *text);

/* Return true if PATH holds exactly TEXT (less than 1 KiB).  */
bool has_text (const char *path, const char *text);

/* Make the directory PATH (mode 0755 where modes apply).  Return 0, or
   -1 with errno.  */
int make_dir (const char *path);

/* Return true if FD is not passed on to programs this process starts:
   close-on-exec on POSIX, a handle without HANDLE_FLAG_INHERIT on
   Windows.  */
bool not_inherited (int fd);

/* Return true if FD is open on the file PATH names now, not deleted.  */
bool fd_names (int fd, const char *path);

/* Return true if thread TID of process PID (0: this process) sleeps
   in a futex, as a thread waiting for a mutex or a condition variable
   does: /proc shows it in state S, in the futex system call.  A
   readiness signal, for a wait that no other sign shows.  POSIX builds
   with /proc only; elsewhere it returns false.  */
bool asleep_in_futex (pid_t pid, pid_t tid);

/* If this program runs under a user-mode emulator (QEMU's), a phrase
   that says so, for the UNSUPPORTED report of a check the emulator
   upsets; else NULL.  Both must agree: the environment names the
   emulator's program (PORTALOCK_TEST_EMULATOR, which the emulated CI
   lanes set, e.g. to qemu-s390x-static), and the kernel runs a program
   of that name for this thread (/proc/thread-self/exe) while the
   program sees itself as another one (/proc/self/exe, which the
   emulator answers for its guest).  So the variable alone skips
   nothing on a real machine.  NULL on Windows.  */
const char *test_emulator (void);

/* Make CALL, a read or write on a pipe whose outcome the test learns
   from the other end, and drop its result on purpose, which a plain
   call does not tell the compiler (-Wunused-result, _FORTIFY_SOURCE).  */
#define IGNORE_RESULT(call) do { if ((call) < 0) { } } while (0)

#endif /* TESTUTIL_H */
