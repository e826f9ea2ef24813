/* redis-lock.c: plock --redis and punlock --redis, locks that span
   machines, through libportalock-redis.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.

   This program is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
   General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* A Redis lock is a lease: it lasts a TTL unless renewed, and no kernel
   drops it when its holder dies.  So plock renews it from the library's
   keep-alive thread while COMMAND runs, and if the lease is lost anyway
   (the server was unreachable for a whole TTL, or plock was stopped that
   long) another host may hold the lock already: plock then sends
   COMMAND SIGTERM and exits with REDIS_EXIT_LOST rather than let it go
   on unprotected.

   A hold is kept, as for a file, by a holder process, the forked plock,
   named HOLDER_NAME.  It takes the lease itself (a lock object belongs
   to the process that made it), reports to plock through a pipe, and
   renews it until SIGTERM, SIGINT, SIGHUP, its owner's exit, --max-hold
   or the loss of the lease.  Every lease plock takes carries the
   identity "HOST PID" of the process that keeps it: punlock signals a
   holder only if that names a live plock holder on its own host.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "duration.h"
#include "error.h"
#include "holder.h"
#include "lockfile.h"
#include "portalock-redis.h"
#include "process.h"
#include "progname.h"
#include "redis-tool.h"

/* The holders a query reports at most.  */
#define MAX_HOLDERS 64

/* URL without its user and password, for messages.  */
static char *
url_for_messages (const char *url)
{
  if (url == NULL || *url == '\0')
    url = getenv ("PORTALOCK_REDIS_URL");
  if (url == NULL || *url == '\0')
    return strdup ("redis://127.0.0.1:6379");
  const char *scheme_end = strstr (url, "://");
  const char *at = scheme_end != NULL ? strchr (scheme_end + 3, '@') : NULL;
  if (at == NULL)
    return strdup (url);
  char *s = NULL;
  if (asprintf (&s, "%.*s%s", (int) (scheme_end + 3 - url), url, at + 1) < 0)
    return NULL;
  return s;
}

/* True if the server's error TEXT says that it wants a password it was
   not given: NOAUTH, or Redis 7's protocol error for a long command from
   a client that has not logged in.  */
static bool
needs_password (const char *text)
{
  return text != NULL && (strncmp (text, "NOAUTH", 6) == 0
                          || strstr (text, "unauthenticated") != NULL);
}

/* Report the failure ERR of a call on LOCK for the lock NAME and return
   the tools' exit status for it.  Conflicts are the caller's.  */
static int
failure_status (portalock_redis *lock, const char *url, const char *name,
                int err, bool quiet)
{
  const char *text = portalock_redis_server_error (lock);
  char *where = url_for_messages (url);
  int status;
  switch (err)
    {
    case EACCES:
      if (!quiet && needs_password (text))
        error (0, 0, "%s: the Redis server refused access: it needs a "
               "password (give it in the URL: redis://[USER:]PASSWORD@HOST "
               "or unix://[USER:]PASSWORD@/PATH): %s", name, text);
      else if (!quiet)
        error (0, 0, "%s: the Redis server refused access: %s", name,
               text != NULL ? text : strerror (err));
      status = EX_NOPERM;
      break;
    case EPROTO:
      if (!quiet)
        error (0, 0, "%s: the Redis server answered with an error: %s",
               name, text != NULL ? text : strerror (err));
      status = EX_PROTOCOL;
      break;
    case ENOLCK:
      if (!quiet)
        error (0, 0, "%s: the lease was lost", name);
      status = REDIS_EXIT_LOST;
      break;
    case ENOMEM:
      if (!quiet)
        error (0, err, "%s", name);
      status = EX_OSERR;
      break;
    default:
      if (!quiet)
        error (0, err, "%s: cannot reach the Redis server at %s", name,
               where != NULL ? where : "its URL");
      status = EX_NOHOST;
      break;
    }
  free (where);
  return status;
}

