/* pending.c: pollable acquisitions of lock objects and semaphores,
   waited for by a bounded pool of threads.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include "pending-notify.h"
#include "portalock-private.h"
#include "selfdeadlock.h"

/* How a pending acquisition works.  Linux has no lock call that can be
   polled, so something must block in the kernel for the caller.  That is
   a thread of the library's pool (a worker): portalock_acquire_start
   queues the acquisition and returns at once; a worker runs the object's
   own portalock_acquire (or portalock_semaphore_acquire, whose slots are
   lock objects), with every rule of it (the timeout, the method,
   the identity check, mode "w", PID records), and when it returns writes
   the outcome into the acquisition and makes its readiness object ready.
   The caller's loop waits for that object and calls
   portalock_acquire_finish.  What the object is, and how a worker is
   started, depends on the platform (pending-notify.h): an eventfd, or
   the read end of a pipe where there is none, that the loop polls; on
   Windows an event HANDLE that the loop waits for.

   The hand-off.  A kernel wait's grant reaches the loop through three
   threads: the kernel wakes the helper blocked in the lock call, and
   the helper the worker, which then made the descriptor readable: a
   third wake-up in a row where a blocking wait has two.  So when the
   grant is the answer (portalock_grant_final: a lock object's kernel
   method, nothing after the grant that can fail, the identity check
   passed, checked by the helper itself), and the worker has not given
   up the wait (a cancel or the deadline: the worker then settles and
   reports as ever), the helper wakes the worker and then makes the
   descriptor readable itself (TOLD): the worker's
   way back then overlaps the loop's wake-up instead of coming before
   it.  The worker's remaining steps cannot change the outcome, and a
   cancel from then on finds the lock granted (the settle rule), so the
   early answer is the true one; portalock_acquire_finish waits, on a
   condition variable, for the worker to be done and for the helper to
   be out of the acquisition (TELLING) before it frees it.

   The worker's waits that block are those of any acquire: the kernel
   wait (wait.c), which then always runs in the worker's helper thread so
   that a cancel can end it as a deadline does, with the same settle rule
   (the lock granted at the very moment of the cancel is reported held;
   else nothing is held), or on Windows (wait-win32.c) polls and looks at
   the cancel between its tries; the marker methods' pauses, which look at the
   cancel before each sleep; the per-inode table's wait for another lock
   object of the same process (fcntl, lockf), woken by the cancel.

   Threads.  At most PENDING_MAX acquisitions are pending at once
   (portalock_acquire_start fails with EAGAIN past it), so at most
   PENDING_MAX workers exist, each with at most one kept wait helper:
   2 * PENDING_MAX threads, 128 KiB and 64 KiB of stack, every signal
   blocked, none using CPU while it waits.  A worker that finds no work
   parks and is reused; once IDLE_MAX workers are parked, a worker that
   finishes ends instead (its helper with it).

   Fork: the child has no workers.  The child handler forgets them and
   marks every acquisition that was pending as the parent's.  */

#define PENDING_MAX 1024
#define IDLE_MAX 16
#define WORKER_STACK (128 * 1024)

struct portalock_pending
{
  int (*acquire) (void *object);        /* what the worker runs */
  void *object;                         /* a lock object or semaphore */
  struct portalock_notify *ready;       /* what the caller waits for */
  struct portalock_cancel token;
  struct portalock_pending *next;       /* in the queue or the list */
  struct portalock_pending *prev;
  unsigned long generation;     /* the fork generation that started it */
  bool queued;                  /* no worker took it yet */
  bool done;                    /* under POOL_MUTEX */
  int result;
  int error;
  bool told;                    /* the helper tells the grant */
  bool telling;                 /* ... and may not be done: POOL_MUTEX */
};

bool
portalock_cancel_active (void)
{
  return portalock_notify_token () != NULL;
}

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
/* An acquisition is done; FINISHING finishes wait for one.  */
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static unsigned finishing;
/* Every acquisition started and not finished, under POOL_MUTEX; the
   queued ones are also counted in QUEUED, and the first queued one is
   the oldest (the list grows at its head).  */
static struct portalock_pending *all;
static unsigned pending_count, queued_count, workers, idle;
static unsigned long generation;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A wait registers itself either without holding its mutex (wait.c) or
   holding it (the per-inode table, whose bucket mutex is held around
   the whole wait): so the cancel only tries the wait's mutex while it
   holds the token's, and lets go of both to try again.  The waiter that
   holds its mutex then either registers (and sees the cancel) or
   sleeps on its condition variable, letting go of the mutex.  The
   registration is forgotten under the token's mutex before the wait's
   mutex may go away.  */
