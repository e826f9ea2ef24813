/* scripts.c: the Lua scripts that grant, renew and release a lease,
   each one atomic on the server, and how they are run.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

/* The keys of a lock called NAME share the hash tag {NAME}, so that
   Redis Cluster keeps them in one slot:
     portalock:{NAME}:x   the exclusive lease: "OWNER TOKEN" or "OWNER
                          TOKEN IDENTITY", with a TTL;
     portalock:{NAME}:s   the shared leases: a sorted set of OWNER scored
                          by the server time (ms) its lease ends;
     portalock:{NAME}:t   the shared holders' tokens: a hash OWNER->TOKEN
                          or OWNER->"TOKEN IDENTITY";
     portalock:{NAME}:n   the fencing-token counter (never expires);
     portalock:{NAME}:q   the waiters, in order of arrival: a sorted set
                          of OWNER scored by a ticket (1, 2, ...);
     portalock:{NAME}:e   when each waiter's place ends: a sorted set of
                          OWNER scored by server time (ms).
   A waiter listens on its own channel, portalock:{NAME}:w:OWNER; a
   release publishes on the channel of the first waiter only.  The
   manual's chapter "Redis protocol" is the specification of all this.

   Tokens only grow: a grant's token is the server's clock in
   microseconds, unless the counter's last value is not below it: then
   that value plus 1 (INCR, exact in 64-bit integers).  The counter holds
   the last token granted.  A server restarted without persistence
   forgets the counter, and the clock floor then keeps the next token
   above every earlier one, provided the server's clock did not go back.
   The counter is compared with the clock as decimal text, and its new
   value is read back as text, so nothing goes through Lua's doubles,
   which are exact only below 2^53.  At 2^63 - 1 INCR
   refuses, and so does the acquire.  */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "redis-private.h"

/* The scripts are written for the common case, an exclusive lock: that
   path reads the server's clock only for the token, and leaves out the
   shared leases' helpers.  What costs on the server (measured in
   instructions with Redis 7.0) is mostly each call's overhead and the
   conversions of numbers to text, which go through printf: numbers the
   scripts pass on are kept as the text they came in (the TTL), or built
   from text (the token, from TIME's digits).

   VARS is what every script starts with.  */
#define VARS \
  "local x, s, t, q, e = KEYS[1], KEYS[2], KEYS[3], KEYS[5], KEYS[6]\n" \
  "local owner = ARGV[1]\n" \
  "local now, nowms, purge, extend\n"

/* time () sets NOW to the server's time, asked for once; clock ()
   returns it in ms.  A server before Redis 5 replicates a script that
   read the time only by its effects, which must be asked for before any
   write; the time is always read before the first write.  */
#define CLOCK \
  "local function time()\n" \
  "  if not now then\n" \
  "    if redis.replicate_commands then redis.replicate_commands() end\n" \
  "    now = redis.call('TIME')\n" \
  "  end\n" \
  "end\n" \
  "local function clock()\n" \
  "  if not nowms then\n" \
  "    time()\n" \
  "    nowms = tonumber(now[1]) * 1000" \
  " + math.floor(tonumber(now[2]) / 1000)\n" \
  "  end\n" \
  "  return nowms\n" \
  "end\n"

/* For the shared leases: purge () drops those that ran out; extend ()
   keeps the shared keys' TTLs at the last lease's end.  */
#define SHARED \
  "purge = function()\n" \
  "  local dead = redis.call('ZRANGEBYSCORE', s, '-inf', clock())\n" \
  "  if #dead > 0 then\n" \
  "    redis.call('ZREMRANGEBYSCORE', s, '-inf', nowms)\n" \
  "    redis.call('HDEL', t, unpack(dead))\n" \
  "  end\n" \
  "end\n" \
  "extend = function()\n" \
  "  local top = redis.call('ZRANGE', s, -1, -1, 'WITHSCORES')\n" \
  "  if #top > 0 then\n" \
  "    redis.call('PEXPIREAT', s, top[2])\n" \
  "    redis.call('PEXPIREAT', t, top[2])\n" \
  "  else\n" \
  "    redis.call('DEL', t)\n" \
  "  end\n" \
  "end\n"

/* The queue of waiters.  qpurge () drops the waiters whose place ran
   out; wake () publishes on the channel of the first waiter, if any;
   leave () takes OWNER out of the queue.  */
