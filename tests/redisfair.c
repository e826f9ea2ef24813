/* redisfair.c: tests of the Redis lock's queue of waiters, its wake-ups
   and its fencing tokens, against a real Redis server.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: redisfair DIR [PYTHON CLIENT PLOCK], where DIR holds the
   socket "sock" of a redis-server that redis.exp started, PYTHON runs
   CLIENT (tests/redisclient.py, a second client written from the
   manual's specification of the protocol), and PLOCK is the plock
   program.  Order is checked, never
   time: a waiter is known to be in the queue when the server's queue
   key says so, and grants are recorded, in the order they happen, in a
   file that only a holder of the lock appends to.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"
#include "testutil.h"

static char url[4200];
static char sock[4096];
static const char *python, *client, *plock;
static redisContext *admin_ctx;

/* Send a command to the server on the test's own connection and return
   its reply (the caller frees it); die if the server is gone.  */
static redisReply *
admin (const char *format, ...)
{
  if (admin_ctx == NULL)
    {
      admin_ctx = redisConnectUnix (sock);
      if (admin_ctx == NULL || admin_ctx->err)
        die ("connect to %s", sock);
    }
  va_list ap;
  va_start (ap, format);
  redisReply *r = redisvCommand (admin_ctx, format, ap);
  va_end (ap);
  if (r == NULL)
    die ("the server is gone");
  return r;
}

static long long
admin_int (const char *format, const char *arg)
{
  redisReply *r = admin (format, arg);
  long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999999;
  freeReplyObject (r);
  return v;
}

/* Wait until the queue of lock NAME holds N waiters, or 60 s pass.  */
static bool
await_queue (const char *name, long long n)
{
  char key[256];
  snprintf (key, sizeof key, "portalock:{%s}:q", name);
  double end = now () + 60;
  while (now () < end)
    {
      if (admin_int ("ZCARD %s", key) == n)
        return true;
      usleep (2000);
    }
  return false;
}

static portalock_redis *
new_lock (const char *name, double timeout)
{
  portalock_redis *lock = portalock_redis_new (url, name);
  if (lock == NULL || portalock_redis_set_timeout (lock, timeout) != 0)
    die ("portalock_redis_new %s", name);
  return lock;
}

/* Append LINE to the file PATH, in one write.  */
static bool
append (const char *path, const char *line)
{
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0)
    return false;
  size_t n = strlen (line);
  bool ok = write (fd, line, n) == (ssize_t) n;
  return close (fd) == 0 && ok;
}

/* Read the grants recorded in PATH, "WHO TOKEN" a line, into WHO and
   TOKEN (at most MAX); return how many.  */
static int
read_grants (const char *path, char who[][16], unsigned long long *token,
             int max)
{
  FILE *f = fopen (path, "r");
  int n = 0;
  if (f == NULL)
    return 0;
  while (n < max && fscanf (f, "%15s %llu", who[n], &token[n]) == 2)
    n++;
  fclose (f);
  return n;
}

/* A waiter in a child process: acquire lock NAME (waiting up to 60 s,
   with a queue TTL of QTTL s), record "WHO TOKEN" in PATH, release.
   Exit 0 if all went well.  */
static pid_t
spawn_waiter (const char *name, double qttl, const char *who,
              const char *path)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid > 0)
    return pid;
  portalock_redis *lock = new_lock (name, 60);
  if (portalock_redis_set_queue_ttl (lock, qttl) != 0
      || portalock_redis_acquire (lock) != 0)
    _exit (1);
  char line[64];
  snprintf (line, sizeof line, "%s %" PRIu64 "\n", who,
            portalock_redis_token (lock));
  if (!append (path, line) || portalock_redis_release (lock) != 0)
    _exit (2);
  portalock_redis_free (lock);
  _exit (0);
}

