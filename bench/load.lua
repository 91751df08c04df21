-- wrk script for bench/run.sh: one API scenario per run.
--   wrk -t T -c C -d D -s bench/load.lua http://127.0.0.1:PORT -- SCENARIO T
-- Environment: BENCH_TOKEN (the caller's session token) and BENCH_DIR (where
-- bench_gen wrote persona_ids.txt and project_ids.txt).
-- At the end it prints one line that run.sh reads:
--   RESULT requests=N seconds=S rps=R p50_ms=A p99_ms=B non2xx=E sockerr=F

local scenario, nthreads
local ids = {}
local counter = 0
local first, slice = 1, 1

local function read_lines(path)
   local out = {}
   local f = assert(io.open(path, "r"), "cannot read " .. path)
   for line in f:lines() do
      if #line > 0 then out[#out + 1] = line end
   end
   f:close()
   return out
end

local next_tid = 0
function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

function init(args)
   scenario = args[1]
   nthreads = tonumber(args[2] or "1")
   local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
   local dir = assert(os.getenv("BENCH_DIR"), "BENCH_DIR is not set")
   wrk.headers["Authorization"] = "Bearer " .. token
   math.randomseed(1000 + tid)
   if scenario == "project_get" then
      ids = read_lines(dir .. "/project_ids.txt")
   elseif scenario == "persona_update" then
      -- Each thread cycles through its own share of the caller's personas,
      -- so two in-flight updates of one persona (a 412 by design) are rare.
      ids = read_lines(dir .. "/persona_ids.txt")
      slice = math.floor(#ids / nthreads)
      first = tid * slice + 1
      wrk.method = "PATCH"
      wrk.headers["Content-Type"] = "application/json"
   end
end

local paths = {
   personas_list = "/api/v1/personas",
   channels_list = "/api/v1/channels",
   projects_list = "/api/v1/projects?limit=20",
}

function request()
   if scenario == "project_get" then
      return wrk.format("GET", "/api/v1/projects/" .. ids[math.random(#ids)])
   elseif scenario == "persona_update" then
      local k = counter % slice
      local visit = math.floor(counter / slice)
      counter = counter + 1
      -- Consecutive visits to one persona always change its temperature, so
      -- every request writes a new version and a history row.
      local body = string.format('{"temperature": %.2f, "change_reason": "bench"}',
                                 (visit % 200) / 100)
      return wrk.format("PATCH", "/api/v1/personas/" .. ids[first + k], nil, body)
   end
   return wrk.format("GET", paths[scenario])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d sockerr=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.status,
      e.connect + e.read + e.write + e.timeout))
end
