#!/usr/bin/env python3
"""Webhook benchmark: write throughput (POST /api/v1/tags, wrk) without hooks and with three
enabled hooks that want every event and point at a receiver that takes 2 s to answer, in
alternating runs; then with the receiver answering at once.

    bench/run webhooks          10 s per run, 16 connections
    bench/run webhooks quick    2 s per run (CI)
"""

import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
SECONDS = 2 if QUICK else 10


class Slow(http.server.BaseHTTPRequestHandler):
    delay = 2.0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def wrk(api, label):
    lua = os.path.join(tempfile.mkdtemp(), "post.lua")
    with open(lua, "w") as f:
        f.write('''
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  counter = 0
end
request = function()
  counter = counter + 1
  local body = '{"name": "%s-' .. tid .. '-' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/tags", {["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json"}, body)
end
''' % (label, api.key))
    out = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % SECONDS, "--latency", "-s", lua, api.base],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    line = [l for l in out.splitlines() if l.strip().startswith("99%")][0].split()[1]
    v = float(re.match(r"[0-9.]+", line).group())
    p99 = v / 1000 if line.endswith("us") else v * 1000 if line.endswith("s") and not line.endswith("ms") else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, int(errors.group(1)) if errors else 0


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/hook" % receiver.server_address[1]
    fast = type("Fast", (Slow,), {"delay": 0.0})
    quick_receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fast)
    threading.Thread(target=quick_receiver.serve_forever, daemon=True).start()
    fast_url = "http://127.0.0.1:%d/hook" % quick_receiver.server_address[1]
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    try:
        print("\n## Writes with webhooks (POST /api/v1/tags, wrk 16 connections, %d s each)\n" % SECONDS)
        print("Runs alternate (hooks off, on, off, on, ...) so that neither side gains from running")
        print("first on a smaller database; each ratio is to the mean of the runs without hooks.\n")
        print("| run | requests/s | p99 ms | non-2xx |\n|---|---:|---:|---:|")
        for i in range(3):
            api.call("POST", "/api/v1/webhooks", {"name": "slow %d" % i, "url": url, "events": ["*"],
                                                  "secret": "benchmark-secret-0123", "enabled": False})

        def switch(on, target):
            for h in api.call("GET", "/api/v1/webhooks"):
                api.call("PUT", "/api/v1/webhooks/" + h["id"],
                         {"name": h["name"], "url": target, "events": ["*"], "enabled": on})

        rounds = 2 if QUICK else 3
        label = iter("abcdefghijklmnop")
        off, slow, fast = [], [], []
        for _ in range(rounds):
            switch(False, url)
            rps, p99, errors = wrk(api, next(label))
            off.append(rps)
            print("| no hooks | %.0f | %.2f | %d |" % (rps, p99, errors))
            switch(True, url)
            rps, p99, errors = wrk(api, next(label))
            slow.append(rps)
            print("| 3 hooks, receiver answering in 2 s | %.0f | %.2f | %d |" % (rps, p99, errors))
        switch(True, fast_url)
        rps, p99, errors = wrk(api, next(label))
        fast.append(rps)
        print("| 3 hooks, receiver answering at once | %.0f | %.2f | %d |" % (rps, p99, errors))
        mean = lambda xs: sum(xs) / len(xs)
        spread = (max(off) - min(off)) / mean(off)
        print("\n| comparison | x without hooks |\n|---|---:|")
        print("| runs without hooks, spread (max-min)/mean | %.2f |" % spread)
        print("| 3 hooks, receiver answering in 2 s | %.2f |" % (mean(slow) / mean(off)))
        print("| 3 hooks, receiver answering at once | %.2f |" % (mean(fast) / mean(off)))
        backlog = api.call("GET", "/api/v1/webhooks/%s/deliveries?limit=1" % api.call("GET", "/api/v1/webhooks")[0]["id"])
        print("\n(the first hook's newest delivery: %s)" % (backlog[0]["status"] if backlog else "none"))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