static int
reap (pid_t pid)
{
  int status;
  if (waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 200 + WTERMSIG (status);
}

/* Hold lock NAME, queue N waiters one after the other (each is in the
   queue before the next starts), release: they are granted in that
   order, with growing tokens.  */
static void
test_fifo (int n)
{
  char name[32], path[4200];
  snprintf (name, sizeof name, "fifo%d", n);
  snprintf (path, sizeof path, "%s", test_path (name));
  portalock_redis *holder = new_lock (name, 0);
  if (portalock_redis_acquire (holder) != 0)
    die ("hold %s", name);
  unsigned long long first = portalock_redis_token (holder);
  pid_t pids[32];
  bool queued = true;
  for (int i = 0; i < n; i++)
    {
      char who[16];
      snprintf (who, sizeof who, "w%d", i);
      pids[i] = spawn_waiter (name, 30, who, path);
      queued &= await_queue (name, i + 1);
    }
  check (queued, "fifo %d: the waiters are queued one by one", n);
  check (portalock_redis_release (holder) == 0, "fifo %d: release", n);
  bool ok = true;
  for (int i = 0; i < n; i++)
    ok &= reap (pids[i]) == 0;
  char who[32][16];
  unsigned long long token[32];
  int got = read_grants (path, who, token, 32);
  bool in_order = got == n;
  for (int i = 0; in_order && i < n; i++)
    {
      char want[16];
      snprintf (want, sizeof want, "w%d", i);
      in_order = (strcmp (who[i], want) == 0
                  && token[i] > (i == 0 ? first : token[i - 1]));
    }
  check (ok && in_order,
         "fifo %d: granted in the order they queued, tokens growing", n);
  char key[64];
  snprintf (key, sizeof key, "portalock:{%s}:q", name);
  check (admin_int ("EXISTS %s", key) == 0,
         "fifo %d: the queue is gone once empty", n);
  portalock_redis_free (holder);
}

/* Fork a child joined to the parent by two pipes: DOWN (parent to
   child) and UP (child to parent).  In the parent, return the child's
   PID with its ends in *IN (from the child) and *OUT (to it); in the
   child, return 0 with DOWN[0] and UP[1] open.  */
static pid_t
fork_with_pipes (int down[2], int up[2], int *in, int *out)
{
  if (pipe (down) != 0 || pipe (up) != 0)
    die ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid > 0)
    {
      close (down[0]);
      close (up[1]);
      *in = up[0];
      *out = down[1];
      return pid;
    }
  close (down[1]);
  close (up[0]);
  return 0;
}

/* A waiter for lock NAME (shared if SHARED; place TTL 300 s) that says
   "G" once granted and releases at the next byte from the parent.  */
static pid_t
spawn_holding_waiter (const char *name, bool shared, int *in, int *out)
{
  int down[2], up[2];
  pid_t pid = fork_with_pipes (down, up, in, out);
  if (pid > 0)
    return pid;
  portalock_redis *lock = new_lock (name, 60);
  char c;
  if (portalock_redis_set_shared (lock, shared) != 0
      || portalock_redis_set_queue_ttl (lock, 300) != 0
      || portalock_redis_acquire (lock) != 0 || write (up[1], "G", 1) != 1
      || read (down[0], &c, 1) != 1 || portalock_redis_release (lock) != 0)
    _exit (1);
  portalock_redis_free (lock);
  _exit (0);
}

/* Read one byte from FD within 60 s; return true if it is C.  */
static bool
hear (int fd, char c)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  char got;
  return poll (&p, 1, 60000) == 1 && read (fd, &got, 1) == 1 && got == c;
}

/* The releaser does not take the lock back ahead of a queued waiter.  */
static void
test_no_barging (void)
{
  portalock_redis *a = new_lock ("barge", 0);
  if (portalock_redis_acquire (a) != 0)
    die ("hold barge");
  int in, out;
  pid_t w = spawn_holding_waiter ("barge", false, &in, &out);
  check (await_queue ("barge", 1), "barge: a waiter is queued");
  /* Whether the waiter has been granted yet or not, the lock is not the
     releaser's: it is the first waiter's, or held by it.  */
  check (portalock_redis_release (a) == 0
         && fails_with (portalock_redis_acquire (a), EWOULDBLOCK),
         "barge: the releaser's try at once is refused");
  check (hear (in, 'G'), "barge: the queued waiter gets the lock");
  portalock_redis_set_timeout (a, 60);
  check (write (out, "u", 1) == 1 && portalock_redis_acquire (a) == 0
         && reap (w) == 0,
         "barge: the releaser has it after the waiter");
  close (in);
  close (out);
  portalock_redis_free (a);
}

