/* redispending.c: tests of the pollable acquisitions of Redis locks
   (portalock_redis_acquire_start and the calls that serve it) against a
   real Redis server.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: redispending DIR, where DIR holds the socket "sock" of a
   redis-server that redis.exp started.  No check measures time: a
   waiter is known to sleep once the server lists its channel, an
   outcome is known once the acquisition's descriptor is readable, and
   after every outcome the server is asked what it holds.  */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"
#include "testutil.h"

static char url[4200];
static char sock[4096];
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
        die ("no server at %s", sock);
    }
  va_list ap;
  va_start (ap, format);
  redisReply *r = redisvCommand (admin_ctx, format, ap);
  va_end (ap);
  if (r == NULL)
    die ("the server went away");
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

static portalock_redis *
new_lock (const char *name, double ttl, double timeout)
{
  portalock_redis *lock = portalock_redis_new (url, name);
  if (lock == NULL || portalock_redis_set_ttl (lock, ttl) != 0
      || portalock_redis_set_timeout (lock, timeout) != 0)
    die ("portalock_redis_new %s", name);
  return lock;
}

/* Wait until COUNT clients are subscribed to channels that match
   PATTERN, or 60 seconds pass.  */
static bool
await_subscribers (const char *pattern, size_t count)
{
  double end = now () + 60;
  while (now () < end)
    {
      redisReply *r = admin ("PUBSUB CHANNELS %s", pattern);
      bool enough = r->type == REDIS_REPLY_ARRAY && r->elements >= count;
      freeReplyObject (r);
      if (enough)
        return true;
      usleep (2000);
    }
  return false;
}

