-- wootguard: store programs (internal/store/store.go) in one call: one
-- program for a request sent alone, every queued program of a batch
-- (batch.go) for a batch.
--
-- Encoding (built by encode in program.go; keep both in step):
--   KEYS[1]  the hash tag "{prefix}": every key below carries it, so in a
--            Redis Cluster the whole script runs on one slot.
--   ARGV     one group per program, programs one after another:
--     a binary record of the program's numbers (struct.unpack, little
--     endian: no decimal parsing in Lua), then the strings its operations
--     use, in operation order. The record:
--       header  B mode (1 run: count; 2 peek: change nothing; 3 fail: one
--                 OpFailure outside a program, no stop)
--               B 1 = the caller's clock follows, 0 = Redis TIME
--               i8 the caller's clock in unix microseconds
--               i4 operations, i4 strings that follow the record
--       per op  B kind  OpKind number (1 ban check, 2 failure, 3 throttle,
--                 4 count, 5 trust check, 6 trust set)
--               B flags 1 enforce, 2 stop on count (Fail2Ban), 4 a key
--                 string follows, 8 a ban key string, 16 a history key
--               B algo  throttle algorithm: 0 fixed, 1 sliding, 2 gcra
--               i8 ttl_ms  counter lifetime (the caller's; recomputed from
--                 the script's clock when the key has a window)
--               i8 limit   throttle/track limit, failure maxretry, GCRA burst
--               i8 period  window length in seconds (0 = none)
--               i4 window_at  1-based position of the window number in
--                 the key (0 = none)
--               i8 window  the window number the key names (-1 = unknown:
--                 the key's text is compared instead)
--               i8 rate    GCRA requests per period
--       OpFailure then:
--               i8 ban_ms, i8 history_ms (ban history lifetime, from each
--               ban), d factor (ban escalation), i8 max_ms (longest
--               escalated ban, 0 = ten years)
--   A new Op field goes at the end of its record (OP or FAILURE below and
--   program.go); a new Op kind adds a branch to the loop in run.
--
-- Reply: one element per program, in order: its result {stop, stop_at
-- (0-based), ban_ttl_us, now_us, then per operation: count, banned (0/1),
-- reset_us}, or a string (the error that stopped that program: a failing
-- program does not stop the others). Semantics are those of the memory
-- store (internal/store/memory), which a test compares number for number.

-- This runs once per decided request or batch, so it is written for
-- Redis' Lua: numbers come in binary (a tonumber costs about as much as a
-- GET), helper closures are few (each is made anew per call), TIME is
-- read once per call, and a key that already names the script's window is
-- recognized by its window number, without string work.

local call, tonumber, floor, ceil, max = redis.call, tonumber, math.floor, math.ceil, math.max
local find, sub, format, unpack = string.find, string.sub, string.format, struct.unpack
local argv = ARGV

-- Redis < 5 replicates scripts verbatim and refuses writes after TIME
-- unless effects replication is asked for; 5+ always does it.
-- redis.setresp marks 6.0+, which also has SET ... KEEPTTL.
local redis6 = redis.setresp ~= nil
if not redis6 and redis.replicate_commands then redis.replicate_commands() end

local HEADER, OP, FAILURE = '<BBi8i4i4', '<BBBi8i8i8i4i8i8', '<i8i8di8'
local PEEK, FAIL = 2, 3
local STOP_BANNED, STOP_FAILED, STOP_THROTTLED = 1, 2, 3
local CEILING_MS = 10 * 365 * 24 * 3600 * 1000

local now_us, now_s, write -- the running program's clock and mode
local redis_us -- Redis' TIME, read once per call

-- windowed returns key with its window number for this clock, shifted by
-- shift windows, and the counter lifetime to the end of that window + 1s.
local function windowed(key, at, period, ttl, shift)
  if at == 0 or period == 0 then return key, ttl end
  local stop = find(key, ':', at, true)
  if not stop then return key, ttl end
  local w = format('%d', floor(now_s / period) + shift)
  ttl = (period - now_s % period + 1) * 1000
  if sub(key, at, stop - 1) == w then return key, ttl end
  return sub(key, 1, at - 1) .. w .. sub(key, stop), ttl
end

-- window is windowed with no shift; the caller's key already names the
-- window unless the clocks disagree, and its number says so.
local function window(key, at, period, ttl, win)
  if at ~= 0 and period ~= 0 and floor(now_s / period) == win then
    return key, (period - now_s % period + 1) * 1000
  end
  return windowed(key, at, period, ttl, 0)
end

-- Values are "count:expires_us": the expiry is checked against the
-- script's clock (so a caller's clock works in tests), and PX lets Redis
-- drop the key too. load returns the count, the expiry as stored (a
-- string) and as a number.
local function load(key)
  local v = call('GET', key)
  if not v then return nil end
  local sep = find(v, ':', 1, true)
  if not sep then return tonumber(v) end
  local exps = sub(v, sep + 1)
  local exp = tonumber(exps)
  if exp <= now_us then return nil end
  return tonumber(sub(v, 1, sep - 1)), exps, exp