/* A waiter killed in the queue holds up those behind it only until its
   place ends; one that times out leaves the queue.  */
static void
test_dead_waiter (void)
{
  const char *path = test_path ("dead");
  portalock_redis *a = new_lock ("dead", 0);
  if (portalock_redis_acquire (a) != 0)
    die ("hold dead");
  /* The first waiter's place lasts a minute: it is still there when the
     second one queues behind it, whatever the machine's load.  */
  pid_t w1 = spawn_waiter ("dead", 60, "first", path);
  check (await_queue ("dead", 1), "dead: the first waiter is queued");
  pid_t w2 = spawn_waiter ("dead", 1, "second", path);
  check (await_queue ("dead", 2), "dead: the second is queued behind it");
  kill (w1, SIGKILL);
  check (reap (w1) == 200 + SIGKILL, "dead: the first waiter is killed");
  /* Its place now ends in 300 ms (as if its queue TTL were that).  */
  redisReply *r = admin ("ZRANGE portalock:{dead}:q 0 0");
  redisReply *t = admin ("TIME");
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 1
      || t->type != REDIS_REPLY_ARRAY)
    die ("queue of dead");
  long long ms = atoll (t->element[0]->str) * 1000
                 + atoll (t->element[1]->str) / 1000 + 300;
  freeReplyObject (admin ("ZADD portalock:{dead}:e XX %lld %s", ms,
                          r->element[0]->str));
  freeReplyObject (r);
  freeReplyObject (t);
  check (portalock_redis_release (a) == 0, "dead: release");
  check (reap (w2) == 0, "dead: the waiter behind the dead one gets it");
  check (admin_int ("EXISTS %s", "portalock:{dead}:q") == 0,
         "dead: the dead waiter's place is gone");

  /* A killed waiter with a short queue TTL: the next acquirer gets the
     free lock once its place ends.  */
  if (portalock_redis_acquire (a) != 0)
    die ("hold dead again");
  pid_t w3 = spawn_waiter ("dead", 0.3, "third", path);
  check (await_queue ("dead", 1), "dead: a waiter with a short place");
  kill (w3, SIGKILL);
  reap (w3);
  portalock_redis_release (a);
  portalock_redis_set_timeout (a, 60);
  check (portalock_redis_acquire (a) == 0
         && admin_int ("EXISTS %s", "portalock:{dead}:q") == 0,
         "dead: the free lock is granted once the dead place ends");
  portalock_redis_release (a);

  /* A timeout leaves the queue, and wakes the next when it was first.  */
  portalock_redis *b = new_lock ("dead", 0);
  if (portalock_redis_acquire (b) != 0)
    die ("hold dead once more");
  portalock_redis_set_timeout (a, 0.2);
  check (fails_with (portalock_redis_acquire (a), ETIMEDOUT)
         && admin_int ("EXISTS %s", "portalock:{dead}:q") == 0,
         "dead: a waiter that times out leaves the queue");
  portalock_redis_free (a);
  portalock_redis_free (b);
}

/* Readers queued behind a writer enter together when it lets go: the
   first one granted wakes the next.  A writer queued behind them waits
   for both.  Places last 300 s and the writer's lease as long, so only
   wake-ups get them in within the minute each is given.  */
