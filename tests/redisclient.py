# redisclient.py: a second client of the Redis lock protocol, written
# from the manual's specification ("The protocol, for other clients"),
# for the tests that mix it with libportalock-redis and plock.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.
#
# Usage: python3 redisclient.py SOCKET NAME waiter WHO PATH [QTTL_MS]
#          acquire lock NAME (waiting up to 60 s), append "WHO TOKEN" to
#          PATH, release;
#        python3 redisclient.py SOCKET NAME loop WHO PATH ROUNDS
#          ROUNDS times: acquire, append "S WHO TOKEN", then
#          "E WHO TOKEN", release.
# Exits 0 on success, 1 on a lock that could not be had, 3 without
# redis-py.

import os
import secrets
import sys
import time

try:
    import redis
except ImportError:
    sys.exit(3)

# The atomic steps, in Lua.  KEYS: x, s, t, n, q, e.
COMMON = r'''
local x, s, t, n, q, e = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local tm = redis.call('TIME')
local now_ms = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local function purge_places()
  local gone = redis.call('ZRANGEBYSCORE', e, '-inf', now_ms)
  for _, w in ipairs(gone) do
    redis.call('ZREM', e, w)
    redis.call('ZREM', q, w)
  end
end
local function purge_shared()
  local gone = redis.call('ZRANGEBYSCORE', s, '-inf', now_ms)
  for _, o in ipairs(gone) do
    redis.call('ZREM', s, o)
    redis.call('HDEL', t, o)
  end
end
local function reexpire()
  local top = redis.call('ZREVRANGE', s, 0, 0, 'WITHSCORES')
  if top[1] then
    redis.call('PEXPIREAT', s, top[2])
    redis.call('PEXPIREAT', t, top[2])
  else
    redis.call('DEL', t)
  end
end
local function first_waiter()
  purge_places()
  return redis.call('ZRANGE', q, 0, 0)[1]
end
local function wake()
  local w = first_waiter()
  if w then
    local prefix = string.sub(x, 1, #x - 1)
    redis.call('PUBLISH', prefix .. 'w:' .. w, 'wake')
  end
end
local function owner_of(v)
  return string.match(v, '^([0-9a-f]+) ')
end
'''

ACQUIRE = COMMON + r'''
local owner, mode, ttl, ident, qttl = ARGV[1], ARGV[2], tonumber(ARGV[3]),
  ARGV[4], tonumber(ARGV[5])
local function refuse(w)
  if qttl > 0 then
    if not redis.call('ZSCORE', q, owner) then
      local last = redis.call('ZREVRANGE', q, 0, 0, 'WITHSCORES')
      local ticket = 1
      if last[1] then ticket = tonumber(last[2]) + 1 end
      redis.call('ZADD', q, ticket, owner)
    end
    redis.call('ZADD', e, now_ms + qttl, owner)
    local top = redis.call('ZREVRANGE', e, 0, 0, 'WITHSCORES')
    redis.call('PEXPIREAT', q, top[2])
    redis.call('PEXPIREAT', e, top[2])
  end
  return w
end
local v = redis.call('GET', x)
if v then
  if owner_of(v) == owner and mode == 'x' then
    redis.call('PEXPIRE', x, ttl)
    return string.match(v, '^[0-9a-f]+ (%d+)')
  end
  return refuse(redis.call('PTTL', x))
end
purge_places()
if mode == 's' then
  purge_shared()
  local f = redis.call('HGET', t, owner)
  if f and redis.call('ZSCORE', s, owner) then
    redis.call('ZADD', s, now_ms + ttl, owner)
    reexpire()
    return string.match(f, '^(%d+)')
  end
else
  local live = redis.call('ZRANGEBYSCORE', s, '(' .. now_ms, '+inf',
                          'WITHSCORES', 'LIMIT', 0, 1)
  if live[1] then return refuse(tonumber(live[2]) - now_ms) end
  local w = redis.call('ZRANGE', q, 0, 0)[1]
  if w and w ~= owner then
    return refuse(tonumber(redis.call('ZSCORE', e, w)) - now_ms)
  end
end
local c = redis.pcall('INCR', n)
if type(c) == 'table' then
  if string.find(c.err, 'overflow') then
    return redis.error_reply('TOKENS counter exhausted')
  end
  return c
end
local now_us = tm[1] .. string.format('%06d', tonumber(tm[2]))
local token
if c < tonumber(now_us) then
  redis.call('SET', n, now_us)
  token = now_us
else
  token = redis.call('GET', n)
end
local value = token
if ident ~= '' then value = token .. ' ' .. ident end
if mode == 'x' then
  redis.call('SET', x, owner .. ' ' .. value, 'PX', ttl)
else
  redis.call('ZADD', s, now_ms + ttl, owner)
  redis.call('HSET', t, owner, value)
  reexpire()
end
if redis.call('ZSCORE', q, owner) then
  redis.call('ZREM', q, owner)
  redis.call('ZREM', e, owner)
  if mode == 's' then wake() end
end
return token
'''