int
redis_check_request (const struct redis_request *req)
{
  if (req->name == NULL || req->name[0] == '\0')
    {
      error (0, 0, "empty Redis lock name");
      return EX_USAGE;
    }
  if (strlen (req->name) > PORTALOCK_REDIS_NAME_MAX)
    {
      error (0, 0, "Redis lock name too long (at most %d bytes)",
             PORTALOCK_REDIS_NAME_MAX);
      return EX_USAGE;
    }
  if (req->ttl != 0 && !(req->ttl >= REDIS_TTL_MIN))
    {
      error (0, 0, "--ttl too short to renew the lease (at least %gs)",
             REDIS_TTL_MIN);
      return EX_USAGE;
    }
  /* Making an object parses the URL and sends nothing.  */
  portalock_redis *lock = portalock_redis_new (req->url != NULL
                                               && req->url[0] != '\0'
                                               ? req->url : NULL, req->name);
  if (lock == NULL)
    {
      if (errno == ENOMEM)
        {
          error (0, errno, "%s", req->name);
          return EX_OSERR;
        }
      const char *url = req->url;
      if (url == NULL || url[0] == '\0')
        url = getenv ("PORTALOCK_REDIS_URL");
      /* The URL is shown as given: a malformed one may not even say
         where a password would be.  */
      error (0, 0, "invalid Redis URL%s%s%s (expected "
             "redis://[USER:PASSWORD@]HOST[:PORT][/DB] or "
             "unix:///PATH[?db=DB])", url != NULL ? " '" : "",
             url != NULL ? url : "", url != NULL ? "'" : "");
      return EX_USAGE;
    }
  if (req->ttl != 0 && portalock_redis_set_ttl (lock, req->ttl) != 0)
    {
      portalock_redis_free (lock);
      error (0, 0, "--ttl out of range (at most 24 days)");
      return EX_USAGE;
    }
  portalock_redis_free (lock);
  return EXIT_SUCCESS;
}

/* Make the lock object REQ asks for, its identity this process.  Return
   it, or NULL after reporting with *STATUS set.  */
static portalock_redis *
make_lock (const struct redis_request *req, int *status)
{
  portalock_redis *lock = portalock_redis_new (req->url != NULL
                                               && req->url[0] != '\0'
                                               ? req->url : NULL, req->name);
  if (lock == NULL)
    {
      /* redis_check_request has seen every EINVAL.  */
      if (!req->quiet)
        error (0, errno, "%s", req->name);
      *status = EX_OSERR;
      return NULL;
    }
  /* Room for the host name (at most 64 bytes on Linux), a space and
     any PID.  */
  char host[PORTALOCK_REDIS_IDENTITY_MAX - 32];
  char identity[PORTALOCK_REDIS_IDENTITY_MAX];
  if (gethostname (host, sizeof host) != 0)
    strcpy (host, "unknown");
  host[sizeof host - 1] = '\0';
  for (char *p = host; *p != '\0'; p++)
    if ((unsigned char) *p <= ' ' || *p == 0x7f)
      *p = '_';
  snprintf (identity, sizeof identity, "%s %ld", host, (long) getpid ());
  double ttl = req->ttl != 0 ? req->ttl : 30;
  /* A renewal that hangs must not outlast the lease: the lost lease is
     then seen while it can still be acted on.  */
  double io = ttl / 3 < 5 ? ttl / 3 : 5;
  if ((req->ttl != 0 && portalock_redis_set_ttl (lock, req->ttl) != 0)
      || portalock_redis_set_timeout (lock, isfinite (req->timeout)
                                      ? req->timeout : -1) != 0
      || portalock_redis_set_fail_when_locked (lock, req->timeout == 0) != 0
      || portalock_redis_set_shared (lock, req->shared) != 0
      || portalock_redis_set_writer_preference (lock, req->prefer_writers)
         != 0
      || portalock_redis_set_identity (lock, identity) != 0
      || portalock_redis_set_connect_timeout (lock, io) != 0
      || portalock_redis_set_command_timeout (lock, io) != 0)
    {
      if (!req->quiet)
        error (0, errno, "%s", req->name);
      portalock_redis_free (lock);
      *status = EX_SOFTWARE;
      return NULL;
    }
  return lock;
}

/* Acquire LOCK as REQ says.  Return 0, or report and return the exit
   status (the conflict code for a conflict or a timeout).  */