static void
test_shared_queue (void)
{
  const char *path = test_path ("rw");
  portalock_redis *w = new_lock ("rw", 0);
  if (portalock_redis_set_ttl (w, 300) != 0 || portalock_redis_acquire (w))
    die ("hold rw");
  int in[2], out[2];
  pid_t r1 = spawn_holding_waiter ("rw", true, &in[0], &out[0]);
  bool queued = await_queue ("rw", 1);
  pid_t r2 = spawn_holding_waiter ("rw", true, &in[1], &out[1]);
  queued &= await_queue ("rw", 2);
  pid_t w3 = spawn_waiter ("rw", 300, "writer", path);
  queued &= await_queue ("rw", 3);
  check (queued, "shared queue: two readers and a writer queued");
  check (portalock_redis_release (w) == 0, "shared queue: release");
  check (hear (in[0], 'G') && hear (in[1], 'G'),
         "shared queue: both queued readers hold the lock together");
  check (admin_int ("ZCARD %s", "portalock:{rw}:q") == 1
         && !exists (path),
         "shared queue: the writer behind them still waits");
  check (write (out[0], "u", 1) == 1 && write (out[1], "u", 1) == 1
         && reap (r1) == 0 && reap (r2) == 0,
         "shared queue: the readers release");
  check (reap (w3) == 0 && exists (path),
         "shared queue: then the writer holds it");
  for (int i = 0; i < 2; i++)
    {
      close (in[i]);
      close (out[i]);
    }
  portalock_redis_free (w);
}

/* The number of the library's commands the server ran since the last
   CONFIG RESETSTAT: scripts and subscriptions.  */
static long long
library_commands (void)
{
  redisReply *r = admin ("INFO commandstats");
  static const char *const names[] = { "evalsha", "eval", "subscribe",
                                       "publish" };
  long long total = 0;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      char field[64];
      snprintf (field, sizeof field, "cmdstat_%s:calls=", names[i]);
      const char *p = strstr (r->str, field);
      if (p != NULL)
        total += atoll (p + strlen (field));
    }
  freeReplyObject (r);
  return total;
}

/* A contender: for each "g" read from IN, take and release lock NAME
   with the same lock object, then write a byte to OUT; end at "q".  */
static pid_t
spawn_contender (const char *name, int *in, int *out)
{
  int down[2], up[2];
  pid_t pid = fork_with_pipes (down, up, in, out);
  if (pid > 0)
    return pid;
  portalock_redis *lock = new_lock (name, 120);
  char c;
  while (read (down[0], &c, 1) == 1 && c == 'g')
    {
      if (portalock_redis_acquire (lock) != 0)
        _exit (1);
      if (portalock_redis_release (lock) != 0 || write (up[1], "d", 1) != 1)
        _exit (2);
    }
  portalock_redis_free (lock);
  _exit (0);
}

/* The server's work per grant with N waiters: in each round the parent
   holds the lock, the N waiters queue for it, and the parent lets go;
   each waiter is granted once.  The waiters keep their lock objects
   from round to round.  */
static double
commands_per_grant (int n)
{
  enum { ROUNDS = 20 };
  char name[32];
  snprintf (name, sizeof name, "flat%d", n);
  portalock_redis *holder = new_lock (name, 120);
  pid_t pids[16];
  int in[16], out[16];
  for (int i = 0; i < n; i++)
    pids[i] = spawn_contender (name, &in[i], &out[i]);
  freeReplyObject (admin ("CONFIG RESETSTAT"));
  bool ok = true;
  for (int r = 0; r < ROUNDS && ok; r++)
    {
      ok = portalock_redis_acquire (holder) == 0;
      for (int i = 0; i < n && ok; i++)
        ok = write (out[i], "g", 1) == 1;
      ok = ok && await_queue (name, n)
           && portalock_redis_release (holder) == 0;
      for (int i = 0; i < n && ok; i++)
        {
          char c;
          struct pollfd p = { .fd = in[i], .events = POLLIN };
          ok = poll (&p, 1, 60000) == 1 && read (in[i], &c, 1) == 1;
        }
    }
  double per = (double) library_commands () / ((n + 1) * ROUNDS);
  for (int i = 0; i < n; i++)
    {
      ok &= write (out[i], "q", 1) == 1 && reap (pids[i]) == 0;
      close (out[i]);
      close (in[i]);
    }
  portalock_redis_free (holder);
  check (ok, "flat: %d rounds of %d waiters (%.2f commands per grant)",
         ROUNDS, n, per);
  return per;
}

