/* win32lock.c: tests of the Windows port, run under Wine by 'make check'.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* The program runs its checks as the parent and starts copies of itself
   as the other processes ("win32lock child ROLE FILE IN OUT"): each child
   reads one-letter orders from the pipe descriptor IN and answers on OUT,
   so every step waits for the other process by reading a pipe, never by
   sleeping.  Checks print "PASS: ..." or "FAIL: ..." lines.  */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

#include "portalock.h"
#include "testutil.h"
#include "w32child.h"

static const char *self;

/* Start "self child ROLE FILE IN OUT".  */
static void
start_child (struct child *c, const char *role, const char *file)
{
  const char *args[] = { self, "child", role, file, NULL };
  child_start (c, self, args);
}

/* The children.  */

static int
child_main (const char *role, const char *file, int in, int out)
{
  char cmd;
  if (strcmp (role, "hold-ex") == 0 || strcmp (role, "hold-sh") == 0)
    {
      portalock *lock = portalock_new (file);
      char reply = 'E';
      if (lock != NULL
          && portalock_set_flags (lock, role[5] == 'e' ? PORTALOCK_EX
                                                       : PORTALOCK_SH) == 0
          && portalock_set_timeout (lock, -1) == 0
          && portalock_acquire (lock) == 0)
        reply = 'R';
      if (write (out, &reply, 1) != 1)
        return 1;
      /* 'r': release and answer 'D'.  */
      while (read (in, &cmd, 1) == 1)
        if (cmd == 'r')
          {
            reply = portalock_release (lock) == 0 ? 'D' : 'E';
            if (write (out, &reply, 1) != 1)
              return 1;
          }
      portalock_free (lock);
      return 0;
    }
  if (strcmp (role, "open") == 0)
    {
      /* Keep FILE open as another portalock opener would (sharing
         delete); 'c': answer 'P' if its deletion is pending, else 'N'.  */
      wchar_t wide[MAX_PATH];
      MultiByteToWideChar (CP_UTF8, 0, file, -1, wide, MAX_PATH);
      HANDLE h = CreateFileW (wide, GENERIC_READ,
                              FILE_SHARE_READ | FILE_SHARE_WRITE
                              | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
      char reply = h == INVALID_HANDLE_VALUE ? 'E' : 'R';
      if (write (out, &reply, 1) != 1)
        return 1;
      while (read (in, &cmd, 1) == 1)
        if (cmd == 'c')
          {
            FILE_STANDARD_INFO info;
            BY_HANDLE_FILE_INFORMATION links;
            reply = ((GetFileInformationByHandleEx (h, FileStandardInfo,
                                                    &info, sizeof info)
                      && info.DeletePending)
                     || (GetFileInformationByHandle (h, &links)
                         && links.nNumberOfLinks == 0)) ? 'P' : 'N';
            if (write (out, &reply, 1) != 1)
              return 1;
          }
      CloseHandle (h);
      return 0;
    }
  if (strcmp (role, "readwrite") == 0)
    {
      /* Read FILE's data and write it back, through the C runtime.  */
      char buf[64];
      int fd = _open (file, _O_RDWR | _O_BINARY);
      ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf);
      bool ok = (n > 0 && _lseek (fd, 0, SEEK_SET) == 0
                 && write (fd, buf, n) == n);
      if (fd >= 0)
        close (fd);
      char reply = ok ? 'Y' : 'N';
      return write (out, &reply, 1) == 1 ? 0 : 1;
    }
  return 2;
}

/* The checks.  */

static portalock *
new_lock (const char *file, int flags, double timeout)
{
  portalock *lock = portalock_new (file);
  if (lock == NULL || portalock_set_flags (lock, flags) != 0
      || portalock_set_timeout (lock, timeout) != 0)
    die ("portalock_new");
  return lock;
}

