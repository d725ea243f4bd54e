dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
function request()
  return wrk.format("GET", "/api/v1/services/" .. pick(services))
end