static void
test_flat (void)
{
  double one = commands_per_grant (1);
  double eight = commands_per_grant (8);
  check (eight <= 1.5 * one,
         "the server's work per grant is flat: %.2f commands with 8 "
         "waiters, %.2f with 1", eight, one);
}

/* Tokens are exact above 2^53, and stop with EOVERFLOW at 2^63 - 1.  */
static void
test_token_range (void)
{
  static const struct
  {
    const char *start;
    unsigned long long next;
  } cases[] = {
    { "9007199254740990", 9007199254740991ULL },
    { "9007199254740991", 9007199254740992ULL },
    { "9007199254740993", 9007199254740994ULL },
    { "4611686018427387904", 4611686018427387905ULL },
    { "9223372036854775804", 9223372036854775805ULL },
  };
  portalock_redis *lock = new_lock ("big", 0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      freeReplyObject (admin ("SET portalock:{big}:n %s", cases[i].start));
      bool ok = true;
      for (unsigned long long k = 0; k < 3 && ok; k++)
        ok = (portalock_redis_acquire (lock) == 0
              && portalock_redis_token (lock) == cases[i].next + k
              && portalock_redis_release (lock) == 0);
      check (ok, "three tokens after %s grow by 1", cases[i].start);
    }
  /* The counter is now 2^63 - 1.  */
  check (fails_with (portalock_redis_acquire (lock), EOVERFLOW)
         && !portalock_redis_held (lock)
         && admin_int ("EXISTS %s", "portalock:{big}:x") == 0,
         "past 2^63 - 1, acquire fails with EOVERFLOW and grants nothing");
  redisReply *r = admin ("GET portalock:{big}:n");
  check (r->type == REDIS_REPLY_STRING
         && strcmp (r->str, "9223372036854775807") == 0,
         "the exhausted counter is left as it was");
  freeReplyObject (r);
  /* A counter below the clock: the clock floor wins.  */
  freeReplyObject (admin ("SET portalock:{big}:n 5"));
  check (portalock_redis_acquire (lock) == 0
         && portalock_redis_token (lock) > 1000000000000000ULL,
         "a counter behind the clock jumps to the clock in microseconds");
  portalock_redis_free (lock);
}

static void
test_bad_queue_ttl (void)
{
  portalock_redis *lock = new_lock ("qttl", 0);
  const double bad[] = { NAN, -1, 0, 0.01, 1e12, INFINITY };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    check (fails_with (portalock_redis_set_queue_ttl (lock, bad[i]), EINVAL),
           "a queue TTL of %g is EINVAL", bad[i]);
  check (fails_with (portalock_redis_set_queue_ttl (NULL, 1), EINVAL)
         && portalock_redis_set_queue_ttl (lock, 0.03) == 0,
         "a NULL lock is EINVAL; 0.03 s is accepted");

  /* A try that does not wait takes no place in the queue.  */
  portalock_redis *other = new_lock ("qttl", 0);
  check (portalock_redis_acquire (lock) == 0
         && fails_with (portalock_redis_acquire (other), EWOULDBLOCK)
         && portalock_redis_set_timeout (other, 5) == 0
         && portalock_redis_set_fail_when_locked (other, true) == 0
         && fails_with (portalock_redis_acquire (other), EWOULDBLOCK)
         && admin_int ("EXISTS %s", "portalock:{qttl}:q") == 0,
         "timeout 0 and fail_when_locked take no place in the queue");
  portalock_redis_free (other);
  portalock_redis_free (lock);
}

/* Reap PID, waiting at most 60 s (then kill it); return its status as
   reap does.  */