end

local function save(key, count, exp)
  call('SET', key, format('%d:%d', count, exp), 'PX', max(ceil((exp - now_us) / 1000), 1))
end

local function incr(key, ttl)
  local c, exps, exp = load(key)
  if c and exps then
    c = c + 1
    if write then
      -- The same expiry: the key keeps the TTL it was given with it.
      if redis6 then call('SET', key, format('%d:%s', c, exps), 'KEEPTTL') else save(key, c, exp) end
    end
  else
    c = 1
    if write then save(key, 1, now_us + ttl * 1000) end
  end
  return c
end

-- run evaluates one program: its record blob (the operations from byte
-- bp), its strings from ARGV[a].
local function run(blob, bp, a, mode, timed, clock, n)
  write = mode ~= PEEK
  if timed == 1 then
    now_us = clock
  else
    if not redis_us then
      local t = call('TIME')
      redis_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
    end
    now_us = redis_us
  end
  now_s = floor(now_us / 1000000)
  local out = {0, 0, 0, now_us}
  for i = 5, 4 + n * 3 do out[i] = 0 end
  local skip_failure = nil -- the BanKey of a dry-run ban: its OpFailure is skipped
  local trusted = nil -- the BanKey of a trusted pair: its rule's later ops are skipped
  for i = 1, n do
    local kind, flags, algo, ttl, limit, period, at, win, rate
    kind, flags, algo, ttl, limit, period, at, win, rate, bp = unpack(OP, blob, bp)
    local key, ban_key, history_key = '', '', ''
    if flags % 8 >= 4 then key, a = argv[a], a + 1 end
    if flags % 16 >= 8 then ban_key, a = argv[a], a + 1 end
    if flags >= 16 then history_key, a = argv[a], a + 1 end
    local ban_ms, history_ms, factor, max_ms
    if kind == 2 then ban_ms, history_ms, factor, max_ms, bp = unpack(FAILURE, blob, bp) end
    local o = 2 + 3 * i -- the operation's first reply slot (count)
    local stop = nil
    if trusted and ban_key == trusted then
      -- skipped: not run, count 0
    elseif kind == 3 then -- OpThrottle
      local c, reset
      if algo == 1 and period ~= 0 then -- sliding: mirrors store.Sliding
        local wkey, wttl = window(key, at, period, ttl, win)
        local cur = incr(wkey, wttl + period * 1000)
        local prev = 0
        local pkey = windowed(key, at, period, ttl, -1)
        if pkey ~= wkey then prev = load(pkey) or 0 end
        local p = period * 1000000
        local e = now_us - floor(now_s / period) * period * 1000000
        c, reset = floor((prev * (p - e) + cur * p + p - 1) / p), 0
        if c > limit then
          local room, dt = limit - cur - 1, nil
          if room >= 0 and prev > 0 then dt = p - e - floor(room * p / prev) end
          if dt and dt < p - e then
            reset = max(dt, 1)
          elseif limit < 1 then
            reset = p - e + p
          elseif cur == 0 then
            reset = p - e
          else
            reset = p - e + max(p - floor((limit - 1) * p / cur), 0)
          end
        end
      elseif algo == 2 then -- gcra: mirrors store.GCRAStep; the key holds the theoretical arrival time
        local interval = max(floor(period * 1000000 / max(rate, 1)), 1)
        local tat = load(key) or 0
        if tat < now_us then tat = now_us end
        local new_tat = tat + interval
        local used = new_tat - now_us
        c = floor((used + interval - 1) / interval)
        if used <= limit * interval then
          if write then save(key, new_tat, new_tat + 1000000) end
          reset = used
        else
          reset = used - limit * interval
        end
      else -- fixed, and a sliding window without a period
        c, reset = incr(window(key, at, period, ttl, win)), 0
      end
      out[o], out[o + 2] = c, reset
      if c > limit and flags % 2 == 1 then stop = STOP_THROTTLED end
    elseif kind == 1 then -- OpBanCheck
      local since, _, exp = load(ban_key)
      local left = 0
      if since then
        left = 1 -- a ban without expiry: banned
        if exp then left = exp - now_us end
      end
      if left > 0 then
        if flags % 2 == 1 then
          out[3] = left
          stop = STOP_BANNED
        else
          out[o] = 1
          skip_failure = ban_key
        end
      end
    elseif kind == 4 then -- OpCount
      out[o] = incr(window(key, at, period, ttl, win))
    elseif kind == 2 then -- OpFailure
      if ban_key ~= skip_failure then
        local c = incr(window(key, at, period, ttl, win))
        out[o] = c
        if c >= limit then
          -- The ban's length mirrors store.EscalatedBanTTL (to the
          -- millisecond) and the ban is recorded in the key's history.
          local ms = ban_ms
          if history_key ~= '' then
            local k = (load(history_key) or 0) + 1
            if write then save(history_key, k, now_us + history_ms * 1000) end
            local cap = max_ms
            if cap <= 0 or cap > CEILING_MS then cap = CEILING_MS end
            local d = ban_ms * max(factor, 1) ^ max(k - 1, 0)
            if d ~= d or d >= cap then ms = cap else ms = floor(d) end
          end
          if write then save(ban_key, now_us, now_us + ms * 1000) end
          out[o + 1] = 1
        end
        if floor(flags / 2) % 2 == 1 and mode ~= FAIL then stop = STOP_FAILED end
      end
    elseif kind == 5 then -- OpTrustCheck
      if load(key) then
        out[o] = 1
        trusted = ban_key
      end
    elseif kind == 6 then -- OpTrustSet
      if write then save(key, 1, now_us + ttl * 1000) end
      out[o] = 1
    end
    if stop then
      out[1], out[2] = stop, i - 1
      return out
    end
  end
  return out