#define QUEUE \
  "local function qpurge()\n" \
  "  local dead = redis.call('ZRANGEBYSCORE', e, '-inf', clock())\n" \
  "  if #dead > 0 then\n" \
  "    redis.call('ZREMRANGEBYSCORE', e, '-inf', nowms)\n" \
  "    redis.call('ZREM', q, unpack(dead))\n" \
  "  end\n" \
  "end\n" \
  "local function head()\n" \
  "  return redis.call('ZRANGE', q, 0, 0)[1]\n" \
  "end\n" \
  "local function wake()\n" \
  "  local h = head()\n" \
  "  if h then\n" \
  "    redis.call('PUBLISH', string.sub(x, 1, -2) .. 'w:' .. h, 'wake')\n" \
  "  end\n" \
  "end\n" \
  "local function leave()\n" \
  "  redis.call('ZREM', q, owner)\n" \
  "  redis.call('ZREM', e, owner)\n" \
  "end\n"

/* True if the exclusive lease V ("OWNER TOKEN ...", or nil) is
   OWNER's.  */
#define MINE(v) \
  "(" v " and string.sub(" v ", 1, #owner + 1) == owner .. ' ')"

/* ARGV: owner, TTL (ms), mode ("x" or "s"), identity, queue TTL (ms;
   0: do not queue), and for a shared request with writer preference
   "p".  Returns the token (a string) for a grant, the same
   one again for an owner that holds it; or, for a refusal, the ms until
   the lease in the way ends at the latest, or until the place of the
   waiter ahead ends (an integer; -1: unknown).  A refused request with
   a queue TTL takes (or keeps) its place at the end of the queue, and
   its place lasts that long from now.  An exclusive request is granted
   only to the first waiter, or to anyone when no one waits; a shared
   request whenever no exclusive lease is held (readers first), unless
   it prefers writers: then, like an exclusive one, only to the first
   waiter or when no one waits (the first waiter, if a reader, wakes
   the next when it is let in, so that readers in a row go in
   together).  An
   exclusive request looks only at the live shared leases, and only if
   there are any (those that ended are dropped by the next shared
   request, or expire with their key).  */
static const char acquire_script[] = VARS CLOCK QUEUE
  "local ttl, mode, qttl = ARGV[2], ARGV[3], tonumber(ARGV[5])\n"
  "local function refuse(ms)\n"
  "  if qttl > 0 then\n"
  "    clock()\n"
  "    if not redis.call('ZSCORE', q, owner) then\n"
  "      local last = redis.call('ZRANGE', q, -1, -1, 'WITHSCORES')\n"
  "      redis.call('ZADD', q, #last > 0 and tonumber(last[2]) + 1 or 1,"
  " owner)\n"
  "    end\n"
  "    redis.call('ZADD', e, nowms + qttl, owner)\n"
  "    local top = redis.call('ZRANGE', e, -1, -1, 'WITHSCORES')[2]\n"
  "    redis.call('PEXPIREAT', q, top)\n"
  "    redis.call('PEXPIREAT', e, top)\n"
  "  end\n"
  "  return ms\n"
  "end\n"
  "local held = redis.call('GET', x)\n"
  "if held then\n"
  "  local o, tok = string.match(held, '^(%x+) (%d+)')\n"
  "  if o == owner and mode == 'x' then\n"
  "    redis.call('PEXPIRE', x, ttl)\n"
  "    return tok\n"
  "  end\n"
  "  return refuse(redis.call('PTTL', x))\n"
  "end\n"
  "local queued = redis.call('EXISTS', q) == 1\n"
  "if queued then qpurge() end\n"
  "local tok\n"
  "if mode == 's' then\n"
  SHARED
  "  purge()\n"
  "  tok = redis.call('HGET', t, owner)\n"
  "  if tok then tok = string.match(tok, '^%d+') end\n"
  "  if tok and redis.call('ZSCORE', s, owner) then\n"
  "    redis.call('ZADD', s, nowms + tonumber(ttl), owner)\n"
  "    extend()\n"
  "    return tok\n"
  "  end\n"
  "  local h = ARGV[6] == 'p' and queued and head()\n"
  "  if h and h ~= owner then\n"
  "    return refuse(tonumber(redis.call('ZSCORE', e, h)) - clock())\n"
  "  end\n"
  "else\n"
  "  if redis.call('EXISTS', s) == 1 then\n"
  "    local first = redis.call('ZRANGEBYSCORE', s, '(' .. clock(), '+inf',"
  " 'WITHSCORES', 'LIMIT', 0, 1)\n"
  "    if #first > 0 then\n"
  "      return refuse(tonumber(first[2]) - nowms)\n"
  "    end\n"
  "  end\n"
  "  local h = queued and head()\n"
  "  if h and h ~= owner then\n"
  "    return refuse(tonumber(redis.call('ZSCORE', e, h)) - clock())\n"
  "  end\n"
  "end\n"
  /* The token: the clock in microseconds, made of TIME's digits, in
     one step that also reads the counter's last value (SET with GET,
     Redis 6.2; GET and SET before).  Only if that value was not below
     the clock (compared exactly, as decimal text) is it put back and
     incremented.  */
  "time()\n"
  "tok = now[1] .. string.rep('0', 6 - #now[2]) .. now[2]\n"
  "local last = redis.pcall('SET', KEYS[4], tok, 'GET')\n"
  "if type(last) == 'table' and last.err then\n"
  "  last = redis.call('GET', KEYS[4])\n"
  "  redis.call('SET', KEYS[4], tok)\n"
  "end\n"
  "last = last and string.match(last, '^0*([1-9]%d*)$')\n"
  "if last and (#last > #tok or (#last == #tok and last >= tok)) then\n"
  "  redis.call('SET', KEYS[4], last)\n"
  "  local n = redis.pcall('INCR', KEYS[4])\n"
  "  if type(n) == 'table' then\n"
  "    return redis.error_reply('TOKENS the fencing-token counter is"
  " exhausted')\n"
  "  end\n"
  "  tok = redis.call('GET', KEYS[4])\n"
  "end\n"
  "local v = tok\n"
  "if ARGV[4] ~= '' then v = tok .. ' ' .. ARGV[4] end\n"
  "if mode == 'x' then\n"
  "  redis.call('SET', x, owner .. ' ' .. v, 'PX', ttl)\n"
  "else\n"
  "  redis.call('ZADD', s, clock() + tonumber(ttl), owner)\n"
  "  redis.call('HSET', t, owner, v)\n"
  "  extend()\n"
  "end\n"
  /* A reader let in lets the next waiter try too: it may be a reader.  */
  "if queued then\n"
  "  leave()\n"
  "  if mode == 's' then wake() end\n"
  "end\n"
  "return tok\n";

