-- wootguard: one store program (internal/store/store.go) in one call.
--
-- Encoding (built by encode in program.go; keep both in step):
--   KEYS[1]  the hash tag "{prefix}": every key below carries it, so in a
--            Redis Cluster the whole script runs on one slot.
--   ARGV[1]  mode: "run" (count), "peek" (change nothing), "fail" (one
--            OpFailure outside a program: no stop)
--   ARGV[2]  the caller's clock in unix microseconds, or "" for Redis TIME
--   ARGV[3]  STRIDE, the number of ARGV fields per operation
--   then one group of STRIDE fields per operation, in program order:
--     1 kind      OpKind number (1 ban check, 2 failure, 3 throttle, 4 count,
--                 5 trust check, 6 trust set)
--     2 key       counter key ("" for a ban check)
--     3 ttl_ms    counter lifetime (the caller's; recomputed from Redis'
--                 clock when the key has a window)
--     4 limit     throttle/track limit, failure maxretry, GCRA burst
--     5 ban_key   ban key (ban check, failure)
--     6 ban_ms    ban time (failure)
--     7 flags     1 = enforce, 2 = stop on count (Fail2Ban)
--     8 period    window length in seconds (0 = none)
--     9 window_at 1-based position of the window number in key (0 = none)
--    10 algo      throttle algorithm: 0 fixed, 1 sliding, 2 gcra
--    11 rate      GCRA requests per period
--    12 history_key  ban history key ("" = no escalation; failure)
--    13 history_ms   ban history lifetime, from each ban
--    14 factor       ban escalation factor (a float)
--    15 max_ms       longest escalated ban (0 = ten years)
--   A new Op field goes at the end of the group (raise STRIDE in
--   program.go); a new Op kind adds a branch to the loop at the end.
--
-- Reply: {stop, stop_at (0-based), ban_ttl_us, now_us, then per operation:
-- count, banned (0/1), reset_us}. Semantics are those of the memory store
-- (internal/store/memory), which a test compares number for number.

-- This runs once per decided request, so it is written for Redis' Lua:
-- ARGV fields are read where an operation needs them (no table per
-- operation), library functions are locals, and the loop dispatches on the
-- kind with plain comparisons. A table or a closure built per call costs
-- about as much as a GET.

-- Redis < 5 replicates scripts verbatim and refuses writes after TIME
-- unless effects replication is asked for; 5+ always does it.
if redis.replicate_commands then redis.replicate_commands() end

local call, tonumber, floor = redis.call, tonumber, math.floor
local find, sub, format = string.find, string.sub, string.format
local argv = ARGV

local mode = argv[1]
local write = mode ~= 'peek'
local now_us
if argv[2] == '' then
  local t = call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now_us = tonumber(argv[2])
