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
# Prints the seconds per uncontended acquire+release of portalocker's
# RedisLock (redis-py, on the Redis server at the Unix socket SOCKET),
# the median of N cycles.  Exits 1 if portalocker or redis-py is missing.

import sys
import time

try:
    import portalocker
    import redis
except ImportError:
    sys.exit(1)


def main():
    sock, n = sys.argv[1], int(sys.argv[2])
    connection = redis.Redis(unix_socket_path=sock)
    times = []
    for _ in range(n):
        lock = portalocker.RedisLock('bench-portalocker', connection=connection)
        start = time.monotonic()
        lock.acquire(timeout=10)
        lock.release()
        times.append(time.monotonic() - start)
    times.sort()
    print('%.6f' % times[len(times) // 2])


main()