RELEASE = COMMON + r'''
local owner, mode = ARGV[1], ARGV[2]
if mode == 'x' then
  local v = redis.call('GET', x)
  if not v or owner_of(v) ~= owner then return 0 end
  redis.call('DEL', x)
else
  purge_shared()
  if not redis.call('ZSCORE', s, owner) then return 0 end
  redis.call('ZREM', s, owner)
  redis.call('HDEL', t, owner)
  reexpire()
end
if redis.call('EXISTS', q) == 1 then
  purge_places()
  if mode == 'x' or redis.call('EXISTS', s) == 0 then wake() end
end
return 1
'''

LEAVE = COMMON + r'''
local owner = ARGV[1]
local was_first = first_waiter() == owner
redis.call('ZREM', q, owner)
redis.call('ZREM', e, owner)
if was_first and redis.call('EXISTS', x) == 0 then wake() end
return 1
'''


class Lock:
    """One would-be holder of lock NAME on the server R."""

    def __init__(self, r, name, shared=False, ttl_ms=30000, qttl_ms=3000):
        self.r = r
        self.prefix = 'portalock:{%s}:' % name
        self.keys = [self.prefix + k for k in ('x', 's', 't', 'n', 'q', 'e')]
        self.owner = secrets.token_hex(16)
        self.mode = 's' if shared else 'x'
        self.ttl_ms = ttl_ms
        self.qttl_ms = qttl_ms
        self.token = None
        self.pubsub = None
        self._acquire = r.register_script(ACQUIRE)
        self._release = r.register_script(RELEASE)
        self._leave = r.register_script(LEAVE)

    def _try(self, qttl):
        answer = self._acquire(keys=self.keys,
                               args=[self.owner, self.mode, self.ttl_ms, '',
                                     qttl])
        if isinstance(answer, bytes):
            self.token = int(answer)
            return True, None
        return False, answer

    def acquire(self, timeout):
        """Wait up to TIMEOUT seconds; return True once held."""
        deadline = time.monotonic() + timeout
        got, w = self._try(self.qttl_ms if timeout > 0 else 0)
        if got or timeout <= 0:
            return got
        if self.pubsub is None:
            self.pubsub = self.r.pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(self.prefix + 'w:' + self.owner)
            got, w = self._try(self.qttl_ms)
            if got:
                return True
        while True:
            last = time.monotonic()
            if last >= deadline:
                self._leave(keys=self.keys, args=[self.owner])
                return False
            until = min(deadline, last + self.qttl_ms / 3000.0)
            if w >= 0:
                until = min(until, last + (w + 1) / 1000.0)
            self.pubsub.get_message(timeout=max(0.0, until - last))
            got, w = self._try(self.qttl_ms)
            if got:
                return True

    def release(self):
        """Return True if the lease was still ours."""
        self.token = None
        return self._release(keys=self.keys,
                             args=[self.owner, self.mode]) == 1


def append(path, line):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, line.encode())
    os.close(fd)


def main():
    sock, name, what, who, path = sys.argv[1:6]
    r = redis.Redis(unix_socket_path=sock)
    if what == 'waiter':
        qttl = int(sys.argv[6]) if len(sys.argv) > 6 else 3000
        lock = Lock(r, name, qttl_ms=qttl)
        if not lock.acquire(60):
            sys.exit(1)
        append(path, '%s %d\n' % (who, lock.token))
        if not lock.release():
            sys.exit(1)
    elif what == 'loop':
        lock = Lock(r, name)
        for _ in range(int(sys.argv[6])):
            if not lock.acquire(120):
                sys.exit(1)
            append(path, 'S %s %d\n' % (who, lock.token))
            time.sleep(0.001)
            append(path, 'E %s %d\n' % (who, lock.token))
            if not lock.release():
                sys.exit(1)
    else:
        sys.exit(2)


main()
