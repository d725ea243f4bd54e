-- PUT the bench service so that every request changes its state: a new name each time, and its
-- bindings alternating between all ten ports and the first five (five closed or five created).
-- Works against any schema version, so the same load measures a commit before history too.
dofile(os.getenv("PORTOLAN_BENCH_LUA") .. "/common.lua")
local function bindings(n)
  local parts = {}
  for i = 1, n do
    parts[i] = '{"type":"Port","port_id":"' .. put_ports[i] .. '","ip_address_id":null}'
  end
  return table.concat(parts, ",")
end
local sets = { bindings(#put_ports), bindings(5) }
local prefix = tostring(math.random(1, 1000000000))
function request()
  counter = counter + 1
  local body = '{"host_id":"' .. put_host .. '","network_id":"' .. network ..
               '","name":"bench-put-' .. prefix .. '-' .. counter ..
               '","service_definition":"Nginx Proxy Manager","position":0,"tags":[],' ..
               '"virtualization":null,"bindings":[' .. sets[(counter % 2) + 1] .. ']}'
  return wrk.format("PUT", "/api/v1/services/" .. put_service, nil, body)
end