static int
acquire (portalock_redis *lock, const struct redis_request *req,
         double *waited)
{
  double started = lockfile_now ();
  if (portalock_redis_acquire (lock) == 0)
    {
      *waited = lockfile_now () - started;
      return 0;
    }
  int err = errno;
  if (err == EWOULDBLOCK || err == ETIMEDOUT)
    {
      if (req->verbose && !req->quiet)
        error (0, 0, err == EWOULDBLOCK ? "failed to get lock"
               : "timeout while waiting to get lock");
      return req->conflict_code;
    }
  return failure_status (lock, req->url, req->name, err, req->quiet);
}

/* What the lost-lease callback of the command form acts on.  */
struct command_state
{
  volatile pid_t *command_pid;
  volatile sig_atomic_t lost;
};

/* Called by the keep-alive thread when the lease is lost.  */
static void
command_lost (portalock_redis *lock, int err, void *arg)
{
  (void) lock;
  (void) err;
  struct command_state *st = arg;
  st->lost = 1;
  pid_t pid = *st->command_pid;
  if (pid > 0)
    kill (pid, SIGTERM);
}

int
redis_command_form (const struct redis_request *req, char **cmd,
                    redis_run_fn run, void *arg,
                    volatile pid_t *command_pid)
{
  int status;
  portalock_redis *lock = make_lock (req, &status);
  if (lock == NULL)
    return status;
  double waited;
  status = acquire (lock, req, &waited);
  if (status != 0 || !portalock_redis_held (lock))
    {
      portalock_redis_free (lock);
      return status;
    }
  if (req->verbose)
    printf ("%s: getting lock took %.6f seconds\n", program_name, waited);

  struct command_state st = { .command_pid = command_pid, .lost = 0 };
  if (portalock_redis_keepalive (lock, command_lost, &st) != 0)
    {
      if (!req->quiet)
        error (0, errno, "%s: cannot start the renewal thread", req->name);
      portalock_redis_free (lock);
      return EX_OSERR;
    }
  char token[24];
  snprintf (token, sizeof token, "%" PRIu64, portalock_redis_token (lock));
  unsetenv ("PLOCK_FILE");
  unsetenv ("PLOCK_FD");
  setenv ("PLOCK_REDIS_NAME", req->name, 1);
  setenv ("PLOCK_REDIS_TOKEN", token, 1);

  status = run (cmd, arg);

  int released = portalock_redis_release (lock);
  int err = errno;
  if (st.lost || (released < 0 && err == ENOLCK))
    {
      if (!req->quiet)
        error (0, 0, "%s: the lease was lost while %s ran%s", req->name,
               cmd[0], st.lost ? "; it was sent SIGTERM" : "");
      status = REDIS_EXIT_LOST;
    }
  else if (released < 0 && !req->quiet)
    error (0, err, "warning: %s: cannot release the lease (it ends with its "
           "TTL)", req->name);
  portalock_redis_free (lock);
  return status;
}

/* Make the lock object REQ asks for and store its holders, at most
   MAX_HOLDERS, in H.  Return how many there are (perhaps more than
   MAX_HOLDERS), or report and return -1 with *STATUS set.  */
static int
query_holders (const struct redis_request *req,
               struct portalock_redis_holder *h, int *status)
{
  portalock_redis *lock = make_lock (req, status);
  if (lock == NULL)
    return -1;
  int n = portalock_redis_holders (lock, h, MAX_HOLDERS);
  if (n < 0)
    *status = failure_status (lock, req->url, req->name, errno, req->quiet);
  portalock_redis_free (lock);
  return n;
}

int
redis_test_form (const struct redis_request *req)
{
  int status;
  struct portalock_redis_holder h[MAX_HOLDERS];
  int n = query_holders (req, h, &status);
  if (n < 0)
    return status;
  status = EXIT_SUCCESS;
  for (int i = 0; i < n && i < MAX_HOLDERS; i++)
    if (!(req->shared && h[i].shared))
      status = req->conflict_code;
  return status;
}