/* Return true if descriptor FD is readable within MS milliseconds.  */
static bool
readable (int fd, int ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll (&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The exclusive lease of the lock NAME as the server keeps it ("OWNER
   TOKEN[ IDENTITY]"), into BUF; "" if there is none.  */
static void
lease_of (const char *name, char *buf, size_t size)
{
  redisReply *r = admin ("GET portalock:{%s}:x", name);
  snprintf (buf, size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
  freeReplyObject (r);
}

/* Return true if the server's exclusive lease of NAME is the owner
   OWNER's (32 hex digits) with the token TOKEN (0: any).  */
static bool
lease_is (const char *name, const char *owner, uint64_t token)
{
  char lease[512];
  lease_of (name, lease, sizeof lease);
  if (strncmp (lease, owner, 32) != 0 || lease[32] != ' ')
    return false;
  return token == 0 || strtoull (lease + 33, NULL, 10) == token;
}

/* The owner id of LOCK, which must be free: take it, read the server's
   lease, give it back.  */
static void
owner_of (portalock_redis *lock, const char *name, char owner[33])
{
  if (portalock_redis_acquire (lock) != 0)
    die ("acquire %s", name);
  char lease[512];
  lease_of (name, lease, sizeof lease);
  if (strlen (lease) < 33)
    die ("no lease of %s", name);
  memcpy (owner, lease, 32);
  owner[32] = '\0';
  if (portalock_redis_release (lock) != 0)
    die ("release %s", name);
}

/* Return true if OWNER has no place in the queue of the lock NAME.  */
static bool
not_queued (const char *name, const char *owner)
{
  redisReply *r = admin ("ZSCORE portalock:{%s}:q %s", name, owner);
  bool none = r->type == REDIS_REPLY_NIL;
  freeReplyObject (r);
  return none;
}

static void
test_bad_input (void)
{
  errno = 0;
  check (portalock_redis_acquire_start (NULL) == NULL && errno == EINVAL,
         "start of a NULL lock: EINVAL");
  check (fails_with (portalock_redis_pending_fd (NULL), EINVAL),
         "descriptor of a NULL acquisition: EINVAL");
  check (fails_with (portalock_redis_acquire_cancel (NULL), EINVAL),
         "cancel of a NULL acquisition: EINVAL");
  check (fails_with (portalock_redis_acquire_finish (NULL), EINVAL),
         "finish of a NULL acquisition: EINVAL");
}

static void
test_at_once (void)
{
  int fds = count_fds ();
  portalock_redis *lock = new_lock ("pnow", 300, -1);
  portalock_redis_pending *p = portalock_redis_acquire_start (lock);
  check (p != NULL, "start on a free lock");
  if (p == NULL)
    return;
  check (readable (portalock_redis_pending_fd (p), 60000),
         "the descriptor turns readable");
  check (portalock_redis_acquire_finish (p) == 0
         && portalock_redis_held (lock),
         "a free lock is granted at once");
  char lease[512];
  lease_of ("pnow", lease, sizeof lease);
  check (portalock_redis_token (lock) != 0
         && strtoull (lease + 33, NULL, 10) == portalock_redis_token (lock),
         "the server holds the lease with the token finish gave");
  /* A held object is acquired again as portalock_redis_acquire would:
     its lease renewed, its token kept.  */
  uint64_t t = portalock_redis_token (lock);
  p = portalock_redis_acquire_start (lock);
  check (p != NULL && portalock_redis_acquire_finish (p) == 0
         && portalock_redis_token (lock) == t,
         "a held lock is acquired again, keeping its token");
  check (portalock_redis_release (lock) == 0, "release after finish");
  portalock_redis_free (lock);
  check (count_fds () == fds, "no descriptor is left open");
}

/* Return true if every thread of the process but the calling one
   blocks SIGINT, SIGTERM, SIGUSR1, SIGCHLD and SIGPIPE, and there is
   at least one.  */
static bool
other_threads_block_signals (void)
{
  DIR *d = opendir ("/proc/self/task");
  if (d == NULL)
    return false;
  long self = thread_id ();
  int others = 0;
  bool all = true;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.' || atol (e->d_name) == self)
        continue;
      char path[300], line[256];
      snprintf (path, sizeof path, "/proc/self/task/%s/status", e->d_name);
      FILE *f = fopen (path, "r");
      if (f == NULL)
        continue;
      unsigned long long mask = 0;
      while (fgets (line, sizeof line, f) != NULL)
        if (strncmp (line, "SigBlk:", 7) == 0)
          mask = strtoull (line + 7, NULL, 16);
      fclose (f);
      others++;
      int sigs[] = { SIGINT, SIGTERM, SIGUSR1, SIGCHLD, SIGPIPE };
      for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        if (!(mask & (1ULL << (sigs[i] - 1))))
          all = false;
    }
  closedir (d);
  return others > 0 && all;
}

static void
test_pending (void)
{
  portalock_redis *holder = new_lock ("pwait", 300, -1);
  portalock_redis *lock = new_lock ("pwait", 300, -1);
  check (portalock_redis_acquire (holder) == 0, "hold for the pending test");
  /* The waiter of the last test ends on its own once it is done.  */
  int threads = await_thread_count (1);
  portalock_redis_pending *p = portalock_redis_acquire_start (lock);
  if (p == NULL)
    die ("start");
  int fd = portalock_redis_pending_fd (p);
  check (fd >= 0 && (fcntl (fd, F_GETFD) & FD_CLOEXEC),
         "the descriptor is close-on-exec");
  check (await_subscribers ("portalock:{pwait}:w:*", 1),
         "the waiter sleeps on its channel");
  check (!readable (fd, 0), "the descriptor is not readable while held");
  check (count_threads () == threads + 1,
         "one thread waits for the acquisition");
  check (other_threads_block_signals (),
         "the waiter blocks every signal");
  errno = 0;
  check (portalock_redis_acquire_start (lock) == NULL && errno == EBUSY,
         "a second start on the same lock: EBUSY");
  check (!readable (fd, 0), "still not readable after the EBUSY");
  uint64_t t = portalock_redis_token (holder);
  check (portalock_redis_release (holder) == 0, "the holder releases");
  check (readable (fd, 60000), "the release makes the descriptor readable");
  check (portalock_redis_acquire_finish (p) == 0
         && portalock_redis_token (lock) > t,
         "the waiter is granted the lock on the release");
  char lease[512];
  lease_of ("pwait", lease, sizeof lease);
  check (strtoull (lease + 33, NULL, 10) == portalock_redis_token (lock),
         "the server holds the waiter's lease");
  check (await_thread_count (threads) == threads,
         "the waiter's thread ends");
  check (portalock_redis_release (lock) == 0, "release the granted lock");
  portalock_redis_free (holder);
  portalock_redis_free (lock);
}

static void
test_cancel (void)
{
  portalock_redis *holder = new_lock ("pcancel", 300, -1);
  portalock_redis *lock = new_lock ("pcancel", 300, -1);
  portalock_redis *other = new_lock ("pcancel", 300, 0);
  /* The waiter's own timers (its place, the holder's lease) are 100 s
     and more away: only the cancel can end its sleep within the minute
     the test waits.  */
  portalock_redis_set_queue_ttl (lock, 600);
  char owner[33];
  owner_of (lock, "pcancel", owner);
  check (portalock_redis_acquire (holder) == 0, "hold for the cancel test");

  /* Cancelled before its waiter could try.  */
  portalock_redis_pending *p = portalock_redis_acquire_start (lock);
  if (p == NULL)
    die ("start");
  check (portalock_redis_acquire_cancel (p) == 0, "cancel at once");
  check (fails_with (portalock_redis_acquire_finish (p), ECANCELED),
         "an acquisition cancelled at once: ECANCELED");

  /* Cancelled while it sleeps in the queue.  */
  p = portalock_redis_acquire_start (lock);
  if (p == NULL)
    die ("start");
  check (await_subscribers ("portalock:{pcancel}:w:*", 1)
         && !not_queued ("pcancel", owner),
         "the waiter takes its place in the queue");
  check (portalock_redis_acquire_cancel (p) == 0, "cancel a sleeping waiter");
  check (portalock_redis_acquire_cancel (p) == 0, "cancel it twice");
  check (readable (portalock_redis_pending_fd (p), 60000),
         "the cancel makes the descriptor readable");
  check (fails_with (portalock_redis_acquire_finish (p), ECANCELED)
         && !portalock_redis_held (lock),
         "a cancelled acquisition: ECANCELED, nothing held");
  check (not_queued ("pcancel", owner),
         "the cancelled waiter left the queue");
  check (portalock_redis_release (holder) == 0, "the holder releases");
  /* A request that does not wait is refused while others wait: it is
     granted only if the cancelled waiter is gone.  */
  check (portalock_redis_acquire (other) == 0,
         "the lock is free for another client after the cancel");
  portalock_redis_release (other);

  /* A cancel after the grant changes nothing.  */
  p = portalock_redis_acquire_start (lock);
  check (p != NULL && readable (portalock_redis_pending_fd (p), 60000)
         && portalock_redis_acquire_cancel (p) == 0
         && portalock_redis_acquire_finish (p) == 0
         && lease_is ("pcancel", owner, portalock_redis_token (lock)),
         "a cancel after the grant leaves the lock held");
  portalock_redis_release (lock);
  portalock_redis_free (holder);
  portalock_redis_free (lock);
  portalock_redis_free (other);
}

static void
test_timeout (void)
{
  portalock_redis *holder = new_lock ("ptime", 300, -1);
  portalock_redis *lock = new_lock ("ptime", 300, 0.2);
  check (portalock_redis_acquire (holder) == 0, "hold for the timeout test");
  portalock_redis_pending *p = portalock_redis_acquire_start (lock);
  check (p != NULL && fails_with (portalock_redis_acquire_finish (p),
                                  ETIMEDOUT),
         "a held lock: ETIMEDOUT through finish");
  portalock_redis_set_timeout (lock, 0);
  p = portalock_redis_acquire_start (lock);
  check (p != NULL && fails_with (portalock_redis_acquire_finish (p),
                                  EWOULDBLOCK),
         "timeout 0: EWOULDBLOCK through finish");
  portalock_redis_set_timeout (lock, -1);
  portalock_redis_set_fail_when_locked (lock, true);
  p = portalock_redis_acquire_start (lock);
  check (p != NULL && fails_with (portalock_redis_acquire_finish (p),
                                  EWOULDBLOCK),
         "fail_when_locked: EWOULDBLOCK through finish");
  check (admin_int ("ZCARD %s", "portalock:{ptime}:q") == 0,
         "no waiter is left in the queue");
  portalock_redis_free (holder);
  portalock_redis_free (lock);
}

static void
test_shared (void)
{
  portalock_redis *writer = new_lock ("pshared", 300, -1);
  portalock_redis *r[3];
  for (int i = 0; i < 3; i++)
    {
      r[i] = new_lock ("pshared", 300, -1);
      portalock_redis_set_shared (r[i], true);
    }
  portalock_redis_set_writer_preference (r[2], true);
  check (portalock_redis_acquire (writer) == 0, "hold for the shared test");
  portalock_redis_pending *p[2];
  for (int i = 0; i < 2; i++)
    if ((p[i] = portalock_redis_acquire_start (r[i])) == NULL)
      die ("start");
  check (await_subscribers ("portalock:{pshared}:w:*", 2)
         && !readable (portalock_redis_pending_fd (p[0]), 0)
         && !readable (portalock_redis_pending_fd (p[1]), 0),
         "two shared waiters wait for an exclusive holder");
  check (portalock_redis_release (writer) == 0, "the writer releases");
  bool both = true;
  for (int i = 0; i < 2; i++)
    both &= portalock_redis_acquire_finish (p[i]) == 0;
  check (both, "both shared waiters are granted");
  p[0] = portalock_redis_acquire_start (r[2]);
  check (p[0] != NULL && portalock_redis_acquire_finish (p[0]) == 0,
         "a shared request with writer preference joins them at once");
  check (portalock_redis_holders (r[0], NULL, 0) == 3,
         "the server lists three shared holders");
  for (int i = 0; i < 3; i++)
    portalock_redis_release (r[i]);
  portalock_redis_free (writer);
  for (int i = 0; i < 3; i++)
    portalock_redis_free (r[i]);
}

static void
test_fork (void)
{
  portalock_redis *holder = new_lock ("pfork", 300, -1);
  portalock_redis *lock = new_lock ("pfork", 300, -1);
  check (portalock_redis_acquire (holder) == 0, "hold for the fork test");
  portalock_redis_pending *p = portalock_redis_acquire_start (lock);
  if (p == NULL)
    die ("start");
  check (await_subscribers ("portalock:{pfork}:w:*", 1),
         "the parent's waiter sleeps");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      int status = 0;
      if (portalock_redis_acquire_cancel (p) != 0)
        status |= 1;
      if (!fails_with (portalock_redis_acquire_finish (p), ECANCELED))
        status |= 2;
      /* The child may start an acquisition of its own.  */
      portalock_redis *mine = new_lock ("pfork-child", 300, -1);
      portalock_redis_pending *q = portalock_redis_acquire_start (mine);
      if (q == NULL || portalock_redis_acquire_finish (q) != 0)
        status |= 4;
      portalock_redis_free (mine);
      /* The parent's objects may only be freed; that releases
         nothing.  */
      portalock_redis_free (lock);
      portalock_redis_free (holder);
      _exit (status);
    }
  int status = -1;
  bool reaped = waitpid (pid, &status, 0) == pid;
  check (reaped && WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "in the child, the parent's acquisition is not pending "
         "(ECANCELED), and the child can start its own (status %d)",
         status);
  check (!readable (portalock_redis_pending_fd (p), 0),
         "the child's cancel did not reach the parent's waiter");
  check (portalock_redis_release (holder) == 0, "the holder releases");
  check (portalock_redis_acquire_finish (p) == 0,
         "the parent's acquisition is granted");
  portalock_redis_release (lock);
  portalock_redis_free (holder);
  portalock_redis_free (lock);
}

#define MANY 100

static void
test_many (void)
{
  portalock_redis *holders[MANY], *locks[MANY];
  portalock_redis_pending *p[MANY];
  char name[32];
  bool held = true, started = true;
  for (int i = 0; i < MANY; i++)
    {
      snprintf (name, sizeof name, "pmany%d", i);
      holders[i] = new_lock (name, 300, -1);
      locks[i] = new_lock (name, 300, -1);
      held &= portalock_redis_acquire (holders[i]) == 0;
    }
  check (held, "hold %d locks", MANY);
  for (int i = 0; i < MANY; i++)
    started &= (p[i] = portalock_redis_acquire_start (locks[i])) != NULL;
  if (!started)
    die ("start");
  check (await_subscribers ("portalock:{pmany*}:w:*", MANY),
         "%d acquisitions wait at once", MANY);
  bool none = true;
  for (int i = 0; i < MANY; i++)
    none &= !readable (portalock_redis_pending_fd (p[i]), 0);
  check (none, "no descriptor is readable before the releases");
  for (int i = 0; i < MANY; i++)
    portalock_redis_release (holders[i]);
  bool granted = true;
  for (int i = 0; i < MANY; i++)
    {
      snprintf (name, sizeof name, "pmany%d", i);
      granted &= readable (portalock_redis_pending_fd (p[i]), 60000);
      granted &= portalock_redis_acquire_finish (p[i]) == 0;
      char lease[512];
      lease_of (name, lease, sizeof lease);
      granted &= (strtoull (lease + 33, NULL, 10)
                  == portalock_redis_token (locks[i]));
      granted &= portalock_redis_release (locks[i]) == 0;
    }
  check (granted, "each of the %d acquisitions is granted once", MANY);
  for (int i = 0; i < MANY; i++)
    {
      portalock_redis_free (holders[i]);
      portalock_redis_free (locks[i]);
    }
}

#define LIMIT 1024

/* The bound on waiters: 1024 acquisitions wait at once on a server that
   accepts no connection and answers nothing (a listening socket never
   accepted), and the next start fails with EAGAIN.  */
static void
test_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    die ("getrlimit");
  if (rl.rlim_cur < 4 * LIMIT + 100)
    {
      rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max
                     >= 4 * LIMIT + 100 ? 4 * LIMIT + 100 : rl.rlim_max);
      setrlimit (RLIMIT_NOFILE, &rl);
      getrlimit (RLIMIT_NOFILE, &rl);
    }
  if (rl.rlim_cur < 4 * LIMIT + 100)
    {
      unsupported ("%d pending acquisitions: only %llu descriptors", LIMIT,
                   (unsigned long long) rl.rlim_cur);
      return;
    }
  const char *path = test_path ("stall.sock");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof sa.sun_path)
    {
      unsupported ("%d pending acquisitions: socket path too long", LIMIT);
      return;
    }
  strcpy (sa.sun_path, path);
  int listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 || bind (listener, (struct sockaddr *) &sa, sizeof sa) != 0
      || listen (listener, 2 * LIMIT) != 0)
    die ("listen on %s", path);
  char stall_url[4200];
  snprintf (stall_url, sizeof stall_url, "unix://%s", path);
  static portalock_redis *locks[LIMIT + 1];
  static portalock_redis_pending *p[LIMIT];
  for (int i = 0; i <= LIMIT; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "plimit%d", i);
      locks[i] = portalock_redis_new (stall_url, name);
      /* Never give up on the silent server while the test fills up.  */
      if (locks[i] == NULL
          || portalock_redis_set_connect_timeout (locks[i], 1e6) != 0
          || portalock_redis_set_command_timeout (locks[i], 1e6) != 0)
        die ("portalock_redis_new");
    }
  int started = 0;
  for (int i = 0; i < LIMIT; i++)
    if ((p[i] = portalock_redis_acquire_start (locks[i])) != NULL)
      started++;
  check (started == LIMIT, "%d acquisitions pending at once", started);
  errno = 0;
  check (portalock_redis_acquire_start (locks[LIMIT]) == NULL
         && errno == EAGAIN, "one more: EAGAIN");
  check (count_threads () <= LIMIT + 1, "at most %d waiter threads", LIMIT);
  /* Closing the listener resets the connections it never accepted: the
     waiters fail, and end.  */
  close (listener);
  unlink (path);
  int failed = 0;
  for (int i = 0; i < LIMIT; i++)
    if (p[i] != NULL && portalock_redis_acquire_finish (p[i]) != 0)
      failed++;
  check (failed == started, "every waiter fails once its server is gone");
  check (await_thread_count (1) == 1, "the waiters' threads end");
  for (int i = 0; i <= LIMIT; i++)
    portalock_redis_free (locks[i]);
}

