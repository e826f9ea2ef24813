/* conn.c: connections to the server: connect, log in, send a command,
   read its reply within a deadline.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* hiredis is used for what it does well, building commands and parsing
   replies; the library does the socket I/O itself, for two reasons.
   hiredis writes with write(2), which raises SIGPIPE on a connection
   the server closed, and the caller's process must neither die of it
   nor see its disposition changed: send(2) with MSG_NOSIGNAL raises
   nothing.  And a hiredis read that times out leaves the context
   unusable, so every wait here is a poll(2) with its own deadline,
   followed by a read that cannot block.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "redis-private.h"

double
plr_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
plr_conn_set_error (struct plr_conn *c, const char *text, size_t len)
{
  char *copy = strndup (text, len);
  if (copy == NULL)
    return;
  free (*c->error);
  *c->error = copy;
}

void
plr_conn_clear_error (struct plr_conn *c)
{
  free (*c->error);
  *c->error = NULL;
}

int
plr_error_errno (const char *text)
{
  if (strncmp (text, "NOAUTH", 6) == 0 || strncmp (text, "WRONGPASS", 9) == 0
      || strncmp (text, "NOPERM", 6) == 0)
    return EACCES;
  /* Redis 7 answers a long command from a client that has not logged in
     with a protocol error, not NOAUTH, and closes the connection: a
     password is needed all the same.  */
  if (strncmp (text, "ERR Protocol error: unauthenticated", 35) == 0)
    return EACCES;
  return EPROTO;
}

void
plr_conn_close (struct plr_conn *c)
{
  if (c->ctx != NULL)
    {
      int saved_errno = errno;
      redisFree (c->ctx);
      c->ctx = NULL;
      errno = saved_errno;
    }
}

/* The absolute deadline of a wait of SECONDS from now on C, within its
   cap.  */
static double
deadline_in (const struct plr_conn *c, double seconds)
{
  double d = plr_now () + seconds;
  return c->cap < d ? c->cap : d;
}

/* Close C and fail with ERROR, keeping TEXT as the error text.  */
static int
conn_fail (struct plr_conn *c, int error, const char *text)
{
  plr_conn_set_error (c, text, strlen (text));
  plr_conn_close (c);
  errno = error;
  return -1;
}

static struct timeval
to_timeval (double seconds)
{
  struct timeval tv;
  tv.tv_sec = (time_t) seconds;
  tv.tv_usec = (suseconds_t) ((seconds - tv.tv_sec) * 1e6);
  return tv;
}

/* Send AUTH and SELECT as C's URL asks.  */
static int
log_in (struct plr_conn *c)
{
  const struct plr_url *u = c->url;
  redisReply *r;
  if (u->password != NULL)
    {
      const char *argv[3] = { "AUTH" };
      int argc = 1;
      if (u->user != NULL)
        argv[argc++] = u->user;
      argv[argc++] = u->password;
      if (plr_conn_call (c, argc, argv, NULL, &r) != 0)
        return -1;
      bool refused = r->type == REDIS_REPLY_ERROR;
      freeReplyObject (r);
      if (refused)
        return conn_fail (c, EACCES, *c->error);
    }
  if (u->db != 0)
    {
      char db[16];
      snprintf (db, sizeof db, "%ld", u->db);
      const char *argv[2] = { "SELECT", db };
      if (plr_conn_call (c, 2, argv, NULL, &r) != 0)
        return -1;
      int error = r->type == REDIS_REPLY_ERROR ? plr_error_errno (r->str) : 0;
      freeReplyObject (r);
      if (error != 0)
        return conn_fail (c, error, *c->error);
    }
  return 0;
}

int
plr_conn_open (struct plr_conn *c)
{
  if (c->ctx != NULL)
    return 0;
  double seconds = deadline_in (c, c->connect_timeout) - plr_now ();
  if (seconds <= 0)
    {
      errno = ETIME;
      return -1;
    }
  struct timeval tv = to_timeval (seconds);
  errno = 0;
  redisContext *ctx = (c->url->path != NULL
                       ? redisConnectUnixWithTimeout (c->url->path, tv)
                       : redisConnectWithTimeout (c->url->host, c->url->port,
                                                  tv));
  int error = errno;
  if (ctx == NULL)
    {
      errno = ENOMEM;
      return -1;
    }
  if (ctx->err != 0)
    {
      plr_conn_set_error (c, ctx->errstr, strlen (ctx->errstr));
      redisFree (ctx);
      /* A name that does not resolve is an unreachable host too; a
         connect that timed out is a server that does not answer.  */
      if (error == 0 || error == EINPROGRESS)
        error = EHOSTUNREACH;
      else if (error == ETIMEDOUT)
        error = EHOSTDOWN;
      errno = error;
      return -1;
    }
  /* hiredis opens its sockets without close-on-exec.  */
  int flags = fcntl (ctx->fd, F_GETFD);
  if (flags >= 0)
    fcntl (ctx->fd, F_SETFD, flags | FD_CLOEXEC);
  if (c->url->path == NULL)
    redisEnableKeepAlive (ctx);
  c->ctx = ctx;
  return log_in (c);
}