int
redis_holder_form (const struct redis_request *req)
{
  int status;
  struct portalock_redis_holder h[MAX_HOLDERS];
  int n = query_holders (req, h, &status);
  if (n < 0)
    return status;
  for (int i = 0; i < n && i < MAX_HOLDERS; i++)
    printf ("%s %" PRIu64 " %s\n",
            h[i].identity[0] != '\0' ? h[i].identity : "- -",
            h[i].token, h[i].shared ? "shared" : "exclusive");
  return n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The hold.  */

static volatile sig_atomic_t stop_signal;
static int lost_pipe[2] = { -1, -1 };

static void
on_stop_signal (int sig)
{
  stop_signal = sig;
}

/* Called by the holder's keep-alive thread when the lease is lost.  */
static void
hold_lost (portalock_redis *lock, int err, void *arg)
{
  (void) lock;
  (void) err;
  (void) arg;
  char c = 1;
  while (write (lost_pipe[1], &c, 1) < 0 && errno == EINTR)
    ;
}

/* The holder's report to plock.  */
struct redis_report
{
  int status;
  double waited;
};

static void
send_report (int fd, int status, double waited)
{
  struct redis_report r = { .status = status, .waited = waited };
  while (write (fd, &r, sizeof r) < 0 && errno == EINTR)
    ;
}

/* Wait until a stop signal, the owner's exit (OWNER_FD, or OWNER
   looked at every second without one), the lease's loss or the
   --max-hold deadline.  */
static void
hold_until_released (const struct redis_request *req, int owner_fd,
                     const sigset_t *waitmask)
{
  double deadline = isfinite (req->max_hold)
    ? lockfile_now () + req->max_hold : INFINITY;
  struct pollfd pfd[2] = { { .fd = lost_pipe[0], .events = POLLIN },
                           { .fd = owner_fd, .events = POLLIN } };
  bool poll_owner = !req->detach && owner_fd < 0;
  while (stop_signal == 0)
    {
      struct timespec ts, *tsp = NULL;
      double left = INFINITY;
      if (isfinite (deadline))
        {
          left = deadline - lockfile_now ();
          if (left <= 0)
            return;
        }
      if (poll_owner && left > 1)
        left = 1;
      if (duration_to_timespec (left, &ts))
        tsp = &ts;
      int r = ppoll (pfd, owner_fd >= 0 ? 2 : 1, tsp, waitmask);
      if (r < 0 && errno != EINTR)
        return;
      if (r > 0)
        return;                 /* the lease was lost, or the owner exited */
      if (poll_owner && kill (req->owner, 0) != 0 && errno == ESRCH)
        return;
    }
}

/* The child: take the lease, report, hold.  Never returns.  */
static _Noreturn void
run_holder (const struct redis_request *req, int report_fd, int owner_fd,
            pid_t plock_pid)
{
  process_die_with_parent (SIGKILL);
  if (getppid () != plock_pid)
    _exit (EX_OSERR);
  setsid ();
  process_set_name (HOLDER_NAME);
  signal (SIGPIPE, SIG_IGN);

  /* The stop signals are blocked but while the holder waits, so that
     none is lost between a look and the wait.  */
  sigset_t stops, waitmask;
  sigemptyset (&stops);
  sigaddset (&stops, SIGTERM);
  sigaddset (&stops, SIGINT);
  sigaddset (&stops, SIGHUP);
  sigprocmask (SIG_BLOCK, &stops, &waitmask);
  sigdelset (&waitmask, SIGTERM);
  sigdelset (&waitmask, SIGINT);
  sigdelset (&waitmask, SIGHUP);
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);

  int status;
  double waited = 0;
  portalock_redis *lock = make_lock (req, &status);
  if (lock != NULL)
    status = acquire (lock, req, &waited);
  if (lock == NULL || status != 0 || !portalock_redis_held (lock))
    {
      portalock_redis_free (lock);
      send_report (report_fd, status, 0);
      _exit (status);
    }
  if (pipe2 (lost_pipe, O_CLOEXEC) != 0
      || portalock_redis_keepalive (lock, hold_lost, NULL) != 0)
    {
      if (!req->quiet)
        error (0, errno, "%s: cannot start the renewal thread", req->name);
      portalock_redis_free (lock);
      send_report (report_fd, EX_OSERR, 0);
      _exit (EX_OSERR);
    }
  int null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      for (int fd = 0; fd < 3; fd++)
        if (fd != null)
          dup2 (null, fd);
      if (null > 2)
        close (null);
    }
  /* Stay alive once plock has gone: from here the owner decides.  */
  process_die_with_parent (0);
  send_report (report_fd, EXIT_SUCCESS, waited);
  close (report_fd);

  hold_until_released (req, owner_fd, &waitmask);
  portalock_redis_free (lock);
  _exit (EXIT_SUCCESS);
}

