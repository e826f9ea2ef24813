/* redislock.c: tests of libportalock-redis against a real Redis server.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: redislock DIR, where DIR holds the socket "sock" and the pid
   file "pid" of a redis-server that redis.exp started as
     redis-server --port 0 --unixsocket DIR/sock --save '' \
       --appendonly no --dir DIR --daemonize yes --pidfile DIR/pid
   The program kills and restarts that server in one of its tests, with
   the same command.  Processes wait for each other through pipes, and
   for the server's state by asking it (PTTL, PUBSUB NUMSUB), never by
   sleeping a guessed time.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "portalock-redis.h"
#include "testutil.h"

static const char *dir;
static char url[4200];
static char sock[4096];
static redisContext *admin_ctx;

/* Send a command to the server on the test's own connection and return
   its reply (the caller frees it), or NULL if the server is gone.  */
static redisReply *
admin (const char *format, ...)
{
  for (int attempt = 0; attempt < 2; attempt++)
    {
      if (admin_ctx == NULL)
        {
          admin_ctx = redisConnectUnix (sock);
          if (admin_ctx == NULL)
            return NULL;
          if (admin_ctx->err)
            {
              redisFree (admin_ctx);
              admin_ctx = NULL;
              return NULL;
            }
        }
      va_list ap;
      va_start (ap, format);
      redisReply *r = redisvCommand (admin_ctx, format, ap);
      va_end (ap);
      if (r != NULL)
        return r;
      redisFree (admin_ctx);
      admin_ctx = NULL;
    }
  return NULL;
}

/* The integer answer of an admin command, or LLONG_MIN.  */
static long long
admin_int (const char *format, const char *arg)
{
  redisReply *r = admin (format, arg);
  long long v = (r != NULL && r->type == REDIS_REPLY_INTEGER
                 ? r->integer : -999999);
  freeReplyObject (r);
  return v;
}

static portalock_redis *
new_lock (const char *name, double ttl)
{
  portalock_redis *lock = portalock_redis_new (url, name);
  if (lock == NULL || portalock_redis_set_ttl (lock, ttl) != 0)
    die ("portalock_redis_new %s", name);
  return lock;
}

/* Wait until the server says the key KEY is gone, or 60 seconds pass.  */
static bool
await_expiry (const char *key)
{
  double end = now () + 60;
  while (now () < end)
    {
      if (admin_int ("PTTL %s", key) == -2)
        return true;
      usleep (5000);
    }
  return false;
}

/* Wait until a client is subscribed to a channel that matches
   PATTERN, or 60 seconds pass.  */
static bool
await_subscriber (const char *pattern)
{
  double end = now () + 60;
  while (now () < end)
    {
      redisReply *r = admin ("PUBSUB CHANNELS %s", pattern);
      bool one = (r != NULL && r->type == REDIS_REPLY_ARRAY
                  && r->elements > 0);
      freeReplyObject (r);
      if (one)
        return true;
      usleep (2000);
    }
  return false;
}

/* A child process, and a pipe each way.  */
struct child
{
  pid_t pid;
  int to, from;
};

/* Fork a child running FN (ARG) with IN and OUT as its ends of the
   pipes; its exit status is FN's return value.  */
static void
spawn (struct child *c, int (*fn) (int in, int out, const char *arg),
       const char *arg)
{
  int down[2], up[2];
  if (pipe2 (down, O_CLOEXEC) != 0 || pipe2 (up, O_CLOEXEC) != 0)
    die ("pipe");
  fflush (stdout);
  c->pid = fork ();
  if (c->pid < 0)
    die ("fork");
  if (c->pid == 0)
    {
      close (down[1]);
      close (up[0]);
      _exit (fn (down[0], up[1], arg));
    }
  close (down[0]);
  close (up[1]);
  c->to = down[1];
  c->from = up[0];
}

/* Read one line (up to 255 bytes) from the child within 60 s into BUF.
   Return false on timeout or end of file.  */
static bool
child_says (struct child *c, char *buf, size_t size)
{
  size_t n = 0;
  while (n + 1 < size)
    {
      struct pollfd p = { .fd = c->from, .events = POLLIN };
      if (poll (&p, 1, 60000) <= 0 || read (c->from, buf + n, 1) != 1)
        break;
      if (buf[n] == '\n')
        {
          buf[n] = '\0';
          return true;
        }
      n++;
    }
  buf[n] = '\0';
  return false;
}

static void
tell (int fd, const char *text)
{
  if (write (fd, text, strlen (text)) < 0)
    _exit (99);
}

