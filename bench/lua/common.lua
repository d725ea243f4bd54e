-- Shared by every endpoint script: the ids the seeder wrote, the API key, a rotating counter.
dofile(os.getenv("PORTOLAN_BENCH_IDS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PORTOLAN_KEY")
wrk.headers["Content-Type"] = "application/json"
counter = 0

function pick(list)
  counter = counter + 1
  return list[(counter % #list) + 1]
end