static int
reap_within (pid_t pid)
{
  for (int i = 0; i < 60000; i++)
    {
      int status;
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        return (WIFEXITED (status) ? WEXITSTATUS (status)
                : 200 + WTERMSIG (status));
      if (r < 0)
        return -1;
      usleep (1000);
    }
  kill (pid, SIGKILL);
  reap (pid);
  return -2;
}

/* Run the shell command CMD in a child process.  */
static pid_t
spawn_sh (const char *cmd)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      execl ("/bin/sh", "sh", "-c", cmd, (char *) NULL);
      _exit (127);
    }
  return pid;
}

/* A C contender for the mixed test: ROUNDS times, append "S WHO TOKEN"
   and "E WHO TOKEN" to PATH under lock NAME.  */
static pid_t
spawn_looper (const char *name, const char *who, const char *path,
              int rounds)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid > 0)
    return pid;
  portalock_redis *lock = new_lock (name, 120);
  for (int i = 0; i < rounds; i++)
    {
      if (portalock_redis_acquire (lock) != 0)
        _exit (1);
      char line[64];
      snprintf (line, sizeof line, "S %s %" PRIu64 "\n", who,
                portalock_redis_token (lock));
      if (!append (path, line))
        _exit (2);
      usleep (1000);
      line[0] = 'E';
      if (!append (path, line) || portalock_redis_release (lock) != 0)
        _exit (3);
    }
  portalock_redis_free (lock);
  _exit (0);
}

/* The C library, plock and the second client exclude each other: every
   critical section recorded in PATH ("S WHO TOKEN", then "E WHO TOKEN")
   ends before the next starts, and the tokens grow from one to the
   next.  */
static void
test_mixed_exclusion (void)
{
  enum { ROUNDS = 12 };
  const char *path = test_path ("mixed");
  char cmd[13000];
  pid_t pids[6];
  int n = 0;
  /* All five start while the lock is held, so that they contend from
     the first round: the hold is a critical section too.  */
  portalock_redis *holder = new_lock ("mix", 0);
  if (portalock_redis_acquire (holder) != 0)
    die ("hold mix");
  char line[64];
  snprintf (line, sizeof line, "S parent %" PRIu64 "\n",
            portalock_redis_token (holder));
  append (path, line);
  pids[n++] = spawn_looper ("mix", "c1", path, ROUNDS);
  pids[n++] = spawn_looper ("mix", "c2", path, ROUNDS);
  for (int i = 1; i <= 2; i++)
    {
      snprintf (cmd, sizeof cmd, "exec '%s' '%s' '%s' mix loop py%d '%s' %d",
                python, client, sock, i, path, ROUNDS);
      pids[n++] = spawn_sh (cmd);
    }
  snprintf (cmd, sizeof cmd,
            "for i in $(seq %d); do '%s' -w 120 --redis='%s' mix sh -c "
            "'echo S plock $PLOCK_REDIS_TOKEN >> \"%s\"; "
            "echo E plock $PLOCK_REDIS_TOKEN >> \"%s\"' || exit 1; done",
            ROUNDS, plock, url, path, path);
  pids[n++] = spawn_sh (cmd);
  bool queued = await_queue ("mix", n);
  line[0] = 'E';
  append (path, line);
  check (queued && portalock_redis_release (holder) == 0,
         "mixed: five contenders queue for the held lock");
  portalock_redis_free (holder);
  bool ok = true;
  for (int i = 0; i < n; i++)
    {
      int st = reap_within (pids[i]);
      if (st != 0)
        printf ("mixed: contender %d exited with %d\n", i, st);
      ok &= st == 0;
    }
  check (ok, "mixed: C, Python and plock contenders all ran");
  FILE *f = fopen (path, "r");
  char tag[2][4], who[2][16];
  unsigned long long tok[2], last = 0;
  int sections = 0;
  bool exclusive = f != NULL, rising = true;
  while (exclusive
         && fscanf (f, "%3s %15s %llu", tag[0], who[0], &tok[0]) == 3)
    {
      exclusive = (fscanf (f, "%3s %15s %llu", tag[1], who[1], &tok[1]) == 3
                   && strcmp (tag[0], "S") == 0 && strcmp (tag[1], "E") == 0
                   && strcmp (who[0], who[1]) == 0 && tok[0] == tok[1]);
      rising &= tok[0] > last;
      last = tok[0];
      sections++;
    }
  if (f != NULL)
    fclose (f);
  check (exclusive && sections == 5 * ROUNDS + 1,
         "mixed: %d critical sections, none overlapping", sections);
  check (rising, "mixed: the tokens grow from each section to the next");
}

