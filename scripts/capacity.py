#!/usr/bin/env python3
"""Herald's capacity model: how many processes a deployment needs, from per-connection and per-push
costs measured by the benchmarks (scripts/bench-unicast.sh, scripts/bench.sh) and the size of the
machines it will run on. Prints, for each deployment size, what each role needs and which resource
runs out first on a comet.

Usage: scripts/capacity.py [--connections 1e6,1e7,1e8] [--unicast-per-conn-hour 2] [--room-fanout ...]
Every measured figure can be overridden with the figure measured on your machines; the defaults
are this repository's measurements on a 2-core development machine (docs/benchmarks.md), and the
ones that could not be measured here are marked as assumptions.
"""
import argparse
import math


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connections", default="1e6,1e7,1e8", help="deployment sizes, comma-separated")
    p.add_argument("--unicast-per-conn-hour", type=float, default=2.0, help="pushes to one user per connection per hour")
    p.add_argument("--room-deliveries-per-conn-min", type=float, default=1.0, help="room/broadcast deliveries per connection per minute")
    p.add_argument("--peak-factor", type=float, default=3.0, help="peak over average rate")
    # Measured here (docs/benchmarks.md).
    p.add_argument("--kib-per-conn", type=float, default=4.16, help="comet RSS per idle authenticated connection (websocket), KiB [measured]")
    p.add_argument("--kernel-kib-per-conn", type=float, default=4.0, help="kernel memory per server-side socket, KiB [assumption: half of a loopback socket pair's ~8 KB]")
    p.add_argument("--cpu-us-per-conn", type=float, default=162.0, help="server CPU per authenticated connection, µs [measured, websocket; tcp 106]")
    p.add_argument("--cpu-us-per-push", type=float, default=78.0, help="server CPU per unicast push end to end in one process, µs [measured, closed loop]")
    p.add_argument("--api-share", type=float, default=0.46, help="share of a push's CPU spent in logic's API [profiled: request read, parse, publish and answer]")
    p.add_argument("--job-share", type=float, default=0.2, help="share of a push's CPU spent in the job [profiled before tasks ran on the event loops: job, lanes and task runtime 8.6%%, plus thread scheduling of the hand-offs 11.2%%, which that change cut]")
    p.add_argument("--fanout-per-core", type=float, default=1.0e6, help="room deliveries per second per comet core [measured: ~2 M/s on 2 cores]")
    # Machines and services (assumptions unless you measure yours).
    p.add_argument("--comet-cores", type=int, default=16)
    p.add_argument("--comet-gib", type=float, default=64.0)
    p.add_argument("--fd-limit", type=int, default=1_000_000, help="open files one comet process may hold")
    p.add_argument("--logic-cores", type=int, default=16)
    p.add_argument("--job-cores", type=int, default=8)
    p.add_argument("--redis-ops-per-shard", type=float, default=100_000, help="[assumption] commands/s one redis shard serves")
    p.add_argument("--kafka-msgs-per-partition", type=float, default=10_000, help="[assumption] messages/s per partition")
    p.add_argument("--reconnect-minutes", type=float, default=5.0, help="connections re-established over this window after a comet is lost")
    p.add_argument("--heartbeat-minutes", type=float, default=4.0, help="logic session renewals per connection (redis EXPIRE)")
    p.add_argument("--headroom", type=float, default=0.6, help="use at most this share of CPU and memory")
    a = p.parse_args()

    print("Inputs: %.2f KiB + %.1f KiB kernel per connection, %.0f µs CPU per connection, %.0f µs per unicast push (%.0f%% in the API), %.1f M room deliveries/s per core; headroom %.0f%%"
          % (a.kib_per_conn, a.kernel_kib_per_conn, a.cpu_us_per_conn, a.cpu_us_per_push, a.api_share * 100, a.fanout_per_core / 1e6, a.headroom * 100))
    print()
    print("| connections | unicast pushes/s (peak) | room deliveries/s (peak) | comets | comet limit | logics | jobs | redis shards | kafka partitions |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (float(x) for x in a.connections.split(",")):
        unicast = n * a.unicast_per_conn_hour / 3600 * a.peak_factor
        fanout = n * a.room_deliveries_per_conn_min / 60 * a.peak_factor
        # One comet: memory, open files, CPU for deliveries and for reconnects after a neighbour is lost.
        per_conn_bytes = (a.kib_per_conn + a.kernel_kib_per_conn) * 1024
        by_memory = a.comet_gib * 2**30 * a.headroom / per_conn_bytes
        by_files = a.fd_limit * 0.9
        comet_cpu = a.comet_cores * a.headroom
        limits = {"memory": by_memory, "open files": by_files}
        per_comet = min(limits.values())
        comets = max(2, math.ceil(n / per_comet))
        # CPU on each comet: its deliveries, its share of unicast writes, and reconnects of a lost neighbour's clients.
        def cpu_needed(count: int) -> float:
            conns = n / count
            reconnect = conns / count * a.cpu_us_per_conn / 1e6 / (a.reconnect_minutes * 60)
            return fanout / count / a.fanout_per_core + unicast / count * a.cpu_us_per_push * (1 - a.api_share) / 1e6 + reconnect
        while cpu_needed(comets) > comet_cpu:
            comets += 1
        limit = min(limits, key=limits.get) if comets == max(2, math.ceil(n / per_comet)) else "cpu"
        logics = max(2, math.ceil(unicast * a.cpu_us_per_push * a.api_share / 1e6 / (a.logic_cores * a.headroom)))
        jobs = max(2, math.ceil(unicast * a.cpu_us_per_push * a.job_share / 1e6 / (a.job_cores * a.headroom)))
        # Redis: a connect writes the session, a heartbeat renews it, a unicast push reads it.
        redis_ops = n / (a.heartbeat_minutes * 60) + n / (a.reconnect_minutes * 60) / comets + unicast
        shards = max(1, math.ceil(redis_ops / (a.redis_ops_per_shard * a.headroom)))
        partitions = max(comets, math.ceil(unicast / (a.kafka_msgs_per_partition * a.headroom)))
        print("| %s | %s | %s | %d | %s | %d | %d | %d | %d |" % (
            f"{n:,.0f}", f"{unicast:,.0f}", f"{fanout:,.0f}", comets, limit, logics, jobs, shards, partitions))
    print()
    print("A comet is sized by the first of its limits to run out; 'cpu' means deliveries and reconnect storms, not memory, set the count.")


if __name__ == "__main__":
    main()
