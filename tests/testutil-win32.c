/* testutil-win32.c: the process helpers of the test programs, on
   Windows: holders and probes are processes running tests/w32holder.

   Copyright (C) 2026 The portalock authors.

   This program is free software: you can redistribute it and/or modify it
   under the terms of the GNU General Public License as published by the
   Free Software Foundation, either version 3 of the License, or (at your
   option) any later version.  */

/* A Windows build links this file in place of testutil-posix.c, so that
   the programs shared with POSIX run their checks unchanged under Wine.
   What Windows cannot show is said in testutil.h: no waiter can be seen
   asleep in the kernel, and count_fds counts handles.  */

#include <config.h>

#include "testutil.h"

#include <direct.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <windows.h>
#include <tlhelp32.h>

#include "portalock.h"
#include "w32child.h"
#include "w32holder.h"

/* The temporary directory: made once, removed at exit with what is in
   it (and below it).  */
static char tmpdir[MAX_PATH + 64];

static void
remove_tree (const char *dir)
{
  DIR *d = opendir (dir);
  if (d != NULL)
    {
      for (struct dirent *e; (e = readdir (d)) != NULL;)
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
          {
            char path[MAX_PATH * 2];
            snprintf (path, sizeof path, "%s\\%s", dir, e->d_name);
            DWORD attr = GetFileAttributesA (path);
            if (attr != INVALID_FILE_ATTRIBUTES
                && (attr & FILE_ATTRIBUTE_DIRECTORY))
              remove_tree (path);
            else
              {
                SetFileAttributesA (path, FILE_ATTRIBUTE_NORMAL);
                DeleteFileA (path);
              }
          }
      closedir (d);
    }
  RemoveDirectoryA (dir);
}

static void
remove_tmpdir (void)
{
  remove_tree (tmpdir);
}

const char *
test_path (const char *name)
{
  static char paths[64][MAX_PATH * 2];
  static LONG next;
  char *path = paths[(InterlockedIncrement (&next) - 1) % 64];
  if (tmpdir[0] == '\0')
    {
      char base[MAX_PATH + 1];
      DWORD n = GetTempPathA (sizeof base, base);
      if (n == 0 || n >= sizeof base)
        die ("GetTempPath");
      if (base[n - 1] == '\\')
        base[n - 1] = '\0';
      for (unsigned i = 0;; i++)
        {
          snprintf (tmpdir, sizeof tmpdir, "%s\\portalock-test.%lu.%u", base,
                    (unsigned long) GetCurrentProcessId (), i);
          if (CreateDirectoryA (tmpdir, NULL))
            break;
          if (GetLastError () != ERROR_ALREADY_EXISTS || i > 1000)
            die ("CreateDirectory %s", tmpdir);
        }
      atexit (remove_tmpdir);
    }
  snprintf (path, sizeof paths[0], "%s\\%s", tmpdir, name);
  return path;
}

FILE *
command_output (const char *const *argv, pid_t *pid)
{
  (void) pid;
  errno = ENOSYS;
  die ("running %s: not carried out on Windows", argv[0]);
}

bool
command_succeeded (FILE *in, pid_t pid)
{
  (void) in;
  (void) pid;
  return false;
}

int
count_fds (void)
{
  /* The C runtime's descriptors, as /proc/self/fd lists a POSIX
     process's: Wine's GetProcessHandleCount says 0 whatever is open.  */
  int n = 0;
  for (int fd = 0; fd < 2048; fd++)
    n += _get_osfhandle (fd) != -1;
  return n;
}

int
count_threads (void)
{
  HANDLE snap = CreateToolhelp32Snapshot (TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE)
    return -1;
  THREADENTRY32 t;
  t.dwSize = sizeof t;
  int n = 0;
  DWORD self = GetCurrentProcessId ();
  for (BOOL more = Thread32First (snap, &t); more;
       more = Thread32Next (snap, &t))
    n += t.th32OwnerProcessID == self;
  CloseHandle (snap);
  return n;
}

int
await_thread_count (int expected)
{
  double give_up = now () + 10;
  int n;
  while ((n = count_threads ()) != expected && now () < give_up)
    Sleep (2);
  return n;
}

/* Wine is no emulator of the processor: the checks an emulator upsets
   run as they are.  */