/* Reap the child; return its exit status, or 200 + signal.  */
static int
reap (struct child *c)
{
  int status;
  close (c->to);
  close (c->from);
  if (waitpid (c->pid, &status, 0) != c->pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 200 + WTERMSIG (status);
}

static void
test_bad_input (void)
{
  static const char *const bad_urls[] = {
    "", "http://localhost", "redis://", "redis://:6379", "redis://host:0",
    "redis://host:65536", "redis://host:12x", "redis://host/db",
    "redis://host/-1", "redis://[::1", "redis://[::1]x", "redis://a%zz@host",
    "redis://a:b%00@host", "unix://", "unix://relative/sock",
    "unix:///", "unix:///sock?db=x", "unix:///sock?nodb=1", "unix://x/sock",
  };
  for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++)
    {
      errno = 0;
      check (portalock_redis_new (bad_urls[i], "n") == NULL
             && errno == EINVAL, "bad URL \"%s\" is EINVAL", bad_urls[i]);
    }
  static const char *const good_urls[] = {
    "redis://localhost", "redis://127.0.0.1:6380/3", "redis://[::1]:7000",
    "redis://secret@host", "redis://user:p%40ss@host:1/0",
    "unix:///tmp/sock", "unix://u:p@/tmp/sock?db=2",
  };
  for (size_t i = 0; i < sizeof good_urls / sizeof *good_urls; i++)
    {
      portalock_redis *lock = portalock_redis_new (good_urls[i], "n");
      check (lock != NULL, "URL \"%s\" is accepted", good_urls[i]);
      portalock_redis_free (lock);
    }

  char big[PORTALOCK_REDIS_NAME_MAX + 2];
  memset (big, 'n', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  errno = 0;
  check (portalock_redis_new (url, big) == NULL && errno == EINVAL,
         "an oversized name is EINVAL");
  big[sizeof big - 2] = '\0';
  portalock_redis *lock = portalock_redis_new (url, big);
  check (lock != NULL && portalock_redis_acquire (lock) == 0
         && portalock_redis_release (lock) == 0,
         "a name of PORTALOCK_REDIS_NAME_MAX bytes works");
  portalock_redis_free (lock);
  errno = 0;
  check (portalock_redis_new (url, "") == NULL && errno == EINVAL,
         "an empty name is EINVAL");
  errno = 0;
  check (portalock_redis_new (url, NULL) == NULL && errno == EINVAL,
         "a NULL name is EINVAL");

  lock = new_lock ("bad", 5);
  check (fails_with (portalock_redis_set_timeout (lock, NAN), EINVAL),
         "a NaN timeout is EINVAL");
  const double bad_ttls[] = { NAN, -1, 0, 0.001, INFINITY, 1e12 };
  for (size_t i = 0; i < sizeof bad_ttls / sizeof *bad_ttls; i++)
    check (fails_with (portalock_redis_set_ttl (lock, bad_ttls[i]), EINVAL),
           "a TTL of %g is EINVAL", bad_ttls[i]);
  const double bad_io[] = { NAN, -1, 0, INFINITY };
  for (size_t i = 0; i < sizeof bad_io / sizeof *bad_io; i++)
    check (fails_with (portalock_redis_set_connect_timeout (lock, bad_io[i]),
                       EINVAL)
           && fails_with (portalock_redis_set_command_timeout (lock,
                                                               bad_io[i]),
                          EINVAL),
           "a connect or command timeout of %g is EINVAL", bad_io[i]);
  check (fails_with (portalock_redis_renew (lock), EINVAL)
         && isnan (NAN) && portalock_redis_remaining (lock) == -1
         && errno == EINVAL,
         "renew and remaining of an unheld lock are EINVAL");
  check (fails_with (portalock_redis_keepalive (lock, NULL, NULL), EINVAL),
         "keep-alive of an unheld lock is EINVAL");
  check (portalock_redis_release (lock) == 1,
         "release of an unheld lock returns 1");
  check (portalock_redis_acquire (lock) == 0
         && fails_with (portalock_redis_set_ttl (lock, 9), EINVAL)
         && fails_with (portalock_redis_set_shared (lock, true), EINVAL),
         "TTL and mode cannot change while held");
  portalock_redis_free (lock);
  check (admin_int ("EXISTS %s", "portalock:{bad}:x") == 0,
         "free releases a held lock");
  check (fails_with (portalock_redis_acquire (NULL), EINVAL)
         && fails_with (portalock_redis_release (NULL), EINVAL)
         && portalock_redis_token (NULL) == 0,
         "a NULL lock is EINVAL");
  portalock_redis_free (NULL);
}

static void
test_unreachable (void)
{
  char path[4200];
  snprintf (path, sizeof path, "unix://%s/no-such-sock", dir);
  portalock_redis *lock = portalock_redis_new (path, "u");
  check (fails_with (portalock_redis_acquire (lock), ENOENT)
         && portalock_redis_server_error (lock) != NULL,
         "a missing socket is ENOENT, with a text");
  portalock_redis_free (lock);

  /* Port 1 on the loopback interface: nothing listens there.  */
  lock = portalock_redis_new ("redis://127.0.0.1:1", "u");
  check (fails_with (portalock_redis_acquire (lock), ECONNREFUSED),
         "a refused connection is ECONNREFUSED");
  portalock_redis_free (lock);

  setenv ("PORTALOCK_REDIS_URL", path, 1);
  lock = portalock_redis_new (NULL, "u");
  check (fails_with (portalock_redis_acquire (lock), ENOENT),
         "PORTALOCK_REDIS_URL is the default URL");
  portalock_redis_free (lock);
  unsetenv ("PORTALOCK_REDIS_URL");
}

static void
test_auth (void)
{
  freeReplyObject (admin ("ACL SETUSER alice on >sesame ~* &* +@all"));
  freeReplyObject (admin ("ACL SETUSER bob on >pw ~* &* -@all +auth"));
  char u[4200];
  snprintf (u, sizeof u, "unix://alice:wrong@%s", sock);
  portalock_redis *lock = portalock_redis_new (u, "auth");
  check (fails_with (portalock_redis_acquire (lock), EACCES)
         && portalock_redis_server_error (lock) != NULL
         && strstr (portalock_redis_server_error (lock), "WRONGPASS"),
         "a wrong password is EACCES, with the server's text");
  portalock_redis_free (lock);
  snprintf (u, sizeof u, "unix://alice:sesame@%s?db=1", sock);
  lock = portalock_redis_new (u, "auth");
  check (portalock_redis_acquire (lock) == 0
         && portalock_redis_release (lock) == 0,
         "the right password and a database number work");
  portalock_redis_free (lock);
  snprintf (u, sizeof u, "unix://bob:pw@%s", sock);
  lock = portalock_redis_new (u, "auth");
  check (fails_with (portalock_redis_acquire (lock), EACCES),
         "a user without permission for scripts gets EACCES");
  portalock_redis_free (lock);
  freeReplyObject (admin ("ACL DELUSER alice bob"));
}

static void
test_server_errors (void)
{
  freeReplyObject (admin ("RPUSH portalock:{wt}:x precious"));
  portalock_redis *lock = new_lock ("wt", 5);
  check (fails_with (portalock_redis_acquire (lock), EPROTO)
         && portalock_redis_server_error (lock) != NULL
         && strstr (portalock_redis_server_error (lock), "WRONGTYPE"),
         "a key of the wrong type is EPROTO, with the server's text");
  check (admin_int ("LLEN %s", "portalock:{wt}:x") == 1,
         "the key of the wrong type is left alone");
  portalock_redis_free (lock);

  /* A server that stalls (CLIENT PAUSE) meets the command timeout.  */
  lock = new_lock ("stall", 5);
  portalock_redis_set_command_timeout (lock, 0.2);
  check (portalock_redis_acquire (lock) == 0, "acquire before a stall");
  freeReplyObject (admin ("CLIENT PAUSE 1500 ALL"));
  check (fails_with (portalock_redis_renew (lock), EHOSTDOWN),
         "a server that does not answer in time is EHOSTDOWN");
  freeReplyObject (admin ("CLIENT UNPAUSE"));
  check (portalock_redis_renew (lock) == 0
         && portalock_redis_release (lock) == 0,
         "the next call connects again");
  portalock_redis_free (lock);

  /* The server closes the connection: no SIGPIPE, and the disposition
     stays the caller's.  */
  lock = new_lock ("pipe", 5);
  check (portalock_redis_acquire (lock) == 0, "acquire before CLIENT KILL");
  freeReplyObject (admin ("CLIENT KILL TYPE normal SKIPME yes"));
  int r = portalock_redis_renew (lock);
  int error = errno;
  struct sigaction sa;
  sigaction (SIGPIPE, NULL, &sa);
  check (r == 0 && sa.sa_handler == SIG_DFL,
         "a killed connection is opened again, without SIGPIPE (%d, %s)",
         r, strerror (error));
  check (portalock_redis_release (lock) == 0, "then release works");
  portalock_redis_free (lock);

  /* The scripts are sent whole only when the server does not know them:
     once each after SCRIPT FLUSH, by SHA-1 afterwards.  */
  freeReplyObject (admin ("SCRIPT FLUSH"));
  freeReplyObject (admin ("CONFIG RESETSTAT"));
  lock = new_lock ("sha", 5);
  bool ok = portalock_redis_acquire (lock) == 0;
  const char *text = portalock_redis_server_error (lock);
  check (ok && text == NULL,
         "a call that succeeded after NOSCRIPT leaves no error text (%s)",
         text != NULL ? text : "none");
  check (portalock_redis_release (lock) == 0
         && portalock_redis_server_error (lock) == NULL,
         "nor does the next one");
  for (int i = 0; i < 2; i++)
    if (portalock_redis_acquire (lock) != 0
        || portalock_redis_release (lock) != 0)
      break;
  portalock_redis_free (lock);
  redisReply *info = admin ("INFO commandstats");
  const char *eval = info ? strstr (info->str, "cmdstat_eval:calls=") : NULL;
  check (eval != NULL && atoi (eval + 19) == 2,
         "after SCRIPT FLUSH, EVAL runs once per script, EVALSHA after");
  freeReplyObject (info);
}

static void
test_exclusion_local (void)
{
  portalock_redis *a = new_lock ("ex", 30), *b = new_lock ("ex", 30);
  check (portalock_redis_acquire (a) == 0 && portalock_redis_held (a),
         "acquire a free lock");
  uint64_t t = portalock_redis_token (a);
  check (t > 0 && portalock_redis_acquire (a) == 0
         && portalock_redis_token (a) == t,
         "acquire again keeps the grant and its token");
  portalock_redis_set_timeout (b, 0);
  check (fails_with (portalock_redis_acquire (b), EWOULDBLOCK)
         && !portalock_redis_held (b) && portalock_redis_token (b) == 0,
         "timeout 0 on a held lock is EWOULDBLOCK");
  portalock_redis_set_timeout (b, 5);
  portalock_redis_set_fail_when_locked (b, true);
  check (fails_with (portalock_redis_acquire (b), EWOULDBLOCK),
         "fail_when_locked on a held lock is EWOULDBLOCK");
  portalock_redis_set_fail_when_locked (b, false);
  portalock_redis_set_timeout (b, 0.2);
  check (fails_with (portalock_redis_acquire (b), ETIMEDOUT),
         "a held lock is ETIMEDOUT at the timeout");
  double left = portalock_redis_remaining (a);
  check (left > 0 && left <= 30, "remaining is within the TTL (%g)", left);
  check (portalock_redis_renew (a) == 0, "renew a held lease");
  check (fails_with (portalock_redis_renew (b), EINVAL),
         "the other object holds nothing to renew");
  check (portalock_redis_release (a) == 0 && !portalock_redis_held (a)
         && portalock_redis_release (a) == 1,
         "release, then release again returns 1");
  check (portalock_redis_acquire (b) == 0
         && portalock_redis_token (b) > t, "the next grant has a greater token");
  portalock_redis_free (a);
  portalock_redis_free (b);

  /* Shared holders together, writers alone.  */
  portalock_redis *r1 = new_lock ("rw", 30), *r2 = new_lock ("rw", 30);
  portalock_redis *w = new_lock ("rw", 30);
  portalock_redis_set_shared (r1, true);
  portalock_redis_set_shared (r2, true);
  portalock_redis_set_timeout (r1, 0);
  portalock_redis_set_timeout (r2, 0);
  portalock_redis_set_timeout (w, 0);
  check (portalock_redis_acquire (r1) == 0 && portalock_redis_acquire (r2) == 0
         && portalock_redis_token (r1) != portalock_redis_token (r2),
         "two shared holders at once, each with its own token");
  check (fails_with (portalock_redis_acquire (w), EWOULDBLOCK),
         "a writer waits for the shared holders");
  check (portalock_redis_release (r1) == 0
         && fails_with (portalock_redis_acquire (w), EWOULDBLOCK),
         "and for the last one");
  left = portalock_redis_remaining (r2);
  check (left > 0 && left <= 30 && portalock_redis_renew (r2) == 0,
         "a shared holder renews and sees its lease");
  check (portalock_redis_release (r2) == 0 && portalock_redis_acquire (w) == 0,
         "a writer holds once the readers are gone");
  check (fails_with (portalock_redis_acquire (r1), EWOULDBLOCK),
         "a reader waits for the writer");
  portalock_redis_free (r1);
  portalock_redis_free (r2);
  portalock_redis_free (w);
}

/* Add 1 to the number in the counter file, N times, under the lock.  */
static int
incrementer (int in, int out, const char *path)
{
  (void) in;
  (void) out;
  portalock_redis *lock = portalock_redis_new (url, "counter");
  if (lock == NULL || portalock_redis_set_timeout (lock, 120) != 0)
    return 1;
  for (int i = 0; i < 50; i++)
    {
      if (portalock_redis_acquire (lock) != 0)
        return 2;
      char buf[32] = "";
      int fd = open (path, O_RDWR);
      if (fd < 0 || read (fd, buf, sizeof buf - 1) < 0)
        return 3;
      sched_yield ();
      int len = snprintf (buf, sizeof buf, "%d\n", atoi (buf) + 1);
      if (pwrite (fd, buf, len, 0) != len || close (fd) != 0)
        return 3;
      if (portalock_redis_release (lock) != 0)
        return 4;
    }
  portalock_redis_free (lock);
  return 0;
}

static void
test_counter (void)
{
  const char *path = test_path ("counter");
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write (fd, "0\n", 2) != 2 || close (fd) != 0)
    die ("counter file");
  struct child c[4];
  for (int i = 0; i < 4; i++)
    spawn (&c[i], incrementer, path);
  bool all_ok = true;
  for (int i = 0; i < 4; i++)
    all_ok &= reap (&c[i]) == 0;
  char buf[32] = "";
  fd = open (path, O_RDONLY);
  if (fd < 0 || read (fd, buf, sizeof buf - 1) < 0)
    die ("read counter");
  close (fd);
  check (all_ok && atoi (buf) == 200,
         "4 processes x 50 increments under the lock make %d", atoi (buf));
}