static void
test_exclusion (void)
{
  const char *file = "w32-exclusion.lock";
  struct child c;
  start_child (&c, "hold-ex", file);
  check (child_answer (&c) == 'R', "a child takes an exclusive lock");
  portalock *lock = new_lock (file, PORTALOCK_EX, 0);
  errno = 0;
  check (portalock_acquire (lock) == -1 && errno == EWOULDBLOCK,
         "another process's exclusive lock: EWOULDBLOCK");
  portalock_set_flags (lock, PORTALOCK_SH);
  errno = 0;
  check (portalock_acquire (lock) == -1 && errno == EWOULDBLOCK,
         "a shared lock is refused too");
  check (child_order (&c, 'r') == 'D', "the child releases");
  portalock_set_flags (lock, PORTALOCK_EX);
  check (portalock_acquire (lock) == 0, "then the lock is free");
  portalock_free (lock);
  check (child_finish (&c) == 0, "the child ends well");
  remove (file);
}

static void
test_shared (void)
{
  const char *file = "w32-shared.lock";
  struct child c;
  start_child (&c, "hold-sh", file);
  check (child_answer (&c) == 'R', "a child takes a shared lock");
  portalock *sh = new_lock (file, PORTALOCK_SH, 0);
  check (portalock_acquire (sh) == 0, "a second shared lock is granted");
  portalock *ex = new_lock (file, PORTALOCK_EX, 0);
  errno = 0;
  check (portalock_acquire (ex) == -1 && errno == EWOULDBLOCK,
         "an exclusive lock conflicts with the shared ones");
  portalock_free (sh);
  check (child_order (&c, 'r') == 'D', "the shared holder releases");
  check (portalock_acquire (ex) == 0, "then an exclusive lock is granted");
  portalock_free (ex);
  check (child_finish (&c) == 0, "the child ends well");
  remove (file);
}

static void
test_timed (void)
{
  const char *file = "w32-timed.lock";
  struct child c;
  start_child (&c, "hold-ex", file);
  check (child_answer (&c) == 'R', "a child holds the lock");
  portalock *lock = new_lock (file, PORTALOCK_EX, 0.2);
  errno = 0;
  check (portalock_acquire (lock) == -1 && errno == ETIMEDOUT,
         "a timed wait on a held lock ends with ETIMEDOUT");
  /* The holder is told to let go, then the wait starts: whether the
     release lands before or during the wait, the lock must come.  */
  portalock_set_timeout (lock, 60);
  char letter = 'r';
  if (write (c.to, &letter, 1) != 1)
    die ("write");
  check (portalock_acquire (lock) == 0,
         "a timed wait gets the lock once the holder releases");
  check (child_answer (&c) == 'D', "the holder released");
  portalock_free (lock);
  check (child_finish (&c) == 0, "the child ends well");
  remove (file);
}

static void
test_temporary (void)
{
  const char *file = "w32-temporary.lock";
  portalock *lock = new_lock (file, PORTALOCK_EX, 0);
  portalock_set_temporary (lock, true);
  check (portalock_acquire (lock) == 0, "a temporary lock is taken");
  struct child c;
  start_child (&c, "open", file);
  check (child_answer (&c) == 'R', "another process opens the lock file");
  check (portalock_release (lock) == 0,
         "the temporary lock is released while the file is open elsewhere");
  /* Whether the deletion is pending cannot be asked portably (Wine
     reports neither DeletePending nor a link count of 0), but the name
     must be gone once the other handle closes: without FILE_SHARE_DELETE
     on the lock's own handle, the deletion would have failed.  */
  check (child_finish (&c) == 0, "the child ends well");
  struct _stat64 st;
  check (_stat64 (file, &st) != 0 && errno == ENOENT,
         "the name is gone once the last handle closes");
  check (portalock_acquire (lock) == 0 && portalock_release (lock) == 0,
         "the temporary lock can be taken again");
  portalock_free (lock);
}