const char *
test_emulator (void)
{
  return NULL;
}

/* The tests that look threads up by ID read /proc: not here.  */
long
thread_id (void)
{
  return -1;
}

bool
await_thread_gone (long tid)
{
  (void) tid;
  return true;
}

double
now (void)
{
  LARGE_INTEGER count, freq;
  QueryPerformanceCounter (&count);
  QueryPerformanceFrequency (&freq);
  return (double) count.QuadPart / freq.QuadPart;
}

/* The path of tests/w32holder.exe: beside this program.  */
static const char *
holder_program (void)
{
  static char path[MAX_PATH * 2];
  if (path[0] == '\0')
    {
      DWORD n = GetModuleFileNameA (NULL, path, MAX_PATH);
      if (n == 0 || n >= MAX_PATH)
        die ("GetModuleFileName");
      char *slash = strrchr (path, '\\');
      if (slash == NULL)
        die ("no directory in %s", path);
      strcpy (slash + 1, "w32holder.exe");
    }
  return path;
}

/* Fill ARGS with PATH in hexadecimal and the lock's other arguments,
   as w32holder.h says.  */
static void
encode_args (char args[W32HOLDER_ARGS][W32HOLDER_ARG_SIZE], const char *path,
             int backend, int flags, off_t start, off_t length)
{
  size_t n = strlen (path);
  if (2 * n >= W32HOLDER_ARG_SIZE)
    die ("path too long for w32holder: %s", path);
  for (size_t i = 0; i < n; i++)
    snprintf (args[0] + 2 * i, 3, "%02x", (unsigned char) path[i]);
  args[0][2 * n] = '\0';
  snprintf (args[1], W32HOLDER_ARG_SIZE, "%d", backend);
  snprintf (args[2], W32HOLDER_ARG_SIZE, "%d", flags);
  snprintf (args[3], W32HOLDER_ARG_SIZE, "%lld", (long long) start);
  snprintf (args[4], W32HOLDER_ARG_SIZE, "%lld", (long long) length);
}

void
child_start (struct child *c, const char *program, const char *const *args)
{
  int down[2], up[2];
  if (_pipe (down, 256, _O_BINARY | _O_NOINHERIT) != 0
      || _pipe (up, 256, _O_BINARY | _O_NOINHERIT) != 0)
    die ("_pipe");
  /* Only the child's ends are inherited (_dup makes an inheritable
     copy): it sees the end of its orders when this process closes its
     end, or dies.  */
  int child_in = _dup (down[0]);
  int child_out = _dup (up[1]);
  if (child_in < 0 || child_out < 0)
    die ("_dup");
  close (down[0]);
  close (up[1]);
  const char *argv[32];
  char in[16], out[16];
  int n = 0;
  while (args[n] != NULL)
    {
      if (n >= 29)
        die ("too many arguments for %s", program);
      argv[n] = args[n];
      n++;
    }
  snprintf (in, sizeof in, "%d", child_in);
  snprintf (out, sizeof out, "%d", child_out);
  argv[n++] = in;
  argv[n++] = out;
  argv[n] = NULL;
  fflush (NULL);
  /* A start refused once under a loaded Wine (EINVAL) is asked again,
     a few times: the test is of the library, not of process creation.  */
  c->process = -1;
  for (int tries = 0; c->process == -1 && tries < 5; tries++)
    {
      if (tries > 0)
        Sleep (50);
      c->process = _spawnv (_P_NOWAIT, program, argv);
    }
  if (c->process == -1)
    die ("starting %s", program);
  close (child_in);
  close (child_out);
  c->to = down[1];
  c->from = up[0];
}

char
child_order (struct child *c, char letter)
{
  if (write (c->to, &letter, 1) != 1)
    return '?';
  return child_answer (c);
}

char
child_answer (struct child *c)
{
  char a = '?';
  if (read (c->from, &a, 1) != 1)
    return '?';
  return a;
}

int
child_finish (struct child *c)
{
  int status = -1;
  close (c->to);
  _cwait (&status, c->process, 0);
  close (c->from);
  return status;
}

/* Start w32holder for the order ROLE ("hold" or "probe") and the lock's
   arguments, as w32holder.h says; return its first answer: 0 if it
   holds the lock, else the errno it got (EIO if it said nothing).  */