/* Hold the lock ARG ("NAME TTL [shared|keepalive]"), say "T token", then
   obey commands: "r" renew, "u" release, "q" quit; answer with errno.  */
static void
lost_callback (portalock_redis *lock, int error, void *arg)
{
  (void) lock;
  char buf[32];
  snprintf (buf, sizeof buf, "L %d\n", error);
  tell (*(int *) arg, buf);
}

static int
holder (int in, int out, const char *arg)
{
  char name[64], mode[16] = "";
  double ttl;
  if (sscanf (arg, "%63s %lf %15s", name, &ttl, mode) < 2)
    return 1;
  portalock_redis *lock = new_lock (name, ttl);
  portalock_redis_set_shared (lock, strcmp (mode, "shared") == 0);
  portalock_redis_set_timeout (lock, 60);
  static int outfd;
  outfd = out;
  char buf[64];
  if (portalock_redis_acquire (lock) != 0)
    {
      snprintf (buf, sizeof buf, "E %d\n", errno);
      tell (out, buf);
      return 2;
    }
  if (strcmp (mode, "keepalive") == 0
      && portalock_redis_keepalive (lock, lost_callback, &outfd) != 0)
    return 3;
  snprintf (buf, sizeof buf, "T %llu\n",
            (unsigned long long) portalock_redis_token (lock));
  tell (out, buf);
  char cmd;
  while (read (in, &cmd, 1) == 1)
    {
      int r;
      if (cmd == 'r')
        r = portalock_redis_renew (lock);
      else if (cmd == 'u')
        r = portalock_redis_release (lock);
      else
        break;
      snprintf (buf, sizeof buf, "R %d %d\n", r, r < 0 ? errno : 0);
      tell (out, buf);
    }
  portalock_redis_free (lock);
  return 0;
}

