#!/usr/bin/env python3
"""What history costs on disk: bytes per recorded change (journal entry) for a mixed workload,
each round of which
  1. renames every service and moves its two bindings to two other ports (PUT /services/{id}),
  2. syncs every host's children with one port replaced (PUT /hosts/{id} with its ports),
  3. scans loopback addresses whose listeners open and shut between rounds, with close_missing,
     so that discovery sees ports and closes them.
It reports the journal's and the closed versions' tables and indexes (SQLite's dbstat) per
journal entry, and the database's growth per entry. With PORTOLAN_BENCH_BASELINE_BIN set to
another build's binary, that build runs the same workload first, in the same run, and the
figures are given for both with their ratio.

    bench/run history          30 rounds over 20 hosts
    bench/run history quick    3 rounds over 4 hosts (CI: proves the script works)
"""

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discovery  # noqa: E402
from discovery import ROOT, start_server  # noqa: E402

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
ROUNDS = 3 if QUICK else 30
HOSTS = 4 if QUICK else 20
SCANNED = 4  # loopback addresses the scans probe
GOAL = 500


def history_tables(db):
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND (name IN ('changes', 'journal') OR name LIKE '%\\_versions' ESCAPE '\\'"
        " OR name LIKE 'journal\\_%' ESCAPE '\\')")]
    indexes = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN (%s)" % ",".join("?" * len(names)), names)]
    return names + indexes


def measure(data):
    db = sqlite3.connect(os.path.join(data, "portolan.db"))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    objects = history_tables(db)
    sizes = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    history = sum(sizes.get(n, 0) for n in objects)
    entries = db.execute("SELECT count(*) FROM changes").fetchone()[0]
    # The images the journal stores (with `prior` and the open afters where the build has them).
    columns = {r[1] for r in db.execute("PRAGMA table_info(changes)")}
    images = ["before", "after"] + (["prior"] if "prior" in columns else [])
    payload = sum(db.execute("SELECT coalesce(sum(length(%s)), 0) FROM changes" % c).fetchone()[0] for c in images)
    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'journal_open_afters'").fetchone()[0]:
        payload += db.execute("SELECT coalesce(sum(length(after)), 0) FROM journal_open_afters").fetchone()[0]
    by_discovery = db.execute("SELECT count(*) FROM changes WHERE actor_type = 'discovery'").fetchone()[0]
    db.close()
    # Every page in use, read through the WAL (the server may hold pages back from a checkpoint).
    return {"entries": entries, "history": history, "file": sum(sizes.values()), "images": payload,
            "by_discovery": by_discovery}


def workload(binary):
    discovery.BIN = binary
    work = tempfile.mkdtemp()
    proc, api = start_server(work)
    shut = []
    try:
        network = api.call("POST", "/api/v1/networks", {"name": "bench"})["id"]
        api.call("POST", "/api/v1/subnets", {"network_id": network, "name": "loopback", "cidr": "127.79.0.0/24"})
        start = measure(work)
        hosts = []
        for i in range(HOSTS):
            host = api.call("POST", "/api/v1/hosts", {"network_id": network, "name": "host-%d" % i})["id"]
            ip = api.call("POST", "/api/v1/ip-addresses", {"host_id": host, "ip_address": "10.8.%d.%d" % (i // 200, i % 200 + 1)})["id"]
            ports = [api.call("POST", "/api/v1/ports", {"host_id": host, "number": 8000 + p, "protocol": "Tcp"})["id"] for p in range(4)]
            service = api.call("POST", "/api/v1/services", {
                "host_id": host, "name": "svc-%d" % i, "service_definition": "Nginx Proxy Manager",
                "bindings": [{"type": "Port", "port_id": ports[0], "ip_address_id": ip}, {"type": "Port", "port_id": ports[1]}]})["id"]
            hosts.append((host, ip, ports, service))
        ports_free = discovery.free_ports(2, start=41000)
        for r in range(ROUNDS):
            for i, (host, ip, ports, service) in enumerate(hosts):
                moved = ports[2:] if r % 2 == 0 else ports[:2]
                api.call("PUT", "/api/v1/services/" + service, {
                    "host_id": host, "network_id": network, "name": "svc-%d-%d" % (i, r),
                    "service_definition": "Nginx Proxy Manager", "position": 0, "tags": [], "virtualization": None,
                    "bindings": [{"type": "Port", "port_id": moved[0], "ip_address_id": ip}, {"type": "Port", "port_id": moved[1], "ip_address_id": None}]})
                stored = api.call("GET", "/api/v1/hosts/" + host)
                kept = [p for p in stored["ports"] if p["number"] < 9000]
                kept.append({"id": str(uuid.uuid4()), "number": 9000 + r, "protocol": "Tcp"})
                api.call("PUT", "/api/v1/hosts/" + host, {
                    "network_id": network, "name": stored["name"], "ip_addresses": stored["ip_addresses"],
                    "ports": kept, "services": stored["services"]})
            # Listeners on every address for even rounds, none for odd ones: seen, then closed.
            for s in shut:
                s.close()
            shut = []
            if r % 2 == 0:
                for a in range(SCANNED):
                    for port in ports_free:
                        s = socket.socket()
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind(("127.79.0.%d" % (a + 1), port))
                        s.listen(16)
                        shut.append(s)
            d = api.call("POST", "/api/v1/discoveries", {
                "network_id": network, "targets": ["127.79.0.%d" % (a + 1) for a in range(SCANNED)],
                "ports": ",".join(str(p) for p in ports_free),
                "options": {"timeout_ms": 300, "concurrency": 64, "close_missing": True}})
            api.wait(d["id"])
        proc.terminate()
        proc.wait(timeout=30)
        end = measure(work)
    finally:
        for s in shut:
            s.close()
        if proc.poll() is None:
            proc.kill()
    entries = end["entries"] - start["entries"]
    return {
        "entries": entries,
        "by_discovery": end["by_discovery"] - start["by_discovery"],
        "history_per_entry": (end["history"] - start["history"]) / entries,
        "file_per_entry": (end["file"] - start["file"]) / entries,
        "images_per_entry": (end["images"] - start["images"]) / entries,
    }


def main():
    if os.environ.get("BENCH_NO_BUILD") != "1":
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    runs = []
    own = discovery.BIN  # workload() points discovery.BIN at the binary it runs
    baseline = os.environ.get("PORTOLAN_BENCH_BASELINE_BIN")
    if baseline:
        runs.append(("baseline (%s)" % baseline, workload(baseline)))
    runs.append(("this build", workload(own)))
    print("| build | journal entries (by discovery) | history bytes per entry | database growth per entry | stored images per entry |")
    print("|---|---:|---:|---:|---:|")
    for name, r in runs:
        print("| %s | %d (%d) | %.0f | %.0f | %.0f |" % (name, r["entries"], r["by_discovery"], r["history_per_entry"],
                                                   r["file_per_entry"], r["images_per_entry"]))
    if baseline:
        print("\nthis build / baseline, history bytes per entry: %.2fx" % (runs[1][1]["history_per_entry"] / runs[0][1]["history_per_entry"]))
    current = runs[-1][1]["history_per_entry"]
    if QUICK:
        # Four hosts and three rounds: bytes per entry come out higher than in the full workload
        # (563 against 486 when this was written), so the goal is not judged on them.
        print("\nthis build: %.0f history bytes per entry (quick workload; the goal of %d is for `bench/run history`)" % (current, GOAL))
        return
    print("\ngoal: at most %d history bytes per entry; this build: %.0f (%s)" % (GOAL, current, "met" if current <= GOAL else "not met"))


if __name__ == "__main__":
    main()
