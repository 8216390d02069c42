-- wrk script shared by the benchmarks.
--
-- Environment:
--   BENCH_REQUESTS  file of pre-signed requests, one per line:
--                   webhook-id<TAB>webhook-timestamp<TAB>webhook-signature<TAB>body
--                   Thread k of n sends lines k, k+n, k+2n ... (its own slice), each once;
--                   when a slice runs out it wraps (counted as "wrapped": repeats are
--                   duplicates, so a valid run has wrapped == 0).
--                   Unset: every request is the same small JSON POST (bare endpoints).
--   BENCH_RATE      total target rate, req/s, over all threads (0 or unset: as fast as
--                   possible). Paced runs use wrk's delay() hook with an absolute schedule
--                   per thread (slot k at t0 + k/rate_per_thread), so rounding never drifts;
--                   latency is measured from the actual send (no coordinated-omission fix).
--   WRK_THREADS     number of wrk threads (the harness sets it to match -t).
--
-- done() prints one line "BENCHJSON {...}" with totals, latency percentiles (microseconds),
-- per-status counts and the send counters of every thread.

local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local file = os.getenv("BENCH_REQUESTS")

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
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function init(args)
  reqs = {}
  idx = 0
  sent = 0
  wrapped = 0
  codes = {}
  local path = wrk.path
  if file and file ~= "" then
    local i = 0
    for line in io.lines(file) do
      if i % nthreads == tid then
        local id, stamp, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
        reqs[#reqs + 1] = wrk.format("POST", path, {
          ["Content-Type"] = "application/json",
          ["webhook-id"] = id,
          ["webhook-timestamp"] = stamp,
          ["webhook-signature"] = sig,
        }, body)
      end
      i = i + 1
    end
  else
    reqs[1] = wrk.format("POST", path, { ["Content-Type"] = "application/json" },
      '{"type":"social.shared","member_id":"M-1","data":{"network":"x"}}')
  end
  per_thread_interval = 0
  if rate > 0 then
    per_thread_interval = 1000.0 * nthreads / rate
  end
  next_slot = nil
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    if file and file ~= "" then wrapped = wrapped + 1 end
  end
  sent = sent + 1
  return reqs[idx]
end

if rate > 0 then
  function delay()
    local now = now_ms()
    if next_slot == nil or next_slot < now - 1000 then
      next_slot = now -- start, or more than 1 s behind: do not burst to catch up
    end
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
  for k, v in pairs(t) do
    parts[#parts + 1] = string.format('"%s":%d', tostring(k), v)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_codes, total_sent, total_wrapped = {}, 0, 0
  for _, thread in ipairs(threads) do
    local c = thread:get("codes") or {}
    for k, v in pairs(c) do all_codes[k] = (all_codes[k] or 0) + v end
    total_sent = total_sent + (thread:get("sent") or 0)
    total_wrapped = total_wrapped + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  local out = string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"mean":%.1f,"max":%d},' ..
    '"codes":%s,"sent":%d,"wrapped":%d,"target_rate":%s}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max,
    json_table(all_codes), total_sent, total_wrapped, tostring(rate))
  io.write(out .. "\n")
end