static unsigned long long
child_token (struct child *c)
{
  char buf[256];
  unsigned long long t = 0;
  if (!child_says (c, buf, sizeof buf) || sscanf (buf, "T %llu", &t) != 1)
    return 0;
  return t;
}

static void
test_tokens (void)
{
  /* Across client processes, each one acquiring and exiting.  */
  unsigned long long last = 0;
  bool rising = true;
  for (int i = 0; i < 3; i++)
    {
      struct child c;
      spawn (&c, holder, "tok 30");
      unsigned long long t = child_token (&c);
      rising &= t > last;
      last = t;
      tell (c.to, "u");
      reap (&c);
    }
  check (rising && last > 0, "tokens grow across client processes");

  /* Across expiries: a lease that runs out, then the next grant.  */
  portalock_redis *a = new_lock ("tok", 0.05);
  check (portalock_redis_acquire (a) == 0
         && portalock_redis_token (a) > last, "a short lease");
  last = portalock_redis_token (a);
  await_expiry ("portalock:{tok}:x");
  portalock_redis *b = new_lock ("tok", 30);
  check (portalock_redis_acquire (b) == 0 && portalock_redis_token (b) > last,
         "the grant after an expiry has a greater token");
  check (fails_with (portalock_redis_renew (a), ENOLCK)
         && !portalock_redis_held (a),
         "the expired holder's renew is ENOLCK");
  portalock_redis_free (a);
  portalock_redis_free (b);
}