/* ARGV: owner, TTL (ms), mode.  Returns 1 if renewed, 0 if lost.  */
static const char renew_script[] = VARS CLOCK
  "if ARGV[3] == 'x' then\n"
  "  local v = redis.call('GET', x)\n"
  "  if not " MINE ("v") " then return 0 end\n"
  "  redis.call('PEXPIRE', x, ARGV[2])\n"
  "  return 1\n"
  "end\n"
  SHARED
  "purge()\n"
  "if not redis.call('ZSCORE', s, owner) then return 0 end\n"
  "redis.call('ZADD', s, nowms + tonumber(ARGV[2]), owner)\n"
  "extend()\n"
  "return 1\n";

/* ARGV: owner, mode.  Returns 1 if released, 0 if it had been lost.
   A release that leaves the lock free wakes the first waiter in the
   same atomic step.  */
static const char release_script[] = VARS CLOCK QUEUE
  "local queued = redis.call('EXISTS', q) == 1\n"
  "if queued then time() end\n"
  "if ARGV[2] == 'x' then\n"
  "  local v = redis.call('GET', x)\n"
  "  if not " MINE ("v") " then return 0 end\n"
  "  redis.call('DEL', x)\n"
  "else\n"
  SHARED
  "  purge()\n"
  "  if not redis.call('ZSCORE', s, owner) then return 0 end\n"
  "  redis.call('ZREM', s, owner)\n"
  "  redis.call('HDEL', t, owner)\n"
  "  extend()\n"
  "end\n"
  "if queued then\n"
  "  qpurge()\n"
  "  if ARGV[2] == 'x' or redis.call('EXISTS', s) == 0 then wake() end\n"
  "end\n"
  "return 1\n";

/* ARGV: owner.  Takes OWNER out of the queue (a waiter that gives up);
   if it was first and the lock is free, wakes the next.  Returns 1.  */
static const char leave_script[] = VARS CLOCK QUEUE
  "qpurge()\n"
  "local first = head() == owner\n"
  "leave()\n"
  "if first and redis.call('EXISTS', x) == 0 then wake() end\n"
  "return 1\n";

/* ARGV: owner, mode.  Returns the ms left of the lease, or -2 if it was
   lost.  Changes nothing.  */
static const char remaining_script[] = VARS CLOCK
  "if ARGV[2] == 'x' then\n"
  "  local v = redis.call('GET', x)\n"
  "  if not " MINE ("v") " then return -2 end\n"
  "  return redis.call('PTTL', x)\n"
  "end\n"
  "local e = redis.call('ZSCORE', s, owner)\n"
  "if e and tonumber(e) > clock() then return tonumber(e) - nowms end\n"
  "return -2\n";

