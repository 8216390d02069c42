-- wrk script of bench/redirect.py: GET /s/<code> for codes read from a file, round robin,
-- each request with a browser user agent of its own visitor (VISITORS distinct ones), so
-- the app counts, repeats and writes clicks as it would for people.
--
-- Environment: BENCH_CODES (one code per line), BENCH_RATE (total req/s, 0: flat out),
-- BENCH_VISITORS (distinct user agents, default 5000), WRK_THREADS.
-- done() prints "BENCHJSON {...}" like wrk_signed.lua.

local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local visitors = tonumber(os.getenv("BENCH_VISITORS") or "5000")
local file = os.getenv("BENCH_CODES")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function init(args)
  codes_list = {}
  for line in io.lines(file) do codes_list[#codes_list + 1] = line end
  idx = tid * 7919
  sent = 0
  wrapped = 0
  codes = {}
  per_thread_interval = 0
  if rate > 0 then per_thread_interval = 1000.0 * nthreads / rate end
  next_slot = nil
end

function request()
  idx = idx + 1
  sent = sent + 1
  local code = codes_list[(idx % #codes_list) + 1]
  local agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/" .. tostring(idx % visitors) .. ".0"
  return wrk.format("GET", "/s/" .. code, { ["User-Agent"] = agent })
end

if rate > 0 then
  function delay()
    local now = now_ms()
    if next_slot == nil or next_slot < now - 1000 then next_slot = now end
    local slot = next_slot
    next_slot = next_slot + per_thread_interval
    local d = slot - now
    if d < 0 then return 0 end
    return math.floor(d + 0.5)
  end
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

local function json_table(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s":%d', tostring(k), v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_codes, total_sent = {}, 0
  for _, thread in ipairs(threads) do
    local c = thread:get("codes") or {}
    for k, v in pairs(c) do all_codes[k] = (all_codes[k] or 0) + v end
    total_sent = total_sent + (thread:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"mean":%.1f,"max":%d},' ..
    '"codes":%s,"sent":%d,"wrapped":0,"target_rate":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max,
    json_table(all_codes), total_sent, tostring(rate)))
end