static void
test_far_range (void)
{
  const char *file = "w32-data.txt";
  FILE *f = fopen (file, "wb");
  if (f == NULL || fputs ("precious data\n", f) < 0 || fclose (f) != 0)
    die ("writing the data file");
  portalock *lock = new_lock (file, PORTALOCK_EX, 0);
  check (portalock_acquire (lock) == 0, "a lock object locks a data file");
  struct child c;
  start_child (&c, "readwrite", file);
  /* Wine enforces no byte-range lock on reads and writes, so under Wine
     this passes either way; on Windows it fails if the lock covered the
     data.  */
  check (child_answer (&c) == 'Y',
         "another process reads and writes the data while it is locked");
  child_finish (&c);
  struct _stat64 st;
  check (_stat64 (file, &st) == 0 && st.st_size == 14,
         "the data file keeps its content");
  portalock_free (lock);
  remove (file);
}

static void
test_descriptor (void)
{
  const char *file = "w32-range.lock";
  int a = _open (file, _O_RDWR | _O_CREAT | _O_BINARY, 0644);
  int b = _open (file, _O_RDWR | _O_BINARY);
  if (a < 0 || b < 0)
    die ("_open");
  check (portalock_lock (a, PORTALOCK_EX | PORTALOCK_NB) == 0,
         "portalock_lock on a descriptor");
  errno = 0;
  check (portalock_lock (b, PORTALOCK_EX | PORTALOCK_NB) == -1
         && errno == EWOULDBLOCK,
         "a second descriptor of the file conflicts (locks are per handle)");
  check (portalock_lock (a, PORTALOCK_SH | PORTALOCK_NB) == 0,
         "a held lock converts to shared");
  check (portalock_lock (b, PORTALOCK_SH | PORTALOCK_NB) == 0,
         "and then another shared lock is granted");
  check (portalock_unlock (a) == 0 && portalock_unlock (b) == 0,
         "both unlock");
  check (portalock_unlock (a) == 0, "unlocking what is not held succeeds");
  check (portalock_lock_range (a, PORTALOCK_EX | PORTALOCK_NB, 0, 10, 0)
         == 0, "a byte range is locked");
  check (portalock_lock_range (b, PORTALOCK_EX | PORTALOCK_NB, 10, 10, 0)
         == 0, "a disjoint range is free");
  errno = 0;
  check (portalock_lock_range (b, PORTALOCK_EX | PORTALOCK_NB, 5, 1, 0)
         == -1 && errno == EWOULDBLOCK, "an overlapping range conflicts");
  errno = 0;
  check (portalock_lock (-1, PORTALOCK_EX) == -1 && errno == EBADF,
         "a bad descriptor: EBADF");
  close (a);
  close (b);
  remove (file);
}

static void
test_utf8_path (void)
{
  const char *file = "w32-\xc3\xa9t\xc3\xa9.lock";
  portalock *lock = new_lock (file, PORTALOCK_EX, 0);
  check (portalock_acquire (lock) == 0, "a lock on a UTF-8 path");
  struct _stat64 st;
  check (_wstat64 (L"w32-\u00e9t\u00e9.lock", &st) == 0,
         "the file has the UTF-16 name of the UTF-8 path");
  portalock_free (lock);
  _wremove (L"w32-\u00e9t\u00e9.lock");
  portalock *bad = new_lock ("w32-\xff.lock", PORTALOCK_EX, 0);
  errno = 0;
  check (portalock_acquire (bad) == -1 && errno == EINVAL,
         "a path that is not UTF-8: EINVAL");
  portalock_free (bad);
}

static void
test_semaphore_and_record (void)
{
  /* A semaphore of 2 in the current directory: two slots, then none.  */
  portalock_semaphore *a = portalock_semaphore_new ("w32sem", 2, ".");
  portalock_semaphore *b = portalock_semaphore_new ("w32sem", 2, ".");
  portalock_semaphore *c = portalock_semaphore_new ("w32sem", 2, ".");
  if (a == NULL || b == NULL || c == NULL
      || portalock_semaphore_set_timeout (c, 0) != 0)
    die ("portalock_semaphore_new");
  check (portalock_semaphore_acquire (a) == 0
         && portalock_semaphore_acquire (b) == 0,
         "a semaphore of 2 lets two holders in");
  errno = 0;
  check (portalock_semaphore_acquire (c) == -1
         && (errno == EWOULDBLOCK || errno == ETIMEDOUT),
         "and refuses a third");
  portalock_semaphore_free (a);
  check (portalock_semaphore_acquire (c) == 0,
         "a freed slot is taken again");
  portalock_semaphore_free (b);
  portalock_semaphore_free (c);
  remove ("w32sem.00.lock");
  remove ("w32sem.01.lock");

  /* A PID record names this process while the lock is held.  */
  const char *file = "w32-pid.lock";
  portalock *lock = new_lock (file, PORTALOCK_EX, 0);
  portalock_set_record_pid (lock, true);
  check (portalock_acquire (lock) == 0, "a PID lock is taken");
  pid_t pid = 0;
  check (portalock_pid_record_read (file, &pid) == 1 && pid == getpid (),
         "its record names this process, live");
  portalock_free (lock);
  remove (file);
}

