/* portalock-redis.h: the public interface of libportalock-redis, locks
   that span machines, kept on a Redis server.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.

   This library is distributed in the hope that it will be useful, but
   WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU Lesser
   General Public License for more details.

   You should have received a copy of the GNU Lesser General Public License
   along with this library; if not, see <https://www.gnu.org/licenses/>.  */

#ifndef PORTALOCK_REDIS_H
#define PORTALOCK_REDIS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Only the functions marked PORTALOCK_REDIS_API are exported from the
   shared library; its build defines BUILDING_LIBPORTALOCK_REDIS.  */
#if defined BUILDING_LIBPORTALOCK_REDIS && defined __GNUC__ && __GNUC__ >= 4
# define PORTALOCK_REDIS_API __attribute__ ((__visibility__ ("default")))
#else
# define PORTALOCK_REDIS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The longest lock name, in bytes.  */
#define PORTALOCK_REDIS_NAME_MAX 1024

/* A lock on a Redis server: a lease, named by a string, that one owner
   (exclusive) or many (shared) hold until they release it or its time
   to live (TTL) runs out.  Every grant comes with a fencing token, a
   number that grows with every grant of the name.  An object is used by
   one thread at a time; different objects may be used by different
   threads at once.  A forked child must not use its parent's objects
   (freeing them in the child is safe and releases nothing).

   Errors, for every function that can fail (return -1 and set errno):
     EINVAL        a bad argument (see each function);
     EWOULDBLOCK   the lock is held and the object does not wait;
     ETIMEDOUT     the lock was still held when the timeout ran out;
     ENOLCK        the lease was lost: its validity deadline passed
                   (see portalock_redis_keepalive), or another took
                   it;
     ECONNREFUSED, ENOENT, EHOSTUNREACH, ENETUNREACH, ...
                   connect(2)'s errno, passed through, when the server
                   cannot be reached (EHOSTUNREACH also when its host
                   name does not resolve);
     EHOSTDOWN     the server did not accept the connection within the
                   connect timeout, or did not answer a command within
                   the command timeout;
     ECONNRESET    the server closed the connection (it stopped,
                   restarted, or killed the client) again after the
                   library connected again;
     EACCES        the server refused the password, wants one the URL
                   does not give, or the user lacks permission for a
                   command;
     EPROTO        the server answered with another error (its text is
                   portalock_redis_server_error's);
     EOVERFLOW     the name's token counter is at 2^63 - 1: no greater
                   token can be granted (acquire only);
     ENOMEM        out of memory.
   After a connection error the next call connects again.  A call that
   finds its connection closed by the server connects again before it
   sends anything, and one whose connection breaks while a command is
   under way connects again and sends it again, at most twice.  */
typedef struct portalock_redis portalock_redis;

/* Called by the keep-alive thread when the lease of LOCK is lost:
   ERROR is ENOLCK (the server says the lease is gone), ETIMEDOUT (the
   validity deadline came while a renewal waited for its answer, or
   before one was due), or the error of the last renewal that failed
   before the deadline.  ARG is the value
   given to portalock_redis_keepalive.  It runs in the keep-alive
   thread, and must not call portalock_redis_* functions on LOCK.  */
typedef void (*portalock_redis_lost_fn) (portalock_redis *lock, int error,
                                         void *arg);

/* Return a new, unheld lock object for the lock called NAME (1 to
   PORTALOCK_REDIS_NAME_MAX bytes) on the server at URL:
   "redis://[USER:PASSWORD@]HOST[:PORT][/DB]" (HOST may be an IPv6
   address in brackets; the port defaults to 6379 and the database to 0;
   %XX escapes are decoded in USER and PASSWORD) or
   "unix://[USER:PASSWORD@]/PATH/TO/SOCKET[?db=DB]".  If URL is NULL, the
   environment variable PORTALOCK_REDIS_URL names it, else
   "redis://127.0.0.1:6379".  Nothing is sent until the first acquire.
   Defaults: exclusive, timeout 5 s, TTL 30 s, connect and command
   timeouts 5 s.  Return NULL and set errno: EINVAL for a malformed URL
   or a bad NAME; ENOMEM.  */
PORTALOCK_REDIS_API portalock_redis *portalock_redis_new (const char *url,
                                                         const char *name);

/* Wait up to SECONDS for the lock: 0 means one try, a negative value
   forever.  Return 0, or -1 with EINVAL for NaN or a NULL LOCK.  */
PORTALOCK_REDIS_API int portalock_redis_set_timeout (portalock_redis *lock,
                                                     double seconds);

/* Grant leases of SECONDS (at least 0.01, at most about 24 days): the
   lease ends that long after the acquire or the last renewal.  Return 0,
   or -1 with EINVAL for NaN, out of range, or a held LOCK.  */
PORTALOCK_REDIS_API int portalock_redis_set_ttl (portalock_redis *lock,
                                                 double seconds);

