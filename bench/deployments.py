#!/usr/bin/env python3
"""Deployment benchmark: Portolan's own share of a deployment against the compose run itself,
measured in the same run, with a real agent (--deploy), Docker engine and docker-compose:
  - from the POST to the agent starting compose (checks, reservation, long poll, file written);
  - from compose's exit to `healthy` (health check that passes at once, result, status);
  - compose `up -d` itself, the baseline;
  - reads (GET /api/v1/hosts?limit=50) while deployments run, against the same reads idle.

    bench/run deployments          10 deployments
    bench/run deployments quick    3 deployments (CI: proves the script works)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import BIN, ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
RUNS = 3 if QUICK else 10


def read_ms(base, key, path):
    req = urllib.request.Request(base + path)
    req.add_header("Authorization", "Bearer " + key)
    started = time.perf_counter()
    urllib.request.urlopen(req, timeout=30).read()
    return (time.perf_counter() - started) * 1000


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def image():
    """An image imported from busybox-static whose httpd serves /www; None without an engine."""
    docker, busybox = shutil.which("docker"), "/bin/busybox"
    if not docker or not shutil.which("docker-compose") or not os.path.exists(busybox) \
            or subprocess.run([docker, "info"], capture_output=True).returncode:
        return None
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "www"))
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    with open(os.path.join(root, "www", "index.html"), "w") as f:
        f.write("ok\n")
    name = "portolan-bench/web:%d" % os.getpid()
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run([docker, "import", "-", name], stdin=tar.stdout, check=True, capture_output=True)
    tar.wait()
    shutil.rmtree(root, ignore_errors=True)
    return name


class AgentLog:
    """The agent's stderr, each line stamped with this clock as it arrives."""

    def __init__(self, proc):
        self.lines, self.lock = [], threading.Lock()
        threading.Thread(target=self.read, args=(proc,), daemon=True).start()

    def read(self, proc):
        for raw in proc.stderr:
            with self.lock:
                self.lines.append((time.perf_counter(), raw.decode(errors="replace")))

    def after(self, since, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for at, line in self.lines:
                    if at >= since and text in line:
                        return at
            time.sleep(0.001)
        raise SystemExit("the agent never logged %r" % text)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    img = image()
    if img is None:
        print("\n## Deployments\n\nNo Docker engine or docker-compose here: nothing measured.")
        return
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    agent = None
    project = "portolan-bench%d" % os.getpid()
    try:
        network = api.call("POST", "/api/v1/networks", {"name": "bench"})["id"]
        created = api.call("POST", "/api/v1/agents", {"name": "deployer", "network_id": network})
        agent = subprocess.Popen([BIN, "agent", "--server", api.base, "--token", created["token"], "--deploy",
                                  "--interval", "5", "--machine-id", "bench-deployer",
                                  "--data-dir", os.path.join(work, "agent")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=dict(os.environ, RUST_LOG="info"))
        log = AgentLog(agent)
        host = None
        for _ in range(600):
            a = api.call("GET", "/api/v1/agents/" + created["id"])
            if a["capabilities"]["deploy"] and a["host_id"]:
                host = a["host_id"]
                break
            time.sleep(0.05)
        if host is None:
            raise SystemExit("the agent did not report")
        repo, tag = img.rsplit(":", 1)
        port = free_port()
        template = api.call("POST", "/api/v1/service-templates", {
            "name": project[len("portolan-"):], "containerImageId": repo, "imageTag": tag,
            "composeTemplate": "services:\n  web:\n    command: [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n"
                               "    environment: [\"REVISION=${REVISION}\"]\n    ports: [\"127.0.0.1:${WEB_PORT}:80\"]\n"
                               "    stop_grace_period: 1s\n",
            "baseEnv": {"WEB_PORT": str(port), "REVISION": "0"},
            "healthCheckUrl": "http://127.0.0.1:${WEB_PORT}/index.html",
            "healthWaitMs": 0, "healthRetries": 20, "healthIntervalMs": 50})["id"]
        idle = [read_ms(api.base, api.key, "/api/v1/hosts?limit=50") for _ in range(200)]

        busy, stop = [], threading.Event()

        def reader():
            while not stop.is_set():
                busy.append(read_ms(api.base, api.key, "/api/v1/hosts?limit=50"))

        threading.Thread(target=reader, daemon=True).start()
        before, after, compose, total = [], [], [], []
        last = None
        for run in range(RUNS):
            time.sleep(0.3)  # the agent is back on its long poll
            started = time.perf_counter()
            d = api.call("POST", "/api/v1/deployments",
                         {"template_id": template, "host_ids": [host], "env": {"REVISION": str(run + 1)}})
            up = log.after(started, "compose up started")
            done = log.after(up, "compose up exited")
            while True:
                status = api.call("GET", "/api/v1/deployments/" + d["id"])["status"]
                if status not in ("queued", "running"):
                    break
                time.sleep(0.002)
            healthy = time.perf_counter()
            if status != "healthy":
                raise SystemExit("deployment %s: %s" % (d["id"], status))
            last = d["id"]
            before.append((up - started) * 1000)
            after.append((healthy - done) * 1000)
            compose.append((done - up) * 1000)
            total.append((healthy - started) * 1000)
        stop.set()
        api.call("POST", "/api/v1/deployments/%s/undeploy" % last, {})
        for _ in range(600):
            if api.call("GET", "/api/v1/deployments/" + last)["status"] == "undeployed":
                break
            time.sleep(0.05)

        own = [b + a for b, a in zip(before, after)]
        med = statistics.median
        print("\n## Deployments\n")
        print("Baseline: the compose run itself (`docker-compose up -d` recreating one container), "
              "median of %d: %.0f ms.\n" % (RUNS, med(compose)))
        print("| figure (median, max of %d) | value | × compose | target |" % RUNS)
        print("|---|---|---|---|")
        print("| POST → compose starts on the agent | %.0f ms, %.0f ms | %.2f× | |" % (med(before), max(before), med(before) / med(compose)))
        print("| compose exits → `healthy` (first check passes) | %.0f ms, %.0f ms | %.2f× | |" % (med(after), max(after), med(after) / med(compose)))
        print("| Portolan's own share (both) | %.0f ms, %.0f ms | %.2f× | < 1000 ms |" % (med(own), max(own), med(own) / med(compose)))
        print("| the whole deployment, POST → `healthy` | %.0f ms, %.0f ms | %.2f× | |" % (med(total), max(total), med(total) / med(compose)))
        print("| GET /api/v1/hosts?limit=50 while deploying vs idle (median) | %.2f ms vs %.2f ms | %.2f× idle | ≈ 1× |"
              % (med(busy), med(idle), med(busy) / med(idle)))
    finally:
        if agent:
            agent.terminate()
            agent.wait()
        proc.terminate()
        proc.wait()
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "network", "rm", project + "_default"], capture_output=True)
        subprocess.run(["docker", "rmi", "-f", img], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