end

-- Errors that say the server cannot take the call (a demoted primary, a
-- full memory, a failed save, a moved slot) are every program's: they end
-- the whole call as its error reply, so the client acts on them as on any
-- command's (go-redis drops a connection that answered READONLY and dials
-- the primary again; a Cluster client follows MOVED). No program before it
-- wrote: each refuses the call's first write.
local SERVER_ERRORS = {READONLY = true, OOM = true, MISCONF = true, NOREPLICAS = true, MASTERDOWN = true,
  LOADING = true, BUSY = true, CLUSTERDOWN = true, MOVED = true, ASK = true, TRYAGAIN = true}

-- Each program runs in pcall: any other error (a Redis error such as
-- WRONGTYPE, or a bad record) ends that program only, as when each was a
-- call of its own. It is answered as a string, not an error reply inside
-- the array, which some clients read as the whole reply's failure.
local replies, a, nargs = {}, 1, #argv
while a <= nargs do
  local blob = argv[a]
  local mode, timed, clock, n, nstr, bp = unpack(HEADER, blob)
  local ok, out = pcall(run, blob, bp, a + 1, mode, timed, clock, n)
  if not ok then
    -- Redis 7 raises a table {err = ...}, older ones the message.
    if type(out) == 'table' then out = out.err end
    out = tostring(out)
    local _, _, code = find(out, '^%-?(%u+) ')
    if code and SERVER_ERRORS[code] then return redis.error_reply(out) end
  end
  replies[#replies + 1] = out
  a = a + 1 + nstr
end
return replies
