# peers.py: the Python peers (portalocker, filelock) for the benchmark.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.

"""Run one peer the way plbench measures portalock.

Usage:
  peers.py object PEER PATH
      For each number N on standard input, run N "with lock:" blocks on
      an uncontended lock object made once, and print their mean
      nanoseconds; so plbench can interleave the peer's rounds with its
      own.  With no input, just check the peer loads.
  peers.py waiter PEER PATH
      The waiter of the hand-off protocol: for each "go" line on standard
      input, print "ready", wait for the lock (timeout 10 s), then print
      the CLOCK_MONOTONIC time it was held and the CPU nanoseconds the
      wait took, and release.  With no input, just check the peer loads.

PEER is portalocker or filelock.  Exit status 3 if the peer is not
installed, 64 for bad usage.
"""

import sys
import time


def make_lock(peer, path, timeout):
    """Return a lock object of PEER on PATH, or exit 3 if it is missing."""
    try:
        if peer == "portalocker":
            import portalocker
            return portalocker.Lock(path, timeout=timeout)
        if peer == "filelock":
            import filelock
            return filelock.FileLock(path, timeout=timeout)
    except ImportError:
        sys.exit(3)
    sys.exit(64)


def object_rounds(peer, path):
    lock = make_lock(peer, path, 1)
    for line in sys.stdin:
        iters = int(line)
        start = time.perf_counter_ns()
        for _ in range(iters):
            with lock:
                pass
        sys.stdout.write("%f\n" % ((time.perf_counter_ns() - start) / iters))
        sys.stdout.flush()


def waiter(peer, path):
    lock = make_lock(peer, path, 10)
    out = sys.stdout
    for line in sys.stdin:
        if line != "go\n":
            break
        out.write("ready\n")
        out.flush()
        cpu = time.process_time_ns()
        lock.acquire()
        held = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        cpu = time.process_time_ns() - cpu
        out.write("%d %d\n" % (held, cpu))
        out.flush()
        lock.release()


def main(argv):
    if len(argv) == 4 and argv[1] == "object":
        object_rounds(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "waiter":
        waiter(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


if __name__ == "__main__":
    main(sys.argv)