/* The other client of the storm: take and give back the lock until told
   to stop, counting the holders in the key "pstorm-in"; exit 0, or 1 if
   it ever saw another holder, 2 on an error.  */
static int
storm_client (int stop_fd)
{
  redisContext *c = redisConnectUnix (sock);
  portalock_redis *lock = new_lock ("pstorm", 300, -1);
  if (c == NULL || c->err)
    return 2;
  int status = 0;
  while (!readable (stop_fd, 0))
    {
      if (portalock_redis_acquire (lock) != 0)
        return 2;
      redisReply *r = redisCommand (c, "INCR pstorm-in");
      if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        return 2;
      if (r->integer != 1)
        status = 1;
      freeReplyObject (r);
      freeReplyObject (redisCommand (c, "DECR pstorm-in"));
      if (portalock_redis_release (lock) != 0)
        return 2;
    }
  portalock_redis_free (lock);
  redisFree (c);
  return status;
}

#define STORM 1000

static void
test_storm (void)
{
  /* A lease of 30 s: a grant lost by a bug holds up the other client
     that long, not the whole test's time.  */
  portalock_redis *lock = new_lock ("pstorm", 30, -1);
  char owner[33];
  owner_of (lock, "pstorm", owner);
  int stop[2];
  if (pipe2 (stop, O_CLOEXEC) != 0)
    die ("pipe");
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (stop[1]);
      int status = storm_client (stop[0]);
      portalock_redis_free (lock);
      _exit (status);
    }
  close (stop[0]);
  int granted = 0, cancelled = 0, wrong = 0, unknown = 0, twice = 0;
  for (int i = 0; i < STORM; i++)
    {
      portalock_redis_pending *p = portalock_redis_acquire_start (lock);
      if (p == NULL)
        die ("start");
      /* Cancel at varied moments: at once, after some yields, or once
         the waiter's answer is there.  Which outcome comes does not
         matter; that it is the truth does.  */
      switch (i % 4)
        {
        case 0:
          break;
        case 1:
        case 2:
          for (int k = 0; k < (i * 7919) % 200; k++)
            sched_yield ();
          break;
        case 3:
          readable (portalock_redis_pending_fd (p), (i / 4) % 3);
          break;
        }
      portalock_redis_acquire_cancel (p);
      int r = portalock_redis_acquire_finish (p);
      int e = errno;
      if (r == 0)
        {
          granted++;
          if (!lease_is ("pstorm", owner, portalock_redis_token (lock)))
            wrong++;
          if (admin_int ("INCR %s", "pstorm-in") != 1)
            twice++;
          admin_int ("DECR %s", "pstorm-in");
          if (portalock_redis_release (lock) != 0)
            wrong++;
        }
      else if (e == ECANCELED)
        {
          cancelled++;
          if (portalock_redis_held (lock)
              || lease_is ("pstorm", owner, 0)
              || !not_queued ("pstorm", owner))
            wrong++;
        }
      else
        unknown++;
    }
  if (write (stop[1], "s", 1) != 1)
    die ("write");
  int status = -1;
  bool reaped = waitpid (pid, &status, 0) == pid;
  check (reaped && WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "the other client never saw two holders (status %d)", status);
  close (stop[1]);
  check (wrong == 0 && unknown == 0 && twice == 0,
         "%d start/cancel pairs racing releases: what finish said is what "
         "the server holds (%d granted, %d cancelled; %d wrong, %d other "
         "errors, %d overlaps)", STORM, granted, cancelled, wrong, unknown,
         twice);
  portalock_redis_free (lock);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    die ("usage: redispending DIR");
  snprintf (sock, sizeof sock, "%s/sock", argv[1]);
  snprintf (url, sizeof url, "unix://%s", sock);
  freeReplyObject (admin ("PING"));

  test_bad_input ();
  test_at_once ();
  test_pending ();
  test_cancel ();
  test_timeout ();
  test_shared ();
  test_fork ();
  test_many ();
  test_storm ();
  test_limit ();
  redisFree (admin_ctx);
  return check_exit ();
}