static int
start_holder (struct child *c, const char *role, const char *path,
              int backend, int flags, off_t start, off_t length)
{
  char args[W32HOLDER_ARGS][W32HOLDER_ARG_SIZE];
  encode_args (args, path, backend, flags, start, length);
  const char *prog = holder_program ();
  const char *argv[] = { prog, role, args[0], args[1], args[2], args[3],
                         args[4], NULL };
  child_start (c, prog, argv);
  int e = EIO;
  char a = child_answer (c);
  if (a == 'L')
    e = 0;
  else if (a == 'E' && read (c->from, &e, sizeof e) != sizeof e)
    e = EIO;
  return e;
}

bool
holder_start (struct holder *h, const char *path, int backend, int flags,
              off_t start, off_t length)
{
  struct child c;
  int e = start_holder (&c, "hold", path, backend, flags, start, length);
  if (e != 0)
    {
      child_finish (&c);
      errno = e;
      return false;
    }
  h->process = c.process;
  h->pid = GetProcessId ((HANDLE) c.process);
  h->to_child = c.to;
  h->from_child = c.from;
  return true;
}

/* The child of holder H.  */
static struct child
holder_child (const struct holder *h)
{
  struct child c = { h->process, h->to_child, h->from_child };
  return c;
}

void
holder_release (struct holder *h)
{
  struct child c = holder_child (h);
  child_order (&c, 'R');
  child_finish (&c);
}

void
holder_kill (struct holder *h)
{
  struct child c = holder_child (h);
  TerminateProcess ((HANDLE) h->process, 9);
  child_finish (&c);
}

int
probe_lock (const char *path, int backend, int flags, off_t start,
            off_t length)
{
  struct child c;
  int e = start_holder (&c, "probe", path, backend, flags, start, length);
  child_finish (&c);
  return e;
}

bool
await_blocked_waiter (const char *path)
{
  (void) path;
  return false;
}

/* Open PATH with the Windows call, UTF-8 converted, for the file's
   identity only; return the handle or INVALID_HANDLE_VALUE.  */
static HANDLE
open_identity (const char *path)
{
  wchar_t wide[MAX_PATH * 2];
  if (MultiByteToWideChar (CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide,
                           MAX_PATH * 2) == 0)
    return INVALID_HANDLE_VALUE;
  return CreateFileW (wide, FILE_READ_ATTRIBUTES,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      NULL, OPEN_EXISTING,
                      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                      NULL);
}

bool
exists (const char *path)
{
  HANDLE h = open_identity (path);
  if (h == INVALID_HANDLE_VALUE)
    return GetLastError () == ERROR_ACCESS_DENIED;
  CloseHandle (h);
  return true;
}

/* Return true if H is a file that is not deleted nor pending deletion,
   with its identity in *INFO.  */
static bool
live_identity (HANDLE h, BY_HANDLE_FILE_INFORMATION *info)
{
  FILE_STANDARD_INFO std;
  return (GetFileInformationByHandle (h, info) && info->nNumberOfLinks > 0
          && GetFileInformationByHandleEx (h, FileStandardInfo, &std,
                                           sizeof std)
          && !std.DeletePending);
}

bool
fd_names (int fd, const char *path)
{
  if (fd < 0)
    return false;
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  BY_HANDLE_FILE_INFORMATION a, b;
  if (h == INVALID_HANDLE_VALUE || !live_identity (h, &a))
    return false;
  HANDLE p = open_identity (path);
  if (p == INVALID_HANDLE_VALUE)
    return false;
  bool same = (live_identity (p, &b)
               && a.dwVolumeSerialNumber == b.dwVolumeSerialNumber
               && a.nFileIndexHigh == b.nFileIndexHigh
               && a.nFileIndexLow == b.nFileIndexLow);
  CloseHandle (p);
  return same;
}

int
make_dir (const char *path)
{
  return _mkdir (path);
}

bool
not_inherited (int fd)
{
  HANDLE h = (HANDLE) _get_osfhandle (fd);
  DWORD flags;
  return (h != INVALID_HANDLE_VALUE && GetHandleInformation (h, &flags)
          && (flags & HANDLE_FLAG_INHERIT) == 0);
}
