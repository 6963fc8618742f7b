-- wrk script of the content benchmark (bench/content.py).
--
--   wrk -t2 -c16 -d10s --latency -s bench/content.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- Requests the paths of PATHS_FILE (one a line: /items/17/, /search/?q=…) in turn, each thread
-- from its own starting point, so that a measure reads many items rather than one from the
-- caches; without a file, the URL's own path. At the end, one line of JSON with what
-- bench/content.py reads: requests, duration (µs), bytes, errors, latency percentiles (µs).

local paths = {}
local next_index = 1
local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  local file = args[1]
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        paths[#paths + 1] = line
      end
    end
  end
  if #paths > 0 then
    -- Threads start far apart in the list: two threads never walk the same items together.
    next_index = ((thread_number or 0) * math.floor(#paths / 2)) % #paths + 1
  end
end

function request()
  if #paths == 0 then
    return wrk.request()
  end
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
