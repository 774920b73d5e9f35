#!/usr/bin/env python3
"""Sweeps subscriber counts for both transports with a fresh `herald serve` per point and renders
docs/images/fanout.png (deliveries/s and light-traffic p99 vs subscribers) and
docs/images/memory.png (server memory vs connections), plus docs/images/sweep.csv.

Usage: scripts/bench-sweep.py [N ...]   (default 1000 2500 5000 10000; needs matplotlib)
"""
import csv, os, re, signal, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HERALD_BIN", os.path.join(ROOT, ".build/release/herald"))
OUT = os.path.join(ROOT, "docs/images")
COUNTS = [int(a) for a in sys.argv[1:]] or [1000, 2500, 5000, 10000]


def start_server():
    p = subprocess.Popen([BIN, "serve", "--config", os.path.join(ROOT, "configs/herald.toml"), "--log-level", "error"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen("http://127.0.0.1:3111/goim/online/total", timeout=1)
            return p
        except Exception:
            time.sleep(0.1)
    p.kill()
    raise SystemExit("server did not start")


def bench(transport, n, pid, *extra):
    out = subprocess.run([BIN, "bench", "--transport", transport, "--connections", str(n), "--sources", "4",
                          "--server-pid", str(pid), *extra], capture_output=True, text=True, timeout=600).stdout
    def num(pattern):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else float("nan")
    return {
        "kib_per_conn": num(r"server memory\s+([0-9.]+)"),
        "deliveries_per_s": num(r"throughput\s+([0-9.]+)"),
        "lost": num(r"received, ([0-9]+) lost"),
        "p50": num(r"p50 ([0-9.]+)"),
        "p99": num(r"p99 ([0-9.]+)"),
        "conn_per_s": num(r"failed, ([0-9.]+) conn/s"),
    }


def main():
    if not os.path.exists(BIN):
        subprocess.run(["swift", "build", "-c", "release", "--product", "herald"], cwd=ROOT, check=True)
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for transport in ("tcp", "websocket"):
        for n in COUNTS:
            server = start_server()
            try:
                burst = bench(transport, n, server.pid, "--messages", str(max(100, 3_000_000 // n)))
                light = bench(transport, n, server.pid, "--messages", "5", "--rate", "1")
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait()
            row = {"transport": transport, "subscribers": n, "kib_per_conn": burst["kib_per_conn"],
                   "burst_deliveries_per_s": burst["deliveries_per_s"], "burst_lost": burst["lost"],
                   "burst_p99_ms": burst["p99"], "light_p50_ms": light["p50"], "light_p99_ms": light["p99"],
                   "conn_per_s": burst["conn_per_s"]}
            print(row, flush=True)
            rows.append(row)
    with open(os.path.join(OUT, "sweep.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for t in ("tcp", "websocket"):
        r = [x for x in rows if x["transport"] == t]
        a.plot([x["subscribers"] for x in r], [x["burst_deliveries_per_s"] / 1e6 for x in r], marker="o", label=t)
        b.plot([x["subscribers"] for x in r], [x["light_p99_ms"] for x in r], marker="o", label=t)
    a.axhline(1.0, color="grey", linestyle="--", label="target 1M/s")
    a.set_xlabel("subscribers in one room"); a.set_ylabel("million deliveries/s (burst)"); a.legend(); a.grid(alpha=.3)
    b.set_xlabel("subscribers in one room"); b.set_ylabel("p99 latency at 1 msg/s (ms)"); b.legend(); b.grid(alpha=.3)
    fig.suptitle("Herald fan-out, 128-byte messages, 2 cores, load tool on the same machine")
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "fanout.png"), dpi=100)

    fig, ax = plt.subplots(figsize=(6, 4))
    for t in ("tcp", "websocket"):
        r = [x for x in rows if x["transport"] == t]
        ax.plot([x["subscribers"] for x in r], [x["kib_per_conn"] for x in r], marker="o", label=t)
    ax.axhline(4.0, color="grey", linestyle="--", label="target 4 KiB")
    ax.set_xlabel("idle authenticated connections"); ax.set_ylabel("server RSS per connection (KiB)")
    ax.set_ylim(bottom=0); ax.legend(); ax.grid(alpha=.3)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "memory.png"), dpi=100)


if __name__ == "__main__":
    main()