static void
test_backend (void)
{
  check (strcmp (portalock_backend_name (PORTALOCK_BACKEND_DEFAULT), "win32")
         == 0, "the default backend is win32");
  check (portalock_backend_available (PORTALOCK_BACKEND_WIN32),
         "the win32 backend is available");
  check (!portalock_backend_available (PORTALOCK_BACKEND_FLOCK),
         "flock is not");
}

/* A thread that would wait for its own lock: EDEADLK at once; another
   thread's hold is an ordinary wait.  The queries on the way.  */
static DWORD WINAPI
timed_acquire (void *arg)
{
  portalock *lock = arg;
  return portalock_acquire (lock) == 0 ? 0 : (DWORD) errno;
}

static void
test_self_deadlock (void)
{
  const char *file = "w32-self.lock";
  portalock *a = new_lock (file, PORTALOCK_EX, 5);
  portalock *b = new_lock (file, PORTALOCK_EX, 5);
  check (!portalock_held (a) && portalock_depth (a) == 0,
         "a new object: not held, depth 0");
  check (portalock_acquire (a) == 0 && portalock_held (a)
         && portalock_depth (a) == 1, "acquired: held, depth 1");
  errno = 0;
  check (portalock_acquire (b) == -1 && errno == EDEADLK
         && !portalock_held (b),
         "a second exclusive object in the same thread: EDEADLK");
  portalock_set_timeout (b, 0);
  errno = 0;
  check (portalock_acquire (b) == -1 && errno == EWOULDBLOCK,
         "the same with timeout 0: EWOULDBLOCK");

  /* Another thread waits as for any holder, until its timeout.  */
  portalock_set_timeout (b, 0.2);
  HANDLE t = CreateThread (NULL, 0, timed_acquire, b, 0, NULL);
  DWORD code = 1;
  if (t == NULL || WaitForSingleObject (t, INFINITE) != WAIT_OBJECT_0
      || !GetExitCodeThread (t, &code))
    die ("thread");
  CloseHandle (t);
  check (code == ETIMEDOUT, "another thread's wait: ETIMEDOUT, not "
         "EDEADLK (%lu)", (unsigned long) code);

  portalock_set_timeout (b, 5);
  check (portalock_release (a) == 0 && !portalock_held (a)
         && portalock_acquire (b) == 0,
         "once released, the second object is taken");
  portalock_free (b);

  portalock_set_flags (a, PORTALOCK_SH);
  b = new_lock (file, PORTALOCK_SH, 5);
  check (portalock_acquire (a) == 0 && portalock_acquire (b) == 0,
         "two shared objects in one thread: both held");
  errno = 0;
  check (portalock_convert (b, PORTALOCK_EX) == -1 && errno == EDEADLK
         && portalock_held (b),
         "converting one to exclusive: EDEADLK, still held");
  portalock_free (a);
  portalock_free (b);
  remove (file);
}

int
main (int argc, char **argv)
{
  self = argv[0];
  if (argc == 6 && strcmp (argv[1], "child") == 0)
    return child_main (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]));
  test_backend ();
  test_descriptor ();
  test_exclusion ();
  test_shared ();
  test_timed ();
  test_temporary ();
  test_far_range ();
  test_utf8_path ();
  test_semaphore_and_record ();
  test_self_deadlock ();
  return check_exit ();
}
