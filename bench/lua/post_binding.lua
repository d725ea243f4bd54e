-- POST a binding, then DELETE what was created, so the dataset stays the same size.
-- The reported rate counts both requests: every one is a write transaction.
dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
created = {}

function request()
  if #created > 0 then
    return wrk.format("DELETE", "/api/v1/bindings/" .. table.remove(created))
  end
  local service, port, ip = string.match(pick(post_targets), "([^|]+)|([^|]+)|([^|]+)")
  local body = '{"service_id":"' .. service .. '","type":"Port","port_id":"' .. port ..
               '","ip_address_id":"' .. ip .. '"}'
  return wrk.format("POST", "/api/v1/bindings", nil, body)
end

function response(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"id":"([^"]+)"')
    if id then table.insert(created, id) end
  end
end
