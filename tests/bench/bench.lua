-- wrk script shared by every scenario of tests/bench/run.sh.
--
-- Usage: wrk ... -s bench.lua URL -- <kind> [body_file] [token] [expect]
--   kind       a label echoed in the result line (healthz, me, signin, ...)
--   body_file  a file holding the JSON body to POST; omitted or "-" means a plain GET
--   token      a bearer token sent as `Authorization: Bearer <token>`; omitted or "-" means none
--   expect     a substring a successful body must contain (e.g. "username"); omitted or "-" means any
--
-- Every response is classified, per thread, then summed in done():
--   ok            status 200, no "errors" key, and `expect` found in the body
--   rate_limited  the body carries the RATE_LIMITED error code (sign-in admission refused)
--   gql_errors    status 200 with any other GraphQL error, or `expect` missing
--   non200        any other HTTP status
-- done() prints one line, `RESULT key=value ...`, that run.sh parses. Latencies are microseconds from
-- wrk's histogram; note that wrk, like any closed-loop tool, under-reports tails (coordinated omission).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local function arg_or_nil(value)
   if value == nil or value == "" or value == "-" then
      return nil
   end
   return value
end

function init(args)
   kind = args[1] or "?"
   local body_file = arg_or_nil(args[2])
   local token = arg_or_nil(args[3])
   expect = arg_or_nil(args[4])

   if body_file then
      local f = assert(io.open(body_file, "rb"))
      wrk.method = "POST"
      wrk.body = f:read("*a")
      f:close()
      wrk.headers["Content-Type"] = "application/json"
   end
   if token then
      wrk.headers["Authorization"] = "Bearer " .. token
   end

   ok, rate_limited, gql_errors, non200 = 0, 0, 0, 0
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
   elseif body:find("RATE_LIMITED", 1, true) then
      rate_limited = rate_limited + 1
   elseif body:find('"errors"', 1, true) or (expect and not body:find(expect, 1, true)) then
      gql_errors = gql_errors + 1
   else
      ok = ok + 1
   end
end

function done(summary, latency, requests)
   local totals = { ok = 0, rate_limited = 0, gql_errors = 0, non200 = 0 }
   local label = "?"
   for _, thread in ipairs(threads) do
      for key, _ in pairs(totals) do
         totals[key] = totals[key] + (thread:get(key) or 0)
      end
      label = thread:get("kind") or label
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT kind=%s requests=%d seconds=%.2f rps=%.1f ok_rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
         .. "ok=%d rate_limited=%d gql_errors=%d non200=%d sock_errors=%d timeouts=%d\n",
      label, summary.requests, seconds, summary.requests / seconds, totals.ok / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000,
      totals.ok, totals.rate_limited, totals.gql_errors, totals.non200,
      e.connect + e.read + e.write, e.timeout))
end
