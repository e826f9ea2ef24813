/* pendinghandle.c: pollable acquisitions waited for through an event
   HANDLE, on Windows (run under Wine by 'make check'); elsewhere, that
   there is no such HANDLE.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* Usage: pendinghandle [ROUNDS]

   ROUNDS is the number of rounds of the race of a cancel with a release
   (default 300).  On Windows the program runs its checks as the parent
   and starts copies of itself as the other processes ("pendinghandle
   child ROLE FILE IN OUT", w32child.h): each reads one-letter orders
   from IN and answers on OUT, so every step waits for the other process
   or for the acquisition's event, never for a time.  */

#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portalock.h"
#include "testutil.h"

#if !TEST_POSIX

# include <windows.h>

# include "w32child.h"

static const char *self;

/* The lock objects and semaphores of both sides.  A semaphore's FILE is
   the directory of its slot files; it has one slot.  */

static portalock *
new_lock (const char *file, double timeout)
{
  portalock *lock = portalock_new (file);
  if (lock == NULL || portalock_set_timeout (lock, timeout) != 0)
    die ("portalock_new %s", file);
  return lock;
}

static portalock_semaphore *
new_semaphore (const char *dir, double timeout)
{
  portalock_semaphore *sem = portalock_semaphore_new ("pending", 1, dir);
  if (sem == NULL || portalock_semaphore_set_timeout (sem, timeout) != 0)
    die ("portalock_semaphore_new %s", dir);
  return sem;
}

/* The children.  ROLE "hold" holds FILE's lock (answers 'R' once it does,
   'E' if it cannot); then 'r' releases it (answers 'D') and 'a' takes it
   again (answers 'R').  "probe" answers each 'p' with 'F' if FILE's lock
   was free (it took it and let go at once), 'H' if another holds it, 'E'
   on another error.  "hold-sem" and "probe-sem" do the same with the
   semaphore whose slots are in the directory FILE.  */

static int
child_main (const char *role, const char *file, int in, int out)
{
  bool sem_role = strstr (role, "-sem") != NULL;
  portalock *lock = NULL;
  portalock_semaphore *sem = NULL;
  if (sem_role)
    sem = new_semaphore (file, strncmp (role, "hold", 4) == 0 ? 60 : 0);
  else
    lock = new_lock (file, strncmp (role, "hold", 4) == 0 ? 60 : 0);
  char reply, cmd;

  if (strncmp (role, "hold", 4) == 0)
    {
      reply = (sem ? portalock_semaphore_acquire (sem)
               : portalock_acquire (lock)) == 0 ? 'R' : 'E';
      if (write (out, &reply, 1) != 1)
        return 1;
    }
  while (read (in, &cmd, 1) == 1)
    {
      int r;
      switch (cmd)
        {
        case 'r':
          r = sem ? portalock_semaphore_release (sem)
                  : portalock_release (lock);
          reply = r == 0 ? 'D' : 'E';
          break;
        case 'a':
          r = sem ? portalock_semaphore_acquire (sem)
                  : portalock_acquire (lock);
          reply = r == 0 ? 'R' : 'E';
          break;
        case 'p':
          r = sem ? portalock_semaphore_acquire (sem)
                  : portalock_acquire (lock);
          if (r == 0)
            {
              reply = 'F';
              if ((sem ? portalock_semaphore_release (sem)
                   : portalock_release (lock)) != 0)
                reply = 'E';
            }
          else
            reply = (errno == EWOULDBLOCK || errno == ETIMEDOUT) ? 'H' : 'E';
          break;
        default:
          reply = '?';
          break;
        }
      if (write (out, &reply, 1) != 1)
        return 1;
    }
  portalock_semaphore_free (sem);
  portalock_free (lock);
  return 0;
}

static void
start_child (struct child *c, const char *role, const char *file)
{
  const char *args[] = { self, "child", role, file, NULL };
  child_start (c, self, args);
}

/* Start acquiring LOCK (or SEM); die if that fails.  */
static portalock_pending *
start (portalock *lock, portalock_semaphore *sem)
{
  portalock_pending *p = sem != NULL ? portalock_semaphore_acquire_start (sem)
                                     : portalock_acquire_start (lock);
  if (p == NULL)
    die ("portalock_acquire_start");
  return p;
}

/* Whether P's event is signalled now (WAIT 0) or within a minute, the
   bound of a hung test, not a measure of anything (INFINITE would hang
   the suite if the event never came).  */
static bool
signalled (const portalock_pending *p, DWORD wait)
{
  HANDLE h = portalock_pending_handle (p);
  return h != NULL && WaitForSingleObject (h, wait) == WAIT_OBJECT_0;
}

/* The checks.  */

