#!/usr/bin/env python3
"""Impact benchmark: GET /api/v1/services/{id}/impact in a network of 1,000 hosts and 10,000
services with 2,000 dependency links (1,000 request paths of three services drawn at random,
seeded), against GET /api/v1/services/{id} in the same run; plus a chain of 200 links end to end
(every service on it reached, each with its whole path).

    bench/run impact          the full size
    bench/run impact quick    a small version that proves the script works (CI)
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
HOSTS = 50 if QUICK else 1000
PATHS = 50 if QUICK else 1000
SECONDS = 2 if QUICK else 10
CHAIN = 20 if QUICK else 200


def wrk(api, path):
    lua = os.path.join(tempfile.mkdtemp(), "get.lua")
    with open(lua, "w") as f:
        f.write('wrk.headers["Authorization"] = "Bearer %s"\nwrk.path = "%s"\n' % (api.key, path))
    out = subprocess.run(["wrk", "-t1", "-c1", "-d%ds" % SECONDS, "--latency", "-s", lua, api.base],
                         capture_output=True, text=True, check=True).stdout

    def ms(label):
        v = [l for l in out.splitlines() if l.strip().startswith(label)][0].split()[1]
        n = float(re.match(r"[0-9.]+", v).group())
        return n / 1000 if v.endswith("us") else n * 1000 if v.endswith("s") and not v.endswith("ms") else n

    return ms("50%"), ms("99%")


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    if not shutil.which("wrk"):
        raise SystemExit("bench/run impact needs wrk")
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    try:
        run(api)
    finally:
        proc.terminate()
        proc.wait()


def run(api):
    net = api.call("POST", "/api/v1/networks", {"name": "impact"})["id"]
    observations = [{"ip": "10.%d.%d.%d" % (i // 62500, (i // 250) % 250, i % 250 + 1),
                     "ports": [{"number": 8000 + p, "protocol": "Tcp", "service_type": "Web Service",
                                "service_name": "svc-%d-%d" % (i, p)} for p in range(10)]} for i in range(HOSTS)]
    api.call("POST", "/api/v1/discoveries", {"network_id": net, "source": "observations", "observations": observations})
    services = api.call("GET", "/api/v1/services?network_id=%s&limit=0&order_by=created_at" % net)
    ids = [s["id"] for s in services]
    # Request paths of three services drawn at random: 2 x PATHS links over the network.
    rng = random.Random(7)
    links = {}
    for k in range(PATHS):
        members = rng.sample(ids[:-CHAIN - 1], 3)
        api.call("POST", "/api/v1/dependencies", {"network_id": net, "name": "path %d" % k,
                                                  "dependency_type": "RequestPath",
                                                  "members": [{"service_id": m} for m in members]})
        links.setdefault(members[1], []).append(members[0])
        links.setdefault(members[2], []).append(members[1])
    # The service the most others depend on, transitively: the worst case of the random graph.
    def reach(s):
        seen, todo = {s}, [s]
        while todo:
            for n in links.get(todo.pop(), []):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return len(seen) - 1
    worst = max(links, key=reach)
    typical = sorted(links, key=reach)[len(links) // 2]
    # And one chain of CHAIN links end to end, at the end of the list.
    chain = ids[-CHAIN - 1:]
    for k in range(CHAIN):
        api.call("POST", "/api/v1/dependencies", {"network_id": net, "name": "chain %d" % k,
                                                  "dependency_type": "RequestPath",
                                                  "members": [{"service_id": chain[k]}, {"service_id": chain[k + 1]}]})
    print("\n## Impact: %d hosts, %d services, %d random dependency links + a chain of %d (wrk, 1 connection, %d s)\n"
          % (HOSTS, len(ids), 2 * PATHS, CHAIN, SECONDS))
    print("| request | p50 ms | p99 ms | x GET service p50 |\n|---|---:|---:|---:|")
    base50, base99 = wrk(api, "/api/v1/services/%s" % typical)
    print("| GET /services/{id} (baseline) | %.2f | %.2f | 1.00 |" % (base50, base99))
    for label, path in [
        ("impact of a typical service (%d reached)" % reach(typical), "/api/v1/services/%s/impact" % typical),
        ("impact of the most depended-on service (%d reached)" % reach(worst), "/api/v1/services/%s/impact" % worst),
        ("impact upstream of the same", "/api/v1/services/%s/impact?direction=upstream" % worst),
        ("impact of the end of the chain (%d reached, depth up to %d)" % (CHAIN, CHAIN), "/api/v1/services/%s/impact" % chain[-1]),
    ]:
        p50, p99 = wrk(api, path)
        print("| %s | %.2f | %.2f | %.1f |" % (label, p50, p99, p50 / base50))

if __name__ == "__main__":
    main()