end
local now_s = floor(now_us / 1000000)
local stride = tonumber(argv[3])
local n = floor((#argv - 3) / stride)

local out = {0, 0, 0, now_us}
for i = 5, 4 + n * 3 do out[i] = 0 end

-- windowed returns key with its window number for this clock, shifted by
-- shift windows, and the counter lifetime to the end of that window + 1s.
-- The caller's key already names that window unless the clocks disagree.
local function windowed(key, at, period, ttl, shift)
  if at == 0 or period == 0 then return key, ttl end
  local stop = find(key, ':', at, true)
  if not stop then return key, ttl end
  local w = format('%d', floor(now_s / period) + shift)
  ttl = (period - now_s % period + 1) * 1000
  if sub(key, at, stop - 1) == w then return key, ttl end
  return sub(key, 1, at - 1) .. w .. sub(key, stop), ttl
end

-- Values are "count:expires_us": the expiry is checked against the
-- script's clock (so a caller's clock works in tests), and PX lets Redis
-- drop the key too.
local function load(key)
  local v = call('GET', key)
  if not v then return nil, nil end
  local sep = find(v, ':', 1, true)
  if not sep then return tonumber(v), nil end
  local exp = tonumber(sub(v, sep + 1))
  if exp <= now_us then return nil, nil end
  return tonumber(sub(v, 1, sep - 1)), exp
end

local function save(key, count, exp)
  call('SET', key, format('%d:%d', count, exp), 'PX', math.max(math.ceil((exp - now_us) / 1000), 1))
end

local function incr(key, ttl)
  local c, exp = load(key)
  if c and exp then
    c = c + 1
  else
    c, exp = 1, now_us + ttl * 1000
  end
  if write then save(key, c, exp) end
  return c
end

local function ban_left(ban_key)
  local since, exp = load(ban_key)
  if not since then return 0 end
  if not exp then return 1 end -- a ban without expiry: banned
  return exp - now_us
end

-- ban_length mirrors store.EscalatedBanTTL (to the millisecond) and
-- records the ban in the key's history (Op.HistoryKey); b is the
-- operation's ARGV base.
local CEILING_MS = 10 * 365 * 24 * 3600 * 1000
local function ban_length(b)
  local ban_ms, history_key = tonumber(argv[b + 6]), argv[b + 12]
  if history_key == '' then return ban_ms end
  local k = (load(history_key) or 0) + 1
  if write then save(history_key, k, now_us + tonumber(argv[b + 13]) * 1000) end
  local cap = tonumber(argv[b + 15])
  if cap <= 0 or cap > CEILING_MS then cap = CEILING_MS end
  local d = ban_ms * math.max(tonumber(argv[b + 14]), 1) ^ math.max(k - 1, 0)
  if d ~= d or d >= cap then return cap end
  return floor(d)
end

-- sliding mirrors store.Sliding.
local function sliding(key, ttl, limit, period, at)
  local wkey, wttl = windowed(key, at, period, ttl, 0)
  local cur = incr(wkey, wttl + period * 1000)
  local prev = 0
  local pkey = windowed(key, at, period, ttl, -1)
  if pkey ~= wkey then prev = load(pkey) or 0 end
  local p = period * 1000000
  local e = now_us - floor(now_s / period) * period * 1000000
  local count = floor((prev * (p - e) + cur * p + p - 1) / p)
  if count <= limit then return count, 0 end
  local room = limit - cur - 1
  if room >= 0 and prev > 0 then
    local dt = p - e - floor(room * p / prev)
    if dt < p - e then return count, math.max(dt, 1) end
  end
  local to_next = p - e
  if limit < 1 then return count, to_next + p end
  if cur == 0 then return count, to_next end
  local e2 = p - floor((limit - 1) * p / cur)
  return count, to_next + math.max(e2, 0)
end

-- gcra mirrors store.GCRAStep; the key holds the theoretical arrival time.
local function gcra(key, limit, period, rate)
  local interval = math.max(floor(period * 1000000 / math.max(rate, 1)), 1)
  local tat = load(key) or 0
  if tat < now_us then tat = now_us end
  local new_tat = tat + interval
  local used = new_tat - now_us
  local count = floor((used + interval - 1) / interval)
  if used <= limit * interval then
    if write then save(key, new_tat, new_tat + 1000000) end
    return count, used
  end
  return count, used - limit * interval
end

local STOP_BANNED, STOP_FAILED, STOP_THROTTLED = 1, 2, 3
local skip_failure = nil -- the BanKey of a dry-run ban: its OpFailure is skipped
local trusted = nil -- the BanKey of a trusted pair: its rule's later ops are skipped

-- One branch per OpKind; o is the operation's first reply slot (count),
-- b its ARGV base (field k of the group is argv[b + k]).
for i = 1, n do
  local b = 3 + (i - 1) * stride
  local o = 2 + 3 * i
  local kind = tonumber(argv[b + 1])
  local ban_key = argv[b + 5]
  local stop = nil
  if trusted and ban_key == trusted then
    -- skipped: not run, count 0
  elseif kind == 3 then -- OpThrottle
    local key, ttl, limit = argv[b + 2], tonumber(argv[b + 3]), tonumber(argv[b + 4])
    local period, at, algo = tonumber(argv[b + 8]), tonumber(argv[b + 9]), tonumber(argv[b + 10])
    local c, reset
    if algo == 1 and period ~= 0 then
      c, reset = sliding(key, ttl, limit, period, at)
    elseif algo == 2 then
      c, reset = gcra(key, limit, period, tonumber(argv[b + 11]))
    else -- fixed, and a sliding window without a period
      c, reset = incr(windowed(key, at, period, ttl, 0)), 0
    end
    out[o], out[o + 2] = c, reset
    if c > limit and tonumber(argv[b + 7]) % 2 == 1 then stop = STOP_THROTTLED end
  elseif kind == 1 then -- OpBanCheck
    local left = ban_left(ban_key)
    if left > 0 then
      if tonumber(argv[b + 7]) % 2 == 1 then
        out[3] = left
        stop = STOP_BANNED
      else
        out[o] = 1
        skip_failure = ban_key
      end
    end
  elseif kind == 4 then -- OpCount
    out[o] = incr(windowed(argv[b + 2], tonumber(argv[b + 9]), tonumber(argv[b + 8]), tonumber(argv[b + 3]), 0))
  elseif kind == 2 then -- OpFailure
    if ban_key ~= skip_failure then
      local c = incr(windowed(argv[b + 2], tonumber(argv[b + 9]), tonumber(argv[b + 8]), tonumber(argv[b + 3]), 0))
      out[o] = c
      if c >= tonumber(argv[b + 4]) then
        local ms = ban_length(b)
        if write then save(ban_key, now_us, now_us + ms * 1000) end
        out[o + 1] = 1
      end
      if floor(tonumber(argv[b + 7]) / 2) % 2 == 1 and mode ~= 'fail' then stop = STOP_FAILED end
    end
  elseif kind == 5 then -- OpTrustCheck
    if load(argv[b + 2]) then
      out[o] = 1
      trusted = ban_key
    end
  elseif kind == 6 then -- OpTrustSet
    if write then save(argv[b + 2], 1, now_us + tonumber(argv[b + 3]) * 1000) end
    out[o] = 1
  end
  if stop then
    out[1], out[2] = stop, i - 1
    return out
  end
end
return out