/* ARGV: owner (unused).  Returns the holders, each as {mode, token, ms
   left, identity}.  Changes nothing but the purge of ended leases.  */
static const char holders_script[] = VARS CLOCK SHARED
  "purge()\n"
  "local out = {}\n"
  "local v = redis.call('GET', x)\n"
  "if v then\n"
  "  local tok, id = string.match(v, '^%x+ (%d+) ?(.*)$')\n"
  "  out[1] = {'x', tok or '0', redis.call('PTTL', x), id or ''}\n"
  "end\n"
  "local r = redis.call('ZRANGE', s, 0, -1, 'WITHSCORES')\n"
  "for i = 1, #r, 2 do\n"
  "  local e = redis.call('HGET', t, r[i]) or '0'\n"
  "  local tok, id = string.match(e, '^(%d+) ?(.*)$')\n"
  "  out[#out + 1] = {'s', tok or '0', tonumber(r[i + 1]) - nowms,"
  " id or ''}\n"
  "end\n"
  "return out\n";

static const char *const scripts[PLR_NSCRIPTS] =
  { acquire_script, renew_script, release_script, remaining_script,
    holders_script, leave_script };
static char shas[PLR_NSCRIPTS][41];
static pthread_once_t shas_once = PTHREAD_ONCE_INIT;

static void
compute_shas (void)
{
  for (int i = 0; i < PLR_NSCRIPTS; i++)
    plr_sha1_hex (scripts[i], strlen (scripts[i]), shas[i]);
}

/* True if the error reply R says the server will not run EVALSHA: it
   was renamed away (rename-command), or the server does not know it.  */
static bool
evalsha_refused (const redisReply *r)
{
  return (r->type == REDIS_REPLY_ERROR
          && strncmp (r->str, "ERR unknown command", 19) == 0
          && (strstr (r->str, "'evalsha'") != NULL
              || strstr (r->str, "'EVALSHA'") != NULL));
}

/* Run the command AV, LEN (ARGC strings, AV[0] "EVALSHA" and AV[1] the
   SHA-1 of SCRIPT) on C once: by EVALSHA, or by EVAL if the server does
   not know the script or EVALSHA.  */
static int
run_once (struct plr_conn *c, enum plr_script script, int argc,
          const char **av, size_t *len, redisReply **r)
{
  if (!c->no_evalsha)
    {
      av[0] = "EVALSHA";
      av[1] = shas[script];
      len[0] = 7;
      len[1] = 40;
      if (plr_conn_call (c, argc, av, len, r) != 0)
        return -1;
      bool refused = evalsha_refused (*r);
      if (!refused && !((*r)->type == REDIS_REPLY_ERROR
                        && strncmp ((*r)->str, "NOSCRIPT", 8) == 0))
        return 0;
      /* The server never saw the script, or forgot it (a restart, SCRIPT
         FLUSH): send it whole, which also files it for next time.  A
         server without EVALSHA gets every script whole from now on.  */
      freeReplyObject (*r);
      if (refused)
        c->no_evalsha = true;
    }
  av[0] = "EVAL";
  av[1] = scripts[script];
  len[0] = 4;
  len[1] = strlen (scripts[script]);
  return plr_conn_call (c, argc, av, len, r);
}

int
plr_script_run (struct plr_conn *c, enum plr_script script, int nkeys,
                int argc, const char **argv, const size_t *argvlen,
                redisReply **r)
{
  pthread_once (&shas_once, compute_shas);
  const char *av[16];
  size_t len[16];
  char nk[8];
  if (argc + 3 > 16)
    {
      errno = EINVAL;
      return -1;
    }
  snprintf (nk, sizeof nk, "%d", nkeys);
  av[2] = nk;
  len[2] = strlen (nk);
  for (int i = 0; i < argc; i++)
    {
      av[i + 3] = argv[i];
      len[i + 3] = argvlen != NULL ? argvlen[i] : strlen (argv[i]);
    }
  /* A connection the server closed while the command was under way
     (ECONNRESET) is opened again, and the command sent again: every
     script may run twice with the same effect, except a release whose
     first run was applied, which the second run then reports as lost.
     A connection that could not be opened, or a server that did not
     answer in time, ends the call.  */
  for (int attempt = 0;; attempt++)
    {
      if (run_once (c, script, argc + 3, av, len, r) == 0)
        return 0;
      if (errno != ECONNRESET || attempt == PLR_RECONNECTS
          || plr_now () >= c->cap)
        return -1;
    }
}
