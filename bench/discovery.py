#!/usr/bin/env python3
"""Discovery benchmark: Portolan's scan against nmap on the same loopback targets, reconciliation
of 1,000 observed hosts (first and second run), and GET latency while a scan runs.

    bench/run discovery          256 addresses x 1,000 ports; 1,000 hosts x 10 ports; p99 under a scan
    bench/run discovery quick    a small version that proves the script works (CI)

Probes only loopback: 127.78.x.y addresses, ports above 30000 that nothing on this machine listens
on (checked by binding them first) plus the benchmark's own few listeners.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
ADDRESSES = 16 if QUICK else 256
PORTS = 50 if QUICK else 1000
HOSTS = 50 if QUICK else 1000
LOAD_SECONDS = 2 if QUICK else 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("PORTOLAN_BENCH_BIN", os.path.join(TARGET, "release", "portolan"))


def free_ports(count, start=40000):
    """Ports nothing on this machine listens on, on any address."""
    found = []
    port = start
    while len(found) < count and port < 65000:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        try:
            s.bind(("0.0.0.0", port))
            found.append(port)
        except OSError:
            pass
        finally:
            s.close()
        port += 1
    return found


class Api:
    def __init__(self, base, key):
        self.base, self.key = base, key

    def call(self, method, path, body=None, timeout=600):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return json.loads(res.read())["data"]
        except urllib.error.HTTPError as e:
            raise SystemExit("%s %s: %d %s" % (method, path, e.code, e.read().decode(errors="replace")))

    def wait(self, discovery_id):
        while True:
            d = self.call("GET", "/api/v1/discoveries/" + discovery_id)
            if d["status"] not in ("queued", "running"):
                return d
            time.sleep(0.05)


def seconds(start, end):
    from datetime import datetime
    parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (parse(end) - parse(start)).total_seconds()


def start_server(data):
    key = "scp_u_" + "B3" * 16
    log = open(os.path.join(data, "server.log"), "w")
    env = dict(os.environ, PORTOLAN_ADMIN_API_KEY=key, PORTOLAN_RATE_LIMIT="0", RUST_LOG="warn,portolan::startup=info",
               PORTOLAN_DISCOVERY_MAX_ADDRESSES="65536")
    proc = subprocess.Popen([BIN, "--data-dir", data, "--listen", "127.0.0.1:0"], stderr=log, stdout=log, env=env)
    for _ in range(500):
        text = open(os.path.join(data, "server.log")).read()
        m = re.search(r"listening on http://([0-9.:]+)", text)
        if m:
            return proc, Api("http://" + m.group(1), key)
        time.sleep(0.02)
    raise SystemExit("the server did not start")


def listeners(count):
    """A few open ports among the closed ones, accepted and closed at once."""
    socks = []
    for i in range(count):
        s = socket.socket()
        s.bind(("127.78.0.%d" % (i + 1), 0))
        s.listen(1024)
        socks.append(s)

    def serve(s):
        while True:
            try:
                c, _ = s.accept()
                c.close()
            except OSError:
                return

    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    return socks


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    nmap = shutil.which("nmap")
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    try:
        run(api, nmap)
    finally:
        proc.terminate()
        proc.wait()
    print("\nServer log and data: %s" % work)


def run(api, nmap):
    net = api.call("POST", "/api/v1/networks", {"name": "bench"})["id"]
    api.call("POST", "/api/v1/subnets", {"network_id": net, "cidr": "127.78.0.0/16", "name": "loopback"})
    open_socks = listeners(4)
    ports = free_ports(PORTS - len(open_socks))
    ports += [s.getsockname()[1] for s in open_socks]
    # 256 addresses: the /24 without its network and broadcast addresses, plus two more.
    targets = ["127.78.0.0/24", "127.78.1.1", "127.78.1.2"] if not QUICK else ["127.78.0.0/28", "127.78.1.1", "127.78.1.2"]
    probes = ADDRESSES * len(ports)

    print("\n## Scan: %d addresses x %d ports (%d probes), all but %d refused\n" % (ADDRESSES, len(ports), probes, len(open_socks)))
    print("| scanner | seconds | probes/s | x nmap | open found |\n|---|---:|---:|---:|---:|")
    started = time.monotonic()
    d = api.call("POST", "/api/v1/discoveries", {"network_id": net, "targets": targets, "ports": ports, "mode": "plan",
                                                 "options": {"timeout_ms": 1000, "concurrency": 1024, "http_probe": False}})
    d = api.wait(d["id"])
    # The server's own clock: from the scan's start to its end, without the polling's delay.
    ours = seconds(d["started_at"], d["finished_at"])
    assert d["progress"]["probes_done"] == probes, d["progress"]
    nmap_secs = None
    nmap_open = None
    if nmap:
        addrs = ["127.78.0.1-254" if not QUICK else "127.78.0.1-14", "127.78.1.1", "127.78.1.2"]
        started = time.monotonic()
        out = subprocess.run([nmap, "-sT", "-n", "-Pn", "-T4", "-p", ",".join(map(str, ports)), "-oX", "-"] + addrs,
                             capture_output=True, text=True, check=True).stdout
        nmap_secs = time.monotonic() - started
        nmap_open = out.count('<state state="open"')
        print("| nmap -sT -n -Pn -T4 | %.2f | %.0f | 1.00 | %d |" % (nmap_secs, probes / nmap_secs, nmap_open))
    ratio = "%.2f" % (nmap_secs / ours) if nmap_secs else "n/a"
    print("| Portolan (concurrency 1024) | %.2f | %.0f | %s | %d |" % (ours, probes / ours, ratio, d["progress"]["open_found"]))

    print("\n## Reconciliation: %d observed hosts x 10 open ports\n" % HOSTS)
    print("| run | seconds | hosts created | bindings created | bindings seen |\n|---|---:|---:|---:|---:|")
    other = api.call("POST", "/api/v1/networks", {"name": "observed"})["id"]
    unique = [{"ip": "10.%d.%d.%d" % (i // 62500, (i // 250) % 250, i % 250 + 1),
               "ports": [{"number": 20000 + p, "protocol": "Tcp"} for p in range(10)]} for i in range(HOSTS)]
    for label in ("first (empty inventory)", "second (identical)"):
        started = time.monotonic()
        d = api.call("POST", "/api/v1/discoveries", {"network_id": other, "source": "observations", "observations": unique})
        secs = time.monotonic() - started
        s = d["summary"]
        print("| %s | %.2f | %d | %d | %d |" % (label, secs, s["hosts_created"], s["bindings_created"], s["bindings_seen"]))

    print("\n## GET /api/v1/services/{id} while a scan runs (wrk, 8 connections, %d s)\n" % LOAD_SECONDS)
    if not shutil.which("wrk"):
        print("(wrk is not installed; skipped)")
        return
    host = api.call("POST", "/api/v1/hosts", {"network_id": other, "name": "target"})["id"]
    service = api.call("POST", "/api/v1/services", {"host_id": host, "name": "web", "service_definition": "Web Service"})["id"]
    lua = os.path.join(tempfile.mkdtemp(), "get.lua")
    with open(lua, "w") as f:
        f.write('wrk.headers["Authorization"] = "Bearer %s"\nwrk.path = "/api/v1/services/%s"\n' % (api.key, service))

    def p99(label):
        out = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % LOAD_SECONDS, "--latency", "-s", lua, api.base],
                             capture_output=True, text=True, check=True).stdout
        line = [l for l in out.splitlines() if l.strip().startswith("99%")][0].split()[1]
        value = float(re.match(r"[0-9.]+", line).group())
        ms = value / 1000 if line.endswith("us") else value * 1000 if line.endswith("s") and not line.endswith("ms") else value
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
        return label, ms, rps

    print("| while | p99 ms | requests/s |\n|---|---:|---:|")
    rows = [p99("nothing else runs")]
    big = ["127.78.0.0/20"] if not QUICK else ["127.78.0.0/26"]
    scan = api.call("POST", "/api/v1/discoveries", {"network_id": net, "targets": big, "ports": ports[:100], "mode": "plan",
                                                    "options": {"timeout_ms": 1000, "concurrency": 1024, "http_probe": False}})
    rows.append(p99("a /20 x 100 ports scan runs" if not QUICK else "a small scan runs"))
    state = api.call("GET", "/api/v1/discoveries/" + scan["id"])
    print("(the scan had done %d of %d probes when the load ended)" % (state["progress"]["probes_done"], state["progress"]["probes_total"]))
    if state["status"] == "running":
        api.call("POST", "/api/v1/discoveries/%s/cancel" % scan["id"])
    for label, ms, rps in rows:
        print("| %s | %.2f | %.0f |" % (label, ms, rps))
    for s in open_socks:
        s.close()


if __name__ == "__main__":
    main()
