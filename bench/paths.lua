-- wrk script for `make bench`: cycles through the paths in a file (one per line), each thread
-- starting at a different one, so a run loads several different queries rather than one hot URL.
--   wrk ... -s bench/paths.lua -- <paths file> [<max responses per thread>]
-- The Cookie header (a signed-in session) is passed with wrk's -H.
-- Prints one line "WRK_RESULT {json}" with requests, duration, p50/p99 latency and the number of
-- responses that were not 200 (a redirect to the login page must not count as a fast page).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  limit = tonumber(args[2] or "0") or 0
  position = id
  received = 0
  not_ok = 0
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 then not_ok = not_ok + 1 end
  if limit > 0 and received >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("not_ok") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "not_200": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect + e.read + e.write + e.timeout))
end