/* Take the lock shared (with other shared holders) if SHARED, else
   exclusive.  Return 0, or -1 with EINVAL if LOCK is held or NULL.  */
PORTALOCK_REDIS_API int portalock_redis_set_shared (portalock_redis *lock,
                                                    bool shared);

/* If PREFER (and the lock is shared), a shared acquire waits in the
   queue behind the waiters that came before it, as an exclusive one
   does, instead of being granted whenever no exclusive lease is held:
   once a writer waits, readers that come after it wait behind it (the
   manual's "Reader/writer locks").  Every shared participant of the
   lock must use it for a writer to be sure not to starve.  The default
   is false.  Return 0, or -1 with EINVAL if LOCK is held or NULL.  */
PORTALOCK_REDIS_API int
portalock_redis_set_writer_preference (portalock_redis *lock, bool prefer);

/* If FAIL, an acquire of a lock held elsewhere fails at once with
   EWOULDBLOCK instead of waiting.  Return 0, or -1 with EINVAL.  */
PORTALOCK_REDIS_API int
portalock_redis_set_fail_when_locked (portalock_redis *lock, bool fail);

/* Give up connecting after SECONDS (finite, more than 0).  Return 0, or
   -1 with EINVAL.  */
PORTALOCK_REDIS_API int
portalock_redis_set_connect_timeout (portalock_redis *lock, double seconds);

/* Give up waiting for the answer to a command after SECONDS (finite,
   more than 0); the connection is then closed and the call fails with
   EHOSTDOWN.  Return 0, or -1 with EINVAL.  */
PORTALOCK_REDIS_API int
portalock_redis_set_command_timeout (portalock_redis *lock, double seconds);

/* A waiter's place in the lock's queue lasts SECONDS (at least 0.03,
   at most about 24 days; 3 by default) from its last try; a waiting
   object tries at least every third of that, which keeps its place.  A
   waiter that dies holds up those behind it that long at most.  Return
   0, or -1 with EINVAL for NaN, out of range, or a NULL LOCK.  */
PORTALOCK_REDIS_API int portalock_redis_set_queue_ttl (portalock_redis *lock,
                                                       double seconds);

/* Acquire the lock, waiting as the timeout says.  Waiters are served in
   the order they started waiting (a shared request is granted whenever
   no exclusive lease is held: see the manual).  A waiter sleeps until
   the release before its turn wakes it, the lease in its way would end,
   or its deadline; it never polls.  A request that does not wait
   (timeout 0, fail_when_locked) is refused while others wait.  Acquiring a held object renews
   its lease and keeps its token.  Return 0, or -1 and set errno (see
   above; EINVAL if LOCK is NULL).  If the connection failed while the
   request was under way, the server may have granted the lock: acquire
   again (the grant is kept for this object) or release.  */
PORTALOCK_REDIS_API int portalock_redis_acquire (portalock_redis *lock);

/* Release the lock and wake its waiters.  Return 0 if the lease was
   still this object's; 1 if the object did not hold the lock (nothing
   is sent, unless an acquire's outcome was unknown); -1 and set errno:
   ENOLCK if the lease had been lost or its validity deadline had passed
   (the object is no longer held; a lease the server still kept is
   released all the same), a connection or server error (the object
   stays held: try again, or let the lease run out), EINVAL if LOCK is
   NULL.  Stops the keep-alive thread first.  */
PORTALOCK_REDIS_API int portalock_redis_release (portalock_redis *lock);

/* Extend the held lease to a full TTL from now.  Return 0, or -1 and
   set errno: ENOLCK if the lease was lost, or its validity deadline
   passed before the server answered (the object is then no longer
   held), EINVAL if the object is not held, a connection or server
   error.  */
PORTALOCK_REDIS_API int portalock_redis_renew (portalock_redis *lock);

/* Return the seconds left of the held lease: the server's count, but
   never more than the time left before the object's validity deadline.
   Return -1 and set errno: ENOLCK if the lease was lost or that
   deadline has passed, EINVAL if not held, a connection or server
   error.  */
PORTALOCK_REDIS_API double portalock_redis_remaining (portalock_redis *lock);

/* Return the fencing token of the held lock: a number greater than the
   token of every earlier grant of this name by this server (see the
   manual for what a restart of the server does).  Return 0 if LOCK is
   not held or NULL.  Never fails otherwise.  */
PORTALOCK_REDIS_API uint64_t portalock_redis_token (const portalock_redis
                                                    *lock);

/* Return true if LOCK holds the lock, as far as it knows (the lease may
   have run out since: see portalock_redis_remaining).  */
PORTALOCK_REDIS_API bool portalock_redis_held (const portalock_redis *lock);

/* Start a thread, on its own connection, that renews the held lease
   every third of its TTL until release or free, and calls LOST (if not
   NULL) with ARG once if the lease is lost.  The object counts its
   lease's validity on its own monotonic clock, from before the request
   that was granted or renewed was sent: the TTL less a drift margin of
   1 % of the TTL plus 2 ms.  If no renewal is answered before that
   deadline, the lease is lost then, even while a renewal still waits
   for its answer.  Return 0, or -1 and set
   errno: EINVAL if not held or already started; EAGAIN or ENOMEM if no
   thread could start.  */
