dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
-- A page of 50 hosts with their addresses, ports and services, as the 0.17 clients list them.
function request()
  local pages = math.max(1, math.min(20, math.floor(#hosts / 50)))
  local offset = (math.random(1, pages) - 1) * 50
  return wrk.format("GET", "/api/v1/hosts?include=children&limit=50&offset=" .. offset)
end