/* Wait until C's socket is ready for EVENTS, up to the absolute DEADLINE
   on the monotonic clock, or until CANCEL_FD (unless -1) is readable.
   Return 1 if ready, 0 at the deadline, 2 if cancelled, -1 with
   errno.  */
static int
wait_ready_or_cancel (struct plr_conn *c, short events, double deadline,
                      int cancel_fd)
{
  for (;;)
    {
      double left = deadline - plr_now ();
      if (left <= 0)
        return 0;
      /* poll ignores the second entry while CANCEL_FD is -1.  */
      struct pollfd p[2] = { { .fd = c->ctx->fd, .events = events },
                             { .fd = cancel_fd, .events = POLLIN } };
      /* Round up, so that a wait never ends just short of the deadline
         and spins.  */
      double ms = ceil (left * 1000);
      int r = poll (p, 2, ms > 86400000 ? 86400000 : (int) ms);
      if (r > 0 && p[1].revents != 0)
        return 2;
      if (r > 0)
        return 1;
      if (r < 0 && errno != EINTR)
        return -1;
    }
}

static int
wait_ready (struct plr_conn *c, short events, double deadline)
{
  return wait_ready_or_cancel (c, events, deadline, -1);
}

/* Close C if the server has closed its end (an idle connection that the
   server's timeout, CLIENT KILL or a restart ended) or sent something
   unasked: a command sent there would be lost, and would leave unknown
   whether it was applied.  A connection found closed before sending is
   opened again at no risk.  */
static void
close_if_stale (struct plr_conn *c)
{
  if (c->ctx == NULL)
    return;
  struct pollfd p = { .fd = c->ctx->fd, .events = POLLIN };
  if (poll (&p, 1, 0) != 0)
    plr_conn_close (c);
}

int
plr_conn_send (struct plr_conn *c, int argc, const char **argv,
               const size_t *argvlen)
{
  close_if_stale (c);
  if (plr_conn_open (c) != 0)
    return -1;
  size_t lens[16];
  if (argvlen == NULL)
    {
      if (argc > 16)
        {
          errno = EINVAL;
          return -1;
        }
      for (int i = 0; i < argc; i++)
        lens[i] = strlen (argv[i]);
      argvlen = lens;
    }
  char *cmd;
  int len = redisFormatCommandArgv (&cmd, argc, argv, argvlen);
  if (len < 0)
    {
      errno = ENOMEM;
      return -1;
    }
  double deadline = deadline_in (c, c->command_timeout);
  const char *p = cmd;
  size_t left = len;
  int r = 0;
  while (left > 0)
    {
      ssize_t n = send (c->ctx->fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0)
        {
          p += n;
          left -= n;
          continue;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          int ready = wait_ready (c, POLLOUT, deadline);
          if (ready > 0)
            continue;
          r = (ready < 0 ? conn_fail (c, errno, strerror (errno))
               : plr_now () >= c->cap
               ? conn_fail (c, ETIME, "the lease's validity ended before "
                            "the server took the command")
               : conn_fail (c, EHOSTDOWN,
                            "the server took no command within the timeout"));
          break;
        }
      r = conn_fail (c, errno == EPIPE ? ECONNRESET : errno,
                     "the connection to the server was lost");
      break;
    }
  redisFreeCommand (cmd);
  return r;
}

int
plr_conn_read (struct plr_conn *c, double seconds, redisReply **r)
{
  return plr_conn_read_or_cancel (c, seconds, -1, r);
}

int
plr_conn_read_or_cancel (struct plr_conn *c, double seconds, int cancel_fd,
                         redisReply **r)
{
  if (c->ctx == NULL)
    {
      errno = ECONNRESET;
      return -1;
    }
  double deadline = deadline_in (c, seconds < 0 ? c->command_timeout
                                 : seconds);
  for (;;)
    {
      void *reply = NULL;
      if (redisGetReplyFromReader (c->ctx, &reply) != REDIS_OK)
        return conn_fail (c, EPROTO, c->ctx->errstr);
      if (reply != NULL)
        {
          *r = reply;
          return 1;
        }
      int ready = wait_ready_or_cancel (c, POLLIN, deadline, cancel_fd);
      if (ready == 2)
        {
          /* A reply partly read stays buffered for the next read: the
             connection stays usable.  */
          errno = ECANCELED;
          return -1;
        }
      if (ready < 0)
        return conn_fail (c, errno, strerror (errno));
      if (ready == 0)
        {
          if (plr_now () >= c->cap)
            return conn_fail (c, ETIME, "the lease's validity ended before "
                              "the server answered");
          if (seconds >= 0)
            return 0;
          return conn_fail (c, EHOSTDOWN,
                            "the server did not answer within the timeout");
        }
      if (redisBufferRead (c->ctx) != REDIS_OK)
        return conn_fail (c, ECONNRESET, c->ctx->errstr);
    }
}

int
plr_conn_call (struct plr_conn *c, int argc, const char **argv,
               const size_t *argvlen, redisReply **r)
{
  if (plr_conn_send (c, argc, argv, argvlen) != 0
      || plr_conn_read (c, -1, r) < 0)
    return -1;
  if ((*r)->type == REDIS_REPLY_ERROR)
    plr_conn_set_error (c, (*r)->str, (*r)->len);
  else
    plr_conn_clear_error (c);
  return 0;
}