PORTALOCK_REDIS_API int portalock_redis_keepalive (portalock_redis *lock,
                                                   portalock_redis_lost_fn
                                                   lost, void *arg);

/* A pollable acquisition of a Redis lock: started at once, waited for
   by a thread of the library, whose descriptor turns readable when the
   answer is there (the manual's "Pollable Redis acquisitions").  */
typedef struct portalock_redis_pending portalock_redis_pending;

/* Start acquiring LOCK as portalock_redis_acquire would, with every
   setting of LOCK (timeout, shared, writer preference,
   fail_when_locked, TTL, queue TTL, identity), and return at once.
   Until portalock_redis_acquire_finish, LOCK belongs to the
   acquisition: do not use or free it.  Return NULL and set errno:
   EINVAL if LOCK is NULL; EBUSY if an acquisition of LOCK is pending
   already; EAGAIN if 1024 acquisitions are pending in the process, or
   no thread could be started; ENOMEM; EMFILE or ENFILE.  */
PORTALOCK_REDIS_API portalock_redis_pending *
portalock_redis_acquire_start (portalock_redis *lock);

/* Return the descriptor of PENDING to poll for reading: readable once
   the outcome is known, and from then on.  It belongs to PENDING
   (close-on-exec; do not read or close it).  -1 with errno EINVAL if
   PENDING is NULL.  */
PORTALOCK_REDIS_API int
portalock_redis_pending_fd (const portalock_redis_pending *pending);

/* Ask PENDING to stop waiting, and return at once: 0, or -1 with errno
   EINVAL if PENDING is NULL.  portalock_redis_acquire_finish then
   returns -1 with ECANCELED and the lock is left to others, or 0 if the
   server granted the lock before the cancel was seen: LOCK then holds
   it.  Any thread may cancel, up to portalock_redis_acquire_finish.  */
PORTALOCK_REDIS_API int
portalock_redis_acquire_cancel (portalock_redis_pending *pending);

/* Collect the outcome of PENDING, waiting for it if its descriptor is
   not readable yet, and free PENDING.  Return 0 with LOCK held, or -1
   with errno as portalock_redis_acquire sets it, or ECANCELED after
   portalock_redis_acquire_cancel; EINVAL if PENDING is NULL.  In a
   forked child, an acquisition its parent started is not pending: -1
   with ECANCELED at once.  */
PORTALOCK_REDIS_API int
portalock_redis_acquire_finish (portalock_redis_pending *pending);

/* The longest identity text, in bytes, with its terminating NUL.  */
#define PORTALOCK_REDIS_IDENTITY_MAX 256

/* Store TEXT (printable, fewer than PORTALOCK_REDIS_IDENTITY_MAX bytes;
   NULL or "" for none) with every lease LOCK is granted, for
   portalock_redis_holders to show: who holds the lock, say a host name
   and a process ID.  It is information for people, not checked by
   anything.  Return 0, or -1 and set errno: EINVAL if TEXT is too long
   or holds a control character, or LOCK is held or NULL; ENOMEM.  */
PORTALOCK_REDIS_API int portalock_redis_set_identity (portalock_redis *lock,
                                                      const char *text);

/* One holder of a lock, as portalock_redis_holders reports it.  */
struct portalock_redis_holder
{
  uint64_t token;               /* the fencing token of its grant */
  double remaining;             /* seconds left of its lease */
  bool shared;                  /* a shared holder, else exclusive */
  char identity[PORTALOCK_REDIS_IDENTITY_MAX];  /* its identity, or "" */
};

/* Ask the server who holds the lock LOCK names (LOCK itself need not
   hold it, and nothing changes): store up to MAX holders in HOLDERS and
   return how many there are (which may be more than MAX), 0 if the lock
   is free.  Return -1 and set errno: EINVAL if LOCK is NULL, or HOLDERS
   is NULL and MAX is not 0; a connection or server error.  */
PORTALOCK_REDIS_API int
portalock_redis_holders (portalock_redis *lock,
                         struct portalock_redis_holder *holders, size_t max);

/* Return the text of the server's error answer, or of the connection
   error, that made the last call on LOCK fail; NULL if that call
   succeeded or failed for another reason.  The string is valid until
   the next call on LOCK.  */
PORTALOCK_REDIS_API const char *
portalock_redis_server_error (const portalock_redis *lock);

/* Release LOCK if held (ignoring errors), close its connections and free
   it.  A NULL LOCK is ignored.  Keeps errno.  */
PORTALOCK_REDIS_API void portalock_redis_free (portalock_redis *lock);

#ifdef __cplusplus
}
#endif

#endif /* PORTALOCK_REDIS_H */
