#!/usr/bin/env python3
"""Agent benchmark, against GET /healthz measured in the same run:
  1. a report of 200 containers (2 published ports each) and 300 listeners into an empty network,
     then the same report again (nothing changes, nothing is written);
  2. the agent's peak RSS and CPU time per report on a host with 50 real containers (Docker);
  3. how long a scan job created through the API takes to start on its agent (long poll).

    bench/run agents          as above, 10 repetitions of the unchanged report
    bench/run agents quick    5 containers, 3 repetitions (CI: proves the script works)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import BIN, ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
CONTAINERS = 5 if QUICK else 50
REPEAT = 3 if QUICK else 10


def post(base, path, token, body, headers=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as res:
        answer = json.loads(res.read())
    return (time.perf_counter() - started) * 1000, answer["data"]


def healthz_ms(base):
    times = []
    for _ in range(50):
        started = time.perf_counter()
        urllib.request.urlopen(base + "/healthz", timeout=10).read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def big_report():
    containers, listeners = [], []
    for i in range(200):
        containers.append({
            "id": "%064x" % (i + 1), "name": "app-%d" % i, "image": "example/app-%d:1" % i,
            "labels": {"com.docker.compose.project": "bench", "com.docker.compose.service": "svc-%d" % i},
            "state": "running",
            "ports": [{"host_ip": "0.0.0.0", "host_port": 20000 + 2 * i, "container_port": 80, "protocol": "tcp"},
                      {"host_ip": "0.0.0.0", "host_port": 20001 + 2 * i, "container_port": 443, "protocol": "tcp"}]})
    for i in range(300):
        listeners.append({"protocol": "Tcp", "address": "10.40.0.10", "port": 30000 + i,
                          "process": {"pid": 1000 + i, "name": "prog-%d" % (i % 60), "exe": "/usr/bin/prog"}})
    return {"host": {"hostname": "bench-host", "machine_id": "bench-machine"},
            "interfaces": [{"name": "eth0", "mac": "52:54:00:00:00:10", "addresses": ["10.40.0.10/24"], "up": True}],
            "listeners": listeners, "containers": containers, "neighbours": []}


def make_agent(api, network, name):
    created = api.call("POST", "/api/v1/agents", {"name": name, "network_id": network})
    return created["id"], created["token"]


def docker_containers(count):
    """`count` sleeping containers of an image imported from busybox; removed by the caller."""
    docker, busybox = shutil.which("docker"), "/bin/busybox"
    if not docker or not os.path.exists(busybox) or subprocess.run([docker, "info"], capture_output=True).returncode:
        return None, []
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    image = "portolan-bench/busybox:%d" % os.getpid()
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run([docker, "import", "-", image], stdin=tar.stdout, check=True, capture_output=True)
    tar.wait()
    names = []
    for i in range(count):
        name = "portolan-bench-%d-%d" % (os.getpid(), i)
        subprocess.run([docker, "run", "-d", "--name", name, "-p", "127.0.0.1::80", image,
                        "/bin/busybox", "sleep", "600"], check=True, capture_output=True)
        names.append(name)
    return image, names


def agent_cost(api, network, count):
    image, names = docker_containers(count)
    try:
        if image is None:
            return None
        agent_id, token = make_agent(api, network, "docker-host")
        # A running agent (reports every second), measured from /proc: its own peak RSS and its
        # CPU time over REPEAT reports (startup included, so the figure is an upper bound).
        agent = subprocess.Popen([BIN, "agent", "--server", api.base, "--token", token, "--interval", "1",
                                  "--machine-id", "bench-docker-host"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            seen, reports = None, 0
            deadline = time.time() + 60 + 3 * REPEAT
            while reports < REPEAT and time.time() < deadline:
                last = api.call("GET", "/api/v1/agents/" + agent_id)["last_seen_at"]
                if last and last != seen:
                    seen, reports = last, reports + 1
                time.sleep(0.05)
            if reports < REPEAT:
                raise SystemExit("the agent did not report")
            with open("/proc/%d/status" % agent.pid) as f:
                hwm_kb = int([l for l in f if l.startswith("VmHWM")][0].split()[1])
            with open("/proc/%d/stat" % agent.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            cpu_ms = ticks * 1000 / os.sysconf("SC_CLK_TCK") / reports
        finally:
            agent.terminate()
            agent.wait()
        return hwm_kb / 1024, cpu_ms
    finally:
        for name in names:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        if image:
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def job_start(api, network):
    agent_id, token = make_agent(api, network, "scanner")
    proc = subprocess.Popen([BIN, "agent", "--server", api.base, "--token", token, "--scan", "--interval", "1",
                             "--docker", "none", "--machine-id", "bench-scanner"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if api.call("GET", "/api/v1/agents/" + agent_id)["capabilities"]["scan"]:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the agent is waiting on its long poll
        starts = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            d = api.call("POST", "/api/v1/discoveries", {"network_id": network, "targets": ["127.79.0.1"],
                                                        "ports": [9], "agent_id": agent_id,
                                                        "options": {"timeout_ms": 100}})
            while api.call("GET", "/api/v1/discoveries/" + d["id"])["status"] == "queued":
                time.sleep(0.002)
            starts.append((time.perf_counter() - started) * 1000)
            api.wait(d["id"])
            time.sleep(0.2)
        return statistics.median(starts), max(starts)
    finally:
        proc.terminate()
        proc.wait()


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    try:
        base_ms = healthz_ms(api.base)
        network = api.call("POST", "/api/v1/networks", {"name": "bench"})["id"]
        api.call("POST", "/api/v1/subnets", {"network_id": network, "cidr": "10.40.0.0/24", "name": "bench"})
        _, token = make_agent(api, network, "big")
        report = big_report()
        first_ms, first = post(api.base, "/api/v1/agent/report", token, report, {"X-Portolan-Agent-Capabilities": "docker"})
        again = []
        for _ in range(REPEAT):
            ms, outcome = post(api.base, "/api/v1/agent/report", token, report, {"X-Portolan-Agent-Capabilities": "docker"})
            assert not outcome["changed"], outcome
            again.append(ms)
        again_ms = statistics.median(again)

        scan_net = api.call("POST", "/api/v1/networks", {"name": "scans"})["id"]
        api.call("POST", "/api/v1/subnets", {"network_id": scan_net, "cidr": "127.79.0.0/24", "name": "loopback"})
        job_median, job_max = job_start(api, scan_net)
        docker_net = api.call("POST", "/api/v1/networks", {"name": "docker"})["id"]
        cost = agent_cost(api, docker_net, CONTAINERS)

        print("\n## Agents\n")
        print("Baseline: GET /healthz, median of 50, %.2f ms. Request times include HTTP and JSON.\n" % base_ms)
        print("| figure | value | × healthz | target |")
        print("|---|---|---|---|")
        print("| report of 200 containers (400 ports) and 300 listeners, empty network | %.0f ms (%d services) | %.0f× | < 500 ms |"
              % (first_ms, first["summary"]["services_created"], first_ms / base_ms))
        print("| the same report again (median of %d; nothing written) | %.1f ms | %.0f× | < 50 ms |"
              % (REPEAT, again_ms, again_ms / base_ms))
        print("| scan job created → running on its agent (median, max of %d) | %.0f ms, %.0f ms | %.0f× | < 1000 ms |"
              % (REPEAT, job_median, job_max, job_median / base_ms))
        if cost:
            print("| a running agent, %d real containers: peak RSS, CPU per report (over %d reports) | %.1f MiB, %.0f ms | | < 20 MB, < 50 ms |"
                  % (CONTAINERS, REPEAT, cost[0], cost[1]))
        else:
            print("| agent per report with containers | no Docker engine here | | |")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
