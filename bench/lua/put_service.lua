-- PUT the bench service with its ten bindings, resent without ids (reconciled, ids kept).
dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
local parts = {}
for i, port in ipairs(put_ports) do
  parts[i] = '{"type":"Port","port_id":"' .. port .. '","ip_address_id":null}'
end
local body = '{"host_id":"' .. put_host .. '","network_id":"' .. network ..
             '","name":"bench-put","service_definition":"Nginx Proxy Manager","position":0,"tags":[],' ..
             '"virtualization":null,"bindings":[' .. table.concat(parts, ",") .. ']}'
function request()
  return wrk.format("PUT", "/api/v1/services/" .. put_service, nil, body)
end
