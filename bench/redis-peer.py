# redis-peer.py: time portalocker's RedisLock for bench/redis.c.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: python3 redis-peer.py SOCKET N
#        python3 redis-peer.py --handoff SOCKET N
# The first form prints the seconds per uncontended acquire+release of
# portalocker's RedisLock (redis-py, on the Redis server at the Unix
# socket SOCKET), the median of N cycles.
# The second prints the hand-off latency of RedisLock, in seconds, as
# "P50 P90 P99" over N hand-offs: the time from the start of a holder's
# release to the moment a waiter, blocked in acquire in another process,
# holds the lock.
# The third, python3 redis-peer.py --multi WAITERS SOCKET N, runs
# WAITERS + 1 processes that each take redis-py's Lock (blocking, its
# default polling), hold it 2 ms and release it, and
# prints "P50 P99 COMMANDS SKIPS" over about 5 N grants: the hand-off latency in seconds,
# top-level server commands per grant, and the most grants that went to
# others while one process waited.
# All exit 1 if portalocker or redis-py is missing, 2 if a lock failed.

import os
import random
import sys
import threading
import time

try:
    import portalocker
    import redis
except ImportError:
    sys.exit(1)

# How long a waiter may wait: far longer than any hand-off, so that a
# slow one is measured instead of failing.
WAIT = 60.0


def clock():
    # CLOCK_MONOTONIC is one clock for every process of the machine: the
    # holder's and the waiter's readings can be subtracted.
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def uncontended(sock, n):
    connection = redis.Redis(unix_socket_path=sock)
    times = []
    for _ in range(n):
        lock = portalocker.RedisLock('bench-portalocker', connection=connection)
        start = clock()
        lock.acquire(timeout=10)
        lock.release()
        times.append(clock() - start)
    times.sort()
    print('%.6f' % times[len(times) // 2])


def waiter(sock, go, back):
    # For every byte on GO: wait in acquire, send the time it holds the
    # lock, release, then say so.
    connection = redis.Redis(unix_socket_path=sock)
    out = os.fdopen(back, 'w', buffering=1)
    while os.read(go, 1):
        lock = portalocker.RedisLock('bench-handoff', connection=connection)
        lock.acquire(timeout=WAIT)
        held = clock()
        out.write('%.9f\n' % held)
        lock.release()
        out.write('released\n')
    os._exit(0)


def handoff(sock, n):
    go_r, go_w = os.pipe()
    back_r, back_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        os.close(back_r)
        try:
            waiter(sock, go_r, back_w)
        finally:
            os._exit(2)
    os.close(go_r)
    os.close(back_w)

    # The waiter's tries reach the holder as pings on the lock's channel:
    # the first one shows that it is waiting.  The holder answers it
    # exactly as RedisLock does, then notes it.
    pinged = threading.Event()

    class Holder(portalocker.RedisLock):
        def channel_handler(self, message):
            super().channel_handler(message)
            pinged.set()

    connection = redis.Redis(unix_socket_path=sock)
    back = os.fdopen(back_r, 'r')
    interval = portalocker.utils.DEFAULT_CHECK_INTERVAL
    # RedisLock's waiter polls: its hand-off depends on where in its
    # polling interval the release falls.  Release at a point drawn
    # evenly over that interval (the same draws in every run).
    phase = random.Random(9)
    latencies = []
    for _ in range(n):
        pinged.clear()
        lock = Holder('bench-handoff', connection=connection)
        lock.acquire(timeout=WAIT)
        os.write(go_w, b'w')
        if not pinged.wait(WAIT):
            sys.exit(2)
        time.sleep(phase.uniform(0, interval))
        start = clock()
        lock.release()
        held = back.readline()
        if not held or back.readline() != 'released\n':
            sys.exit(2)
        latencies.append(float(held) - start)
    os.close(go_w)
    os.waitpid(pid, 0)
    latencies.sort()

    def at(p):
        return latencies[int(p * (len(latencies) - 1) + 0.5)]
    print('%.6f %.6f %.6f' % (at(0.5), at(0.9), at(0.99)))


def multi_contender(sock, rounds, out):
    connection = redis.Redis(unix_socket_path=sock)
    lock = connection.lock('bench-multi', timeout=30)
    records = []
    for _ in range(rounds):
        asked = clock()
        if not lock.acquire(blocking=True, blocking_timeout=WAIT):
            os._exit(2)
        held = clock()
        while clock() < held + 0.002:
            time.sleep(0.0002)
        freed = clock()
        lock.release()
        records.append('%.9f %.9f %.9f\n' % (asked, held, freed))
    os.write(out, ''.join(records).encode())
    os._exit(0)


def top_level_calls(connection):
    stats = connection.info('commandstats')
    return sum(stats.get('cmdstat_' + name, {}).get('calls', 0)
               for name in ('set', 'evalsha', 'eval', 'script|load'))


def multi(waiters, sock, n):
    procs = waiters + 1
    rounds = max(2, 5 * n // procs)
    connection = redis.Redis(unix_socket_path=sock)
    connection.config_resetstat()
    children = []
    for who in range(procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                multi_contender(sock, rounds, w)
            finally:
                os._exit(2)
        os.close(w)
        children.append((pid, r, who))
    grants = []
    for pid, r, who in children:
        with os.fdopen(r) as f:
            for line in f:
                asked, held, freed = map(float, line.split())
                grants.append((held, asked, freed, who))
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(2)
    commands = top_level_calls(connection) / float(len(grants))
    grants.sort()
    lat = [grants[i][0] - grants[i - 1][2] for i in range(1, len(grants))
           if grants[i][1] < grants[i - 1][2]]
    lat.sort()
    skips = 0
    for i, (held, asked, freed, who) in enumerate(grants):
        k = sum(1 for j in range(i) if grants[j][0] > asked
                and grants[j][3] != who)
        skips = max(skips, k)

    def at(p):
        return lat[int(p * (len(lat) - 1) + 0.5)] if lat else float('nan')
    print('%.6f %.6f %.3f %d' % (at(0.5), at(0.99), commands, skips))


def main():
    args = sys.argv[1:]
    if args and args[0] == '--multi':
        multi(int(args[1]), args[2], int(args[3]))
    elif args and args[0] == '--handoff':
        handoff(args[1], int(args[2]))
    else:
        uncontended(args[0], int(args[1]))


main()