/* Kill the server with SIGKILL and start it again, empty.  */
static bool
restart_server (void)
{
  char path[4200], buf[32] = "";
  snprintf (path, sizeof path, "%s/pid", dir);
  int fd = open (path, O_RDONLY);
  if (fd < 0 || read (fd, buf, sizeof buf - 1) <= 0)
    return false;
  close (fd);
  pid_t pid = atoi (buf);
  if (pid <= 1 || kill (pid, SIGKILL) != 0)
    return false;
  while (kill (pid, 0) == 0)
    usleep (1000);
  redisFree (admin_ctx);
  admin_ctx = NULL;
  unlink (sock);
  unlink (path);
  char cmd[13000];
  snprintf (cmd, sizeof cmd,
            "redis-server --port 0 --unixsocket '%s' --save '' "
            "--appendonly no --dir '%s' --daemonize yes --pidfile '%s' "
            "--logfile '%s/log'", sock, dir, path, dir);
  if (system (cmd) != 0)
    return false;
  for (int i = 0; i < 10000; i++)
    {
      redisReply *r = admin ("PING");
      bool up = r != NULL && r->type == REDIS_REPLY_STATUS;
      freeReplyObject (r);
      if (up)
        return true;
      usleep (1000);
    }
  return false;
}

/* Wait for the lock ARG ("NAME TIMEOUT"), then say "A r errno token".  */
static int
waiter (int in, int out, const char *arg)
{
  (void) in;
  char name[64];
  double timeout;
  if (sscanf (arg, "%63s %lf", name, &timeout) != 2)
    return 1;
  portalock_redis *lock = new_lock (name, 30);
  portalock_redis_set_timeout (lock, timeout);
  int r = portalock_redis_acquire (lock);
  char buf[64];
  snprintf (buf, sizeof buf, "A %d %d %llu\n", r, r < 0 ? errno : 0,
            (unsigned long long) portalock_redis_token (lock));
  tell (out, buf);
  portalock_redis_free (lock);
  return 0;
}

static bool
waiter_result (struct child *c, int *r, int *error, unsigned long long *t)
{
  char buf[256];
  return child_says (c, buf, sizeof buf)
         && sscanf (buf, "A %d %d %llu", r, error, t) == 3;
}

static void
test_crashed_holder (void)
{
  struct child h;
  spawn (&h, holder, "dead 1");
  unsigned long long t1 = child_token (&h);
  kill (h.pid, SIGKILL);
  reap (&h);
  long long pttl = admin_int ("PTTL %s", "portalock:{dead}:x");
  double start = now ();
  portalock_redis *lock = new_lock ("dead", 30);
  portalock_redis_set_timeout (lock, 60);
  int r = portalock_redis_acquire (lock);
  double waited = now () - start;
  check (t1 > 0 && pttl > 0, "a killed holder's lease outlives it");
  /* Not before the lease ends (the server's clock and ours may differ by
     a few ms), and not much after: the waiter wakes at the holder's
     PTTL, it does not poll.  */
  check (r == 0 && waited * 1000 >= pttl - 20 && waited < 1 + 10,
         "the next acquirer gets it when the lease ends (PTTL %lld ms, "
         "waited %.0f ms)", pttl, waited * 1000);
  check (portalock_redis_token (lock) > t1, "with a greater token");
  portalock_redis_free (lock);
}

static void
test_stopped_holder (void)
{
  struct child h1, h2, h3;
  spawn (&h1, holder, "stop1 0.3");
  spawn (&h2, holder, "stop2 0.3");
  spawn (&h3, holder, "stop3 0.6 keepalive");
  unsigned long long t1 = child_token (&h1), t2 = child_token (&h2);
  unsigned long long t3 = child_token (&h3);
  kill (h1.pid, SIGSTOP);
  kill (h2.pid, SIGSTOP);
  kill (h3.pid, SIGSTOP);
  portalock_redis *l1 = new_lock ("stop1", 30), *l2 = new_lock ("stop2", 30);
  portalock_redis *l3 = new_lock ("stop3", 30);
  portalock_redis_set_timeout (l1, 60);
  portalock_redis_set_timeout (l2, 60);
  portalock_redis_set_timeout (l3, 60);
  check (t1 && t2 && t3 && portalock_redis_acquire (l1) == 0
         && portalock_redis_acquire (l2) == 0
         && portalock_redis_acquire (l3) == 0,
         "others acquire past a stopped holder's TTL");
  check (portalock_redis_token (l1) > t1 && portalock_redis_token (l3) > t3,
         "with greater tokens");
  kill (h1.pid, SIGCONT);
  kill (h2.pid, SIGCONT);
  kill (h3.pid, SIGCONT);
  char buf[256];
  int r = 0, error = 0;
  tell (h1.to, "r");
  check (child_says (&h1, buf, sizeof buf)
         && sscanf (buf, "R %d %d", &r, &error) == 2
         && r == -1 && error == ENOLCK,
         "the resumed holder's renew is ENOLCK");
  tell (h2.to, "u");
  check (child_says (&h2, buf, sizeof buf)
         && sscanf (buf, "R %d %d", &r, &error) == 2
         && r == -1 && error == ENOLCK,
         "the resumed holder's release is ENOLCK");
  check (child_says (&h3, buf, sizeof buf) && sscanf (buf, "L %d", &error)
         && (error == ENOLCK || error == ETIMEDOUT),
         "the resumed holder's keep-alive reports the lost lease");
  check (admin_int ("EXISTS %s", "portalock:{stop2}:x") == 1
         && portalock_redis_renew (l2) == 0,
         "the stale release left the new holder's lease alone");
  tell (h1.to, "q");
  tell (h3.to, "q");
  reap (&h1);
  reap (&h2);
  reap (&h3);
  portalock_redis_free (l1);
  portalock_redis_free (l2);
  portalock_redis_free (l3);
}