/* Waiters of the three kinds queued in a known order are granted in
   that order.  The C and Python waiters keep their places for minutes
   and the holder's lease is 300 s: only a wake-up from the release
   before each one's turn gets them the lock within the minute each
   is given.  */
static void
test_mixed_order (void)
{
  static const char *const kinds[] = { "py", "c", "plock", "py", "c",
                                       "py", "plock", "c" };
  enum { N = sizeof kinds / sizeof *kinds };
  const char *path = test_path ("mixorder");
  portalock_redis *holder = new_lock ("mixq", 0);
  if (portalock_redis_set_ttl (holder, 300) != 0
      || portalock_redis_acquire (holder) != 0)
    die ("hold mixq");
  pid_t pids[N];
  bool queued = true;
  char cmd[13000];
  for (int i = 0; i < N; i++)
    {
      char who[16];
      snprintf (who, sizeof who, "%s%d", kinds[i], i);
      if (strcmp (kinds[i], "c") == 0)
        pids[i] = spawn_waiter ("mixq", 300, who, path);
      else
        {
          if (strcmp (kinds[i], "py") == 0)
            snprintf (cmd, sizeof cmd,
                      "exec '%s' '%s' '%s' mixq waiter %s '%s' 300000",
                      python, client, sock, who, path);
          else
            snprintf (cmd, sizeof cmd,
                      "exec '%s' -w 60 --redis='%s' mixq sh -c "
                      "'echo %s $PLOCK_REDIS_TOKEN >> \"%s\"'",
                      plock, url, who, path);
          pids[i] = spawn_sh (cmd);
        }
      queued &= await_queue ("mixq", i + 1);
    }
  check (queued, "mixed order: %d waiters of three kinds queued", N);
  check (portalock_redis_release (holder) == 0, "mixed order: release");
  bool ok = true;
  for (int i = 0; i < N; i++)
    ok &= reap_within (pids[i]) == 0;
  check (ok, "mixed order: every waiter was woken and granted");
  char who[N][16];
  unsigned long long token[N];
  int got = read_grants (path, who, token, N);
  bool in_order = got == N;
  for (int i = 0; in_order && i < N; i++)
    {
      char want[16];
      snprintf (want, sizeof want, "%s%d", kinds[i], i);
      in_order = (strcmp (who[i], want) == 0
                  && (i == 0 || token[i] > token[i - 1]));
    }
  check (in_order, "mixed order: granted in queue order, tokens growing");
  portalock_redis_free (holder);
}

int
main (int argc, char **argv)
{
  if (argc != 2 && argc != 5)
    die ("usage: redisfair DIR [PYTHON CLIENT PLOCK]");
  snprintf (sock, sizeof sock, "%s/sock", argv[1]);
  snprintf (url, sizeof url, "unix://%s", sock);
  if (argc == 5)
    {
      python = argv[2];
      client = argv[3];
      plock = argv[4];
    }
  freeReplyObject (admin ("PING"));

  test_bad_queue_ttl ();
  test_token_range ();
  test_fifo (4);
  test_fifo (12);
  test_no_barging ();
  test_dead_waiter ();
  test_shared_queue ();
  test_flat ();
  if (python != NULL)
    {
      test_mixed_exclusion ();
      test_mixed_order ();
    }
  else
    unsupported ("mixed clients: no Python with redis-py");
  redisFree (admin_ctx);
  return check_exit ();
}