/* The body of a Redis holder: ARG is the request.  */
static void
redis_holder (void *arg, int report_fd, int owner_fd, pid_t plock_pid)
{
  run_holder (arg, report_fd, owner_fd, plock_pid);
}

int
redis_hold_form (const struct redis_request *req)
{
  pid_t child;
  int report_fd;
  int status = start_holder (req->owner, req->detach, req->quiet,
                             redis_holder, (void *) req, &child,
                             &report_fd);
  if (status != 0)
    return status;
  struct redis_report r;
  if (!read_holder_report (report_fd, &r, sizeof r))
    {
      if (!req->quiet)
        error (0, 0, "%s: the holder process failed to start", req->name);
      return EX_OSERR;
    }
  if (r.status == EXIT_SUCCESS && req->verbose)
    printf ("%s: getting lock took %.6f seconds\n", program_name, r.waited);
  return r.status;
}

/* punlock --redis.  */

/* Wait up to SECONDS for process PID to exit.  Return true if it did.  */
static bool
wait_exit (pid_t pid, double seconds)
{
  int fd = open_pidfd (pid);
  if (fd < 0)
    {
      if (errno == ESRCH)
        return true;
      /* Without a pidfd, look every 10 ms.  */
      double deadline = lockfile_now () + seconds;
      while (kill (pid, 0) == 0 || errno != ESRCH)
        {
          if (lockfile_now () >= deadline)
            return false;
          poll (NULL, 0, 10);
        }
      return true;
    }
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  double deadline = lockfile_now () + seconds;
  int r;
  for (;;)
    {
      double left = deadline - lockfile_now ();
      /* Round up, so that the wait never ends just short of it.  */
      int ms = left <= 0 ? 0 : left > 1e6 ? 1000000000 : (int) (left * 1000)
        + 1;
      r = poll (&pfd, 1, ms);
      if (r >= 0 || errno != EINTR)
        break;
    }
  close (fd);
  return r > 0;
}

/* Parse IDENTITY "HOST PID" into HOST (of SIZE bytes) and *PID.  */
static bool
parse_identity (const char *identity, char *host, size_t size, pid_t *pid)
{
  const char *space = strrchr (identity, ' ');
  long long n;
  if (space == NULL || (size_t) (space - identity) >= size
      || !parse_count (space + 1, INT_MAX, &n) || n == 0)
    return false;
  memcpy (host, identity, space - identity);
  host[space - identity] = '\0';
  *pid = n;
  return true;
}

/* Signal the holder H of NAME, if it is a live plock holder on this
   host (named THIS_HOST).  Return 0 and store its PID in *PID, or
   report and return punlock's status for it.  */
static int
signal_holder (const struct portalock_redis_holder *h, const char *name,
               const char *this_host, const struct release_options *opts,
               pid_t *pid)
{
  char host[256];
  *pid = 0;
  if (!parse_identity (h->identity, host, sizeof host, pid))
    {
      if (!opts->quiet)
        error (0, 0, "%s: held (token %" PRIu64 ") by something that is "
               "not a plock holder", name, h->token);
      return EX_UNAVAILABLE;
    }
  if (strcmp (host, this_host) != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld on host %s: run punlock there",
               name, (long) *pid, host);
      return EX_UNAVAILABLE;
    }
  if (opts->pid != 0 && opts->pid != *pid)
    return -1;
  if (kill (*pid, 0) != 0 && errno == ESRCH)
    {
      if (!opts->quiet)
        error (0, 0, "%s: the holder PID %ld is gone; its lease ends within "
               "%.1fs", name, (long) *pid, h->remaining);
      return opts->force ? EXIT_SUCCESS : EXIT_FAILURE;
    }
  if (!is_holder_process (*pid))
    {
      if (!opts->quiet)
        error (0, 0, "%s: held by PID %ld, which is not a plock holder",
               name, (long) *pid);
      return EX_UNAVAILABLE;
    }
  if (opts->verbose)
    printf ("%s: %s: signalling holder %ld\n", program_name, name,
            (long) *pid);
  if (kill (*pid, opts->signal) != 0)
    {
      int err = errno;
      if (!opts->quiet)
        error (0, err, "%s: cannot signal holder %ld", name, (long) *pid);
      return err == EPERM ? EX_NOPERM : EX_OSERR;
    }
  return 0;
}