static void
test_keepalive (void)
{
  struct child h;
  spawn (&h, holder, "ka 1.5 keepalive");
  unsigned long long t = child_token (&h);
  /* Without the keep-alive the lease would end within 1.5 s; it is
     renewed every 0.5 s.  */
  portalock_redis *other = new_lock ("ka", 30);
  portalock_redis_set_timeout (other, 0);
  bool kept = true;
  for (int i = 0; i < 40 && kept; i++)
    {
      usleep (100000);
      kept = fails_with (portalock_redis_acquire (other), EWOULDBLOCK);
    }
  check (t > 0 && kept, "the keep-alive thread keeps the lease past its TTL");
  tell (h.to, "u");
  char buf[256];
  int r = -2, error;
  check (child_says (&h, buf, sizeof buf)
         && sscanf (buf, "R %d %d", &r, &error) == 2 && r == 0,
         "release stops the keep-alive and releases");
  tell (h.to, "q");
  reap (&h);
  portalock_redis_free (other);
}

static void
test_wakeup (void)
{
  /* The waiter waits forever, and the holder's lease lasts 300 s: only
     the release's message can wake it within the minute this test
     waits.  */
  portalock_redis *a = new_lock ("wake", 300);
  check (portalock_redis_acquire (a) == 0, "hold for the wake-up test");
  struct child w;
  spawn (&w, waiter, "wake -1");
  bool subscribed = await_subscriber ("portalock:{wake}:w:*");
  check (subscribed, "the waiter subscribes to its channel");
  uint64_t t = portalock_redis_token (a);
  check (portalock_redis_release (a) == 0, "release with a waiter");
  int r = -2, error = 0;
  unsigned long long wt = 0;
  check (waiter_result (&w, &r, &error, &wt) && r == 0 && wt > t,
         "a release wakes the waiter, which holds the lock");
  kill (w.pid, SIGKILL);
  reap (&w);
  portalock_redis_free (a);
}

static void
test_lost_wakeup (void)
{
  /* The waiter pauses between its failed try and its subscription; the
     release then publishes to no one.  It waits forever, and the lease
     it first saw lasts 300 s: only its try after subscribing can get it
     the lock within the minute this test waits.  */
  portalock_redis *a = new_lock ("race", 300);
  check (portalock_redis_acquire (a) == 0, "hold for the race test");
  int paused[2], resume[2];
  if (pipe (paused) != 0 || pipe (resume) != 0)
    die ("pipe");
  char fds[32];
  snprintf (fds, sizeof fds, "%d,%d", paused[1], resume[0]);
  setenv ("PORTALOCK_REDIS_TEST_PAUSE", fds, 1);
  struct child w;
  spawn (&w, waiter, "race -1");
  unsetenv ("PORTALOCK_REDIS_TEST_PAUSE");
  char c;
  struct pollfd p = { .fd = paused[0], .events = POLLIN };
  check (poll (&p, 1, 60000) == 1 && read (paused[0], &c, 1) == 1,
         "the waiter pauses before subscribing");
  check (portalock_redis_release (a) == 0, "release while it pauses");
  if (write (resume[1], "g", 1) != 1)
    die ("resume");
  int r = -2, error = 0;
  unsigned long long t = 0;
  check (waiter_result (&w, &r, &error, &t) && r == 0,
         "a release before the subscription is not lost");
  kill (w.pid, SIGKILL);
  reap (&w);
  close (paused[0]);
  close (paused[1]);
  close (resume[0]);
  close (resume[1]);
  portalock_redis_free (a);
}

static void
test_server_restart (void)
{
  portalock_redis *a = new_lock ("restart", 60);
  portalock_redis *c = new_lock ("restart2", 60);
  check (portalock_redis_acquire (a) == 0 && portalock_redis_acquire (c) == 0,
         "hold before the restart");
  uint64_t t = portalock_redis_token (a);
  struct child w;
  spawn (&w, waiter, "restart 30");
  check (await_subscriber ("portalock:{restart}:w:*"),
         "a waiter waits before the restart");
  double start = now ();
  check (restart_server (), "the server is killed and started again");
  int r = -2, error = 0;
  unsigned long long wt;
  /* The waiter connects again at once: to the new server, which knows
     no lease and grants it the lock, or to none yet (it is starting).  */
  bool said = waiter_result (&w, &r, &error, &wt);
  check (said
         && (r == 0 || error == ECONNRESET || error == ENOENT
             || error == ECONNREFUSED) && now () - start < 30,
         "the waiter gets the lock from the new server, or a connection "
         "error, before its deadline (%d, %s)", r, strerror (error));
  reap (&w);
  check (fails_with (portalock_redis_renew (a), ENOLCK),
         "the holder's first renewal after the restart is ENOLCK");
  check (fails_with (portalock_redis_release (c), ENOLCK)
         && !portalock_redis_held (c),
         "another holder's first release after the restart is ENOLCK");
  portalock_redis *b = new_lock ("restart", 60);
  check (portalock_redis_acquire (b) == 0 && portalock_redis_token (b) > t,
         "the first token after a restart is greater than the last before");
  portalock_redis_free (a);
  portalock_redis_free (b);
  portalock_redis_free (c);
}

