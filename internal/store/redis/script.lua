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
--   program.go); a new Op kind adds a function to the `op` table below.
--
-- Reply: {stop, stop_at (0-based), ban_ttl_us, now_us, then per operation:
-- count, banned (0/1), reset_us}. Semantics are those of the memory store
-- (internal/store/memory), which a test compares number for number.

-- Redis < 5 replicates scripts verbatim and refuses writes after TIME
-- unless effects replication is asked for; 5+ always does it.
if redis.replicate_commands then redis.replicate_commands() end

local mode = ARGV[1]
local write = mode ~= 'peek'
local now_us
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now_us = tonumber(ARGV[2])
end
local now_s = math.floor(now_us / 1000000)
local stride = tonumber(ARGV[3])
local n = math.floor((#ARGV - 3) / stride)

local out = {0, 0, 0, now_us}
for i = 1, n * 3 do out[4 + i] = 0 end

-- windowed returns key with its window number for this clock, shifted by
-- shift windows, and the counter lifetime to the end of that window + 1s.
local function windowed(key, at, period, ttl, shift)
  if at == 0 or period == 0 then return key, ttl end
  local stop = string.find(key, ':', at, true)
  if not stop then return key, ttl end
  local w = math.floor(now_s / period) + shift
  return string.sub(key, 1, at - 1) .. string.format('%d', w) .. string.sub(key, stop),
    (period - now_s % period + 1) * 1000
end

-- Values are "count:expires_us": the expiry is checked against the
-- script's clock (so a caller's clock works in tests), and PX lets Redis
-- drop the key too.
local function load(key)
  local v = redis.call('GET', key)
  if not v then return nil, nil end
  local sep = string.find(v, ':', 1, true)
  if not sep then return tonumber(v), nil end
  local exp = tonumber(string.sub(v, sep + 1))
  if exp <= now_us then return nil, nil end
  return tonumber(string.sub(v, 1, sep - 1)), exp
end

local function save(key, count, exp)
  redis.call('SET', key, string.format('%d:%d', count, exp), 'PX', math.max(math.ceil((exp - now_us) / 1000), 1))
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
-- records the ban in the key's history (Op.HistoryKey).
local CEILING_MS = 10 * 365 * 24 * 3600 * 1000
local function ban_length(a)
  if a.history_key == '' then return a.ban_ms end
  local n = (load(a.history_key) or 0) + 1
  if write then save(a.history_key, n, now_us + a.history_ms * 1000) end
  local cap = a.max_ms
  if cap <= 0 or cap > CEILING_MS then cap = CEILING_MS end
  local d = a.ban_ms * math.max(a.factor, 1) ^ math.max(n - 1, 0)
  if d ~= d or d >= cap then return cap end
  return math.floor(d)
end

local function fail(a)
  local key, ttl = windowed(a.key, a.at, a.period, a.ttl, 0)
  local c = incr(key, ttl)
  if c < a.limit then return c, 0 end
  local ms = ban_length(a)
  if write then save(a.ban_key, now_us, now_us + ms * 1000) end
  return c, 1
end

local function fixed(a)
  local key, ttl = windowed(a.key, a.at, a.period, a.ttl, 0)
  return incr(key, ttl), 0
end

-- sliding mirrors store.Sliding.
local function sliding(a)
  if a.period == 0 then return fixed(a) end
  local key, ttl = windowed(a.key, a.at, a.period, a.ttl, 0)
  local cur = incr(key, ttl + a.period * 1000)
  local prev = 0
  local pkey = windowed(a.key, a.at, a.period, a.ttl, -1)
  if pkey ~= key then prev = load(pkey) or 0 end
  local p = a.period * 1000000
  local e = now_us - math.floor(now_s / a.period) * a.period * 1000000
  local count = math.floor((prev * (p - e) + cur * p + p - 1) / p)
  if count <= a.limit then return count, 0 end
  local room = a.limit - cur - 1
  if room >= 0 and prev > 0 then
    local dt = p - e - math.floor(room * p / prev)
    if dt < p - e then return count, math.max(dt, 1) end
  end
  local to_next = p - e
  if a.limit < 1 then return count, to_next + p end
  if cur == 0 then return count, to_next end
  local e2 = p - math.floor((a.limit - 1) * p / cur)
  return count, to_next + math.max(e2, 0)
end

-- gcra mirrors store.GCRAStep; the key holds the theoretical arrival time.
local function gcra(a)
  local interval = math.max(math.floor(a.period * 1000000 / math.max(a.rate, 1)), 1)
  local tat = load(a.key) or 0
  if tat < now_us then tat = now_us end
  local new_tat = tat + interval
  local used = new_tat - now_us
  local count = math.floor((used + interval - 1) / interval)
  if used <= a.limit * interval then
    if write then save(a.key, new_tat, new_tat + 1000000) end
    return count, used
  end
  return count, used - a.limit * interval
end

local throttle = {[0] = fixed, [1] = sliding, [2] = gcra}

local STOP_BANNED, STOP_FAILED, STOP_THROTTLED = 1, 2, 3
local skip_failure = nil

-- One function per OpKind. Each returns nil to go on, or a stop reason.
local op = {}
op[1] = function(i, a) -- OpBanCheck
  local left = ban_left(a.ban_key)
  if left <= 0 then return nil end
  if not a.enforce then
    out[4 + 3 * i - 2] = 1
    skip_failure = a.ban_key
    return nil
  end
  out[3] = left
  return STOP_BANNED
end
op[2] = function(i, a) -- OpFailure
  if a.ban_key == skip_failure then return nil end
  local c, banned = fail(a)
  out[4 + 3 * i - 2], out[4 + 3 * i - 1] = c, banned
  if a.stop_on_count and mode ~= 'fail' then return STOP_FAILED end
  return nil
end
op[3] = function(i, a) -- OpThrottle
  local f = throttle[a.algo] or fixed
  local c, reset = f(a)
  out[4 + 3 * i - 2], out[4 + 3 * i] = c, reset
  if c > a.limit and a.enforce then return STOP_THROTTLED end
  return nil
end
op[4] = function(i, a) -- OpCount
  out[4 + 3 * i - 2] = fixed(a)
  return nil
end
local trusted = nil -- the BanKey of a trusted pair: its rule's later ops are skipped
op[5] = function(i, a) -- OpTrustCheck
  if load(a.key) then
    out[4 + 3 * i - 2] = 1
    trusted = a.ban_key
  end
  return nil
end
op[6] = function(i, a) -- OpTrustSet
  if write then save(a.key, 1, now_us + a.ttl * 1000) end
  out[4 + 3 * i - 2] = 1
  return nil
end

for i = 1, n do
  local b = 3 + (i - 1) * stride
  local flags = tonumber(ARGV[b + 7])
  local a = {
    key = ARGV[b + 2], ttl = tonumber(ARGV[b + 3]), limit = tonumber(ARGV[b + 4]),
    ban_key = ARGV[b + 5], ban_ms = tonumber(ARGV[b + 6]),
    enforce = flags % 2 == 1, stop_on_count = math.floor(flags / 2) % 2 == 1,
    period = tonumber(ARGV[b + 8]), at = tonumber(ARGV[b + 9]),
    algo = tonumber(ARGV[b + 10]), rate = tonumber(ARGV[b + 11]),
    history_key = ARGV[b + 12], history_ms = tonumber(ARGV[b + 13]),
    factor = tonumber(ARGV[b + 14]), max_ms = tonumber(ARGV[b + 15]),
  }
  local f = op[tonumber(ARGV[b + 1])]
  if trusted and a.ban_key == trusted then f = nil end
  if f then
    local stop = f(i, a)
    if stop then
      out[1], out[2] = stop, i - 1
      return out
    end
  end
end
return out