static void
test_bad_input (void)
{
  errno = 0;
  check (portalock_acquire_start (NULL) == NULL && errno == EINVAL,
         "portalock_acquire_start (NULL): EINVAL");
  errno = 0;
  check (portalock_semaphore_acquire_start (NULL) == NULL && errno == EINVAL,
         "portalock_semaphore_acquire_start (NULL): EINVAL");
  errno = 0;
  check (portalock_pending_handle (NULL) == NULL && errno == EINVAL,
         "portalock_pending_handle (NULL): EINVAL");
  check (fails_with (portalock_pending_fd (NULL), EINVAL),
         "portalock_pending_fd (NULL): EINVAL");
  check (fails_with (portalock_acquire_cancel (NULL), EINVAL),
         "portalock_acquire_cancel (NULL): EINVAL");
  check (fails_with (portalock_acquire_finish (NULL), EINVAL),
         "portalock_acquire_finish (NULL): EINVAL");
}

static void
test_grant (void)
{
  const char *file = test_path ("grant.lock");
  portalock *lock = new_lock (file, -1);
  portalock_pending *p = start (lock, NULL);
  check (portalock_pending_handle (p) != NULL,
         "a pending acquisition has an event HANDLE");
  check (fails_with (portalock_pending_fd (p), ENOTSUP),
         "portalock_pending_fd: ENOTSUP on Windows");
  portalock *other = new_lock (file, 0);
  errno = 0;
  check (portalock_acquire_start (lock) == NULL && errno == EBUSY,
         "a second start of the same object: EBUSY");
  check (signalled (p, 60000), "a free lock: the event is signalled");
  check (signalled (p, 0), "and it stays signalled");
  check (portalock_acquire_finish (p) == 0 && portalock_held (lock),
         "finish: the lock is held");
  portalock_pending *q = start (other, NULL);
  check (signalled (q, 60000) && portalock_acquire_finish (q) == -1
         && errno == EWOULDBLOCK && !portalock_held (other),
         "a second object with timeout 0 meets the held lock: EWOULDBLOCK");
  portalock_free (other);
  check (portalock_release (lock) == 0, "released");

  /* start then finish at once: a blocking acquire.  */
  p = start (lock, NULL);
  check (portalock_acquire_finish (p) == 0 && portalock_held (lock),
         "start and finish at once: held");
  portalock_free (lock);
}

static void
test_wait_then_grant (const char *what, const char *file, bool is_sem)
{
  struct child c;
  start_child (&c, is_sem ? "hold-sem" : "hold", file);
  if (!check (child_answer (&c) == 'R', "%s: another process holds it", what))
    return;
  portalock *lock = is_sem ? NULL : new_lock (file, -1);
  portalock_semaphore *sem = is_sem ? new_semaphore (file, -1) : NULL;
  portalock_pending *p = start (lock, sem);
  check (!signalled (p, 0), "%s: pending while the other process holds it",
         what);
  check (child_order (&c, 'r') == 'D', "%s: the holder releases", what);
  check (signalled (p, 60000), "%s: then the event is signalled", what);
  check (portalock_acquire_finish (p) == 0
         && (is_sem ? portalock_semaphore_slot (sem) == 0
                    : portalock_held (lock)),
         "%s: finish: granted", what);
  struct child probe;
  start_child (&probe, is_sem ? "probe-sem" : "probe", file);
  check (child_order (&probe, 'p') == 'H',
         "%s: another process sees it held", what);
  check (child_finish (&probe) == 0 && child_finish (&c) == 0,
         "%s: the children end well", what);
  portalock_semaphore_free (sem);
  portalock_free (lock);
}

/* Cancel an acquisition that waits in a worker, ROUNDS times.  A worker
   takes the oldest queued acquisition first: once a later one is done,
   the earlier one is in a worker's hands, so the cancel meets the wait
   (or the worker just before it), not the queue.  */
static void
test_cancel (const char *what, const char *file, bool is_sem, int rounds)
{
  struct child c, probe;
  start_child (&c, is_sem ? "hold-sem" : "hold", file);
  if (!check (child_answer (&c) == 'R', "%s: another process holds it", what))
    return;
  start_child (&probe, is_sem ? "probe-sem" : "probe", file);
  portalock *lock = is_sem ? NULL : new_lock (file, -1);
  portalock_semaphore *sem = is_sem ? new_semaphore (file, -1) : NULL;
  portalock *free_lock = new_lock (test_path ("free.lock"), -1);
  int cancelled = 0;
  for (int i = 0; i < rounds; i++)
    {
      portalock_pending *p = start (lock, sem);
      portalock_pending *later = start (free_lock, NULL);
      if (!signalled (later, 60000) || portalock_acquire_finish (later) != 0
          || portalock_release (free_lock) != 0)
        die ("an acquisition of a free lock");
      portalock_acquire_cancel (p);
      if (!signalled (p, 60000))
        die ("%s: round %d: a cancelled acquisition still waits after a "
             "minute", what, i);
      if (portalock_acquire_finish (p) == -1 && errno == ECANCELED
          && !(is_sem ? portalock_semaphore_slot (sem) >= 0
                      : portalock_held (lock)))
        cancelled++;
    }
  check (cancelled == rounds, "%s: a waiting acquisition is cancelled "
         "(%d of %d rounds ECANCELED)", what, cancelled, rounds);
  check (child_order (&c, 'r') == 'D', "%s: the holder releases", what);
  check (child_order (&probe, 'p') == 'F',
         "%s: after the cancels, the lock is free for another process",
         what);
  check (child_finish (&probe) == 0 && child_finish (&c) == 0,
         "%s: the children end well", what);
  portalock_free (free_lock);
  portalock_semaphore_free (sem);
  portalock_free (lock);
}

