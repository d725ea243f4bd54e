-- Alternate the image tag so every PATCH changes the stored template.
dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
function request()
  local id = pick(templates)
  local body = '{"imageTag":"v' .. (counter % 7) .. '","baseEnv":{"PORT":"' .. (9000 + counter % 50) .. '"}}'
  return wrk.format("PATCH", "/api/v1/service-templates/" .. id, nil, body)
end
