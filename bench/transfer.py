#!/usr/bin/env python3
"""Full export and import: times at scales M and L, and the import's peak memory (RSS).

    bench/run transfer          scales M and L
    bench/run transfer quick    scale S (CI: proves the script works)

Baseline: `portolan backup` of the same database in the same run (SQLite's online backup, a
page copy: the least any way of moving the inventory can cost). Each figure is also given as a
ratio to it.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "portolan")
SEED = os.path.join(TARGET, "release", "portolan-bench-seed")
QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"


def high_water_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args):
    """Runs the binary; (seconds, peak RSS in MB). The peak is the kernel's high-water mark of
    the process itself, read every 10 ms until it exits (rusage would count this script's own
    memory, which a fork copies before the exec)."""
    started = time.monotonic()
    proc = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, RUST_LOG="warn"))
    peak = 0
    while proc.poll() is None:
        peak = max(peak, high_water_kb(proc.pid))
        time.sleep(0.01)
    seconds = time.monotonic() - started
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        sys.exit("portolan %s failed: %s" % (" ".join(args), err))
    # Samples of a process that ends within a few of them say little about its peak.
    return seconds, (peak / 1024 if seconds >= 0.05 else 0)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    print("\n## Full export and import (`portolan export` / `portolan import`, release build)\n")
    print("| scale | document MB | backup s (baseline) | export s | x backup | import s | x backup "
          "| import peak RSS MB | export peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scale in (["S"] if QUICK else ["M", "L"]):
        work = tempfile.mkdtemp()
        source = os.path.join(work, "source")
        subprocess.run([SEED, source, scale], check=True, stdout=subprocess.DEVNULL)
        backup_s, _ = run(["--data-dir", source, "backup", os.path.join(work, "copy.db")])
        document = os.path.join(work, "export.json")
        export_s, export_rss = run(["--data-dir", source, "export", "--output", document])
        target = os.path.join(work, "target")
        import_s, import_rss = run(["--data-dir", target, "import", document])
        again = os.path.join(work, "again.json")
        run(["--data-dir", target, "export", "--output", again])
        same = same_but_time(document, again)
        print("| %s | %.1f | %.2f | %.2f | %.1f | %.2f | %.1f | %s | %s |" % (
            scale, os.path.getsize(document) / 1e6, backup_s, export_s, export_s / backup_s,
            import_s, import_s / backup_s, megabytes(import_rss), megabytes(export_rss)))
        if not same:
            sys.exit("scale %s: the export of the imported database differs" % scale)
        subprocess.run(["rm", "-rf", work], check=True)
    print("\nEach import's database exported again gives the same document (checked).")


def megabytes(mb):
    return "%.0f" % mb if mb > 0 else "(ran under 50 ms)"


def same_but_time(a, b):
    """Line by line (one row per line), the head's export time aside."""
    with open(a) as x, open(b) as y:
        for i, (p, q) in enumerate(zip(x, y)):
            if i == 0:
                p = re.sub(r'"exported_at":"[^"]*"', "", p)
                q = re.sub(r'"exported_at":"[^"]*"', "", q)
            if p != q:
                return False
        return x.read(1) == y.read(1) == ""


if __name__ == "__main__":
    main()