/* A cancel raced with the holder's release, ROUNDS times: finish says
   either held (and the other processes see it held) or ECANCELED (and,
   once the holder has let go, the lock is free).  */
static void
test_race (const char *what, const char *file, bool is_sem, int rounds)
{
  struct child c, probe;
  start_child (&c, is_sem ? "hold-sem" : "hold", file);
  if (!check (child_answer (&c) == 'R', "%s: another process holds it", what))
    return;
  start_child (&probe, is_sem ? "probe-sem" : "probe", file);
  portalock *lock = is_sem ? NULL : new_lock (file, -1);
  portalock_semaphore *sem = is_sem ? new_semaphore (file, -1) : NULL;
  int granted = 0, cancelled = 0, wrong = 0;
  for (int i = 0; i < rounds && wrong == 0; i++)
    {
      /* The release is asked before the cancel in one round, after it
         in the next.  */
      portalock_pending *p = start (lock, sem);
      char order = 'r';
      if (i % 2 == 1)
        portalock_acquire_cancel (p);
      if (write (c.to, &order, 1) != 1)
        die ("write");
      if (i % 2 == 0)
        portalock_acquire_cancel (p);
      bool done = signalled (p, 60000);
      int r = portalock_acquire_finish (p);
      int e = errno;
      if (child_answer (&c) != 'D')
        die ("the holder did not release");
      bool held = is_sem ? portalock_semaphore_slot (sem) >= 0
                         : portalock_held (lock);
      char seen = child_order (&probe, 'p');
      if (done && r == 0 && held && seen == 'H')
        {
          granted++;
          if ((is_sem ? portalock_semaphore_release (sem)
               : portalock_release (lock)) != 0)
            wrong++;
        }
      else if (done && r == -1 && e == ECANCELED && !held && seen == 'F')
        cancelled++;
      else
        {
          wrong++;
          check (false, "%s: round %d: finish %d (errno %d), held %d, "
                 "another process says %c", what, i, r, e, held, seen);
        }
      if (child_order (&c, 'a') != 'R')
        die ("the holder did not take the lock again");
    }
  check (wrong == 0, "%s: a cancel raced with a release: held and seen "
         "held, or ECANCELED and left free (%d granted, %d cancelled)",
         what, granted, cancelled);
  check (child_finish (&probe) == 0 && child_finish (&c) == 0,
         "%s: the children end well", what);
  portalock_semaphore_free (sem);
  portalock_free (lock);
}

int
main (int argc, char **argv)
{
  self = argv[0];
  if (argc == 6 && strcmp (argv[1], "child") == 0)
    return child_main (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]));
  int rounds = argc > 1 ? atoi (argv[1]) : 300;

  const char *file = test_path ("pending.lock");
  const char *dir = test_path ("sem");
  if (make_dir (dir) != 0)
    die ("mkdir %s", dir);

  test_bad_input ();
  test_grant ();
  test_wait_then_grant ("lock", file, false);
  test_wait_then_grant ("semaphore", dir, true);
  test_cancel ("lock", file, false, 20);
  test_cancel ("semaphore", dir, true, 20);
  test_race ("lock", file, false, rounds);
  test_race ("semaphore", dir, true, rounds / 3);
  return check_exit ();
}

#else /* TEST_POSIX */

/* Elsewhere loops poll the descriptor: there is no HANDLE.  */
int
main (void)
{
  errno = 0;
  check (portalock_pending_handle (NULL) == NULL && errno == EINVAL,
         "portalock_pending_handle (NULL): EINVAL");
  portalock *lock = portalock_new (test_path ("handle.lock"));
  if (lock == NULL)
    die ("portalock_new");
  portalock_pending *p = portalock_acquire_start (lock);
  if (p == NULL)
    die ("portalock_acquire_start");
  errno = 0;
  check (portalock_pending_handle (p) == NULL && errno == ENOTSUP,
         "portalock_pending_handle: NULL with ENOTSUP here");
  check (portalock_pending_fd (p) >= 0, "portalock_pending_fd: a descriptor");
  check (portalock_acquire_finish (p) == 0 && portalock_held (lock),
         "finish: held");
  portalock_free (lock);
  return check_exit ();
}

#endif
