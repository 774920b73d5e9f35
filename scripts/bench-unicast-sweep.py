#!/usr/bin/env python3
"""Unicast latency against offered rate, Herald beside nginx+nchan: open-loop pushes to one user
each (1,000 WebSocket users, 128-byte messages) at rising rates, a fresh server per point. Writes
docs/images/unicast-latency.csv and, with matplotlib, docs/images/unicast-latency.png
(delivered pushes/s and p50/p99 latency against the offered rate).

Usage: scripts/bench-unicast-sweep.py [rate ...]   (default 1000 2000 3000 4000 5000 6000 8000 12000)
       scripts/bench-unicast-sweep.py --plot          (draws the PNG again from the CSV)
nginx with the nchan module (scripts/install-deps.sh bench) is optional: without it only Herald runs.
"""
import csv, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HERALD_BIN", os.path.join(ROOT, ".build/release/herald"))
OUT = os.path.join(ROOT, "docs/images")
PLOT_ONLY = sys.argv[1:] == ["--plot"]
RATES = ([] if PLOT_ONLY else [int(a) for a in sys.argv[1:]]) or [1000, 2000, 3000, 4000, 5000, 6000, 8000, 12000]
MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
USERS = 1000


def wait_http(url):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            time.sleep(0.1)
    return False


def bench(rate, pids, *extra):
    messages = max(3000, rate * 3)
    out = subprocess.run([BIN, "bench", "--transport", "websocket", "--workload", "unicast", "--connections", str(USERS),
                          "--messages", str(messages), "--rate", str(rate), "--push-concurrency", "64",
                          *sum((["--server-pid", str(p)] for p in pids), []), *extra],
                         capture_output=True, text=True, timeout=600).stdout

    def num(pattern):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else float("nan")
    return {"delivered_per_s": num(r"throughput\s+([0-9.]+)"), "lost": num(r"received, ([0-9]+) lost"),
            "p50_ms": num(r"p50 ([0-9.]+)"), "p99_ms": num(r"p99 ([0-9.]+)"), "cpu_percent": num(r"server CPU\s+([0-9.]+)%")}


def herald(rate):
    p = subprocess.Popen([BIN, "serve", "--config", os.path.join(ROOT, "configs/herald.toml"), "--log-level", "error"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_http("http://127.0.0.1:3111/goim/online/total"):
            raise SystemExit("herald did not start")
        return bench(rate, [p.pid])
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


def nchan(rate, work):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""load_module {MODULE};
worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work}; uwsgi_temp_path {work}; scgi_temp_path {work};
  server {{
    listen 127.0.0.1:3190;
    location ~ ^/pub/(\\w+)$ {{ nchan_publisher; nchan_channel_id $1; }}
    location ~ ^/sub/(\\w+)$ {{ nchan_subscriber websocket; nchan_channel_id $1; }}
  }}
}}
""")
    subprocess.run(["nginx", "-p", work, "-e", os.path.join(work, "error.log"), "-c", conf], check=True)
    master = int(open(os.path.join(work, "nginx.pid")).read())
    try:
        time.sleep(0.5)
        workers = [int(x) for x in subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()]
        return bench(rate, workers, "--server", "nchan", "--target", "127.0.0.1:3190", "--api", "127.0.0.1:3190")
    finally:
        os.kill(master, signal.SIGTERM)
        time.sleep(0.5)


def main():
    os.makedirs(OUT, exist_ok=True)
    if PLOT_ONLY:
        with open(os.path.join(OUT, "unicast-latency.csv")) as f:
            rows = [{k: (v if k == "server" else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]
        return plot(rows, sorted({r["server"] for r in rows}, key=["herald", "nchan"].index))
    peers = ["herald"] + (["nchan"] if shutil.which("nginx") and os.path.exists(MODULE) else [])
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for rate in RATES:
            for peer in peers:
                r = herald(rate) if peer == "herald" else nchan(rate, work)
                row = {"server": peer, "offered_per_s": rate, **r}
                print(row, flush=True)
                rows.append(row)
    with open(os.path.join(OUT, "unicast-latency.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    plot(rows, peers)


def plot(rows, peers):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is missing: wrote the CSV only")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    colors = {"herald": "tab:blue", "nchan": "tab:orange"}
    for peer in peers:
        r = [x for x in rows if x["server"] == peer]
        c = colors.get(peer)
        a.plot([x["offered_per_s"] for x in r], [x["delivered_per_s"] for x in r], marker="o", color=c, label=peer)
        b.plot([x["offered_per_s"] for x in r], [x["p50_ms"] for x in r], marker="o", color=c, label=f"{peer} p50")
        b.plot([x["offered_per_s"] for x in r], [x["p99_ms"] for x in r], marker="s", linestyle="--", color=c, label=f"{peer} p99")
    a.set_xlabel("offered pushes/s (open loop, 64 publishers)"); a.set_ylabel("delivered pushes/s"); a.legend(); a.grid(alpha=.3)
    b.set_xlabel("offered pushes/s (open loop, 64 publishers)"); b.set_ylabel("publish -> receive latency (ms)"); b.set_yscale("log")
    b.legend(); b.grid(alpha=.3)
    fig.suptitle(f"Unicast: {USERS} WebSocket users, one push to one user, 128 B; {os.cpu_count()} cores shared with the load tool")
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "unicast-latency.png"), dpi=110)
    print("wrote docs/images/unicast-latency.png and .csv")


if __name__ == "__main__":
    main()