static void
test_killed_connections (void)
{
  /* The server closes every connection of a holder and of a waiter:
     the waiter's subscription and its idle connection for tries, the
     holder's idle connection.  Both connect again: the release works,
     and the waiter gets the lock.  */
  portalock_redis *a = new_lock ("kill", 300);
  check (portalock_redis_acquire (a) == 0, "hold before CLIENT KILL");
  uint64_t t = portalock_redis_token (a);
  struct child w;
  spawn (&w, waiter, "kill -1");
  check (await_subscriber ("portalock:{kill}:w:*"),
         "a waiter subscribes");
  long long killed = admin_int ("CLIENT KILL TYPE %s", "pubsub");
  redisReply *k = admin ("CLIENT KILL TYPE normal SKIPME yes");
  check (killed == 1 && k != NULL && k->type == REDIS_REPLY_INTEGER
         && k->integer >= 2,
         "the server closes the waiter's and the holder's connections");
  freeReplyObject (k);
  check (portalock_redis_release (a) == 0 && !portalock_redis_held (a),
         "the holder's release connects again and releases");
  int r = -2, error = 0;
  unsigned long long wt = 0;
  bool said = waiter_result (&w, &r, &error, &wt);
  check (said && r == 0 && wt > t,
         "the waiter subscribes again and gets the lock (%d, %s)", r,
         strerror (error));
  /* The waiter releases the lock and exits.  */
  if (!said)
    kill (w.pid, SIGKILL);
  reap (&w);
  portalock_redis_free (a);
}

/* A proxy between the clients and the server: it accepts on PROXY and
   forwards each connection to the server's socket, until killed.  Stop
   it (SIGSTOP) and the clients' requests go unanswered, as over a
   network that is cut.  */
static char proxy_sock[4200];

static int
proxy_run (int in, int out, const char *arg)
{
  (void) in;
  (void) arg;
  int l = socket (AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (proxy_sock) >= sizeof sa.sun_path)
    return 1;
  strcpy (sa.sun_path, proxy_sock);
  unlink (proxy_sock);
  if (l < 0 || bind (l, (struct sockaddr *) &sa, sizeof sa) != 0
      || listen (l, 16) != 0)
    return 1;
  tell (out, "ready\n");
  enum { MAXC = 32 };
  struct pollfd p[1 + 2 * MAXC];
  int n = 0;
  p[0].fd = l;
  p[0].events = POLLIN;
  for (;;)
    {
      if (poll (p, 1 + 2 * n, -1) < 0)
        continue;
      for (int i = 1; i < 1 + 2 * n; i++)
        if (p[i].revents != 0)
          {
            char buf[65536];
            ssize_t got = read (p[i].fd, buf, sizeof buf);
            int peer = p[i % 2 == 1 ? i + 1 : i - 1].fd;
            if (got <= 0)
              {
                /* One side closed: close both.  */
                int j = i % 2 == 1 ? i + 1 : i - 1;
                close (p[i].fd);
                close (peer);
                p[i].fd = p[j].fd = -1;
                continue;
              }
            for (ssize_t done = 0; done < got;)
              {
                ssize_t w = write (peer, buf + done, got - done);
                if (w <= 0)
                  break;
                done += w;
              }
          }
      if ((p[0].revents & POLLIN) && n < MAXC)
        {
          int c = accept (l, NULL, NULL);
          int s = socket (AF_UNIX, SOCK_STREAM, 0);
          struct sockaddr_un server = { .sun_family = AF_UNIX };
          strcpy (server.sun_path, sock);
          if (c < 0 || s < 0
              || connect (s, (struct sockaddr *) &server, sizeof server) != 0)
            return 2;
          p[1 + 2 * n] = (struct pollfd) { .fd = c, .events = POLLIN };
          p[2 + 2 * n] = (struct pollfd) { .fd = s, .events = POLLIN };
          n++;
        }
    }
}

static int lost_pipe[2];

static void
partition_lost (portalock_redis *lock, int error, void *arg)
{
  (void) lock;
  (void) arg;
  char c = (char) error;
  if (write (lost_pipe[1], &c, 1) != 1)
    abort ();
}