void
portalock_cancel_request (struct portalock_cancel *token)
{
  __atomic_store_n (&token->cancelled, true, __ATOMIC_SEQ_CST);
  for (;;)
    {
      pthread_mutex_lock (&token->mutex);
      pthread_mutex_t *m = token->wake_mutex;
      if (m == NULL)
        break;
      if (pthread_mutex_trylock (m) == 0)
        {
          pthread_cond_broadcast (token->wake_cond);
          pthread_mutex_unlock (m);
          break;
        }
      pthread_mutex_unlock (&token->mutex);
      sched_yield ();
    }
  pthread_mutex_unlock (&token->mutex);
}

void
portalock_cancel_register (pthread_mutex_t *mutex, pthread_cond_t *cond)
{
  struct portalock_cancel *token = portalock_notify_token ();
  if (token == NULL)
    return;
  pthread_mutex_lock (&token->mutex);
  token->wake_mutex = mutex;
  token->wake_cond = cond;
  pthread_mutex_unlock (&token->mutex);
}

bool
portalock_cancel_requested (void)
{
  struct portalock_cancel *token = portalock_notify_token ();
  return token != NULL && __atomic_load_n (&token->cancelled,
                                           __ATOMIC_SEQ_CST);
}

static void
pool_prepare (void)
{
  pthread_mutex_lock (&pool_mutex);
}

static void
pool_parent (void)
{
  pthread_mutex_unlock (&pool_mutex);
}

/* In the child: no worker exists; what was pending is the parent's.  */
static void
pool_child (void)
{
  generation++;
  all = NULL;
  pending_count = queued_count = workers = idle = finishing = 0;
  pthread_mutex_init (&pool_mutex, NULL);
  pthread_cond_init (&pool_work, NULL);
  pthread_cond_init (&pool_done, NULL);
}

static void
pool_init (void)
{
  pthread_atfork (pool_prepare, pool_parent, pool_child);
}

/* With POOL_MUTEX held: P's outcome is known.  */
static void
complete (struct portalock_pending *p, int result, int error)
{
  p->done = true;
  p->result = result;
  p->error = error;
  if (!p->told)
    portalock_notify_signal (p->ready);
  if (finishing > 0)
    pthread_cond_broadcast (&pool_done);
}

static struct portalock_pending *
token_pending (struct portalock_cancel *token)
{
  return (struct portalock_pending *)
    ((char *) token - offsetof (struct portalock_pending, token));
}

bool
portalock_cancel_granted (struct portalock_cancel *token,
                          const struct portalock_backend_ops *ops, int fd)
{
  return (token->grant_lock != NULL
          && portalock_grant_final (token->grant_lock, ops, fd));
}

void
portalock_cancel_will_tell (struct portalock_cancel *token)
{
  struct portalock_pending *p = token_pending (token);
  p->told = true;
  p->telling = true;
}

void
portalock_cancel_tell (struct portalock_cancel *token)
{
  struct portalock_pending *p = token_pending (token);
  portalock_notify_signal (p->ready);
  pthread_mutex_lock (&pool_mutex);
  p->telling = false;
  if (finishing > 0)
    pthread_cond_broadcast (&pool_done);
  pthread_mutex_unlock (&pool_mutex);
}

/* With POOL_MUTEX held: the oldest queued acquisition, taken off the
   queue, or NULL.  */
static struct portalock_pending *
take_queued (void)
{
  if (queued_count == 0)
    return NULL;
  struct portalock_pending *oldest = NULL;
  for (struct portalock_pending *p = all; p != NULL; p = p->next)
    if (p->queued)
      oldest = p;
  oldest->queued = false;
  queued_count--;
  return oldest;
}

static int acquire_lock (void *object);

static void *
worker_main (void *arg)
{
  (void) arg;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
  /* Acquires for other threads: no self-deadlock check or note here.  */
  portalock_selfdeadlock_pool_thread ();
  pthread_mutex_lock (&pool_mutex);
  for (;;)
    {
      struct portalock_pending *p = take_queued ();
      if (p == NULL)
        {
          idle++;
          pthread_cond_wait (&pool_work, &pool_mutex);
          idle--;
          continue;
        }
      pthread_mutex_unlock (&pool_mutex);

      int r, e;
      if (__atomic_load_n (&p->token.cancelled, __ATOMIC_SEQ_CST))
        r = -1, e = ECANCELED;
      else
        {
          p->token.grant_lock = (p->acquire == acquire_lock ? p->object
                                 : NULL);
          portalock_notify_set_token (&p->token);
          r = p->acquire (p->object);
          e = r == 0 ? 0 : errno;
          portalock_notify_set_token (NULL);
        }

      pthread_mutex_lock (&pool_mutex);
      complete (p, r, e);
      if (queued_count == 0 && idle >= IDLE_MAX)
        break;
    }
  workers--;
  pthread_mutex_unlock (&pool_mutex);
  return NULL;
}

