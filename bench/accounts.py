#!/usr/bin/env python3
"""People's sessions against API keys, measured in the same run:
  1. GET /api/v1/hosts?limit=50 (50 hosts with children) with a session cookie against the same
     read with an API key (wrk, alternating, requests per second);
  2. twenty sign-ins at once (Argon2id, two hashed at a time) while reads go on: the reads'
     p99 during the burst, the burst's duration, and the server's peak memory.

    bench/run accounts          5 s per wrk run, three alternations
    bench/run accounts quick    1 s per run, one alternation (CI: proves the script works)
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
DURATION = "1s" if QUICK else "5s"
ROUNDS = 1 if QUICK else 3
PASSWORD = "correct horse battery staple"


def open_post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as res:
        return res.headers.get("Set-Cookie", ""), json.loads(res.read())


def wrk(url, header):
    out = subprocess.run(["wrk", "-t2", "-c16", "-d" + DURATION, "-H", header, url],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not m or "Non-2xx" in out:
        raise SystemExit("wrk failed:\n" + out)
    return float(m.group(1))


def read_ms(url, header):
    name, value = header.split(": ", 1)
    req = urllib.request.Request(url)
    req.add_header(name, value)
    started = time.perf_counter()
    urllib.request.urlopen(req, timeout=30).read()
    return (time.perf_counter() - started) * 1000


def hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("VmHWM")][0].split()[1])


def main():
    if not shutil.which("wrk"):
        raise SystemExit("bench/run accounts needs wrk: apt-get install -y wrk")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    try:
        network = api.call("POST", "/api/v1/networks", {"name": "bench"})["id"]
        for i in range(50):
            host = api.call("POST", "/api/v1/hosts", {"network_id": network, "name": "host-%d" % i})["id"]
            api.call("POST", "/api/v1/ip-addresses", {"host_id": host, "ip_address": "10.9.%d.%d" % (i // 200, i % 200 + 1)})
        for i in range(21):
            api.call("POST", "/api/v1/users", {"username": "person%d" % i, "password": PASSWORD, "role": "Viewer"})
        cookie, _ = open_post(api.base, "/api/v1/auth/sign-in", {"username": "person0", "password": PASSWORD})
        cookie = cookie.split(";")[0]
        url = api.base + "/api/v1/hosts?limit=50"
        key_header, session_header = "Authorization: Bearer " + api.key, "Cookie: " + cookie
        keys, sessions = [], []
        for _ in range(ROUNDS):
            keys.append(wrk(url, key_header))
            sessions.append(wrk(url, session_header))
        key_rps, session_rps = statistics.median(keys), statistics.median(sessions)

        idle_kb = hwm_kb(proc.pid)
        baseline = [read_ms(url, key_header) for _ in range(100)]
        during, stop = [], threading.Event()

        def reader():
            while not stop.is_set():
                during.append(read_ms(url, key_header))

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        time.sleep(0.2)
        started = time.perf_counter()
        burst = [threading.Thread(target=open_post, args=(api.base, "/api/v1/auth/sign-in",
                                                          {"username": "person%d" % (i + 1), "password": PASSWORD}))
                 for i in range(20)]
        for b in burst:
            b.start()
        for b in burst:
            b.join()
        burst_ms = (time.perf_counter() - started) * 1000
        stop.set()
        t.join()
        peak_kb = hwm_kb(proc.pid)
        p99 = sorted(during)[max(0, int(len(during) * 0.99) - 1)]
        base_p99 = sorted(baseline)[98]

        print("\n## Accounts\n")
        print("Baseline: the same read with an API key, GET /api/v1/hosts?limit=50 (50 hosts with their children), "
              "wrk -t2 -c16 for %s, median of %d: %.0f requests/s.\n" % (DURATION, ROUNDS, key_rps))
        print("| figure | value | × baseline | target |")
        print("|---|---|---|---|")
        print("| the read with a session cookie | %.0f requests/s | %.2f× | ≥ 0.9× |" % (session_rps, session_rps / key_rps))
        print("| reads during twenty sign-ins at once: p99 (%d reads) | %.1f ms (idle p99 %.1f ms) | %.1f× idle | < 50 ms |"
              % (len(during), p99, base_p99, p99 / base_p99))
        print("| twenty sign-ins at once, first to last answer | %.0f ms | | |" % burst_ms)
        print("| server peak RSS: before, after the burst | %.1f MiB, %.1f MiB | | |" % (idle_kb / 1024, peak_kb / 1024))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