/* Return true if one of the N holders in H has TOKEN.  */
static bool
has_token (const struct portalock_redis_holder *h, int n, uint64_t token)
{
  for (int i = 0; i < n && i < MAX_HOLDERS; i++)
    if (h[i].token == token)
      return true;
  return false;
}

int
redis_release (const char *url, const char *name,
               const struct release_options *opts)
{
  struct redis_request req;
  memset (&req, 0, sizeof req);
  req.url = url;
  req.name = name;
  req.quiet = opts->quiet;
  int status = redis_check_request (&req);
  if (status != 0)
    return status;
  portalock_redis *lock = make_lock (&req, &status);
  if (lock == NULL)
    return status;
  struct portalock_redis_holder h[MAX_HOLDERS];
  int n = portalock_redis_holders (lock, h, MAX_HOLDERS);
  if (n < 0)
    {
      status = failure_status (lock, url, name, errno, opts->quiet);
      portalock_redis_free (lock);
      return status;
    }
  if (n == 0)
    {
      portalock_redis_free (lock);
      if (opts->force)
        return EXIT_SUCCESS;
      if (!opts->quiet)
        error (0, 0, "%s: not locked", name);
      return EXIT_FAILURE;
    }
  char this_host[256];
  if (gethostname (this_host, sizeof this_host) != 0)
    strcpy (this_host, "unknown");
  this_host[sizeof this_host - 1] = '\0';
  for (char *p = this_host; *p != '\0'; p++)
    if ((unsigned char) *p <= ' ' || *p == 0x7f)
      *p = '_';

  status = EXIT_SUCCESS;
  pid_t pids[MAX_HOLDERS];
  uint64_t tokens[MAX_HOLDERS];
  int nsignalled = 0;
  for (int i = 0; i < n && i < MAX_HOLDERS; i++)
    {
      pid_t pid;
      int s = signal_holder (&h[i], name, this_host, opts, &pid);
      if (s == 0)
        {
          pids[nsignalled] = pid;
          tokens[nsignalled++] = h[i].token;
        }
      else if (s > status)
        status = s;
    }
  if (nsignalled == 0 && status == EXIT_SUCCESS && opts->pid != 0)
    {
      if (!opts->quiet)
        error (0, 0, "%s: PID %ld holds no lease of it", name,
               (long) opts->pid);
      status = opts->force ? EXIT_SUCCESS : EXIT_FAILURE;
    }
  if (opts->wait <= 0 || nsignalled == 0)
    {
      portalock_redis_free (lock);
      return status;
    }
  for (int i = 0; i < nsignalled; i++)
    if (!wait_exit (pids[i], opts->wait)
        && !(opts->kill_after && kill (pids[i], SIGKILL) == 0
             && wait_exit (pids[i], opts->kill_wait)))
      {
        if (!opts->quiet)
          error (0, 0, "%s: holder %ld still holds the lease", name,
                 (long) pids[i]);
        status = EX_TEMPFAIL;
      }
  /* A holder that exited has released its lease, unless it was killed
     before it could: then the lease ends with its TTL.  */
  n = portalock_redis_holders (lock, h, MAX_HOLDERS);
  for (int i = 0; n > 0 && i < nsignalled; i++)
    if (has_token (h, n, tokens[i]) && status != EX_TEMPFAIL)
      {
        if (!opts->quiet)
          error (0, 0, "%s: the lease of holder %ld remains until its TTL "
                 "ends", name, (long) pids[i]);
        status = EX_TEMPFAIL;
      }
  portalock_redis_free (lock);
  return status;
}