static void
test_partition (void)
{
  /* The holder's requests go through the proxy; its lease lasts 1 s,
     but its command timeout is 600 s.  The proxy is stopped, so the
     next renewal waits for an answer that does not come.  The test
     then keeps the server from ever ending the lease itself (PEXPIRE
     600 s): the holder must declare it lost on its own clock, while the
     server still shows the lease as the holder's, and before any answer
     (none comes while the proxy is stopped).  Another client could take
     the lock only once the server ends the lease; the lost callback has
     fired by then whatever the machine's load, because nothing but the
     holder's own clock makes it fire.  */
  snprintf (proxy_sock, sizeof proxy_sock, "%s/proxy", dir);
  struct child proxy;
  spawn (&proxy, proxy_run, "");
  char buf[256];
  if (!child_says (&proxy, buf, sizeof buf))
    die ("the proxy did not start");
  char purl[4300];
  snprintf (purl, sizeof purl, "unix://%s", proxy_sock);
  if (pipe2 (lost_pipe, O_CLOEXEC) != 0)
    die ("pipe");
  portalock_redis *lock = NULL;
  char token[24];
  bool kept = false;
  /* A machine so loaded that this process stalled for the whole TTL
     between the acquire and the PEXPIRE lets the server end the lease
     first: then the scenario is played again.  */
  for (int attempt = 0; attempt < 10 && !kept; attempt++)
    {
      lock = portalock_redis_new (purl, "part");
      if (lock == NULL)
        die ("partition test");
      portalock_redis_set_ttl (lock, 1);
      portalock_redis_set_command_timeout (lock, 600);
      if (portalock_redis_acquire (lock) != 0)
        die ("acquire through the proxy: %s", strerror (errno));
      double left = portalock_redis_remaining (lock);
      int error = errno;
      /* The margin: 1 % of 1 s, plus 2 ms.  A stall of the whole TTL
         makes it ENOLCK.  */
      if (attempt == 0)
        check (left <= 1 - 0.012 && (left > 0 || error == ENOLCK),
               "remaining counts the validity: TTL less the drift margin "
               "(%g)", left);
      if (left < 0)
        {
          portalock_redis_free (lock);
          lock = NULL;
          continue;
        }
      if (portalock_redis_keepalive (lock, partition_lost, NULL) != 0)
        die ("keep-alive through the proxy");
      snprintf (token, sizeof token, " %llu",
                (unsigned long long) portalock_redis_token (lock));
      kill (proxy.pid, SIGSTOP);
      /* What the proxy forwarded before it stopped is done once the
         server has answered a PING sent after.  */
      freeReplyObject (admin ("PING"));
      kept = admin_int ("PEXPIRE %s 600000", "portalock:{part}:x") == 1;
      if (!kept)
        {
          kill (proxy.pid, SIGCONT);
          portalock_redis_free (lock);
          lock = NULL;
          char c;
          struct pollfd q = { .fd = lost_pipe[0], .events = POLLIN };
          while (poll (&q, 1, 0) == 1 && read (lost_pipe[0], &c, 1) == 1)
            ;
        }
    }
  check (kept, "the proxy is stopped; the server keeps the lease");
  if (!kept)
    {
      kill (proxy.pid, SIGKILL);
      reap (&proxy);
      return;
    }
  struct pollfd p = { .fd = lost_pipe[0], .events = POLLIN };
  char error = 0;
  bool fired = poll (&p, 1, 60000) == 1 && read (lost_pipe[0], &error, 1) == 1;
  redisReply *v = admin ("GET portalock:{part}:x");
  bool still = (v != NULL && v->type == REDIS_REPLY_STRING
                && strstr (v->str, token) != NULL);
  freeReplyObject (v);
  check (fired && still,
         "the lost callback fires at the validity deadline, the server "
         "unanswering and still keeping the lease");
  check (error == ETIMEDOUT, "it says ETIMEDOUT (%d)", error);
  check (portalock_redis_remaining (lock) == -1 && errno == ENOLCK
         && !portalock_redis_held (lock),
         "then remaining is ENOLCK, at once");
  kill (proxy.pid, SIGCONT);
  portalock_redis *lock2 = portalock_redis_new (purl, "part2");
  portalock_redis_set_ttl (lock2, 1);
  portalock_redis_set_command_timeout (lock2, 600);
  check (portalock_redis_acquire (lock2) == 0
         && portalock_redis_keepalive (lock2, partition_lost, NULL) == 0,
         "a second holder through the proxy");
  kill (proxy.pid, SIGSTOP);
  fired = poll (&p, 1, 60000) == 1 && read (lost_pipe[0], &error, 1) == 1;
  check (fired, "its lost callback fires too");
  kill (proxy.pid, SIGCONT);
  check (fails_with (portalock_redis_renew (lock2), ENOLCK),
         "its renewal after the deadline is ENOLCK");
  /* Without a keep-alive, a release sent after the deadline (1 s on
     the monotonic clock, at least, after the request) finds the lease
     still there on the server, which was told to keep it (acquired
     again if a stall let it end first).  */
  portalock_redis *lock3 = new_lock ("part3", 1);
  kept = false;
  for (int attempt = 0; attempt < 10 && !kept; attempt++)
    kept = (portalock_redis_acquire (lock3) == 0
            && admin_int ("PEXPIRE %s 600000", "portalock:{part3}:x") == 1);
  check (kept, "a third holder");
  double until = now () + 1;
  while (now () < until)
    usleep (10000);
  check (fails_with (portalock_redis_release (lock3), ENOLCK)
         && admin_int ("EXISTS %s", "portalock:{part3}:x") == 0,
         "a release after the deadline is ENOLCK, and frees the key");
  portalock_redis_free (lock);
  portalock_redis_free (lock2);
  portalock_redis_free (lock3);
  kill (proxy.pid, SIGKILL);
  reap (&proxy);
  close (lost_pipe[0]);
  close (lost_pipe[1]);
  freeReplyObject (admin ("DEL portalock:{part}:x portalock:{part2}:x"));
}

/* Against a server that wants the password "pw" and has no EVALSHA.  */
static void
test_restricted (void)
{
  portalock_redis *lock = new_lock ("r", 5);
  bool refused = fails_with (portalock_redis_acquire (lock), EACCES);
  const char *text = portalock_redis_server_error (lock);
  check (refused && text != NULL
         && (strstr (text, "unauthenticated") || strstr (text, "NOAUTH")),
         "no password for a server that wants one is EACCES (%s)", text);
  portalock_redis_free (lock);
  char u[4300];
  snprintf (u, sizeof u, "unix://pw@%s", sock);
  lock = portalock_redis_new (u, "r");
  bool ok = lock != NULL && portalock_redis_acquire (lock) == 0;
  text = portalock_redis_server_error (lock);
  check (ok && text == NULL, "without EVALSHA the scripts are sent whole (%s)",
         text != NULL ? text : "no error");
  check (portalock_redis_renew (lock) == 0
         && portalock_redis_remaining (lock) > 0
         && portalock_redis_release (lock) == 0
         && portalock_redis_server_error (lock) == NULL,
         "renew, remaining and release too");
  portalock_redis_free (lock);
}

int
main (int argc, char **argv)
{
  if (argc != 2 && !(argc == 3 && strcmp (argv[2], "restricted") == 0))
    die ("usage: redislock DIR [restricted]");
  dir = argv[1];
  snprintf (sock, sizeof sock, "%s/sock", dir);
  snprintf (url, sizeof url, "unix://%s", sock);
  if (argc == 3)
    {
      test_restricted ();
      return check_exit ();
    }
  redisReply *r = admin ("PING");
  if (r == NULL)
    die ("no server at %s", sock);
  freeReplyObject (r);

  test_bad_input ();
  test_unreachable ();
  test_auth ();
  test_server_errors ();
  test_exclusion_local ();
  test_counter ();
  test_tokens ();
  test_crashed_holder ();
  test_stopped_holder ();
  test_keepalive ();
  test_wakeup ();
  test_lost_wakeup ();
  test_killed_connections ();
  test_partition ();
  test_server_restart ();
  redisFree (admin_ctx);
  return check_exit ();
}