/* With POOL_MUTEX held: start a worker.  Return 0 or an errno value.  */
static int
start_worker (void)
{
  int e = portalock_notify_start_thread (worker_main, WORKER_STACK);
  if (e == 0)
    workers++;
  return e;
}

static void
pending_free (struct portalock_pending *p)
{
  int saved_errno = errno;
  portalock_notify_free (p->ready);
  pthread_mutex_destroy (&p->token.mutex);
  free (p);
  errno = saved_errno;
}

/* Start an acquisition that runs ACQUIRE (OBJECT) in a worker.  */
static portalock_pending *
start (int (*acquire) (void *), void *object)
{
  if (object == NULL)
    {
      errno = EINVAL;
      return NULL;
    }
  pthread_once (&pool_once, pool_init);
  struct portalock_pending *p = calloc (1, sizeof *p);
  if (p == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  p->ready = portalock_notify_new ();
  if (p->ready == NULL)
    {
      int e = errno;
      free (p);
      errno = e;
      return NULL;
    }
  pthread_mutex_init (&p->token.mutex, NULL);
  p->acquire = acquire;
  p->object = object;

  int e = 0;
  pthread_mutex_lock (&pool_mutex);
  for (struct portalock_pending *q = all; q != NULL; q = q->next)
    if (q->object == object && q->generation == generation)
      e = EBUSY;
  if (e == 0 && pending_count >= PENDING_MAX)
    e = EAGAIN;
  if (e == 0 && idle <= queued_count)
    {
      if (start_worker () != 0)
        e = EAGAIN;
    }
  if (e == 0)
    {
      p->generation = generation;
      p->queued = true;
      p->next = all;
      if (all != NULL)
        all->prev = p;
      all = p;
      pending_count++;
      queued_count++;
      pthread_cond_signal (&pool_work);
    }
  pthread_mutex_unlock (&pool_mutex);
  if (e != 0)
    {
      pending_free (p);
      errno = e;
      return NULL;
    }
  return p;
}

static int
acquire_lock (void *object)
{
  return portalock_acquire (object);
}

static int
acquire_semaphore (void *object)
{
  return portalock_semaphore_acquire (object);
}

portalock_pending *
portalock_acquire_start (portalock *lock)
{
  return start (acquire_lock, lock);
}

portalock_pending *
portalock_semaphore_acquire_start (portalock_semaphore *sem)
{
  return start (acquire_semaphore, sem);
}

int
portalock_pending_fd (const portalock_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  return portalock_notify_fd (p->ready);
}

void *
portalock_pending_handle (const portalock_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return NULL;
    }
  return portalock_notify_handle (p->ready);
}

int
portalock_acquire_cancel (portalock_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  pthread_mutex_lock (&pool_mutex);
  if (p->generation != generation)
    {
      pthread_mutex_unlock (&pool_mutex);
      return 0;
    }
  if (p->queued)
    {
      p->queued = false;
      queued_count--;
      complete (p, -1, ECANCELED);
    }
  bool done = p->done;
  pthread_mutex_unlock (&pool_mutex);
  if (!done)
    portalock_cancel_request (&p->token);
  return 0;
}

int
portalock_acquire_finish (portalock_pending *p)
{
  if (p == NULL)
    {
      errno = EINVAL;
      return -1;
    }
  pthread_mutex_lock (&pool_mutex);
  if (p->generation != generation)
    {
      /* Forked: the acquisition went on in the parent only.  */
      pthread_mutex_unlock (&pool_mutex);
      pending_free (p);
      errno = ECANCELED;
      return -1;
    }

  /* Not a cancellation point: the acquisition must be collected.  Its
     descriptor may be readable before it is done (the grant was told
     early, and the worker is on its way back); this waits for that, or
     for the whole acquisition if the caller did not poll.  */
  int cancel_state;
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, &cancel_state);
  while (!p->done || p->telling)
    {
      finishing++;
      pthread_cond_wait (&pool_done, &pool_mutex);
      finishing--;
    }
  if (p->prev != NULL)
    p->prev->next = p->next;
  else
    all = p->next;
  if (p->next != NULL)
    p->next->prev = p->prev;
  pending_count--;
  pthread_mutex_unlock (&pool_mutex);
  pthread_setcancelstate (cancel_state, NULL);

  int r = p->result, e = p->error;
  /* The lock object is the collecting thread's now, for the
     self-deadlock check of its later waits.  */
  if (r == 0 && p->acquire == acquire_lock)
    portalock_selfdeadlock_note (p->object);
  pending_free (p);
  if (r == 0)
    return 0;
  errno = e;
  return -1;
}
